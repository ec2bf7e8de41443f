//! My subscriptions. (Changing, skipping, pausing and cancelling arrive with billing.)

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::identity::Role;
use petory_core::shop::subscription::{self, SubscriptionView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionResponse {
    pub id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub quantity: i32,
    /// 30, 60 or 90.
    pub period_days: i16,
    /// `ACTIVE`, `PAUSED` or `CANCELED`.
    pub status: String,
    /// The business date of the first payment; cycles stay anchored on it.
    pub anchor_date: NaiveDate,
    pub next_billing_date: NaiveDate,
    /// The order that started it.
    pub first_order_id: i64,
    pub created_at: DateTime<Utc>,
    pub canceled_at: Option<DateTime<Utc>>,
}

impl From<SubscriptionView> for SubscriptionResponse {
    fn from(view: SubscriptionView) -> Self {
        let s = view.subscription;
        Self {
            id: s.id,
            item_id: s.item_id,
            item_name: view.item_name,
            quantity: s.quantity,
            period_days: s.period_days,
            status: s.status,
            anchor_date: s.anchor_date,
            next_billing_date: s.next_billing_date,
            first_order_id: s.first_order_id,
            created_at: s.created_at,
            canceled_at: s.canceled_at,
        }
    }
}

/// My subscriptions, newest first.
#[utoipa::path(get, path = "/subscriptions", tag = "shop", security(("bearer" = [])),
    responses(
        (status = 200, description = "Subscriptions", body = [SubscriptionResponse]),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<SubscriptionResponse>>> {
    let mut conn = state.db().await?;
    Ok(Json(
        subscription::list(&mut conn, user.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One subscription: mine, or any for an admin.
#[utoipa::path(get, path = "/subscriptions/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND` (also for others')", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let mut conn = state.db().await?;
    let owner = (user.role != Role::Admin).then_some(user.id);
    Ok(Json(subscription::get(&mut conn, id, owner).await?.into()))
}
