//! Outbox events that stopped retrying, for admins.

use axum::extract::State;
use chrono::{DateTime, Utc};
use petory_core::platform::outbox::{self, OutboxEvent};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEventResponse {
    pub id: i64,
    #[schema(example = "PAYMENT_CANCEL_REQUESTED")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: petory_core::platform::outbox::EventStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<OutboxEvent> for OutboxEventResponse {
    fn from(e: OutboxEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            payload: e.payload,
            status: e.status,
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at,
            last_error: e.last_error,
            created_at: e.created_at,
        }
    }
}

/// Events whose delivery failed every attempt, newest first.
#[utoipa::path(get, path = "/admin/events/failed", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of failed events", body = inline(Page<OutboxEventResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_failed_events(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<OutboxEventResponse>>> {
    let mut conn = state.db().await?;
    let events = outbox::list_failed(&mut conn, page.before_id()?, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(events, page.limit(), |event| event.id).map(Into::into),
    ))
}

/// Send a failed event back for delivery now (its attempts start over).
#[utoipa::path(post, path = "/admin/events/failed/{id}/retry", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Pending again", body = OutboxEventResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`EVENT_NOT_FOUND` (also when it is not failed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_failed_event(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<OutboxEventResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        outbox::retry_failed(&mut conn, id, state.clock.now())
            .await?
            .into(),
    ))
}
