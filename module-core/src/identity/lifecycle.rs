//! Account lifecycle (the Petory seed's rules; every period is configuration):
//! - no login for `dormant_after` → `DORMANT`, personal data moved to `dormant_accounts`
//!   with the delivery addresses (a warning mail goes out `warning` earlier; logging in
//!   restores the account);
//! - `DORMANT` or `WITHDRAWN` for `delete_after` → deleted (warned `warning` earlier): accounts
//!   with orders or subscriptions stay as anonymous rows, the rest are removed;
//! - suspensions end at their end time.
//!
//! Each step is set-based over chunks claimed with `SKIP LOCKED`, and idempotent: a warning is
//! one `account_notices` row per (user, kind, the moment it is about).

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::UserId;
use super::closing::AccountClosing;
use super::session::RevokeRequested;
use crate::db::DbError;
use crate::platform::{mail, messages};
use crate::ports::Mail;
use crate::schema::{dormant_accounts, users};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSettings {
    pub dormant_after: TimeDelta,
    pub delete_after: TimeDelta,
    /// How long before dormancy or deletion the warning mail goes out.
    pub warning: TimeDelta,
    pub chunk: i64,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            dormant_after: TimeDelta::days(90),
            delete_after: TimeDelta::days(90),
            warning: TimeDelta::days(5),
            chunk: 1000,
        }
    }
}

/// An account still doing business with us is not inactive, however long since its last login:
/// a live subscription (renewals need its delivery address), an order on its way, or a refund
/// not yet settled. `u` is the user row.
const STILL_A_CUSTOMER: &str = "(EXISTS (SELECT 1 FROM subscriptions s
                       WHERE s.user_id = u.id AND s.status <> 'CANCELED')
         OR EXISTS (SELECT 1 FROM orders o LEFT JOIN payments p ON p.order_id = o.id
                     WHERE o.user_id = u.id
                       AND (o.status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPING')
                            OR p.status IN ('REFUND_PENDING', 'REFUND_FAILED'))))";

crate::text_enum! {
    /// Which warning mail went out (`account_notices.kind`); written by the lifecycle's SQL.
    pub enum NoticeKind {
        DormancyWarning = "DORMANCY_WARNING",
        DeletionWarning = "DELETION_WARNING",
    }
}

#[derive(diesel::QueryableByName)]
struct Recipient {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: UserId,
}

/// Warning mails, chunk by chunk: `claim` (binds: cutoff, chunk, now) picks due users with
/// `SKIP LOCKED`, records their `account_notices` and returns whom to mail; `mail` words it.
async fn send_warnings(
    conn: &mut AsyncPgConnection,
    claim: &str,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    chunk: i64,
    mail: impl Fn(&Recipient) -> Mail,
) -> Result<i64, DbError> {
    let mut total = 0;
    loop {
        let recipients: Vec<Recipient> = diesel::sql_query(claim)
            .bind::<Timestamptz, _>(cutoff)
            .bind::<BigInt, _>(chunk)
            .bind::<Timestamptz, _>(now)
            .load(conn)
            .await?;
        let mails: Vec<Mail> = recipients.iter().map(&mail).collect();
        mail::request_many(conn, &mails, now).await?;
        total += mails.len() as i64;
        if (mails.len() as i64) < chunk {
            return Ok(total);
        }
    }
}

