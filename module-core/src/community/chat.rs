//! 1:1 chat about a listing: one room per (listing, buyer), messages numbered without gaps per
//! room (sending locks the room's row for the next number), each member's read position, and
//! a coalesced `CHAT_MESSAGE` notification for a member with no open socket.
//!
//! Delivery to live sockets is the API's business; everything here is committed before any
//! socket hears of it, so a client that missed a wake-up catches up from these rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

mod unsend;

pub use unsend::{UNSEND_WITHIN, Unsent, unsend};

use super::block;
use super::trade::{ListingId, ListingStatus};
use super::{CommunityError, Viewer, ensure_can_publish};
use crate::db::{DbError, DbPool};
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::identity::{AccountStatus, Suspended};
use crate::notification::{self, NewNotification, Notice};
use crate::platform::upload::{self, Purpose};
use crate::ports::{ChatPresence, ObjectStore};
use crate::schema::{chat_members, chat_messages, chat_rooms, listings, users};

crate::id_type! {
    /// A chat room (`chat_rooms.id`): one per listing and buyer.
    pub struct RoomId;
}

crate::id_type! {
    /// A chat message (`chat_messages.id`); within a room, ids grow with the sequence number.
    pub struct MessageId;
}

/// The longest text message, in characters.
pub const MAX_TEXT_CHARS: u64 = 2000;

/// What a message carries: words, or one verified image upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    Text(String),
    Image(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = chat_messages)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    pub seq: i32,
    pub sender_id: UserId,
    pub client_id: Uuid,
    pub text: Option<String>,
    pub image_key: Option<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    /// Whether `reader` may read the words: moderation hides a message from everyone but its
    /// sender (and admins), and deletes it for all (as its sender does by unsending it); its
    /// place in the room stays.
    pub fn readable_by(&self, reader: UserId) -> bool {
        self.deleted_at.is_none() && Viewer::user(reader).may_read(self.sender_id, self.hidden_at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = chat_rooms)]
/// A room's members, as membership checks need them.
struct Room {
    id: RoomId,
    seller_id: UserId,
    buyer_id: UserId,
}

impl Room {
    fn other(&self, me: UserId) -> UserId {
        if me == self.seller_id {
            self.buyer_id
        } else {
            self.seller_id
        }
    }
}

/// A room as one member sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub id: RoomId,
    pub listing_id: ListingId,
    /// The listing is there for this member (not taken down, not hidden from them); its title
    /// and image show only then.
    pub listing_available: bool,
    pub listing_title: Option<String>,
    pub listing_image_key: Option<String>,
    pub listing_status: ListingStatus,
    pub other_user_id: UserId,
    pub other_user_name: String,
    /// The other member left: the room takes no more messages.
    pub other_left: bool,
    /// The sequence number up to which the other member has read (for read receipts).
    pub other_last_read_seq: i32,
    pub last_read_seq: i32,
    pub last_seq: i32,
    pub unread_count: i32,
    pub last_message: Option<Message>,
    pub active_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = BigInt)]
    id: RoomId,
    #[diesel(sql_type = BigInt)]
    listing_id: ListingId,
    #[diesel(sql_type = Bool)]
    listing_available: bool,
    #[diesel(sql_type = Nullable<Text>)]
    listing_title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    listing_image_key: Option<String>,
    #[diesel(sql_type = Text)]
    listing_status: ListingStatus,
    #[diesel(sql_type = BigInt)]
    other_user_id: UserId,
    #[diesel(sql_type = Text)]
    other_user_name: String,
    #[diesel(sql_type = Bool)]
    other_left: bool,
    #[diesel(sql_type = Int4)]
    other_last_read_seq: i32,
    #[diesel(sql_type = Int4)]
    last_read_seq: i32,
    #[diesel(sql_type = Int4)]
    last_seq: i32,
    #[diesel(sql_type = Timestamptz)]
    active_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    message_id: Option<MessageId>,
    #[diesel(sql_type = Nullable<BigInt>)]
    message_sender_id: Option<UserId>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    message_client_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    message_text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    message_image_key: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_hidden_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_deleted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_created_at: Option<DateTime<Utc>>,
}

