//! Orders.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use petory_core::identity::Role;
use petory_core::shop::OrderId;
use petory_core::shop::order::{
    self, Order, OrderFilter, OrderLine, OrderSource, OrderStatus, PaymentSummary, RequestedLine,
};
use petory_core::shop::payment::{self, PaymentStatus};
use petory_core::shop::shipment::{DeliveredBy, Shipment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineResponse {
    pub id: i64,
    pub item_id: i64,
    /// The item's name when ordered.
    pub item_name: String,
    /// KRW for one, when ordered.
    pub unit_price: i64,
    pub quantity: i32,
    pub subscription_period_days: Option<i16>,
    pub line_total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: String,
}

/// The order's payment, as the gateway last confirmed it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResponse {
    /// `READY` (waiting for the buyer), `PAID`, `REFUND_PENDING` (cancelled, the gateway has
    /// not confirmed the refund yet), `REFUNDED` (confirmed) or `REFUND_FAILED` (refused for
    /// good; support refunds it).
    pub status: PaymentStatus,
    /// KRW.
    pub amount: i64,
    pub approved_at: Option<DateTime<Utc>>,
    pub refund_requested_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
}

impl From<PaymentSummary> for PaymentResponse {
    fn from(p: PaymentSummary) -> Self {
        Self {
            status: p.status,
            amount: p.amount,
            approved_at: p.approved_at,
            refund_requested_at: p.refund_requested_at,
            refunded_at: p.refunded_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: i64,
    /// `PENDING_PAYMENT`, `PAID`, `SHIPPING`, `DELIVERED`, `CANCELED` or `REFUNDED`.
    pub status: OrderStatus,
    pub lines: Vec<OrderLineResponse>,
    /// KRW.
    pub total: i64,
    pub delivery: DeliveryResponse,
    /// `null` until payment was started.
    pub payment: Option<PaymentResponse>,
    /// An unpaid order is cancelled, and its stock released, after this.
    pub payment_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The parcel, once shipped with a courier.
    pub shipment: Option<ShipmentResponse>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// `BUYER` (confirmed receipt), `ADMIN` or `AUTO` (not confirmed within the shop's days).
    pub delivered_by: Option<DeliveredBy>,
}

/// The courier and invoice of a shipped order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentResponse {
    /// The courier's code: `CJ`, `HANJIN`, `LOTTE`, `EPOST`, `LOGEN`, …
    pub courier: String,
    pub courier_name: String,
    pub tracking_number: String,
    /// The courier's tracking page of this parcel.
    pub tracking_url: String,
}

impl From<Shipment> for ShipmentResponse {
    fn from(s: Shipment) -> Self {
        Self {
            courier: s.courier,
            courier_name: s.courier_name,
            tracking_number: s.tracking_number,
            tracking_url: s.tracking_url,
        }
    }
}

impl From<order::DeliveryAddress> for DeliveryResponse {
    fn from(d: order::DeliveryAddress) -> Self {
        Self {
            recipient: d.recipient,
            phone: d.phone,
            zip_code: d.zip_code,
            address1: d.address1,
            address2: d.address2,
        }
    }
}

impl From<OrderLine> for OrderLineResponse {
    fn from(l: OrderLine) -> Self {
        Self {
            id: l.id,
            item_id: l.item_id.into(),
            item_name: l.item_name,
            unit_price: l.unit_price,
            quantity: l.quantity,
            subscription_period_days: l.subscription_period_days,
            line_total: l.line_total,
        }
    }
}

impl From<Order> for OrderResponse {
    fn from(o: Order) -> Self {
        Self {
            id: o.id.into(),
            status: o.status,
            lines: o.lines.into_iter().map(Into::into).collect(),
            total: o.total_price,
            delivery: o.delivery.into(),
            payment: o.payment.map(Into::into),
            payment_expires_at: o.payment_expires_at,
            created_at: o.created_at,
            paid_at: o.paid_at,
            canceled_at: o.canceled_at,
            shipment: o.shipment.map(Into::into),
            shipped_at: o.shipped_at,
            delivered_at: o.delivered_at,
            delivered_by: o.delivered_by,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct OrderLineRequest {
    pub item_id: i64,
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: i32,
    /// 30, 60 or 90 to subscribe.
    pub subscription_period_days: Option<i16>,
}

/// Either `items` (a direct buy) or `cart_item_ids` (lines of my cart, which leave the cart).
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PlaceOrderRequest {
    #[validate(nested)]
    pub items: Option<Vec<OrderLineRequest>>,
    #[schema(min_items = 1, max_items = 50)]
    pub cart_item_ids: Option<Vec<i64>>,
    /// One of my delivery addresses.
    pub address_id: i64,
}

/// Place an order: stock is reserved at once, and the order waits for payment. Send an
/// `Idempotency-Key` so a retry cannot order twice.
#[utoipa::path(post, path = "/orders", tag = "shop", security(("bearer" = [])), request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer")),
    responses(
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet)", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Placed, `PENDING_PAYMENT`", body = OrderResponse),
        (status = 404, description = "`ITEM_NOT_FOUND`, `CART_ITEM_NOT_FOUND`, `ADDRESS_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`OUT_OF_STOCK` (`context.item_id`), `PROFILE_INCOMPLETE`, `TOO_MANY_UNPAID_ORDERS` (5 unpaid orders or 200 units held), `IDEMPOTENCY_KEY_REUSED`, `IDEMPOTENCY_REQUEST_IN_PROGRESS`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn place_order(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<PlaceOrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderResponse>)> {
    let source = match (body.items, body.cart_item_ids) {
        (Some(items), None) => OrderSource::Direct(
            items
                .into_iter()
                .map(|line| RequestedLine {
                    item_id: line.item_id.into(),
                    quantity: line.quantity,
                    subscription_period_days: line.subscription_period_days,
                })
                .collect(),
        ),
        (None, Some(ids)) => OrderSource::Cart(ids),
        _ => {
            return Err(ApiError::invalid_field(
                "items",
                "one_of",
                "send either items or cart_item_ids",
            ));
        }
    };
    let window =
        TimeDelta::from_std(state.config.order_payment_window).unwrap_or(TimeDelta::minutes(30));
    let mut conn = state.db().await?;
    let order = order::place(
        &mut conn,
        user.id,
        source,
        body.address_id.into(),
        window,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}

/// My orders, newest first.
#[utoipa::path(get, path = "/orders", tag = "shop", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of orders", body = inline(Page<OrderResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_orders(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<OrderResponse>>> {
    let filter = OrderFilter {
        user: Some(user.id),
        before: page.before_id()?,
        ..OrderFilter::default()
    };
    let mut conn = state.db().await?;
    let orders = order::list(&mut conn, filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(orders, page.limit(), |order| order.id).map(Into::into),
    ))
}

/// An order as an admin sees it in lists: the order and its buyer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderResponse {
    #[serde(flatten)]
    pub order: OrderResponse,
    /// The buyer.
    pub user_id: i64,
    /// The subscription this renewal order belongs to.
    pub subscription_id: Option<i64>,
}

impl From<Order> for AdminOrderResponse {
    fn from(o: Order) -> Self {
        Self {
            user_id: o.user_id.into(),
            subscription_id: o.subscription_id.map(Into::into),
            order: o.into(),
        }
    }
}

/// KakaoPay's ids of the payment, for support.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayRefsResponse {
    pub tid: String,
    pub aid: Option<String>,
    pub sid: Option<String>,
    /// Why KakaoPay refused the refund, when `payment.status` is `REFUND_FAILED`.
    pub refund_error: Option<String>,
}

