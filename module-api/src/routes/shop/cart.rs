//! My cart.

use axum::extract::State;
use petory_core::shop::cart::{self, Cart, CartLine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, ValidJson};

#[derive(Debug, Serialize, ToSchema)]
pub struct CartLineResponse {
    pub id: i64,
    pub item_id: i64,
    pub name: String,
    pub brand: String,
    pub image_key: Option<String>,
    /// KRW for one, after discount.
    pub unit_price: i64,
    pub quantity: i32,
    /// 30, 60 or 90 for a subscription; null for a one-off purchase.
    pub subscription_period_days: Option<i16>,
    pub line_total: i64,
    /// On sale with enough stock right now.
    pub available: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartResponse {
    pub lines: Vec<CartLineResponse>,
    pub total_quantity: i64,
    /// KRW, computed by the server.
    pub total_price: i64,
}

impl From<CartLine> for CartLineResponse {
    fn from(l: CartLine) -> Self {
        Self {
            id: l.id,
            item_id: l.item_id.into(),
            name: l.name,
            brand: l.brand,
            image_key: l.image_key,
            unit_price: l.unit_price,
            quantity: l.quantity,
            subscription_period_days: l.subscription_period_days,
            line_total: l.line_total,
            available: l.available,
        }
    }
}

impl From<Cart> for CartResponse {
    fn from(c: Cart) -> Self {
        Self {
            lines: c.lines.into_iter().map(Into::into).collect(),
            total_quantity: c.total_quantity,
            total_price: c.total_price,
        }
    }
}

/// My cart with its totals.
#[utoipa::path(get, path = "/cart", tag = "shop", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
    ))]
pub async fn get_cart(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<CartResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(cart::get(&mut conn, user.id).await?.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddCartItemRequest {
    pub item_id: i64,
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: i32,
    /// 30, 60 or 90 to subscribe; omit for a one-off purchase.
    pub subscription_period_days: Option<i16>,
}

/// Add an item (to its existing line if the same item and purchase kind are already there).
#[utoipa::path(post, path = "/cart/items", tag = "shop", security(("bearer" = [])), request_body = AddCartItemRequest,
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 404, description = "`ITEM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`CART_FULL` (50 lines)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_cart_item(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<AddCartItemRequest>,
) -> ApiResult<Json<CartResponse>> {
    let mut conn = state.db().await?;
    let cart = cart::add(
        &mut conn,
        user.id,
        body.item_id.into(),
        body.quantity,
        body.subscription_period_days,
        state.clock.now(),
    )
    .await?;
    Ok(Json(cart.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateCartItemRequest {
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: Option<i32>,
    /// 30, 60 or 90, or `null` for a one-off purchase.
    #[serde(default, deserialize_with = "crate::extract::nullable_field")]
    #[schema(value_type = Option<i16>)]
    pub subscription_period_days: Option<Option<i16>>,
}

/// Change a line's quantity or purchase kind.
#[utoipa::path(patch, path = "/cart/items/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateCartItemRequest,
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 404, description = "`CART_ITEM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_cart_item(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    ValidJson(body): ValidJson<UpdateCartItemRequest>,
) -> ApiResult<Json<CartResponse>> {
    let mut conn = state.db().await?;
    let cart = cart::update(
        &mut conn,
        user.id,
        id,
        body.quantity,
        body.subscription_period_days,
        state.clock.now(),
    )
    .await?;
    Ok(Json(cart.into()))
}

/// Remove a line.
#[utoipa::path(delete, path = "/cart/items/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 404, description = "`CART_ITEM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_cart_item(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<CartResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(cart::remove(&mut conn, user.id, id).await?.into()))
}