impl From<SummaryRow> for RoomSummary {
    fn from(row: SummaryRow) -> Self {
        let last_message = match (
            row.message_id,
            row.message_sender_id,
            row.message_client_id,
            row.message_created_at,
        ) {
            (Some(id), Some(sender_id), Some(client_id), Some(created_at)) => Some(Message {
                id,
                room_id: row.id,
                seq: row.last_seq,
                sender_id,
                client_id,
                text: row.message_text,
                image_key: row.message_image_key,
                hidden_at: row.message_hidden_at,
                deleted_at: row.message_deleted_at,
                created_at,
            }),
            _ => None,
        };
        Self {
            id: row.id,
            listing_id: row.listing_id,
            listing_available: row.listing_available,
            listing_title: row.listing_title,
            listing_image_key: row.listing_image_key,
            listing_status: row.listing_status,
            other_user_id: row.other_user_id,
            other_user_name: row.other_user_name,
            other_left: row.other_left,
            other_last_read_seq: row.other_last_read_seq,
            last_read_seq: row.last_read_seq,
            last_seq: row.last_seq,
            unread_count: (row.last_seq - row.last_read_seq).max(0),
            last_message,
            active_at: row.active_at,
            created_at: row.created_at,
        }
    }
}

crate::prepared_query! {
    /// A member's rooms with what their list shows (`chat/rooms.sql`).
    struct RoomSummaries = include_str!("chat/rooms.sql");
    me: BigInt = UserId,
    only: Nullable<BigInt> = Option<RoomId>,
    after_active_at: Nullable<Timestamptz> = Option<DateTime<Utc>>,
    after_id: Nullable<BigInt> = Option<RoomId>,
    limit: BigInt = i64,
}

/// Where a list of rooms goes on from: the last room of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomCursor {
    pub active_at: DateTime<Utc>,
    pub id: RoomId,
}