/// An order as an admin sees it alone: with KakaoPay's ids of its payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderDetailResponse {
    #[serde(flatten)]
    pub order: AdminOrderResponse,
    pub gateway: Option<GatewayRefsResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderQuery {
    #[param(inline)]
    pub status: Option<OrderStatus>,
    /// Only this buyer's.
    pub user_id: Option<i64>,
    /// Placed at or after this instant (RFC 3339).
    #[param(inline)]
    pub from: Option<crate::extract::Instant>,
    /// Placed before this instant (RFC 3339).
    #[param(inline)]
    pub to: Option<crate::extract::Instant>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Every order, newest first: filter by status, buyer and when it was placed.
#[utoipa::path(get, path = "/admin/orders", tag = "admin", security(("bearer" = [])), params(AdminOrderQuery),
    responses(
        (status = 200, description = "A page of orders", body = inline(Page<AdminOrderResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_all_orders(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminOrderQuery>,
) -> ApiResult<Json<Page<AdminOrderResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = OrderFilter {
        user: query.user_id.map(petory_core::identity::UserId),
        status: query.status,
        placed_from: query.from.map(|at| at.0),
        placed_until: query.to.map(|at| at.0),
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let orders = order::list(&mut conn, filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(orders, page.limit(), |order| order.id).map(Into::into),
    ))
}

/// Any order, with its buyer and KakaoPay's ids of its payment.
#[utoipa::path(get, path = "/admin/orders/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The order", body = AdminOrderDetailResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_any_order(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<OrderId>,
) -> ApiResult<Json<AdminOrderDetailResponse>> {
    let mut conn = state.db().await?;
    let order = order::get(&mut conn, id, None).await?;
    let gateway = payment::gateway_refs(&mut conn, id).await?;
    Ok(Json(AdminOrderDetailResponse {
        order: order.into(),
        gateway: gateway.map(|refs| GatewayRefsResponse {
            tid: refs.tid,
            aid: refs.aid,
            sid: refs.sid,
            refund_error: refs.refund_error,
        }),
    }))
}

fn owner_scope(user: &AuthUser) -> Option<petory_core::identity::UserId> {
    (user.role != Role::Admin).then_some(user.id)
}

/// One order: its buyer's, or any for an admin.
#[utoipa::path(get, path = "/orders/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 404, description = "`ORDER_NOT_FOUND` (also for other users' orders)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<OrderId>,
) -> ApiResult<Json<OrderResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        order::get(&mut conn, id, owner_scope(&user)).await?.into(),
    ))
}