/// Warning mails to active users who will turn dormant within `warning`.
pub async fn warn_inactive(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    settings: LifecycleSettings,
) -> Result<i64, DbError> {
    let (days, warning) = (
        settings.dormant_after.num_days(),
        settings.warning.num_days(),
    );
    send_warnings(
        conn,
        &format!(
            "WITH due AS (
            SELECT u.id, u.email, u.name, coalesce(u.last_login_at, u.created_at) AS since
              FROM users u
             WHERE u.status = 'ACTIVE' AND u.role = 'USER'
               AND coalesce(u.last_login_at, u.created_at) <= $1
               AND NOT {STILL_A_CUSTOMER}
               AND NOT EXISTS (SELECT 1 FROM account_notices n
                                WHERE n.user_id = u.id AND n.kind = 'DORMANCY_WARNING'
                                  AND n.about = coalesce(u.last_login_at, u.created_at))
             ORDER BY u.id LIMIT $2 FOR UPDATE OF u SKIP LOCKED),
         noted AS (
            INSERT INTO account_notices (user_id, kind, about, sent_at)
            SELECT id, 'DORMANCY_WARNING', since, $3 FROM due
            ON CONFLICT DO NOTHING RETURNING user_id)
         SELECT d.email, d.name FROM due d JOIN noted n ON n.user_id = d.id"
        ),
        now - (settings.dormant_after - settings.warning),
        now,
        settings.chunk,
        |r| {
            let message = messages::dormancy_warning(&r.name, days, warning);
            Mail {
                to: r.email.clone(),
                subject: message.title,
                body: message.body,
            }
        },
    )
    .await
}

/// Makes users who were warned and still did not log in `DORMANT`, moving their personal data
/// to `dormant_accounts`.
pub async fn make_dormant(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    settings: LifecycleSettings,
) -> Result<i64, DbError> {
    use diesel_async::AsyncConnection as _;
    let mut total = 0;
    loop {
        // The move and the request to end its sessions commit together.
        let done: i64 = conn
            .transaction(async |conn| -> Result<i64, DbError> {
                let moved = diesel::sql_query(format!(
                    "WITH due AS (
                SELECT u.id FROM users u
                 WHERE u.status = 'ACTIVE' AND u.role = 'USER'
                   AND coalesce(u.last_login_at, u.created_at) <= $1
                   AND NOT {STILL_A_CUSTOMER}
                   AND EXISTS (SELECT 1 FROM account_notices n
                                WHERE n.user_id = u.id AND n.kind = 'DORMANCY_WARNING'
                                  AND n.about = coalesce(u.last_login_at, u.created_at)
                                  AND n.sent_at <= $2)
                 ORDER BY u.id LIMIT $3 FOR UPDATE OF u SKIP LOCKED),
             moved AS (
                INSERT INTO dormant_accounts (user_id, email, name, phone, addresses, moved_at)
                SELECT u.id, u.email, u.name, u.phone,
                       (SELECT coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb)
                          FROM user_addresses a WHERE a.user_id = u.id),
                       $4
                  FROM users u JOIN due ON due.id = u.id
                RETURNING user_id),
             addresses_gone AS (
                DELETE FROM user_addresses a USING moved WHERE a.user_id = moved.user_id)
             UPDATE users u
                SET status = 'DORMANT', email = 'dormant-' || u.id || '@petory.invalid',
                    name = $5, phone = NULL, status_changed_at = $4, updated_at = $4
               FROM moved WHERE u.id = moved.user_id
             RETURNING u.id",
                ))
                .bind::<Timestamptz, _>(now - settings.dormant_after)
                .bind::<Timestamptz, _>(now - settings.warning)
                .bind::<BigInt, _>(settings.chunk)
                .bind::<Timestamptz, _>(now)
                .bind::<diesel::sql_types::Text, _>(crate::platform::messages::DORMANT_MEMBER)
                .load::<Id>(conn)
                .await?;
                end_sessions(conn, moved.iter().map(|row| row.id), now).await?;
                Ok(moved.len() as i64)
            })
            .await?;
        total += done;
        if done < settings.chunk {
            return Ok(total);
        }
    }
}