/// My rooms (those I have not left), the most recently active first; or one room by `only`,
/// left or not.
async fn summaries(
    conn: &mut AsyncPgConnection,
    me: UserId,
    only: Option<RoomId>,
    after: Option<RoomCursor>,
    limit: i64,
) -> Result<Vec<RoomSummary>, CommunityError> {
    let rows: Vec<SummaryRow> = RoomSummaries {
        me,
        only,
        after_active_at: after.map(|cursor| cursor.active_at),
        after_id: after.map(|cursor| cursor.id),
        limit,
    }
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// My rooms, the most recently active first, `limit` after `after`.
pub async fn rooms(
    conn: &mut AsyncPgConnection,
    me: UserId,
    after: Option<RoomCursor>,
    limit: i64,
) -> Result<Vec<RoomSummary>, CommunityError> {
    summaries(conn, me, None, after, limit).await
}

/// One of my rooms (also one I left).
pub async fn room(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: RoomId,
) -> Result<RoomSummary, CommunityError> {
    summaries(conn, me, Some(id), None, 1)
        .await?
        .pop()
        .ok_or(CommunityError::RoomNotFound)
}

/// The buyer's room about a listing: opened now (`true`) or the one they have (`false`),
/// which they rejoin if they had left it. The seller cannot chat with themself, a sold listing
/// takes no new rooms, and blocking either way keeps a room from opening.
pub async fn open(
    conn: &mut AsyncPgConnection,
    buyer: UserId,
    listing_id: ListingId,
    now: DateTime<Utc>,
) -> Result<(RoomSummary, bool), CommunityError> {
    ensure_can_publish(conn, buyer).await?;
    let (room_id, created) = conn
        .transaction(async |conn| -> Result<(RoomId, bool), CommunityError> {
            let (seller, status, _): (UserId, ListingStatus, Option<DateTime<Utc>>) =
                listings::table
                    .find(listing_id)
                    .filter(listings::deleted_at.is_null())
                    .select((listings::seller_id, listings::status, listings::hidden_at))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?
                    .filter(|(seller, _, hidden_at)| {
                        Viewer::user(buyer).may_read(*seller, *hidden_at)
                    })
                    .ok_or(CommunityError::ListingNotFound)?;
            if seller == buyer {
                return Err(CommunityError::OwnListing);
            }
            let existing: Option<RoomId> = chat_rooms::table
                .filter(chat_rooms::listing_id.eq(listing_id))
                .filter(chat_rooms::buyer_id.eq(buyer))
                .select(chat_rooms::id)
                .first(conn)
                .await
                .optional()?;
            if let Some(room) = existing {
                diesel::update(chat_members::table.find((room, buyer)))
                    .set(chat_members::left_at.eq(None::<DateTime<Utc>>))
                    .execute(conn)
                    .await?;
                return Ok((room, false));
            }
            if status == ListingStatus::Sold {
                return Err(CommunityError::ListingSold);
            }
            if block::between(conn, buyer, seller).await? {
                return Err(CommunityError::Blocked);
            }
            // The listing's row is locked, so two opens by the same buyer cannot both insert.
            let room: RoomId = diesel::insert_into(chat_rooms::table)
                .values((
                    chat_rooms::listing_id.eq(listing_id),
                    chat_rooms::seller_id.eq(seller),
                    chat_rooms::buyer_id.eq(buyer),
                    chat_rooms::active_at.eq(now),
                    chat_rooms::created_at.eq(now),
                ))
                .returning(chat_rooms::id)
                .get_result(conn)
                .await?;
            diesel::insert_into(chat_members::table)
                .values(&[
                    (
                        chat_members::room_id.eq(room),
                        chat_members::user_id.eq(seller),
                    ),
                    (
                        chat_members::room_id.eq(room),
                        chat_members::user_id.eq(buyer),
                    ),
                ])
                .execute(conn)
                .await?;
            diesel::update(listings::table.find(listing_id))
                .set(listings::chat_count.eq(listings::chat_count + 1))
                .execute(conn)
                .await?;
            Ok((room, true))
        })
        .await?;
    Ok((room(conn, buyer, room_id).await?, created))
}

/// The room, if `me` is one of its two members.
async fn membership(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: RoomId,
) -> Result<Room, CommunityError> {
    chat_rooms::table
        .find(id)
        .filter(chat_rooms::seller_id.eq(me).or(chat_rooms::buyer_id.eq(me)))
        .select(Room::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::RoomNotFound)
}

/// Which messages of a room: before or after a message, or after a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The newest first, older than this message (the newest of all without one).
    Before(Option<MessageId>),
    /// Oldest first, newer than this message (what a resuming client missed).
    AfterMessage(MessageId),
    /// Oldest first, with a sequence number above this one (a gap to fill).
    AfterSeq(i32),
}

/// A window of a room's messages, for one of its members.
pub async fn messages(
    conn: &mut AsyncPgConnection,
    me: UserId,
    room: RoomId,
    window: Window,
    limit: i64,
) -> Result<Vec<Message>, CommunityError> {
    membership(conn, me, room).await?;
    // A message id becomes its number in the room, so that the room's (room_id, seq) index
    // bounds the read; an id from elsewhere keeps the id as the bound.
    let window = match window {
        Window::Before(Some(id)) => match seq_of(conn, room, id).await? {
            Some(seq) => Bound::Below(seq),
            None => Bound::BelowId(id),
        },
        Window::Before(None) => Bound::Newest,
        Window::AfterMessage(id) => match seq_of(conn, room, id).await? {
            Some(seq) => Bound::Above(seq),
            None => Bound::AboveId(id),
        },
        Window::AfterSeq(seq) => Bound::Above(seq),
    };
    let query = chat_messages::table
        .filter(chat_messages::room_id.eq(room))
        .select(Message::as_select())
        .limit(limit);
    Ok(match window {
        Bound::Newest => query.order(chat_messages::seq.desc()).load(conn).await?,
        Bound::Below(seq) => {
            query
                .filter(chat_messages::seq.lt(seq))
                .order(chat_messages::seq.desc())
                .load(conn)
                .await?
        }
        Bound::BelowId(id) => {
            query
                .filter(chat_messages::id.lt(id))
                .order(chat_messages::seq.desc())
                .load(conn)
                .await?
        }
        Bound::Above(seq) => {
            query
                .filter(chat_messages::seq.gt(seq))
                .order(chat_messages::seq.asc())
                .load(conn)
                .await?
        }
        Bound::AboveId(id) => {
            query
                .filter(chat_messages::id.gt(id))
                .order(chat_messages::seq.asc())
                .load(conn)
                .await?
        }
    })
}

