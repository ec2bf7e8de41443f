//! Accounts: sign-up, login, token refresh, logout, profile, password and withdrawal.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::address::{self, NewAddress};
use super::session::{RefreshSession, Rotation, SessionStore};
use super::token::{self, AccessClaims, TokenSettings};
use super::{AccountStatus, IdentityError, Role, UserId, password, rules};
use crate::db::{DbError, DbPool, violates};
use crate::schema::{user_addresses, users};

/// What identity services need besides a connection.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub store: &'a dyn SessionStore,
    pub tokens: &'a TokenSettings,
    /// Live notification streams, woken when a user's sessions end so that theirs close.
    pub streams: &'a dyn crate::ports::NotificationSignal,
}

impl Sessions<'_> {
    /// Ends every session of `user` (but `keep`), and the live streams they opened.
    pub async fn end_all(&self, user: UserId, keep: Option<&str>) -> Result<(), IdentityError> {
        self.store
            .revoke_user(user, keep, self.tokens.access_ttl)
            .await?;
        self.wake_streams(user).await;
        Ok(())
    }

    /// Tells the user's live streams to look again: those whose session ended close.
    pub async fn wake_streams(&self, user: UserId) {
        if let Err(error) = self.streams.wake(crate::ports::Audience::User(user)).await {
            tracing::warn!(%error, %user, "streams of ended sessions not woken; they close at their next look");
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub suspended_until: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub nickname: Option<String>,
    pub nickname_changed_at: Option<DateTime<Utc>>,
    pub bio: String,
    pub avatar_key: Option<String>,
    /// The daily question's in-app setting (notification settings), read beside the row.
    #[diesel(
        select_expression = diesel::dsl::sql::<diesel::sql_types::Bool>(DAILY_QUESTION_ON),
        select_expression_type = diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
    )]
    pub notify_daily_question: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// Whether the member of the row gets the question of the day: unless they switched its kind's
/// in-app channel off (`PATCH /users/me/notification-settings`, which changes it).
const DAILY_QUESTION_ON: &str = "NOT EXISTS (SELECT 1 FROM notification_settings s \
     WHERE s.user_id = users.id AND s.kind = 'DAILY_QUESTION' AND NOT s.in_app)";

/// A user as the account owner (and admins) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// Phone and a delivery address are on file: the account may order.
    pub profile_complete: bool,
    pub suspended_until: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// How others see the member (none once withdrawn).
    pub nickname: Option<String>,
    /// When the nickname may change next (`None`: now).
    pub nickname_changeable_at: Option<DateTime<Utc>>,
    pub bio: String,
    /// My picture (an `AVATAR` upload).
    pub avatar_key: Option<String>,
    /// Receives the question of the day at midnight.
    pub notify_daily_question: bool,
    /// The account proved it owns its address (a mailed link, or Google's word).
    pub email_verified: bool,
}

