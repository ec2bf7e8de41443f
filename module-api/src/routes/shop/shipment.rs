//! Parcels: shipping with a courier, receipt confirmed by the buyer.

use axum::extract::State;
use petory_core::shop::OrderId;
use petory_core::shop::shipment::{self, Courier};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::order::OrderResponse;
use crate::app::AppState;
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, ValidJson};

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierResponse {
    /// What `PATCH /admin/orders/{id}/shipment` takes.
    pub code: String,
    pub name: String,
    /// `{tracking_number}` is replaced by the invoice number.
    pub tracking_url_template: String,
}

impl From<Courier> for CourierResponse {
    fn from(c: Courier) -> Self {
        Self {
            code: c.code,
            name: c.name,
            tracking_url_template: c.tracking_url_template,
        }
    }
}

/// The couriers orders ship with, by code.
#[utoipa::path(get, path = "/admin/couriers", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every courier", body = Vec<CourierResponse>),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_couriers(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<Vec<CourierResponse>>> {
    let mut conn = state.db().await?;
    let couriers = shipment::couriers(&mut conn).await?;
    Ok(Json(couriers.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ShipmentRequest {
    /// A courier's code (`GET /admin/couriers`): `CJ`, `HANJIN`, `LOTTE`, `EPOST`, `LOGEN`, …
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20, example = "CJ")]
    pub courier: String,
    /// The invoice number: letters, digits and hyphens.
    #[validate(length(min = 6, max = 30))]
    #[schema(
        min_length = 6,
        max_length = 30,
        pattern = "^[0-9A-Za-z-]{6,30}$",
        example = "684512345678"
    )]
    pub tracking_number: String,
}

/// Ship a paid order with a courier (`SHIPPING`); a shipped order's invoice may be corrected.
/// The buyer is told (`ORDER_SHIPPED`, with the courier's `tracking_url`), once per courier and
/// number.
#[utoipa::path(patch, path = "/admin/orders/{id}/shipment", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ShipmentRequest,
    responses(
        (status = 200, description = "Shipped", body = OrderResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_ORDER_TRANSITION` (not paid, or delivered already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (an unknown courier, a malformed number)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ship_order(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<OrderId>,
    ValidJson(body): ValidJson<ShipmentRequest>,
) -> ApiResult<Json<OrderResponse>> {
    let mut conn = state.db().await?;
    let order = shipment::ship(
        &mut conn,
        id,
        &body.courier,
        &body.tracking_number,
        state.clock.now(),
    )
    .await?;
    Ok(Json(order.into()))
}

/// I received my shipped order: it is `DELIVERED` (confirming again changes nothing). Orders
/// nobody confirms are delivered after the shop's days (`PETORY_ORDER_DELIVERY_CONFIRM_DAYS`).
#[utoipa::path(post, path = "/orders/{id}/receipt", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Delivered", body = OrderResponse),
        (status = 404, description = "`ORDER_NOT_FOUND` (also another's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_ORDER_TRANSITION` (not shipped)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_receipt(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<OrderId>,
) -> ApiResult<Json<OrderResponse>> {
    let mut conn = state.db().await?;
    let order = shipment::confirm_receipt(&mut conn, id, user.id, state.clock.now()).await?;
    Ok(Json(order.into()))
}