/// How [`messages`] bounds its read.
enum Bound {
    Newest,
    Below(i32),
    BelowId(MessageId),
    Above(i32),
    AboveId(MessageId),
}

/// A message's number in its room, if it is that room's.
async fn seq_of(
    conn: &mut AsyncPgConnection,
    room: RoomId,
    id: MessageId,
) -> Result<Option<i32>, CommunityError> {
    Ok(chat_messages::table
        .find(id)
        .filter(chat_messages::room_id.eq(room))
        .select(chat_messages::seq)
        .first(conn)
        .await
        .optional()?)
}

/// What `sender` stored under `client_id` in `room`, if anything: a resend's answer when the
/// sender may not send right now.
pub async fn sent_before(
    conn: &mut AsyncPgConnection,
    sender: UserId,
    room: RoomId,
    client_id: Uuid,
) -> Result<Option<Message>, CommunityError> {
    Ok(chat_messages::table
        .filter(chat_messages::sender_id.eq(sender))
        .filter(chat_messages::client_id.eq(client_id))
        .filter(chat_messages::room_id.eq(room))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Every room I am a member of (left ones too) and its last sequence number: where a new
/// socket starts counting.
pub async fn positions(
    conn: &mut AsyncPgConnection,
    me: UserId,
) -> Result<Vec<(RoomId, i32)>, CommunityError> {
    Ok(chat_members::table
        .inner_join(chat_rooms::table)
        .filter(chat_members::user_id.eq(me))
        .select((chat_rooms::id, chat_rooms::last_seq))
        .load(conn)
        .await?)
}

/// A message as stored, and who should hear of it.
/// How fast one member may send chat messages, across every API instance: `false` when they
/// are over their budget. A port of chat's own (Redis in production).
#[async_trait::async_trait]
pub trait ChatSendRate: Send + Sync {
    async fn admit(&self, sender: UserId) -> bool;
}

/// Hands a stored message to the members' open chat sockets, wherever they are connected
/// (Redis in production). Best effort: a socket that missed it catches up from the database.
#[async_trait::async_trait]
pub trait ChatFanout: Send + Sync {
    async fn message_sent(&self, message: &Message, to: [UserId; 2]);
}

/// What sending a message reaches beyond the database.
pub struct SendPorts<'a> {
    pub store: &'a dyn ObjectStore,
    pub presence: &'a dyn ChatPresence,
    pub rate: &'a dyn ChatSendRate,
    pub fanout: &'a dyn ChatFanout,
}

/// A member sends a message in one of their rooms, from a socket or over HTTP alike: within
/// their rate (a resend of a stored message is an answer owed, never refused for the rate),
/// stored once per `client_id`, and handed to both members' sockets (a resend again: the first
/// attempt may have stopped between its commit and the fan-out).
pub async fn send_message(
    db: &DbPool,
    ports: SendPorts<'_>,
    sender: UserId,
    room: RoomId,
    client_id: Uuid,
    body: MessageBody,
    now: DateTime<Utc>,
) -> Result<Delivered, CommunityError> {
    if !ports.rate.admit(sender).await {
        let mut conn = db.get().await.map_err(DbError::from)?;
        return match sent_before(&mut conn, sender, room, client_id).await? {
            Some(earlier) => Ok(Delivered {
                message: earlier,
                duplicate: true,
            }),
            None => Err(CommunityError::ChatRateLimited),
        };
    }
    let sent = {
        let mut conn = db.get().await.map_err(DbError::from)?;
        send(
            &mut conn,
            ports.store,
            ports.presence,
            sender,
            room,
            client_id,
            body,
            now,
        )
        .await?
    };
    ports
        .fanout
        .message_sent(&sent.message, [sender, sent.recipient])
        .await;
    Ok(Delivered {
        message: sent.message,
        duplicate: sent.duplicate,
    })
}

/// A message as its sender gets it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub message: Message,
    /// Stored before under the same `client_id`: nothing new happened.
    pub duplicate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    pub message: Message,
    /// The other member.
    pub recipient: UserId,
    /// The message was stored before, under the same `client_id`: nothing new happened.
    pub duplicate: bool,
}