/// The account view of a user row, given whether it has a delivery address.
pub(crate) fn account_from_row(row: UserRow, has_address: bool) -> Account {
    Account {
        id: row.id,
        profile_complete: row.phone.is_some() && has_address,
        email: row.email,
        name: row.name,
        phone: row.phone,
        role: row.role,
        status: row.status,
        suspended_until: row.suspended_until,
        suspension_reason: row.suspension_reason,
        last_login_at: row.last_login_at,
        created_at: row.created_at,
        nickname: row.nickname,
        nickname_changeable_at: row
            .nickname_changed_at
            .map(|at| at + rules::NICKNAME_CHANGE_EVERY),
        bio: row.bio,
        avatar_key: row.avatar_key,
        notify_daily_question: row.notify_daily_question,
        email_verified: row.email_verified_at.is_some(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub name: String,
    pub phone: Option<String>,
    /// How others see the member (checked by [`rules::check_nickname`]); `None`: `회원<id>`.
    pub nickname: Option<String>,
}

/// Loads the account as its owner sees it.
pub async fn find(conn: &mut AsyncPgConnection, user: UserId) -> Result<Account, IdentityError> {
    let (row, has_address) = users::table
        .find(user)
        .select((
            UserRow::as_select(),
            diesel::dsl::exists(
                user_addresses::table.filter(user_addresses::user_id.eq(users::id)),
            ),
        ))
        .first::<(UserRow, bool)>(conn)
        .await
        .optional()?
        .ok_or(IdentityError::UserNotFound)?;
    Ok(account_from_row(row, has_address))
}

/// How a new account proves its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// Mail a verification link based at this URL (`PETORY_PUBLIC_URL`).
    MailLink(&'a str),
    /// Someone trusted vouches for it (an operator creating an administrator).
    Vouched,
}

/// Creates an account. The password is hashed before a connection is taken, so a burst of
/// sign-ups does not hold the pool. An email kept apart by a dormant account stays its owner's.
pub async fn signup(
    db: &DbPool,
    new: NewAccount,
    role: Role,
    proof: Proof<'_>,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    let email = rules::normalize_email(&new.email);
    let hash = password::hash(new.password).await?;
    let mut conn = db.get().await.map_err(DbError::from)?;
    conn.transaction(async move |conn| -> Result<Account, IdentityError> {
        if super::lifecycle::dormant_by_email(conn, &email)
            .await?
            .is_some()
        {
            return Err(IdentityError::EmailTaken);
        }
        let verified_at = (proof == Proof::Vouched).then_some(now);
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::email.eq(&email),
                users::password_hash.eq(hash),
                users::name.eq(new.name.trim()),
                users::phone.eq(new.phone),
                users::nickname.eq(new.nickname.as_deref().map(str::trim)),
                users::role.eq(role),
                users::email_verified_at.eq(verified_at),
                users::status_changed_at.eq(now),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .returning(users::id)
            .get_result(conn)
            .await
            .map_err(|error| {
                if violates(
                    &error,
                    DatabaseErrorKind::UniqueViolation,
                    "users_email_unique",
                ) {
                    IdentityError::EmailTaken
                } else {
                    nickname_taken(error)
                }
            })?;
        if let Proof::MailLink(link_base) = proof {
            super::verification::send(conn, UserId(id), link_base, now).await?;
        }
        find(conn, UserId(id)).await
    })
    .await
}

/// A nickname that another member took (whatever the case) is `NicknameTaken`.
fn nickname_taken(error: diesel::result::Error) -> IdentityError {
    if violates(
        &error,
        DatabaseErrorKind::UniqueViolation,
        "users_nickname_unique",
    ) {
        IdentityError::NicknameTaken
    } else {
        error.into()
    }
}

/// How often at most an address hears that someone tried to sign up with it.
pub const SIGNUP_NOTICE_EVERY: TimeDelta = TimeDelta::hours(1);

/// A sign-up from the app. A new address gets its account (and the verification link); an
/// address that has an account already gets a mail telling its owner instead (at most once an
/// hour). The caller answers alike either way, so sign-ups tell nobody which addresses have
/// accounts.
pub async fn register(
    db: &DbPool,
    store: &dyn SessionStore,
    new: NewAccount,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let email = rules::normalize_email(&new.email);
    match signup(db, new, Role::User, Proof::MailLink(link_base), now).await {
        Ok(_) => Ok(()),
        Err(IdentityError::EmailTaken) => {
            let key = format!("signup-notice:{}", login_key(&email));
            if super::session::first_in_window(store, &key, SIGNUP_NOTICE_EVERY, now, false).await {
                let message = crate::platform::messages::signup_attempt();
                let mut conn = db.get().await.map_err(DbError::from)?;
                crate::platform::mail::request_many(
                    &mut conn,
                    &[crate::ports::Mail {
                        to: email,
                        subject: message.title,
                        body: message.body,
                    }],
                    now,
                )
                .await?;
            }
            Ok(())
        }
        Err(error) => Err(error),
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Credentials {
    id: i64,
    password_hash: Option<String>,
    role: Role,
    status: AccountStatus,
    suspended_until: Option<DateTime<Utc>>,
    suspension_reason: Option<String>,
}

/// Failed password checks one account may have in a window before it is throttled, whatever
/// the addresses they come from (each device that signed in before counts its own).
pub const LOGIN_FAILURE_LIMIT: u32 = 10;
/// The fixed window failed password checks are counted in.
pub const LOGIN_FAILURE_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// The login key of an email: its digest (the session store never sees addresses).
pub fn login_key(email: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(
        rules::normalize_email(email).as_bytes(),
    ))
}

/// The window `now` falls in, with the seconds left in it.
pub(crate) fn failure_window(now: DateTime<Utc>) -> (i64, u64) {
    let window = LOGIN_FAILURE_WINDOW.num_seconds();
    let id = now.timestamp().div_euclid(window);
    let left = (id + 1) * window - now.timestamp();
    (id, u64::try_from(left).unwrap_or(1).max(1))
}

/// Counts wrong passwords under `key` in the current window: refuses at once a key that had
/// [`LOGIN_FAILURE_LIMIT`] of them, else checks `attempt` against `stored` and counts a
/// failure. No connection is held while hashing.
async fn check_counted(
    sessions: Sessions<'_>,
    key: &str,
    attempt: String,
    stored: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, IdentityError> {
    let (window, retry_after) = failure_window(now);
    if sessions.store.failed_logins(key, window).await? >= LOGIN_FAILURE_LIMIT {
        return Err(IdentityError::LoginThrottled { retry_after });
    }
    let valid = password::verify(attempt, stored).await?;
    if valid {
        sessions.store.clear_failed_logins(key, window).await?;
    } else {
        let ttl = LOGIN_FAILURE_WINDOW.to_std().unwrap_or_default();
        sessions.store.record_failed_login(key, window, ttl).await?;
    }
    Ok(valid)
}

/// A successful login: the session's tokens, and the device token the client keeps so that
/// its later logins are counted apart from strangers' guesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub tokens: TokenPair,
    pub device: String,
}

/// Password login. Unknown email and wrong password get the same answer in the same time. An
/// account guessed at too often is throttled for the rest of its window, but only for devices
/// it never signed in from: a device token of the account (`device`) counts its own failures,
/// so strangers' guesses cannot lock the owner out. No connection is held while the password
/// is checked.
pub async fn login(
    db: &DbPool,
    sessions: Sessions<'_>,
    email: &str,
    password_attempt: String,
    device: Option<&str>,
    now: DateTime<Utc>,
) -> Result<LoggedIn, IdentityError> {
    let email = rules::normalize_email(email);
    let account_key = login_key(&email);
    let known = device
        .and_then(|device| token::verify_device(sessions.tokens, device, now))
        .filter(|claims| claims.acc == account_key);
    let key = match &known {
        Some(claims) => format!("{account_key}:{}", claims.did),
        None => account_key.clone(),
    };
    let found = {
        let mut conn = db.get().await.map_err(DbError::from)?;
        let mut found = users::table
            .filter(users::email.eq(&email))
            .filter(users::status.ne(AccountStatus::Withdrawn))
            .select(Credentials::as_select())
            .first(&mut conn)
            .await
            .optional()?;
        if found.is_none()
            && let Some(dormant) = super::lifecycle::dormant_by_email(&mut conn, &email).await?
        {
            // A dormant account's email lives apart; logging in brings the account back.
            found = users::table
                .find(dormant)
                .select(Credentials::as_select())
                .first(&mut conn)
                .await
                .optional()?;
        }
        found
    };
    let stored = found.as_ref().and_then(|user| user.password_hash.clone());
    let valid = check_counted(sessions, &key, password_attempt, stored, now).await?;
    let Some(user) = found.filter(|_| valid) else {
        return Err(IdentityError::InvalidCredentials);
    };
    let mut conn = db.get().await.map_err(DbError::from)?;
    admit(&mut conn, &user, now).await?;
    drop(conn);
    let role = user.role;
    let tokens = start_session(sessions, UserId(user.id), role, now).await?;
    let device = token::issue_device(
        sessions.tokens,
        &account_key,
        known.as_ref().map(|claims| claims.did.as_str()),
        now,
    );
    Ok(LoggedIn { tokens, device })
}

/// Lets a user in by id (after a sign-in that proved who they are), or says why not.
pub async fn admit_by_id(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let credentials = users::table
        .find(user)
        .select(Credentials::as_select())
        .first(conn)
        .await?;
    admit(conn, &credentials, now).await
}

/// Lets a user in, or says why not: a running suspension refuses; an ended one is lifted;
/// a dormant account is reactivated by logging in.
async fn admit(
    conn: &mut AsyncPgConnection,
    user: &Credentials,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    // Restoring a dormant account moves data back: all of it, or none.
    conn.transaction(async move |conn| admit_in(conn, user, now).await)
        .await
}

async fn admit_in(
    conn: &mut AsyncPgConnection,
    user: &Credentials,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    match user.status {
        AccountStatus::Suspended => match user.suspended_until {
            Some(until) if until > now => {
                return Err(IdentityError::Suspended {
                    until,
                    reason: user.suspension_reason.clone().unwrap_or_default(),
                });
            }
            _ => {}
        },
        AccountStatus::Withdrawn => return Err(IdentityError::AccountInactive),
        AccountStatus::Dormant => {
            super::lifecycle::restore(conn, UserId(user.id), now).await?;
        }
        AccountStatus::Active => {}
    }
    diesel::update(users::table.find(user.id))
        .set((
            users::status.eq(AccountStatus::Active),
            users::suspended_until.eq(None::<DateTime<Utc>>),
            users::suspension_reason.eq(None::<String>),
            users::last_login_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    if user.status != AccountStatus::Active {
        diesel::update(users::table.find(user.id))
            .set(users::status_changed_at.eq(now))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Issues the first token pair of a new session (refresh-token family).
pub async fn start_session(
    sessions: Sessions<'_>,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let family = uuid::Uuid::new_v4().to_string();
    let refresh = token::new_refresh_token();
    sessions
        .store
        .create_refresh(
            &token::secret_digest(&refresh),
            &RefreshSession {
                user,
                family: family.clone(),
            },
            sessions.tokens.refresh_ttl,
        )
        .await?;
    Ok(pair(sessions.tokens, user, role, &family, refresh, now))
}

fn pair(
    tokens: &TokenSettings,
    user: UserId,
    role: Role,
    family: &str,
    refresh: String,
    now: DateTime<Utc>,
) -> TokenPair {
    let (access, _) = token::issue_access(tokens, user, role, family, now);
    TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: tokens.access_ttl.as_secs(),
    }
}

/// Exchanges a refresh token for a new pair. A token that was already exchanged revokes its
/// whole family: either the user or a thief holds a copy, and we cannot tell which.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let next = token::new_refresh_token();
    let rotation = sessions
        .store
        .rotate_refresh(
            &token::secret_digest(refresh_token),
            &token::secret_digest(&next),
            sessions.tokens.refresh_ttl,
        )
        .await?;
    let session = match rotation {
        Rotation::Rotated(session) => session,
        Rotation::Reused(session) => {
            sessions
                .store
                .revoke_family(&session, sessions.tokens.access_ttl)
                .await?;
            tracing::warn!(user = %session.user, family = %session.family, "refresh token reuse: family revoked");
            return Err(IdentityError::RefreshTokenReused);
        }
        Rotation::Invalid => return Err(IdentityError::InvalidRefreshToken),
    };
    let account = find(conn, session.user).await?;
    if account.status != AccountStatus::Active {
        sessions
            .store
            .revoke_family(&session, sessions.tokens.access_ttl)
            .await?;
        return Err(IdentityError::InvalidRefreshToken);
    }
    // Staying signed in is being active: the dormancy clock counts from the last use, which a
    // refresh is. Written at most once a day.
    diesel::update(
        users::table
            .find(session.user.0)
            .filter(users::last_login_at.lt(now - chrono::TimeDelta::days(1))),
    )
    .set(users::last_login_at.eq(now))
    .execute(conn)
    .await?;
    Ok(pair(
        sessions.tokens,
        session.user,
        account.role,
        &session.family,
        next,
        now,
    ))
}

/// Refuses the presented access token at once and ends its session.
pub async fn logout(
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    sessions
        .store
        .revoke_access(&claims.jti, claims.remaining(now))
        .await?;
    sessions
        .store
        .revoke_family(
            &RefreshSession {
                user,
                family: claims.sid.clone(),
            },
            sessions.tokens.access_ttl,
        )
        .await?;
    sessions.wake_streams(user).await;
    Ok(())
}

/// What `PATCH /users/me` may change: `None` leaves a field alone; `Some(None)` clears the phone.
/// (Its `notify_daily_question` is a notification setting: the route changes it there.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    /// A new nickname (at most once in 30 days; the same one again changes nothing).
    pub nickname: Option<String>,
    pub bio: Option<String>,
    /// A new picture (one of my `AVATAR` uploads), or `Some(None)` to remove it.
    pub avatar_key: Option<Option<String>>,
}

/// Gives `user` the nickname `wanted` unless they changed it in the last 30 days; the one they
/// have (whatever the case of the letters) changes nothing. The row's lock orders two changes.
async fn change_nickname(
    conn: &mut AsyncPgConnection,
    user: UserId,
    wanted: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    conn.transaction(async |conn| {
        let (current, changed_at): (Option<String>, Option<DateTime<Utc>>) = users::table
            .find(user)
            .select((users::nickname, users::nickname_changed_at))
            .for_update()
            .first(conn)
            .await?;
        if current.as_deref() == Some(wanted) {
            return Ok(());
        }
        if let Some(next) = changed_at
            .map(|at| at + rules::NICKNAME_CHANGE_EVERY)
            .filter(|next| *next > now)
        {
            return Err(IdentityError::NicknameRecentlyChanged { next });
        }
        diesel::update(users::table.find(user))
            .set((
                users::nickname.eq(wanted),
                users::nickname_changed_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await
            .map_err(nickname_taken)?;
        Ok(())
    })
    .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    store: &dyn crate::ports::ObjectStore,
    user: UserId,
    change: AccountChange,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    let AccountChange {
        name,
        phone,
        nickname,
        bio,
        avatar_key,
    } = change;
    if let Some(avatar_key) = avatar_key {
        super::avatar::set(conn, store, user, avatar_key, now).await?;
    }
    if let Some(nickname) = nickname {
        change_nickname(conn, user, nickname.trim(), now).await?;
    }
    if let Some(bio) = bio {
        diesel::update(users::table.find(user))
            .set((users::bio.eq(bio.trim()), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    if let Some(name) = name {
        diesel::update(users::table.find(user))
            .set((users::name.eq(name.trim()), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    if let Some(phone) = phone {
        diesel::update(users::table.find(user))
            .set((users::phone.eq(phone), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    find(conn, user).await
}

/// `PUT /users/me/profile`: phone plus a default delivery address, which together make the
/// profile complete (the step OAuth sign-ups go through before ordering).
pub async fn complete_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
    phone: String,
    address: NewAddress,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    conn.transaction(async move |conn| -> Result<_, IdentityError> {
        diesel::update(users::table.find(user))
            .set((users::phone.eq(phone), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
        address::create(
            conn,
            user,
            NewAddress {
                is_default: true,
                ..address
            },
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    find(conn, user).await
}

/// Changes the password after checking the current one (wrong ones counted per account, as
/// logins are, so a stolen session cannot guess it); every other session ends, and the other
/// secrets (the calendar feed's address) too when given `end_other_secrets`. No connection is
/// held while hashing.
pub async fn change_password(
    db: &DbPool,
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    current: String,
    new: String,
    end_other_secrets: Option<&dyn super::closing::OtherSecrets>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    let stored = stored_password(db, user).await?;
    let key = format!("password:{user}");
    if !check_counted(sessions, &key, current, stored, now).await? {
        return Err(IdentityError::WrongPassword);
    }
    let hash = password::hash(new).await?;
    let mut conn = db.get().await.map_err(DbError::from)?;
    conn.transaction(async move |conn| -> Result<(), IdentityError> {
        diesel::update(users::table.find(user))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
        if let Some(other_secrets) = end_other_secrets {
            other_secrets.end(conn, user).await?;
        }
        Ok(())
    })
    .await?;
    drop(conn);
    sessions.end_all(user, Some(&claims.sid)).await?;
    Ok(())
}

async fn stored_password(db: &DbPool, user: UserId) -> Result<Option<String>, IdentityError> {
    let mut conn = db.get().await.map_err(DbError::from)?;
    Ok(users::table
        .find(user)
        .select(users::password_hash)
        .first(&mut conn)
        .await
        .optional()?
        .flatten())
}

/// How recent a sign-in must be to withdraw an account that has no password (Google only).
pub const FRESH_SIGN_IN: TimeDelta = TimeDelta::minutes(5);

/// A stolen session alone cannot close the account: withdrawing takes the password, or, for an
/// account without one, a sign-in within [`FRESH_SIGN_IN`].
async fn reauthenticate(
    db: &DbPool,
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    password_attempt: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    let confirmed = match stored_password(db, user).await? {
        Some(stored) => match password_attempt {
            Some(attempt) => {
                let key = format!("password:{user}");
                check_counted(sessions, &key, attempt, Some(stored), now).await?
            }
            None => false,
        },
        None => claims.iat >= (now - FRESH_SIGN_IN).timestamp(),
    };
    if confirmed {
        Ok(())
    } else {
        Err(IdentityError::ReauthenticationRequired)
    }
}

/// Withdraws the account, once its owner confirmed it (see [`reauthenticate`]): it can no
/// longer log in, every session ends and what other domains had running for it ends through
/// `closing` (the shop cancels every subscription, its `sid` inactivated through the outbox),
/// in one transaction. Personal data is removed later by the
/// account lifecycle job.
pub async fn withdraw(
    db: &DbPool,
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    password_attempt: Option<String>,
    closing: &dyn super::closing::AccountClosing,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    reauthenticate(db, sessions, claims, password_attempt, now).await?;
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    let mut conn = db.get().await.map_err(DbError::from)?;
    conn.transaction(async move |conn| -> Result<(), IdentityError> {
        diesel::update(users::table.find(user))
            .set((
                users::status.eq(AccountStatus::Withdrawn),
                users::suspended_until.eq(None::<DateTime<Utc>>),
                users::suspension_reason.eq(None::<String>),
                users::status_changed_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        closing.account_closed(conn, user, now).await?;
        Ok(())
    })
    .await?;
    drop(conn);
    sessions.end_all(user, None).await?;
    Ok(())
}

/// Creates an administrator, or promotes the existing account with that email and sets its
/// password (for `petory-api create-admin`). Returns the account and whether it was created.
pub async fn ensure_admin(
    db: &DbPool,
    email: &str,
    password_plain: String,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(Account, bool), IdentityError> {
    let email = rules::normalize_email(email);
    let existing: Option<i64> = {
        let mut conn = db.get().await.map_err(DbError::from)?;
        users::table
            .filter(users::email.eq(&email))
            .filter(users::status.ne(AccountStatus::Withdrawn))
            .select(users::id)
            .first(&mut conn)
            .await
            .optional()?
    };
    match existing {
        Some(id) => {
            let hash = password::hash(password_plain).await?;
            let mut conn = db.get().await.map_err(DbError::from)?;
            diesel::update(users::table.find(id))
                .set((
                    users::role.eq(Role::Admin),
                    users::password_hash.eq(hash),
                    // The operator vouches for the address.
                    users::email_verified_at.eq(Some(now)),
                    users::updated_at.eq(now),
                ))
                .execute(&mut conn)
                .await?;
            Ok((find(&mut conn, UserId(id)).await?, false))
        }
        None => {
            let new = NewAccount {
                email,
                password: password_plain,
                name: name.to_owned(),
                phone: None,
                nickname: None,
            };
            let account = signup(db, new, Role::Admin, Proof::Vouched, now).await?;
            Ok((account, true))
        }
    }
}
