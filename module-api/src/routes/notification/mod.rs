//! My notifications, and their live stream (Server-Sent Events).

pub mod push;
pub mod settings;

use crate::error::ProblemCode;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt as _};
use petory_core::identity::UserId;
use petory_core::notification::NotificationId;
use petory_core::notification::{self, Notification};
use petory_core::ports::Audience;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::{AuthUser, LiveCaller};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::pagination::Page;

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: i64,
    /// Its `kind` and what the client links to (`data`), one shape per kind.
    #[serde(flatten)]
    pub notice: petory_core::notification::Notice,
    pub title: String,
    pub body: String,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationResponse {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id.into(),
            notice: n.notice,
            title: n.title,
            body: n.body,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
    /// Only notifications not read yet.
    #[serde(default)]
    pub unread_only: bool,
}

/// My notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])), params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = inline(Page<NotificationResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_notifications(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<NotificationQuery>,
) -> ApiResult<Json<Page<NotificationResponse>>> {
    let page = crate::pagination::PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let mut conn = state.db().await?;
    let rows = notification::list(
        &mut conn,
        user.id,
        page.before_id()?,
        query.unread_only,
        page.fetch_limit(),
    )
    .await?;
    Ok(Json(
        Page::by_id(rows, page.limit(), |n| n.id).map(Into::into),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}

/// How many of my notifications are unread.
#[utoipa::path(get, path = "/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "The unread count", body = UnreadCount),
    ))]
pub async fn unread_count(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<UnreadCount>> {
    let mut conn = state.db().await?;
    Ok(Json(UnreadCount {
        count: notification::unread_count(&mut conn, user.id).await?,
    }))
}

/// Mark one of my notifications read (again is harmless).
#[utoipa::path(patch, path = "/notifications/{id}/read", tag = "notifications", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Read", body = NotificationResponse),
        (status = 404, description = "`NOTIFICATION_NOT_FOUND` (also for other users' notifications)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<NotificationId>,
) -> ApiResult<Json<NotificationResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        notification::mark_read(&mut conn, user.id, id, state.clock.now())
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAllResponse {
    /// How many notifications were unread until now.
    pub updated: usize,
}

/// Mark all my notifications read.
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "All read", body = ReadAllResponse),
    ))]
pub async fn mark_all_read(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<ReadAllResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(ReadAllResponse {
        updated: notification::mark_all_read(&mut conn, user.id, state.clock.now()).await?,
    }))
}

/// Delete one of my notifications.
#[utoipa::path(delete, path = "/notifications/{id}", tag = "notifications", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`NOTIFICATION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_notification(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<NotificationId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    notification::delete(&mut conn, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this notification id (the `Last-Event-ID` header takes precedence).
    /// Without either, the stream starts with notifications created from now on.
    pub after: Option<i64>,
    /// A ticket from `POST /notifications/stream-tickets`, for clients that cannot send an
    /// `Authorization` header (a browser's `EventSource`).
    #[param(max_length = 100)]
    pub ticket: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamTicket {
    /// Pass as `?ticket=` to `GET /notifications/stream`; it works once.
    pub ticket: String,
    pub expires_in_seconds: u64,
}

/// A single-use ticket (valid 60 s) that opens my live stream without an `Authorization`
/// header: `new EventSource("/api/v1/notifications/stream?ticket=…")`.
#[utoipa::path(post, path = "/notifications/stream-tickets", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 201, description = "A ticket", body = StreamTicket),
    ))]
pub async fn create_stream_ticket(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, Json<StreamTicket>)> {
    let ticket = LiveCaller::ticket(&user, &state.stream_tickets).await?;
    Ok((
        StatusCode::CREATED,
        Json(StreamTicket {
            ticket,
            expires_in_seconds: crate::auth::TICKET_TTL.as_secs(),
        }),
    ))
}

/// Keep-alive comments stop proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Streams also look on their own this often, in case a wake-up was lost with Redis.
const POLL: Duration = Duration::from_secs(30);
const BATCH: i64 = 50;
/// Live streams one account may keep open on one API instance (tabs, devices).
pub const MAX_STREAMS_PER_USER: usize = 5;