crate::prepared_query! {
    /// The room a send goes to, locked, with every check (`chat/lock_room.sql`).
    struct LockRoom = include_str!("chat/lock_room.sql");
    room: BigInt = RoomId,
    sender: BigInt = UserId,
    client_id: diesel::sql_types::Uuid = Uuid,
}

crate::prepared_query! {
    /// A message stored, and its room moved (`chat/insert_message.sql`).
    struct InsertMessage = include_str!("chat/insert_message.sql");
    room: BigInt = RoomId,
    seq: Int4 = i32,
    sender: BigInt = UserId,
    client_id: diesel::sql_types::Uuid = Uuid,
    text: Nullable<Text> = Option<String>,
    image_key: Nullable<Text> = Option<String>,
    now: Timestamptz = DateTime<Utc>,
}

/// A room as a send finds it, locked (`chat/lock_room.sql`).
#[derive(QueryableByName)]
struct LockedRoom {
    #[diesel(sql_type = BigInt)]
    id: RoomId,
    #[diesel(sql_type = BigInt)]
    listing_id: ListingId,
    #[diesel(sql_type = BigInt)]
    seller_id: UserId,
    #[diesel(sql_type = BigInt)]
    buyer_id: UserId,
    #[diesel(sql_type = Int4)]
    last_seq: i32,
    #[diesel(sql_type = Text)]
    sender_status: AccountStatus,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    sender_suspended_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    sender_left: bool,
    #[diesel(sql_type = Bool)]
    recipient_left: bool,
    #[diesel(sql_type = Bool)]
    blocked: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    earlier_id: Option<MessageId>,
    #[diesel(sql_type = Nullable<BigInt>)]
    earlier_room_id: Option<RoomId>,
}

/// Stores a message once per (sender, `client_id`): a resend returns the stored message.
/// When the recipient has no open socket (`presence`), they get one `CHAT_MESSAGE` notification
/// per room until they read it. The common path is three round trips: the room locked with
/// every check, the message stored with the room moved, the commit.
#[allow(clippy::too_many_arguments)]
async fn send(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    presence: &dyn ChatPresence,
    sender: UserId,
    room_id: RoomId,
    client_id: Uuid,
    body: MessageBody,
    now: DateTime<Utc>,
) -> Result<Sent, CommunityError> {
    let image = match &body {
        MessageBody::Image(key) => Some(
            upload::verify(
                conn,
                store,
                sender,
                Purpose::Chat,
                std::slice::from_ref(key),
                &[],
            )
            .await?,
        ),
        MessageBody::Text(_) => None,
    };
    let (text, image_key) = match body {
        MessageBody::Text(text) => (Some(text), None),
        MessageBody::Image(key) => (None, Some(key)),
    };
    conn.transaction(async |conn| {
        let room = LockRoom {
            room: room_id,
            sender,
            client_id,
        }
        .get_result::<LockedRoom>(conn)
        .await
        .optional()?
        .ok_or(CommunityError::RoomNotFound)?;
        let recipient = if sender == room.seller_id {
            room.buyer_id
        } else {
            room.seller_id
        };
        // A resend returns what was stored, whatever happened in the room since.
        if let Some(earlier) = room.earlier_id {
            if room.earlier_room_id != Some(room.id) {
                return Err(CommunityError::ClientIdReused);
            }
            let message = chat_messages::table
                .find(earlier)
                .select(Message::as_select())
                .first(conn)
                .await?;
            return Ok(Sent {
                message,
                recipient,
                duplicate: true,
            });
        }
        if room.sender_left {
            return Err(CommunityError::RoomNotFound);
        }
        if room.sender_status == AccountStatus::Suspended {
            let until = room.sender_suspended_until;
            return Err(Suspended { until }.into());
        }
        if room.recipient_left {
            return Err(CommunityError::PartyLeft);
        }
        if room.blocked {
            return Err(CommunityError::Blocked);
        }
        if let Some(image) = image {
            image.attach(conn, now).await?;
        }
        let stored: Option<Message> = InsertMessage {
            room: room.id,
            seq: room.last_seq + 1,
            sender,
            client_id,
            text: text.clone(),
            image_key: image_key.clone(),
            now,
        }
        .get_result(conn)
        .await
        .optional()?;
        let Some(message) = stored else {
            // The client id was taken after this statement's snapshot: by a concurrent resend
            // that held the room's lock first (its message is the answer), or in another room.
            let earlier = sent_before(conn, sender, room.id, client_id)
                .await?
                .ok_or(CommunityError::ClientIdReused)?;
            return Ok(Sent {
                message: earlier,
                recipient,
                duplicate: true,
            });
        };
        if !presence.is_online(recipient).await {
            notify_once(conn, room.listing_id, sender, recipient, &message, now).await?;
        }
        Ok(Sent {
            message,
            recipient,
            duplicate: false,
        })
    })
    .await
}

