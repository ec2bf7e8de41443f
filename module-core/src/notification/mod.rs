//! In-app notifications. Domain services ask for one with [`request`] inside their own
//! transaction (an outbox event); the relay then [`deliver`]s it exactly once per cause and wakes
//! the user's live streams. Bulk senders (the midnight job) insert rows directly in sets.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::identity::UserId;
use crate::platform::outbox;
use crate::schema::notifications;

pub mod notice;
pub mod push;
pub mod settings;

pub use notice::{Notice, SubscriptionCycle};

crate::id_type! {
    /// A notification (`notifications.id`); ids only grow, so they order a user's stream.
    pub struct NotificationId;
}

crate::text_enum! {
    /// What a notification is about (`notifications.kind`).
    pub enum NotificationKind {
        DailyQuestion = "DAILY_QUESTION",
        OrderStatus = "ORDER_STATUS",
        SubscriptionPaymentFailed = "SUBSCRIPTION_PAYMENT_FAILED",
        SubscriptionCanceled = "SUBSCRIPTION_CANCELED",
        ChatMessage = "CHAT_MESSAGE",
        EventReminder = "EVENT_REMINDER",
        PetDday = "PET_DDAY",
        /// Someone commented on my post.
        PostCommented = "POST_COMMENTED",
        /// Someone replied to my comment.
        CommentReplied = "COMMENT_REPLIED",
        /// Someone wished for my listing (never who).
        ListingWished = "LISTING_WISHED",
        /// A listing I wished for got cheaper.
        WishedPriceDropped = "WISHED_PRICE_DROPPED",
        /// Members liked my post (told at most once an hour per post, with how many).
        PostLiked = "POST_LIKED",
        /// An admin hid or deleted my content, or showed it again.
        ContentModerated = "CONTENT_MODERATED",
        /// A report I made was resolved.
        ReportResolved = "REPORT_RESOLVED",
        /// My order left with a courier (with where to follow it).
        OrderShipped = "ORDER_SHIPPED",
    }
}

/// A notification asked for is an outbox event: stored once, then the user's streams woken.
impl outbox::Payload for NewNotification {
    const KIND: &'static str = "NOTIFICATION_REQUESTED";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotification {
    pub user_id: UserId,
    /// Its kind and what the client links to (`kind` and `data` in the payload).
    #[serde(flatten)]
    pub notice: Notice,
    pub title: String,
    pub body: String,
    /// Its cause, when one cause must notify once however often it recurs (a member wishing
    /// for a listing, taking it back and wishing again tells the seller once); otherwise each
    /// request is its own cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once_per: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub notice: Notice,
    pub title: String,
    pub body: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A stored notification as its columns hold it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications)]
struct Row {
    id: NotificationId,
    user_id: UserId,
    kind: NotificationKind,
    title: String,
    body: String,
    data: serde_json::Value,
    read_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Notification {
    type Error = NotificationError;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        let notice =
            Notice::read(row.kind, row.data).map_err(|cause| NotificationError::Unreadable {
                id: row.id.into(),
                cause,
            })?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            notice,
            title: row.title,
            body: row.body,
            read_at: row.read_at,
            created_at: row.created_at,
        })
    }
}

fn notifications_of(rows: Vec<Row>) -> Result<Vec<Notification>, NotificationError> {
    rows.into_iter().map(Notification::try_from).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("no such notification")]
    NotFound,
    #[error("a muted room must be one of your chat rooms")]
    RoomNotFound,
    #[error("at most {max} rooms are muted at once")]
    TooManyMutedRooms { max: usize },
    /// A stored notification whose data does not have its kind's shape: a writer's bug.
    #[error("notification {id} does not have its kind's shape: {cause}")]
    Unreadable { id: i64, cause: serde_json::Error },
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for NotificationError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// Asks for a notification once the caller's transaction commits (call it on that
/// transaction's connection).
pub async fn request(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    request_many(conn, std::slice::from_ref(notification), now).await
}

/// [`request`] for several notifications, in one statement.
pub async fn request_many(
    conn: &mut AsyncPgConnection,
    notifications: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    outbox::record_many(conn, notifications, now).await?;
    Ok(())
}

