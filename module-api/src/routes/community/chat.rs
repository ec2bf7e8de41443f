//! 1:1 chat about a listing over HTTP: rooms, history, sending for clients without a socket,
//! read positions, leaving, and blocking. The socket (`chat_socket`) speaks the same events.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::community::block;
use petory_core::community::chat::{
    self, Message, MessageBody, MessageId, ReadPosition, RoomCursor, RoomId, RoomSummary, Window,
};
use petory_core::community::trade::{ListingId, ListingStatus};
use petory_core::identity::UserId;
use petory_core::platform::image::ImageUrls;
use petory_core::platform::messages;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::{AuthUser, LiveCaller};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageResponse {
    pub id: i64,
    pub room_id: i64,
    /// The message's number in its room: 1, 2, 3, … without gaps, so a client sees what it
    /// missed.
    pub seq: i32,
    pub sender_id: i64,
    /// The sender's own id for the message (resending with it returns this message).
    #[schema(value_type = String, format = Uuid)]
    pub client_id: uuid::Uuid,
    pub text: Option<String>,
    pub image_key: Option<String>,
    /// Where to read the image, per size.
    pub image_urls: Option<ImageUrls>,
    /// Hidden by moderation: its words and image are withheld (except from its sender).
    pub hidden: bool,
    /// Taken back by its sender (or deleted by moderation): `text` is the placeholder
    /// "메시지가 삭제되었습니다" for both members, and there is no image.
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
}

