//! The chat socket (`GET /chat/ws`): JSON text frames with a `type`, described in
//! `docs/chat.md`. Messages reach a socket through this instance's [`ChatHub`] (Redis pub/sub
//! from every instance); the socket keeps, per room, the last sequence number it delivered,
//! so it skips repeats and fills gaps from PostgreSQL. A message is acknowledged only once it
//! is committed.
//!
//! [`ChatHub`]: petory_redis::chat::ChatHub

use crate::error::ProblemCode;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use petory_core::community::chat::{self, MessageId, RoomId, Window};
use petory_core::identity::UserId;
use petory_redis::chat::{ChatConnection, ChatSignal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::chat::{ChatUpdate, MessageDraft, MessageResponse, mark_read, send_message};
use crate::app::AppState;
use crate::auth::{AuthUser, LiveCaller};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Query;

/// What a client sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Send a message (as `POST /chat/rooms/{id}/messages`); answered by `ack` or `error`.
    Send {
        room_id: i64,
        #[serde(flatten)]
        draft: MessageDraft,
    },
    /// Mark a room read up to a message; the other member gets a `read` event.
    Read {
        room_id: i64,
        message_id: i64,
    },
    /// Replay a room's messages after this one (0: from the start), oldest first.
    Resume {
        room_id: i64,
        after_message_id: i64,
    },
    Ping,
}

/// What the server answers a client's frame with (besides [`ChatUpdate`]s).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The message is committed.
    Ack {
        #[schema(value_type = String, format = Uuid)]
        client_id: uuid::Uuid,
        message_id: i64,
        room_id: i64,
        seq: i32,
    },
    /// The frame failed; the socket stays open. `client_id` names the `send` it answers;
    /// `status`, `code`, `detail` and `errors` are what HTTP would answer as a problem.
    Error {
        #[schema(value_type = Option<String>, format = Uuid)]
        client_id: Option<uuid::Uuid>,
        status: u16,
        code: ProblemCode,
        detail: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        errors: Vec<FieldError>,
    },
    Pong,
}

/// Why the server closes a socket (the close frame's code).
mod close {
    /// The server is stopping: reconnect (elsewhere) and resume.
    pub const GOING_AWAY: u16 = 1001;
    /// The access token expired or its session ended: reconnect with a fresh one.
    pub const SESSION_ENDED: u16 = 4001;
    /// The client fell too far behind: reconnect and resume.
    pub const TOO_SLOW: u16 = 4008;
    /// Nothing heard (not even a pong) for too long.
    pub const IDLE: u16 = 4009;
    /// A frame over the size limit.
    pub const TOO_LARGE: u16 = 1009;
}

/// Whether a read failed on a frame over the size limit.
fn too_large(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    matches!(
        std::error::Error::source(error).and_then(|inner| inner.downcast_ref::<Error>()),
        Some(Error::Capacity(_))
    )
}

/// A socket's read buffer (and the most its write buffer holds beyond one frame).
const SOCKET_BUFFER: usize = 4 * 1024;
/// Messages one `resume` (or one gap) replays at most.
const MAX_REPLAY: i64 = 1000;
/// Messages one socket replays at most per second, in bursts of up to [`REPLAY_BURST`]: a
/// client resuming its rooms after a reconnection fits; one asking for the same thousand
/// messages over and over is held back.
const REPLAY_PER_SECOND: u32 = 1000;
const REPLAY_BURST: u32 = 5000;
/// Rows read per step when replaying or filling a gap.
const REPLAY_BATCH: i64 = 200;
/// How long one frame may take to go out before the client counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing socket waits for the client's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Every this many heartbeats, a socket compares its rooms with the database, in case an
/// event was lost on the way (Redis away when it was published).
const RESYNC_EVERY: u32 = 4;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// A ticket from `POST /chat/tickets`, for clients that cannot send an `Authorization`
    /// header (browsers).
    #[param(max_length = 100)]
    pub ticket: Option<String>,
}

