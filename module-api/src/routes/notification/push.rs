//! Web Push: the server's VAPID key, and my devices' push subscriptions.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::notification::push::{
    self, MAX_ENDPOINT_LENGTH, MAX_SUBSCRIPTIONS, MAX_USER_AGENT_LENGTH, NewSubscription,
    PushSubscriptionId, Subscription,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, ValidJson};
use crate::pagination::Page;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VapidPublicKeyResponse {
    /// The `applicationServerKey` for `pushManager.subscribe()`: the server's P-256 public key,
    /// base64url (65 bytes uncompressed).
    #[schema(
        example = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
    )]
    pub public_key: String,
}

/// The key web apps subscribe with.
#[utoipa::path(get, path = "/push/vapid-public-key", tag = "notifications",
    responses(
        (status = 200, description = "The server's VAPID public key", body = VapidPublicKeyResponse),
    ))]
pub async fn vapid_public_key(State(state): State<AppState>) -> Json<VapidPublicKeyResponse> {
    Json(VapidPublicKeyResponse {
        public_key: state.config.push.vapid.public_key(),
    })
}

/// The browser's keys of a subscription (`PushSubscription.toJSON().keys`), base64url.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PushKeys {
    /// The browser's P-256 public key: 65 bytes, uncompressed (87 base64url characters).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub p256dh: String,
    /// The browser's auth secret: 16 bytes (22 base64url characters).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub auth: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PushSubscriptionRequest {
    /// The push service's URL for this browser: `https`, on a known push service's host.
    #[validate(length(min = 1, max = 2048))]
    #[schema(
        min_length = 1,
        max_length = 2048,
        example = "https://fcm.googleapis.com/fcm/send/cXyZ…"
    )]
    pub endpoint: String,
    #[validate(nested)]
    pub keys: PushKeys,
    /// A label for the device (e.g. `navigator.userAgent`); longer ones are cut.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub user_agent: Option<String>,
}

const _: () = assert!(MAX_ENDPOINT_LENGTH == 2048, "the schema's max_length");
const _: () = assert!(MAX_USER_AGENT_LENGTH <= 1000, "the schema's max_length");
const _: () = assert!(MAX_SUBSCRIPTIONS == 10, "the descriptions say 10");

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionResponse {
    pub id: i64,
    pub endpoint: String,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Subscription> for PushSubscriptionResponse {
    fn from(subscription: Subscription) -> Self {
        Self {
            id: subscription.id.0,
            endpoint: subscription.endpoint,
            user_agent: subscription.user_agent,
            created_at: subscription.created_at,
            updated_at: subscription.updated_at,
        }
    }
}

/// Receive pushes on this device. Idempotent by endpoint: subscribing the same endpoint again
/// updates its keys (`200`). The subscription belongs to this session: its logout removes it.
#[utoipa::path(post, path = "/users/me/push-subscriptions", tag = "notifications", security(("bearer" = [])),
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "Subscribed", body = PushSubscriptionResponse),
        (status = 200, description = "Subscribed already (keys and label updated)", body = PushSubscriptionResponse),
        (status = 409, description = "`TOO_MANY_PUSH_SUBSCRIPTIONS` (10 devices already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`PUSH_ENDPOINT_NOT_ALLOWED` (not `https`, or not a known push service), `PUSH_KEYS_INVALID`, `VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_push_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<PushSubscriptionRequest>,
) -> ApiResult<(StatusCode, Json<PushSubscriptionResponse>)> {
    let mut conn = state.db().await?;
    let (subscription, created) = push::subscribe(
        &mut conn,
        user.id,
        &user.claims.sid,
        NewSubscription {
            endpoint: body.endpoint,
            p256dh: body.keys.p256dh,
            auth: body.keys.auth,
            user_agent: body.user_agent,
        },
        &state.config.push.endpoints,
        state.clock.now(),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(subscription.into())))
}

/// My devices that receive pushes.
#[utoipa::path(get, path = "/users/me/push-subscriptions", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "My devices (one page: at most 10)", body = inline(Page<PushSubscriptionResponse>)),
    ))]
pub async fn list_push_subscriptions(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Page<PushSubscriptionResponse>>> {
    let mut conn = state.db().await?;
    let subscriptions = push::list(&mut conn, user.id).await?;
    Ok(Json(Page::all(subscriptions).map(Into::into)))
}

/// Stop pushes to one of my devices.
#[utoipa::path(delete, path = "/users/me/push-subscriptions/{id}", tag = "notifications", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`PUSH_SUBSCRIPTION_NOT_FOUND` (also for other members')", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_push_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PushSubscriptionId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    push::unsubscribe(&mut conn, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