/// Brings a dormant account's personal data back (on login).
pub async fn restore(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    // Addresses first, with their ids, while the dormant row still holds them.
    diesel::sql_query(
        "INSERT INTO user_addresses OVERRIDING SYSTEM VALUE
         SELECT r.* FROM dormant_accounts d,
                jsonb_populate_recordset(NULL::user_addresses, d.addresses) r
          WHERE d.user_id = $1",
    )
    .bind::<BigInt, _>(user.0)
    .execute(conn)
    .await?;
    let Some((email, name, phone)) = diesel::delete(dormant_accounts::table.find(user))
        .returning((
            dormant_accounts::email,
            dormant_accounts::name,
            dormant_accounts::phone,
        ))
        .get_result::<(String, String, Option<String>)>(conn)
        .await
        .optional()?
    else {
        return Ok(());
    };
    diesel::update(users::table.find(user))
        .set((
            users::email.eq(email),
            users::name.eq(name),
            users::phone.eq(phone),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The account a dormant user's (original) email belongs to.
pub async fn dormant_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<i64>, DbError> {
    Ok(dormant_accounts::table
        .filter(dormant_accounts::email.eq(email))
        .select(dormant_accounts::user_id)
        .first(conn)
        .await
        .optional()?)
}

/// Warning mails to dormant and withdrawn accounts that will be deleted within `warning`.
pub async fn warn_deletion(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    settings: LifecycleSettings,
) -> Result<i64, DbError> {
    let warning = settings.warning.num_days();
    send_warnings(
        conn,
        "WITH due AS (
            SELECT u.id, coalesce(d.email, u.email) AS email, coalesce(d.name, u.name) AS name,
                   u.status_changed_at AS since
              FROM users u LEFT JOIN dormant_accounts d ON d.user_id = u.id
             WHERE u.status IN ('DORMANT', 'WITHDRAWN') AND u.deleted_at IS NULL
               AND u.status_changed_at <= $1
               AND NOT EXISTS (SELECT 1 FROM account_notices n
                                WHERE n.user_id = u.id AND n.kind = 'DELETION_WARNING'
                                  AND n.about = u.status_changed_at)
             ORDER BY u.id LIMIT $2 FOR UPDATE OF u SKIP LOCKED),
         noted AS (
            INSERT INTO account_notices (user_id, kind, about, sent_at)
            SELECT id, 'DELETION_WARNING', since, $3 FROM due
            ON CONFLICT DO NOTHING RETURNING user_id)
         SELECT d.email, d.name FROM due d JOIN noted n ON n.user_id = d.id",
        now - (settings.delete_after - settings.warning),
        now,
        settings.chunk,
        |r| {
            let message = messages::deletion_warning(&r.name, warning);
            Mail {
                to: r.email.clone(),
                subject: message.title,
                body: message.body,
            }
        },
    )
    .await
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Accounts removed entirely.
    pub removed: i64,
    /// Accounts kept as anonymous rows for their orders.
    pub anonymised: i64,
}

/// Deletes warned accounts that have been dormant or withdrawn for `delete_after`; what other
/// domains had running for a dormant one ends through `closing`.
pub async fn delete_expired(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    settings: LifecycleSettings,
    closing: &dyn AccountClosing,
) -> Result<Deleted, DbError> {
    use diesel_async::AsyncConnection as _;
    let mut total = Deleted::default();
    loop {
        let chunk = conn
            .transaction(async |conn| -> Result<(Deleted, usize), DbError> {
                let due: Vec<UserId> =
                    diesel::sql_query(include_str!("lifecycle/claim_deletions.sql"))
                        .bind::<Timestamptz, _>(now - settings.delete_after)
                        .bind::<Timestamptz, _>(now - settings.warning)
                        .bind::<BigInt, _>(settings.chunk)
                        .load::<Id>(conn)
                        .await?
                        .into_iter()
                        .map(|row| row.id)
                        .collect();
                if due.is_empty() {
                    return Ok((Deleted::default(), 0));
                }
                // Withdrawal ended their subscriptions already; dormant accounts' are ended here.
                for &user in &due {
                    closing.account_closed(conn, user, now).await?;
                }
                // Pets and daily photos are personal data, kept by no order: they go, and their
                // images are discarded for the upload job to remove.
                diesel::sql_query(include_str!("lifecycle/discard_personal_images.sql"))
                    .bind::<Array<BigInt>, _>(&due)
                    .bind::<Timestamptz, _>(now)
                    .execute(conn)
                    .await?;
                // Notifications have no foreign key (see their migration): remove them here.
                for statement in [
                    "DELETE FROM notifications WHERE user_id = ANY($1)",
                    "DELETE FROM dormant_accounts WHERE user_id = ANY($1)",
                    "DELETE FROM user_addresses WHERE user_id = ANY($1)",
                    "DELETE FROM cart_items WHERE user_id = ANY($1)",
                    "DELETE FROM daily_answers WHERE user_id = ANY($1)",
                    "DELETE FROM calendar_events WHERE user_id = ANY($1)",
                    "DELETE FROM calendar_feeds WHERE user_id = ANY($1)",
                    "DELETE FROM album_photos WHERE user_id = ANY($1)",
                    "DELETE FROM pets WHERE owner_id = ANY($1)",
                ] {
                    diesel::sql_query(statement)
                        .bind::<Array<BigInt>, _>(&due)
                        .execute(conn)
                        .await?;
                }
                // Orders stay for the records (amounts, items, dates, payment ids); who received
                // them, and where, goes.
                diesel::sql_query(
                    "UPDATE orders SET recipient = $3, phone = '', zip_code = '',
                                      address1 = '', address2 = '', updated_at = $2
                      WHERE user_id = ANY($1)",
                )
                .bind::<Array<BigInt>, _>(&due)
                .bind::<Timestamptz, _>(now)
                .bind::<diesel::sql_types::Text, _>(crate::platform::messages::WITHDRAWN_MEMBER)
                .execute(conn)
                .await?;
                // So does the address a subscriber chose for renewals (their subscriptions ended).
                diesel::sql_query(
                    "UPDATE subscriptions SET address_id = NULL, recipient = NULL, phone = NULL,
                            zip_code = NULL, address1 = NULL, address2 = NULL, updated_at = $2
                      WHERE user_id = ANY($1) AND recipient IS NOT NULL",
                )
                .bind::<Array<BigInt>, _>(&due)
                .bind::<Timestamptz, _>(now)
                .execute(conn)
                .await?;
                end_sessions(conn, due.iter().copied(), now).await?;
                let removed = remove_entirely(conn, &due, now).await?;
                let anonymised = diesel::sql_query(include_str!("lifecycle/anonymise_users.sql"))
                    .bind::<Array<BigInt>, _>(&due)
                    .bind::<Timestamptz, _>(now)
                    .bind::<diesel::sql_types::Text, _>(crate::platform::messages::WITHDRAWN_MEMBER)
                    .execute(conn)
                    .await? as i64;
                Ok((
                    Deleted {
                        removed,
                        anonymised,
                    },
                    due.len(),
                ))
            })
            .await?;
        total.removed += chunk.0.removed;
        total.anonymised += chunk.0.anonymised;
        if (chunk.1 as i64) < settings.chunk {
            return Ok(total);
        }
    }
}

/// Removes those of `due` that nothing others depend on keeps (`removed_users.sql`), with
/// their rows everywhere (the foreign keys cascade): their uploads are discarded first, so that
/// the upload job removes the objects, and the counters their likes, comments, reviews and
/// chats were counted in are counted again after. Returns how many went.
async fn remove_entirely(
    conn: &mut AsyncPgConnection,
    due: &[UserId],
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let removed: Vec<UserId> = diesel::sql_query(include_str!("lifecycle/removed_users.sql"))
        .bind::<Array<BigInt>, _>(due)
        .load::<Id>(conn)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    if removed.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(include_str!("lifecycle/discard_uploads_of_removed.sql"))
        .bind::<Array<BigInt>, _>(&removed)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
    let counted: CountedBy = diesel::sql_query(include_str!("lifecycle/counted_by.sql"))
        .bind::<Array<BigInt>, _>(&removed)
        .get_result(conn)
        .await?;
    counted.lock(conn).await?;
    let gone = diesel::sql_query("DELETE FROM users WHERE id = ANY($1)")
        .bind::<Array<BigInt>, _>(&removed)
        .execute(conn)
        .await?;
    counted.count_again(conn).await?;
    Ok(i64::try_from(gone).unwrap_or(i64::MAX))
}

/// What an account's removal leaves miscounted (`counted_by.sql`).
#[derive(diesel::QueryableByName)]
struct CountedBy {
    #[diesel(sql_type = Array<BigInt>)]
    posts: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    places: Vec<i64>,
    #[diesel(sql_type = Array<BigInt>)]
    listings: Vec<i64>,
}

impl CountedBy {
    /// Locks the counted rows before the accounts' rows go: every writer of a counter locks the
    /// row it counts on before the rows it counts (a report of a review locks the place first),
    /// so the cascade must not take a review before its place.
    async fn lock(&self, conn: &mut AsyncPgConnection) -> Result<(), DbError> {
        for (ids, lock, _) in self.recounts() {
            if !ids.is_empty() {
                diesel::sql_query(lock)
                    .bind::<Array<BigInt>, _>(ids)
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Counts the locked rows' counters again from what is left.
    async fn count_again(&self, conn: &mut AsyncPgConnection) -> Result<(), DbError> {
        for (ids, _, count) in self.recounts() {
            if !ids.is_empty() {
                diesel::sql_query(count)
                    .bind::<Array<BigInt>, _>(ids)
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Each table's rows: how they are locked (in id order) and counted again.
    fn recounts(&self) -> [(&Vec<i64>, &'static str, &'static str); 3] {
        [
            (
                &self.posts,
                "SELECT id FROM posts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "UPDATE posts p
                    SET like_count = (SELECT count(*) FROM post_likes l WHERE l.post_id = p.id),
                        comment_count = (SELECT count(*) FROM post_comments c
                                          WHERE c.post_id = p.id AND c.deleted_at IS NULL)
                  WHERE p.id = ANY($1)",
            ),
            (
                &self.places,
                "SELECT id FROM places WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "UPDATE places p
                    SET like_count = (SELECT count(*) FROM place_likes l WHERE l.place_id = p.id),
                        review_count = (SELECT count(*) FROM place_reviews r
                                         WHERE r.place_id = p.id AND r.deleted_at IS NULL
                                           AND r.hidden_at IS NULL),
                        star_sum = (SELECT coalesce(sum(r.stars), 0) FROM place_reviews r
                                     WHERE r.place_id = p.id AND r.deleted_at IS NULL
                                       AND r.hidden_at IS NULL)
                  WHERE p.id = ANY($1)",
            ),
            (
                &self.listings,
                "SELECT id FROM listings WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "UPDATE listings l
                    SET chat_count = (SELECT count(*) FROM chat_rooms r WHERE r.listing_id = l.id)
                  WHERE l.id = ANY($1)",
            ),
        ]
    }
}

/// Asks (through the outbox of the caller's transaction) for every session of these accounts
/// to end, so that access tokens they still hold are refused at once.
async fn end_sessions(
    conn: &mut AsyncPgConnection,
    users: impl Iterator<Item = UserId>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let requests: Vec<RevokeRequested> = users.map(|user_id| RevokeRequested { user_id }).collect();
    crate::platform::outbox::record_many(conn, &requests, now).await?;
    Ok(())
}

/// Ends suspensions whose end time has come.
pub async fn lift_suspensions(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(diesel::update(
        users::table
            .filter(users::status.eq(super::AccountStatus::Suspended))
            .filter(users::suspended_until.le(now)),
    )
    .set((
        users::status.eq(super::AccountStatus::Active),
        users::suspended_until.eq(None::<DateTime<Utc>>),
        users::suspension_reason.eq(None::<String>),
        users::status_changed_at.eq(now),
        users::updated_at.eq(now),
    ))
    .execute(conn)
    .await? as i64)
}