impl MessageResponse {
    /// The message as `reader` sees it, with its image's URL.
    pub async fn of(state: &AppState, message: Message, reader: UserId) -> ApiResult<Self> {
        let readable = message.readable_by(reader);
        let deleted = message.deleted_at.is_some();
        let hidden = message.hidden_at.is_some() || deleted;
        let (text, image_key) = if deleted {
            (Some(messages::DELETED_CHAT_MESSAGE.to_owned()), None)
        } else if readable {
            (message.text, message.image_key)
        } else {
            (None, None)
        };
        let image_urls = state.image_url(image_key.as_deref()).await?;
        Ok(Self {
            id: message.id.into(),
            room_id: message.room_id.into(),
            seq: message.seq,
            sender_id: message.sender_id.into(),
            client_id: message.client_id,
            text,
            image_key,
            image_urls,
            hidden,
            deleted,
            created_at: message.created_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomListing {
    pub id: i64,
    /// False once the listing is taken down or hidden by moderation: no title or image then.
    pub available: bool,
    pub title: Option<String>,
    /// Where to read the listing's first image, per size.
    pub image_urls: Option<ImageUrls>,
    pub status: ListingStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomMember {
    pub id: i64,
    pub name: String,
    /// They left the room: it takes no more messages.
    pub left: bool,
    /// Every message up to this number is read by them (read receipts).
    pub last_read_seq: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomResponse {
    pub id: i64,
    pub listing: RoomListing,
    pub other_user: RoomMember,
    /// The number of the room's last message (0: none yet).
    pub last_seq: i32,
    /// Every message up to this number is read by me.
    pub last_read_seq: i32,
    pub unread_count: i32,
    pub last_message: Option<MessageResponse>,
    /// When the last message was sent (the room's opening until then).
    pub active_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl RoomResponse {
    async fn of(state: &AppState, room: RoomSummary, me: UserId) -> ApiResult<Self> {
        let image_urls = state.image_url(room.listing_image_key.as_deref()).await?;
        let last_message = match room.last_message {
            Some(message) => Some(MessageResponse::of(state, message, me).await?),
            None => None,
        };
        Ok(Self {
            id: room.id.into(),
            listing: RoomListing {
                id: room.listing_id.into(),
                available: room.listing_available,
                title: room.listing_title,
                image_urls,
                status: room.listing_status,
            },
            other_user: RoomMember {
                id: room.other_user_id.into(),
                name: room.other_user_name,
                left: room.other_left,
                last_read_seq: room.other_last_read_seq,
            },
            last_seq: room.last_seq,
            last_read_seq: room.last_read_seq,
            unread_count: room.unread_count,
            last_message,
            active_at: room.active_at,
            created_at: room.created_at,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct OpenRoomRequest {
    #[schema(minimum = 1)]
    pub listing_id: i64,
}

/// Open the chat about a listing with its seller (or get back the one I have, rejoining it if
/// I left). A sold listing takes no new chats.
#[utoipa::path(post, path = "/chat/rooms", tag = "chat", security(("bearer" = [])), request_body = OpenRoomRequest,
    responses(
        (status = 201, description = "Opened", body = RoomResponse),
        (status = 200, description = "The room I already have", body = RoomResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`, `CHAT_BLOCKED` (one of us blocks the other)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`LISTING_SOLD`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`OWN_LISTING`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_room(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<OpenRoomRequest>,
) -> ApiResult<(StatusCode, Json<RoomResponse>)> {
    let mut conn = state.db().await?;
    let (room, created) = chat::open(
        &mut conn,
        user.id,
        ListingId(body.listing_id),
        state.clock.now(),
    )
    .await?;
    drop(conn);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(RoomResponse::of(&state, room, user.id).await?)))
}

fn room_cursor(cursor: &str) -> Option<RoomCursor> {
    let (active_at, id) = crate::pagination::parse_instant_id_cursor(cursor)?;
    Some(RoomCursor { active_at, id })
}

/// My rooms (not those I left), the most recently active first.
#[utoipa::path(get, path = "/chat/rooms", tag = "chat", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of rooms", body = inline(Page<RoomResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_rooms(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<RoomResponse>>> {
    let after = page.parsed_cursor(room_cursor)?;
    let mut conn = state.db().await?;
    let rooms = chat::rooms(&mut conn, user.id, after, page.fetch_limit()).await?;
    drop(conn);
    let rooms = Page::new(rooms, page.limit(), |room| {
        crate::pagination::instant_id_cursor(room.active_at, room.id)
    });
    let mut items = Vec::with_capacity(rooms.items.len());
    for room in rooms.items {
        items.push(RoomResponse::of(&state, room, user.id).await?);
    }
    Ok(Json(Page {
        items,
        next_cursor: rooms.next_cursor,
    }))
}

/// One of my rooms (also one I left).
#[utoipa::path(get, path = "/chat/rooms/{id}", tag = "chat", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The room", body = RoomResponse),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND` (also for rooms of others)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_room(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<RoomId>,
) -> ApiResult<Json<RoomResponse>> {
    let mut conn = state.db().await?;
    let room = chat::room(&mut conn, user.id, id).await?;
    drop(conn);
    Ok(Json(RoomResponse::of(&state, room, user.id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages older than this message id (`next_cursor` of the previous page); the newest
    /// without it.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// A room's messages, newest first.
#[utoipa::path(get, path = "/chat/rooms/{id}/messages", tag = "chat", security(("bearer" = [])), params(("id" = i64, Path), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages; `next_cursor` is the `before` of the next", body = inline(Page<MessageResponse>)),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<RoomId>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Page<MessageResponse>>> {
    let page = PageQuery {
        cursor: None,
        limit: query.limit,
    };
    let mut conn = state.db().await?;
    let messages = chat::messages(
        &mut conn,
        user.id,
        id,
        Window::Before(query.before.map(MessageId)),
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    let messages = Page::by_id(messages, page.limit(), |message| message.id);
    let mut items = Vec::with_capacity(messages.items.len());
    for message in messages.items {
        items.push(MessageResponse::of(&state, message, user.id).await?);
    }
    Ok(Json(Page {
        items,
        next_cursor: messages.next_cursor,
    }))
}

/// A message as a client writes it: words or one uploaded image (purpose `CHAT`).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct MessageDraft {
    /// A UUID the client makes per message: sending it again returns the stored message.
    #[schema(value_type = String, format = Uuid)]
    pub client_id: uuid::Uuid,
    #[schema(min_length = 1, max_length = 2000)]
    pub text: Option<String>,
    /// The key of an uploaded image (purpose `CHAT`).
    #[schema(min_length = 1, max_length = 300)]
    pub image_key: Option<String>,
}

impl MessageDraft {
    fn body(self) -> Result<MessageBody, ApiError> {
        match (self.text, self.image_key) {
            (Some(text), None) if !text.trim().is_empty() => Ok(MessageBody::Text(text)),
            (Some(_), None) => Err(ApiError::invalid_field(
                "text",
                "blank",
                "a message needs words, not only spaces",
            )),
            (None, Some(key)) => Ok(MessageBody::Image(key)),
            _ => Err(ApiError::invalid_field(
                "text",
                "one_of",
                "a message has either text or image_key, not both or neither",
            )),
        }
    }
}

/// Sends a message as `sender` (the HTTP route and the socket alike): core sends it and hands
/// it to the sockets through [`MessageFanout`]; the answer is the message as its sender sees it.
pub async fn send_message(
    state: &AppState,
    sender: UserId,
    room: RoomId,
    draft: MessageDraft,
) -> ApiResult<(MessageResponse, bool)> {
    let client_id = draft.client_id;
    let body = draft.body()?;
    let ports = chat::SendPorts {
        store: state.object_store.as_ref(),
        presence: &state.chat,
        rate: &state.chat_rate,
        fanout: &MessageFanout(state.clone()),
    };
    let delivered = chat::send_message(
        &state.db,
        ports,
        sender,
        room,
        client_id,
        body,
        state.clock.now(),
    )
    .await?;
    let response = MessageResponse::of(state, delivered.message, sender).await?;
    Ok((response, delivered.duplicate))
}

/// Core's chat fan-out: a stored message, as each socket is sent it (`ChatUpdate::Message`).
pub struct MessageFanout(pub AppState);

#[async_trait::async_trait]
impl chat::ChatFanout for MessageFanout {
    async fn message_sent(&self, message: &chat::Message, to: [UserId; 2]) {
        // Sender and recipient may both read what was stored; the sender's view is sent.
        match MessageResponse::of(&self.0, message.clone(), message.sender_id).await {
            Ok(response) => publish(&self.0, &to, &ChatUpdate::Message(response)).await,
            Err(error) => {
                tracing::warn!(%error, "chat message not handed to sockets; they will catch up")
            }
        }
    }
}

/// An update for sockets: what the server sends on a chat socket besides replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatUpdate {
    /// A new message in one of my rooms.
    Message(MessageResponse),
    /// A member read a room up to a message.
    Read {
        room_id: i64,
        user_id: i64,
        message_id: i64,
        seq: i32,
    },
    /// Its sender took a message back: show the placeholder in its place.
    Unsent {
        room_id: i64,
        message_id: i64,
        seq: i32,
    },
}

/// Tells the sockets of `to`, on every instance. A failed publish only delays: sockets catch up
/// from the database (on Redis's return, on their periodic check, or on the client's resume).
pub async fn publish(state: &AppState, to: &[UserId], update: &ChatUpdate) {
    let Ok(json) = serde_json::to_string(update) else {
        return;
    };
    if let Err(error) = state.chat.publish(to, &json).await {
        tracing::warn!(%error, "chat update not published; sockets will catch up");
    }
}

/// Take back my message within 5 minutes of sending it: both members then read "메시지가
/// 삭제되었습니다" in its place (its `seq` stays), and the room's sockets hear `unsent`.
#[utoipa::path(delete, path = "/chat/rooms/{id}/messages/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("id" = i64, Path), ("message_id" = i64, Path)),
    responses(
        (status = 200, description = "Taken back (again: as it is)", body = MessageResponse),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND`, `CHAT_MESSAGE_NOT_FOUND` (none of mine in this room)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UNSEND_WINDOW_PASSED` (sent more than 5 minutes ago)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unsend_message(
    State(state): State<AppState>,
    user: AuthUser,
    Path((room, message)): Path<(RoomId, MessageId)>,
) -> ApiResult<Json<MessageResponse>> {
    let mut conn = state.db().await?;
    let unsent = chat::unsend(&mut conn, user.id, room, message, state.clock.now()).await?;
    drop(conn);
    let update = ChatUpdate::Unsent {
        room_id: unsent.message.room_id.into(),
        message_id: unsent.message.id.into(),
        seq: unsent.message.seq,
    };
    publish(&state, &[user.id, unsent.other], &update).await;
    Ok(Json(
        MessageResponse::of(&state, unsent.message, user.id).await?,
    ))
}

/// Send a message (for clients without a socket; the socket's `send` does the same).
#[utoipa::path(post, path = "/chat/rooms/{id}/messages", tag = "chat", security(("bearer" = [])), params(("id" = i64, Path)), request_body = MessageDraft,
    responses(
        (status = 201, description = "Stored and delivered", body = MessageResponse),
        (status = 200, description = "Sent before with this `client_id`: the stored message", body = MessageResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`, `CHAT_BLOCKED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content), `CHAT_PARTY_LEFT` (the other member left), `CLIENT_ID_REUSED` (used for a message in another room)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`CHAT_RATE_LIMITED` (10 a second, bursts of 20)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_message(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<RoomId>,
    ValidJson(draft): ValidJson<MessageDraft>,
) -> ApiResult<(StatusCode, Json<MessageResponse>)> {
    let (message, duplicate) = send_message(&state, user.id, id, draft).await?;
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(message)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ReadRequest {
    #[schema(minimum = 1)]
    pub message_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResponse {
    pub room_id: i64,
    /// Every message up to this number is read by me.
    pub last_read_seq: i32,
    pub unread_count: i32,
}

/// Marks a room read up to one of its messages and tells the other member (a read receipt).
pub async fn mark_read(
    state: &AppState,
    reader: UserId,
    room: RoomId,
    message: MessageId,
) -> ApiResult<ReadPosition> {
    let mut conn = state.db().await?;
    let read = chat::mark_read(&mut conn, reader, room, message).await?;
    drop(conn);
    if read.advanced {
        let receipt = ChatUpdate::Read {
            room_id: read.room_id.into(),
            user_id: reader.into(),
            message_id: message.into(),
            seq: read.seq,
        };
        publish(state, &[reader, read.other], &receipt).await;
    }
    Ok(read)
}

/// Mark a room read up to a message (never backwards); the other member sees a `read` event.
#[utoipa::path(post, path = "/chat/rooms/{id}/read", tag = "chat", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReadRequest,
    responses(
        (status = 200, description = "Read", body = ReadResponse),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND`, `CHAT_MESSAGE_NOT_FOUND` (not in this room)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read_room(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<RoomId>,
    ValidJson(body): ValidJson<ReadRequest>,
) -> ApiResult<Json<ReadResponse>> {
    let read = mark_read(&state, user.id, id, MessageId(body.message_id)).await?;
    Ok(Json(ReadResponse {
        room_id: read.room_id.into(),
        last_read_seq: read.seq,
        unread_count: read.unread_count,
    }))
}

/// Leave a room: it leaves my list, and the other member sees `left` and can no longer write.
#[utoipa::path(post, path = "/chat/rooms/{id}/leave", tag = "chat", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Left (again is harmless)"),
        (status = 404, description = "`CHAT_ROOM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn leave_room(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<RoomId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    chat::leave(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatTicket {
    /// Pass as `?ticket=` to `GET /chat/ws`; it works once.
    pub ticket: String,
    pub expires_in_seconds: u64,
}

/// A single-use ticket (valid 60 s) that opens my chat socket without an `Authorization`
/// header: `new WebSocket("wss://…/api/v1/chat/ws?ticket=…")`.
#[utoipa::path(post, path = "/chat/tickets", tag = "chat", security(("bearer" = [])),
    responses(
        (status = 201, description = "A ticket", body = ChatTicket),
    ))]
pub async fn create_ticket(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, Json<ChatTicket>)> {
    let ticket = LiveCaller::ticket(&user, &state.chat_tickets).await?;
    Ok((
        StatusCode::CREATED,
        Json(ChatTicket {
            ticket,
            expires_in_seconds: crate::auth::TICKET_TTL.as_secs(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedUserResponse {
    pub user_id: i64,
    pub name: String,
    pub blocked_at: DateTime<Utc>,
}

/// The users I block.
#[utoipa::path(get, path = "/users/me/blocks", tag = "chat", security(("bearer" = [])),
    responses(
        (status = 200, description = "Everyone I block, the latest first", body = inline(Page<BlockedUserResponse>)),
    ))]
pub async fn list_blocks(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Page<BlockedUserResponse>>> {
    let mut conn = state.db().await?;
    let blocked = block::blocked(&mut conn, user.id).await?;
    Ok(Json(Page::all(
        blocked
            .into_iter()
            .map(|blocked| BlockedUserResponse {
                user_id: blocked.user_id.into(),
                name: blocked.name,
                blocked_at: blocked.blocked_at,
            })
            .collect(),
    )))
}

/// Block a user: their messages and new rooms stop reaching me (and mine them).
#[utoipa::path(put, path = "/users/me/blocks/{user_id}", tag = "chat", security(("bearer" = [])), params(("user_id" = i64, Path)),
    responses(
        (status = 204, description = "Blocked (again is harmless)"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`CANNOT_BLOCK_SELF`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn block_user(
    State(state): State<AppState>,
    user: AuthUser,
    Path(other): Path<UserId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    block::block(&mut conn, user.id, other, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock a user.
#[utoipa::path(delete, path = "/users/me/blocks/{user_id}", tag = "chat", security(("bearer" = [])), params(("user_id" = i64, Path)),
    responses(
        (status = 204, description = "Not blocked (any more)"),
    ))]
pub async fn unblock_user(
    State(state): State<AppState>,
    user: AuthUser,
    Path(other): Path<UserId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    block::unblock(&mut conn, user.id, other).await?;
    Ok(StatusCode::NO_CONTENT)
}