/// Cancel my order: it is `CANCELED` and its stock goes back on sale. A paid, unshipped one is
/// refunded at the gateway (asynchronously, retried): its `payment.status` is `REFUND_PENDING`
/// until the gateway confirms, then the order reads `REFUNDED`.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Cancelled", body = OrderResponse),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_NOT_CANCELABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<OrderId>,
) -> ApiResult<Json<OrderResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        order::cancel(&mut conn, id, owner_scope(&user), state.clock.now())
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AdvanceOrderRequest {
    /// `SHIPPING` (from `PAID`) or `DELIVERED` (from `SHIPPING`).
    #[schema(max_length = 20, example = "SHIPPING")]
    pub status: String,
}

/// Move a paid order along its delivery.
#[utoipa::path(patch, path = "/admin/orders/{id}/status", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = AdvanceOrderRequest,
    responses(
        (status = 200, description = "Moved", body = OrderResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_ORDER_TRANSITION`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn advance_order(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<OrderId>,
    ValidJson(body): ValidJson<AdvanceOrderRequest>,
) -> ApiResult<Json<OrderResponse>> {
    let to = OrderStatus::parse(&body.status)
        .filter(|status| matches!(status, OrderStatus::Shipping | OrderStatus::Delivered))
        .ok_or_else(|| {
            ApiError::invalid_field("status", "one_of", "must be SHIPPING or DELIVERED")
        })?;
    let mut conn = state.db().await?;
    Ok(Json(
        order::advance_delivery(&mut conn, id, to, state.clock.now())
            .await?
            .into(),
    ))
}