/// My chat socket (WebSocket; frames and close codes in `docs/chat.md`). After (re)connecting,
/// a client sends `resume` for the rooms it shows, with the last message id it has; from then
/// on every message of my rooms arrives as a `message` event. The socket ends when the access
/// token that opened it expires.
#[utoipa::path(get, path = "/chat/ws", tag = "chat", security(("bearer" = [])), params(SocketQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`WEBSOCKET_REQUIRED` (not a WebSocket upgrade request), `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated, or `INVALID_TICKET` (unknown, used or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`TOO_MANY_SOCKETS` (as many open as allowed, across instances)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_socket(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Query(query): Query<SocketQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad_request(
            ProblemCode::WebsocketRequired,
            format!("open this with a WebSocket upgrade request: {rejection}"),
        )
    })?;
    let caller =
        LiveCaller::identify(&state, user, query.ticket.as_deref(), &state.chat_tickets).await?;
    let settings = state.config.chat;
    let too_many = || {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::TooManySockets,
            "this account has as many chat sockets open as it may; close one",
        )
        .retry_after(5)
    };
    let connection = state
        .chat
        .connect(caller.user, settings.max_sockets_per_user, settings.queue)
        .await
        .ok_or_else(too_many)?;
    // The cap holds across instances: every open socket has its place in Redis (lapsing on
    // its own when an instance dies). While Redis is away, this instance's cap alone holds.
    match state
        .chat
        .claim_online(
            &connection,
            settings.idle_timeout,
            settings.max_sockets_per_user,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => return Err(too_many()),
        Err(error) => tracing::debug!(%error, "chat sockets across instances not counted"),
    }
    // Where delivery starts, read after the socket listens and before the client hears that
    // it is open: anything sent once it has the 101 reaches it.
    let mut conn = state.db().await?;
    let cursors = chat::positions(&mut conn, caller.user)
        .await?
        .into_iter()
        .collect();
    drop(conn);
    Ok(upgrade
        .max_message_size(settings.max_frame_bytes)
        .max_frame_size(settings.max_frame_bytes)
        // Small buffers (the defaults are 128 KiB each): most sockets sit idle, and frames
        // are small; every frame is flushed as it is sent.
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(SOCKET_BUFFER + settings.max_frame_bytes)
        .on_upgrade(move |socket| {
            Session {
                state,
                caller,
                connection,
                socket,
                cursors,
                replays: governor::RateLimiter::direct(
                    governor::Quota::per_second(
                        NonZeroU32::new(REPLAY_PER_SECOND).unwrap_or(NonZeroU32::MIN),
                    )
                    .allow_burst(NonZeroU32::new(REPLAY_BURST).unwrap_or(NonZeroU32::MIN)),
                ),
            }
            .run()
        }))
}

struct Session {
    state: AppState,
    caller: LiveCaller,
    connection: ChatConnection,
    socket: WebSocket,
    /// Per room, the last sequence number this socket delivered (or that was there when it
    /// opened).
    cursors: HashMap<RoomId, i32>,
    /// Messages this socket may still replay (see [`REPLAY_PER_SECOND`]).
    replays: governor::DefaultDirectRateLimiter,
}

/// The client is gone (or too slow to write to): stop.
struct Gone;

impl Session {
    fn me(&self) -> UserId {
        self.caller.user
    }

