//! My subscriptions: their schedule, billing state and changes.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::identity::{Role, UserId};
use petory_core::shop::SubscriptionId;
use petory_core::shop::subscription::{
    self, CancelReason, Charge, ChargeStatus, SubscriptionFilter, SubscriptionStatus,
    SubscriptionView,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeResponse {
    /// The billing date this charge pays for.
    pub cycle_date: NaiveDate,
    pub amount: i64,
    pub status: ChargeStatus,
    pub attempts: i16,
    /// The cycle's order, once charged.
    pub order_id: Option<i64>,
    pub last_error: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

impl From<Charge> for ChargeResponse {
    fn from(c: Charge) -> Self {
        Self {
            cycle_date: c.cycle_date,
            amount: c.amount,
            status: c.status,
            attempts: c.attempts,
            order_id: c.order_id.map(Into::into),
            last_error: c.last_error,
            approved_at: c.approved_at,
        }
    }
}

/// Where the retry ladder stands for the current cycle.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryState {
    /// Failed charges of the current cycle (the fifth cancels the subscription).
    pub failed_attempts: i16,
    /// When the next attempt is due, while retrying.
    pub next_retry_at: Option<DateTime<Utc>>,
    pub last_failure: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionResponse {
    pub id: i64,
    /// The subscriber.
    pub user_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub quantity: i32,
    /// 30, 60 or 90.
    pub period_days: i16,
    pub status: SubscriptionStatus,
    /// The business date of the first payment; cycles stay anchored on it.
    pub anchor_date: NaiveDate,
    pub next_billing_date: NaiveDate,
    /// The last cycle paid for (the first order's date until the first renewal).
    pub last_cycle_date: NaiveDate,
    /// The order that started it.
    pub first_order_id: i64,
    /// The latest renewal charge, if any.
    pub last_charge: Option<ChargeResponse>,
    pub retry: RetryState,
    pub paused_at: Option<DateTime<Utc>>,
    /// Why it ended, once cancelled: `ACCOUNT_CLOSED` (withdrawn or deleted), `ORDER_REFUNDED`
    /// (its first order was refunded), …
    pub cancel_reason: Option<CancelReason>,
    pub created_at: DateTime<Utc>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The entry of my address book renewals go to (`null`: where the first order went, or the
    /// entry was removed since; `delivery` still holds the copy).
    pub address_id: Option<i64>,
    /// Where the next renewal goes.
    pub delivery: super::order::DeliveryResponse,
}

impl From<SubscriptionView> for SubscriptionResponse {
    fn from(view: SubscriptionView) -> Self {
        let s = view.subscription;
        Self {
            id: s.id.into(),
            user_id: s.user_id.into(),
            item_id: s.item_id.into(),
            item_name: view.item_name,
            quantity: s.quantity,
            period_days: s.period_days,
            status: s.status,
            anchor_date: s.anchor_date,
            next_billing_date: s.next_billing_date,
            last_cycle_date: s.last_cycle_date,
            first_order_id: s.first_order_id.into(),
            last_charge: view.last_charge.map(Into::into),
            retry: RetryState {
                failed_attempts: s.failed_attempts,
                next_retry_at: s.retry_at,
                last_failure: s.last_failure,
            },
            paused_at: s.paused_at,
            cancel_reason: s.cancel_reason,
            created_at: s.created_at,
            canceled_at: s.canceled_at,
            address_id: s.address_id.map(Into::into),
            delivery: view.delivery.into(),
        }
    }
}

/// My subscriptions, newest first.
#[utoipa::path(get, path = "/subscriptions", tag = "shop", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of subscriptions", body = inline(Page<SubscriptionResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<SubscriptionResponse>>> {
    let filter = SubscriptionFilter {
        user: Some(user.id),
        before: page.before_id()?,
        ..SubscriptionFilter::default()
    };
    let mut conn = state.db().await?;
    let subscriptions = subscription::list(&mut conn, filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(subscriptions, page.limit(), |s| s.subscription.id).map(Into::into),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminSubscriptionQuery {
    #[param(inline)]
    pub status: Option<SubscriptionStatus>,
    /// Only this subscriber's.
    pub user_id: Option<i64>,
    /// Next billing date on or after this day.
    #[param(inline)]
    pub billing_from: Option<crate::extract::Day>,
    /// Next billing date on or before this day.
    #[param(inline)]
    pub billing_to: Option<crate::extract::Day>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Every subscription, newest first: filter by status, subscriber and next billing date.
#[utoipa::path(get, path = "/admin/subscriptions", tag = "admin", security(("bearer" = [])), params(AdminSubscriptionQuery),
    responses(
        (status = 200, description = "A page of subscriptions", body = inline(Page<SubscriptionResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_all_subscriptions(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminSubscriptionQuery>,
) -> ApiResult<Json<Page<SubscriptionResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = SubscriptionFilter {
        user: query.user_id.map(UserId),
        status: query.status,
        billing_from: query.billing_from.map(|day| day.0),
        billing_to: query.billing_to.map(|day| day.0),
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let subscriptions = subscription::list(&mut conn, filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(subscriptions, page.limit(), |s| s.subscription.id).map(Into::into),
    ))
}

/// A subscription as an admin sees it alone: with every charge of its renewals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSubscriptionResponse {
    #[serde(flatten)]
    pub subscription: SubscriptionResponse,
    /// Every renewal charge, newest cycle first.
    pub charges: Vec<ChargeResponse>,
}

/// Any subscription, with its charge history.
#[utoipa::path(get, path = "/admin/subscriptions/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The subscription", body = AdminSubscriptionResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_any_subscription(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<AdminSubscriptionResponse>> {
    let mut conn = state.db().await?;
    let view = subscription::get(&mut conn, id, None).await?;
    let charges = subscription::charges(&mut conn, id).await?;
    Ok(Json(AdminSubscriptionResponse {
        subscription: view.into(),
        charges: charges.into_iter().map(Into::into).collect(),
    }))
}

/// One subscription: mine, or any for an admin.
#[utoipa::path(get, path = "/subscriptions/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND` (also for others')", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        subscription::get(&mut conn, id, owner_scope(&user))
            .await?
            .into(),
    ))
}

fn owner_scope(user: &AuthUser) -> Option<UserId> {
    (user.role != Role::Admin).then_some(user.id)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateSubscriptionRequest {
    /// 30, 60 or 90; the next billing date moves to the first date of the new period's
    /// schedule (still anchored on the first payment).
    #[schema(example = 60)]
    pub period_days: Option<i16>,
    /// Move the next charge (after today, at most 180 days ahead); later cycles fall back onto
    /// the anchored schedule.
    pub next_billing_date: Option<crate::extract::Day>,
    /// Units per renewal, from the next charge on.
    #[validate(range(min = 1, max = 99))]
    #[schema(minimum = 1, maximum = 99, example = 3)]
    pub quantity: Option<i32>,
    /// One of my delivery addresses (`GET /users/me/addresses`): copied, and renewals go there
    /// from the next one on.
    pub address_id: Option<i64>,
}

/// Change the period, the next billing date, the quantity or the delivery address of renewals.
#[utoipa::path(patch, path = "/subscriptions/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateSubscriptionRequest,
    responses(
        (status = 200, description = "Changed", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`, `ADDRESS_NOT_FOUND` (also another's address)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`SUBSCRIPTION_CANCELED`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (period, date or quantity out of range)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
    ValidJson(body): ValidJson<UpdateSubscriptionRequest>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let change = subscription::Change {
        period_days: body.period_days,
        next_billing_date: body.next_billing_date.map(|day| day.0),
        quantity: body.quantity,
        address_id: body.address_id.map(Into::into),
    };
    let view = subscription::update(
        &mut conn,
        id,
        owner_scope(&user),
        change,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    Ok(Json(view.into()))
}

/// Skip the next cycle: the next billing date moves one period on.
#[utoipa::path(post, path = "/subscriptions/{id}/skip", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Skipped", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`SUBSCRIPTION_CANCELED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn skip_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let mut conn = state.db().await?;
    let view = subscription::skip(&mut conn, id, owner_scope(&user), state.clock.now()).await?;
    Ok(Json(view.into()))
}

/// Pause billing (pausing again changes nothing).
#[utoipa::path(post, path = "/subscriptions/{id}/pause", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Paused", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`SUBSCRIPTION_CANCELED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pause_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let mut conn = state.db().await?;
    let view = subscription::pause(&mut conn, id, owner_scope(&user), state.clock.now()).await?;
    Ok(Json(view.into()))
}

/// Resume billing; a billing date that passed while paused moves to the next anchored date.
#[utoipa::path(post, path = "/subscriptions/{id}/resume", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Active again", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`SUBSCRIPTION_CANCELED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resume_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let view = subscription::resume(
        &mut conn,
        id,
        owner_scope(&user),
        state.calendar.day_of(now),
        now,
    )
    .await?;
    Ok(Json(view.into()))
}

/// Cancel: no further charges; the payment key (`sid`) is inactivated at KakaoPay.
/// Cancelling again changes nothing.
#[utoipa::path(delete, path = "/subscriptions/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Cancelled", body = SubscriptionResponse),
        (status = 404, description = "`SUBSCRIPTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel_subscription(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<SubscriptionResponse>> {
    let mut conn = state.db().await?;
    let view = subscription::cancel(&mut conn, id, owner_scope(&user), state.clock.now()).await?;
    Ok(Json(view.into()))
}