/// Stores a notification unless one with the same cause (`dedupe_key`) exists or its member
/// switched it off ([`settings::wanted`]); returns the new row's id, or `None`.
pub async fn deliver(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<NotificationId>, NotificationError> {
    if !settings::wanted(conn, notification).await? {
        return Ok(None);
    }
    Ok(diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(notification.user_id),
            notifications::kind.eq(notification.notice.kind()),
            notifications::title.eq(&notification.title),
            notifications::body.eq(&notification.body),
            notifications::data.eq(notification.notice.data()),
            notifications::dedupe_key.eq(dedupe_key),
            notifications::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(notifications::id)
        .get_result(conn)
        .await
        .optional()?)
}

/// What the relay made of one requested notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The in-app row, when stored now.
    pub stored: Option<NotificationId>,
    /// Pushes queued for the member's devices.
    pub pushes: usize,
}

/// [`deliver`], and in the same transaction the pushes to the member's devices
/// ([`push::delivery::queue`]), unless this cause was delivered before: a relay that runs an
/// event again queues nothing twice (the push queue is unique per device and cause too).
pub async fn deliver_everywhere(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<Delivered, NotificationError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let stored = deliver(conn, notification, dedupe_key, now).await?;
        if stored.is_none() && settings::wanted(conn, notification).await? {
            // Stored before under this cause: its pushes were queued then.
            return Ok(Delivered { stored, pushes: 0 });
        }
        let pushes = push::delivery::queue(conn, notification, stored, dedupe_key, now).await?;
        Ok(Delivered { stored, pushes })
    })
    .await
}

/// A user's notifications, newest first, before the id `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    before: Option<NotificationId>,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Notification>, NotificationError> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user))
        .select(Row::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    notifications_of(
        query
            .order(notifications::id.desc())
            .limit(limit)
            .load(conn)
            .await?,
    )
}

/// A user's notifications after the id `after`, oldest first: what a live stream sends next.
pub async fn after(
    conn: &mut AsyncPgConnection,
    user: UserId,
    after: i64,
    limit: i64,
) -> Result<Vec<Notification>, NotificationError> {
    notifications_of(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::id.gt(after))
            .order(notifications::id.asc())
            .limit(limit)
            .select(Row::as_select())
            .load(conn)
            .await?,
    )
}

/// The id of a user's newest notification (0 when there is none): where a new stream starts.
pub async fn latest_id(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<i64, NotificationError> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user))
        .select(diesel::dsl::max(notifications::id))
        .first::<Option<i64>>(conn)
        .await?
        .unwrap_or(0))
}

pub async fn unread_count(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<i64, NotificationError> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

/// Marks one of the user's notifications read (keeping the first read time).
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: NotificationId,
    now: DateTime<Utc>,
) -> Result<Notification, NotificationError> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now))
    .execute(conn)
    .await?;
    notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(NotificationError::NotFound)?
        .try_into()
}

/// Marks every unread notification of the user read; returns how many changed.
pub async fn mark_all_read(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<usize, NotificationError> {
    Ok(diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now))
    .execute(conn)
    .await?)
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: NotificationId,
) -> Result<(), NotificationError> {
    let deleted = diesel::delete(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user)),
    )
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(NotificationError::NotFound);
    }
    Ok(())
}

/// Deletes notifications created before `cutoff`, `chunk` rows per statement so that no
/// statement holds locks for long; returns how many went.
pub async fn purge_older_than(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    chunk: i64,
) -> Result<usize, DbError> {
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(
            "DELETE FROM notifications WHERE id IN \
             (SELECT id FROM notifications WHERE created_at < $1 LIMIT $2)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
        .bind::<diesel::sql_types::BigInt, _>(chunk)
        .execute(conn)
        .await?;
        total += deleted;
        if i64::try_from(deleted).unwrap_or(i64::MAX) < chunk {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_as_it_was_written_with_or_without_its_cause() {
        for once_per in [None, Some("listing-wished:1:2".to_owned())] {
            let request = NewNotification {
                user_id: UserId(1),
                notice: Notice::ListingWished {
                    listing_id: 1,
                    wish_count: 2,
                },
                title: "t".into(),
                body: "b".into(),
                once_per,
            };
            let json = serde_json::to_value(&request).unwrap();
            assert_eq!(
                serde_json::from_value::<NewNotification>(json).unwrap(),
                request
            );
        }
    }
}