    async fn run(mut self) {
        let settings = self.state.config.chat;
        self.renew_presence().await;
        let token_ends = tokio::time::sleep(self.caller.time_left(&self.state));
        tokio::pin!(token_ends);
        let mut heartbeat = tokio::time::interval_at(
            tokio::time::Instant::now() + settings.heartbeat,
            settings.heartbeat,
        );
        let mut beats = 0_u32;
        let mut last_heard = tokio::time::Instant::now();
        let mut shutdown = self.state.shutdown.subscribe();
        let close = loop {
            let step = tokio::select! {
                frame = self.socket.recv() => match frame {
                    Some(Ok(Frame::Text(text))) => {
                        last_heard = tokio::time::Instant::now();
                        self.on_frame(text.as_str()).await
                    }
                    Some(Ok(Frame::Binary(_))) => {
                        last_heard = tokio::time::Instant::now();
                        self.reply(&Reply::error(None, ApiError::bad_request(ProblemCode::InvalidFrame, "frames are JSON text"))).await
                    }
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => {
                        last_heard = tokio::time::Instant::now();
                        Ok(())
                    }
                    Some(Err(error)) if too_large(&error) => {
                        break Some((close::TOO_LARGE, "a frame is at most 16 KiB"));
                    }
                    Some(Ok(Frame::Close(_)) | Err(_)) | None => break None,
                },
                signal = self.connection.signals.recv() => match signal {
                    Some(ChatSignal::Update(update)) => self.on_update(&update).await,
                    Some(ChatSignal::Resync) => self.resync().await,
                    None => break Some((close::TOO_SLOW, "too far behind; reconnect and resume")),
                },
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= settings.idle_timeout {
                        break Some((close::IDLE, "nothing heard; reconnect and resume"));
                    }
                    if self.caller.revoked(&self.state).await {
                        break Some((close::SESSION_ENDED, "the session ended"));
                    }
                    self.renew_presence().await;
                    beats = beats.wrapping_add(1);
                    let resync = if beats.is_multiple_of(RESYNC_EVERY) { self.resync().await } else { Ok(()) };
                    match resync {
                        Ok(()) => self.write(Frame::Ping(Default::default())).await,
                        gone => gone,
                    }
                }
                () = &mut token_ends => break Some((close::SESSION_ENDED, "the access token expired; reconnect with a fresh one")),
                () = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => break Some((close::GOING_AWAY, "the server is stopping; reconnect")),
            };
            if step.is_err() {
                break None;
            }
        };
        if let Some((code, reason)) = close {
            let frame = Frame::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
            if self.write(frame).await.is_ok() {
                // The closing handshake: the client's close frame, or a moment's patience.
                let _ = tokio::time::timeout(CLOSE_WAIT, async {
                    while let Some(Ok(frame)) = self.socket.recv().await {
                        if matches!(frame, Frame::Close(_)) {
                            break;
                        }
                    }
                })
                .await;
            }
        }
        if let Err(error) = self.state.chat.mark_offline(&self.connection).await {
            tracing::debug!(%error, "chat presence not cleared; it lapses on its own");
        }
    }

    async fn renew_presence(&mut self) {
        let ttl = self.state.config.chat.idle_timeout;
        if let Err(error) = self.state.chat.mark_online(&self.connection, ttl).await {
            tracing::debug!(%error, "chat presence not renewed");
        }
    }

    async fn write(&mut self, frame: Frame) -> Result<(), Gone> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    async fn write_json(&mut self, value: &impl Serialize) -> Result<(), Gone> {
        match serde_json::to_string(value) {
            Ok(json) => self.write(Frame::Text(json.into())).await,
            Err(_) => Ok(()),
        }
    }

    async fn reply(&mut self, reply: &Reply) -> Result<(), Gone> {
        self.write_json(reply).await
    }

    async fn on_frame(&mut self, text: &str) -> Result<(), Gone> {
        if let Some(field) = crate::middleware::input::nul_in_json(text.as_bytes()) {
            let error = ApiError::invalid_field(
                &field,
                "nul_character",
                "must not contain a NUL character",
            );
            return self.reply(&Reply::error(None, error)).await;
        }
        let frame = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|error| format!("not JSON: {error}"))
            .and_then(|raw| {
                // The draft's own properties: the frame's `type` and `room_id` are not its.
                let mut draft = raw.clone();
                if let Some(fields) = draft.as_object_mut() {
                    fields.remove("type");
                    fields.remove("room_id");
                }
                let errors = crate::validation::BodySchema::of::<MessageDraft>().check(&draft);
                serde_json::from_value::<ClientFrame>(raw)
                    .map(|frame| (frame, errors))
                    .map_err(|error| error.to_string())
            });
        let (frame, errors) = match frame {
            Ok(parsed) => parsed,
            Err(detail) => {
                let error = ApiError::bad_request(ProblemCode::InvalidFrame, detail);
                return self.reply(&Reply::error(None, error)).await;
            }
        };
        match frame {
            ClientFrame::Send { room_id, draft } => {
                let client_id = draft.client_id;
                let sent = if errors.is_empty() {
                    send_message(&self.state, self.me(), RoomId(room_id), draft).await
                } else {
                    // As the HTTP route answers: properties the draft does not name first.
                    let unknown: Vec<_> = errors
                        .iter()
                        .filter(|error| error.code == crate::validation::UNKNOWN)
                        .cloned()
                        .collect();
                    Err(if unknown.is_empty() {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            ProblemCode::ValidationFailed,
                            "some fields are invalid",
                        )
                        .with_errors(errors)
                    } else {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            ProblemCode::UnknownField,
                            "the frame has properties a message does not take",
                        )
                        .with_errors(unknown)
                    })
                };
                let reply = match sent {
                    Ok((message, _)) => Reply::Ack {
                        client_id,
                        message_id: message.id,
                        room_id: message.room_id,
                        seq: message.seq,
                    },
                    Err(error) => Reply::error(Some(client_id), error),
                };
                self.reply(&reply).await
            }
            ClientFrame::Read { .. } | ClientFrame::Resume { .. }
                if !self.state.chat_rate.admit(self.me()).await =>
            {
                let error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ProblemCode::ChatRateLimited,
                    "too many frames at once; slow down",
                );
                self.reply(&Reply::error(None, error)).await
            }
            ClientFrame::Read {
                room_id,
                message_id,
            } => {
                match mark_read(
                    &self.state,
                    self.me(),
                    RoomId(room_id),
                    MessageId(message_id),
                )
                .await
                {
                    Ok(_) => Ok(()),
                    Err(error) => self.reply(&Reply::error(None, error)).await,
                }
            }
            ClientFrame::Resume {
                room_id,
                after_message_id,
            } => {
                let from = Window::AfterMessage(MessageId(after_message_id));
                match self.replay(RoomId(room_id), from).await {
                    Ok(result) => result,
                    Err(error) => self.reply(&Reply::error(None, error)).await,
                }
            }
            ClientFrame::Ping => self.reply(&Reply::Pong).await,
        }
    }

    /// Sends a room's messages from `from` on, oldest first, as `message` events, at most
    /// [`MAX_REPLAY`] (a client resumes again for more).
    async fn replay(&mut self, room: RoomId, mut from: Window) -> ApiResult<Result<(), Gone>> {
        let mut sent = 0;
        while sent < MAX_REPLAY {
            let batch_size = NonZeroU32::new(u32::try_from(REPLAY_BATCH).unwrap_or(1))
                .unwrap_or(NonZeroU32::MIN);
            if !matches!(self.replays.check_n(batch_size), Ok(Ok(()))) {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ProblemCode::ChatRateLimited,
                    "this socket replayed as many messages as it may for now; resume again shortly",
                ));
            }
            let mut conn = self.state.db().await?;
            let batch = chat::messages(&mut conn, self.me(), room, from, REPLAY_BATCH).await?;
            drop(conn);
            let full = i64::try_from(batch.len()).unwrap_or(0) >= REPLAY_BATCH;
            for message in batch {
                let seq = message.seq;
                from = Window::AfterSeq(seq);
                let event = ChatUpdate::Message(
                    MessageResponse::of(&self.state, message, self.me()).await?,
                );
                if self.write_json(&event).await.is_err() {
                    return Ok(Err(Gone));
                }
                let cursor = self.cursors.entry(room).or_default();
                *cursor = (*cursor).max(seq);
                sent += 1;
            }
            if !full {
                break;
            }
        }
        Ok(Ok(()))
    }

    /// An update from the hub: delivered once, in order, per room.
    async fn on_update(&mut self, json: &str) -> Result<(), Gone> {
        let Ok(update) = serde_json::from_str::<ChatUpdate>(json) else {
            return Ok(());
        };
        match update {
            ChatUpdate::Message(message) => {
                let room = RoomId(message.room_id);
                let delivered = self.cursors.get(&room).copied().unwrap_or(0);
                if message.seq <= delivered {
                    Ok(())
                } else if message.seq == delivered + 1 {
                    self.cursors.insert(room, message.seq);
                    self.write(Frame::Text(json.into())).await
                } else {
                    self.fill(room, delivered).await
                }
            }
            ChatUpdate::Read { .. } | ChatUpdate::Unsent { .. } => {
                self.write(Frame::Text(json.into())).await
            }
        }
    }

    /// Delivers what a room has after `delivered` (a gap, or events missed altogether).
    async fn fill(&mut self, room: RoomId, delivered: i32) -> Result<(), Gone> {
        match self.replay(room, Window::AfterSeq(delivered)).await {
            Ok(result) => result,
            Err(error) => {
                tracing::warn!(code = %error.code(), "chat gap not filled yet");
                Ok(())
            }
        }
    }

    /// Compares every room with the database and delivers what this socket has not.
    async fn resync(&mut self) -> Result<(), Gone> {
        let positions = match self.state.db().await {
            Ok(mut conn) => chat::positions(&mut conn, self.me()).await,
            Err(error) => {
                tracing::warn!(code = %error.code(), "chat resync postponed");
                return Ok(());
            }
        };
        let Ok(positions) = positions else {
            return Ok(());
        };
        for (room, last_seq) in positions {
            let delivered = self.cursors.get(&room).copied().unwrap_or(0);
            if last_seq > delivered {
                self.fill(room, delivered).await?;
            }
        }
        Ok(())
    }
}

impl Reply {
    fn error(client_id: Option<uuid::Uuid>, error: ApiError) -> Self {
        let problem = error.to_problem();
        Self::Error {
            client_id,
            status: problem.status,
            code: problem.code,
            detail: problem.detail,
            errors: problem.errors,
        }
    }
}