/// My notifications as they arrive (Server-Sent Events). Each event is `event: notification`
/// with `id:` the notification id and the notification as JSON data; a reconnecting client sends
/// `Last-Event-ID` and receives everything it missed. Comments (`:`) keep the connection alive.
/// The stream ends when the access token that opened it expires: reconnect with a fresh one.
#[utoipa::path(get, path = "/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(StreamQuery, ("Last-Event-ID" = Option<i64>, Header, description = "The last notification id received")),
    responses(
        (status = 200, description = "An event stream of `NotificationResponse` objects", content_type = "text/event-stream", body = String),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated, or `INVALID_TICKET` (unknown, used or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`TOO_MANY_STREAMS` (5 open on this instance)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream_notifications(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let caller =
        LiveCaller::identify(&state, user, query.ticket.as_deref(), &state.stream_tickets).await?;
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|id| id.trim().parse::<i64>().ok())
                .filter(|id| *id >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ProblemCode::InvalidCursor,
                        "Last-Event-ID is not a notification id",
                    )
                })?,
        ),
        None => query.after,
    };
    let slot = state
        .notification_hub
        .claim_stream(caller.user, MAX_STREAMS_PER_USER)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::TooManyStreams,
                "this account has as many live streams open as it may; close one",
            )
            .retry_after(KEEP_ALIVE.as_secs())
        })?;
    // Listen before reading, so nothing created in between is missed.
    let wakes = state.notification_hub.subscribe().await;
    let cursor = match resume {
        Some(cursor) => cursor,
        None => notification::latest_id(&mut *state.db().await?, caller.user).await?,
    };
    let token_left = caller.time_left(&state);
    // The stream also ends when the process begins to stop: the client reconnects to another
    // instance with `Last-Event-ID`, so stopping waits for no stream.
    let mut stopping = state.shutdown.subscribe();
    let ends = futures_util::future::select(
        Box::pin(tokio::time::sleep(token_left)),
        Box::pin(async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }),
    );
    let live = LiveStream {
        state,
        user: caller.user,
        _slot: slot,
        caller,
        cursor,
        wakes,
        pending: VecDeque::new(),
    };
    // The stream ends when the access token that opened it expires; the client reconnects with
    // a fresh token and `Last-Event-ID`, missing nothing.
    let events = futures_util::stream::unfold(live, |mut live| async move {
        let event = live.next_event().await?;
        Some((Ok(event), live))
    })
    .take_until(ends);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct LiveStream {
    state: AppState,
    user: UserId,
    /// Frees the user's stream slot when the stream ends.
    _slot: petory_redis::notification::StreamSlot,
    /// Who opened it: the stream ends when their token or session is revoked (logout,
    /// suspension, a password change, withdrawal, …).
    caller: LiveCaller,
    cursor: i64,
    wakes: broadcast::Receiver<Audience>,
    pending: VecDeque<Notification>,
}

impl LiveStream {
    /// The next notification, or `None` once the session that opened the stream is revoked.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(next) = self.pending.pop_front() {
                self.cursor = next.id.into();
                let id = next.id.to_string();
                let data = serde_json::to_string(&NotificationResponse::from(next))
                    .unwrap_or_else(|_| "{}".to_owned());
                return Some(Event::default().id(id).event("notification").data(data));
            }
            if self.caller.revoked(&self.state).await {
                return None;
            }
            match self.load().await {
                Ok(rows) if !rows.is_empty() => self.pending.extend(rows),
                Ok(_) => self.wait().await,
                Err(error) => {
                    tracing::warn!(%error, "notification stream cannot read; trying again");
                    self.wait().await;
                }
            }
        }
    }

    async fn load(&self) -> Result<Vec<Notification>, ApiError> {
        let mut conn = self.state.db().await?;
        Ok(notification::after(&mut conn, self.user, self.cursor, BATCH).await?)
    }

    /// Until a wake-up for this user (or everyone), or the poll interval passes.
    async fn wait(&mut self) {
        let deadline = tokio::time::Instant::now() + POLL;
        loop {
            match tokio::time::timeout_at(deadline, self.wakes.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => return,
                Ok(Ok(Audience::Everyone)) => return,
                Ok(Ok(Audience::User(id))) if id == self.user => return,
                Ok(Ok(Audience::User(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    tokio::time::sleep_until(deadline).await;
                    return;
                }
            }
        }
    }
}