/// One `CHAT_MESSAGE` notification per room until the recipient reads it; none from a room they
/// muted (which leaves the next unmuted message free to notify).
async fn notify_once(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    sender: UserId,
    recipient: UserId,
    message: &Message,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let claimed = diesel::update(
        chat_members::table
            .find((message.room_id, recipient))
            .filter(chat_members::notified.eq(false))
            .filter(chat_members::muted.eq(false)),
    )
    .set(chat_members::notified.eq(true))
    .execute(conn)
    .await?;
    if claimed == 0 {
        return Ok(());
    }
    let sender_name: String = users::table
        .find(sender)
        .select(public_name(users::nickname, users::name))
        .first(conn)
        .await?;
    let words = crate::platform::messages::chat_message(&sender_name, message.text.as_deref());
    notification::request(
        conn,
        &NewNotification {
            user_id: recipient,
            notice: Notice::ChatMessage {
                room_id: message.room_id.into(),
                listing_id: listing_id.into(),
                message_id: message.id.into(),
            },
            title: words.title,
            body: words.body,
            once_per: None,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Where a member has read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPosition {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub message_id: MessageId,
    pub seq: i32,
    pub unread_count: i32,
    /// The other member, who sees the receipt.
    pub other: UserId,
    /// The position moved (to `message_id`): there is a receipt to send.
    pub advanced: bool,
}

/// Marks a room read up to one of its messages (never backwards), and lets the next message
/// notify again.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    me: UserId,
    room_id: RoomId,
    message_id: MessageId,
) -> Result<ReadPosition, CommunityError> {
    let room = membership(conn, me, room_id).await?;
    let seq: i32 = chat_messages::table
        .find(message_id)
        .filter(chat_messages::room_id.eq(room.id))
        .select(chat_messages::seq)
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::MessageNotFound)?;
    // Opening the room is reading it: a waiting notification is done either way.
    let advanced = diesel::update(
        chat_members::table
            .find((room.id, me))
            .filter(chat_members::last_read_seq.lt(seq)),
    )
    .set((
        chat_members::last_read_seq.eq(seq),
        chat_members::notified.eq(false),
    ))
    .execute(conn)
    .await?
        == 1;
    if !advanced {
        diesel::update(chat_members::table.find((room.id, me)))
            .set(chat_members::notified.eq(false))
            .execute(conn)
            .await?;
    }
    let read: i32 = chat_members::table
        .find((room.id, me))
        .select(chat_members::last_read_seq)
        .first(conn)
        .await?;
    let last_seq: i32 = chat_rooms::table
        .find(room.id)
        .select(chat_rooms::last_seq)
        .first(conn)
        .await?;
    Ok(ReadPosition {
        room_id: room.id,
        user_id: me,
        message_id,
        seq: read,
        unread_count: (last_seq - read).max(0),
        other: room.other(me),
        advanced,
    })
}

/// Leaves a room: it leaves my list, and the other member sees that I left and can no longer
/// write in it. A buyer who opens the listing's chat again rejoins it.
pub async fn leave(
    conn: &mut AsyncPgConnection,
    me: UserId,
    room_id: RoomId,
    now: DateTime<Utc>,
) -> Result<UserId, CommunityError> {
    let room = membership(conn, me, room_id).await?;
    diesel::update(
        chat_members::table
            .find((room.id, me))
            .filter(chat_members::left_at.is_null()),
    )
    .set(chat_members::left_at.eq(now))
    .execute(conn)
    .await?;
    Ok(room.other(me))
}
