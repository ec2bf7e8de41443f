//! Paying for orders with KakaoPay.

use axum::extract::State;
use petory_core::shop::payment::{self, ReturnUrls};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::order::OrderResponse;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStartResponse {
    /// KakaoPay's transaction id.
    pub tid: String,
    /// Send the buyer here to approve the payment.
    pub redirect_url: String,
}

/// Start paying for my order: answers the KakaoPay page the buyer approves on. Send an
/// `Idempotency-Key` so a retry does not start a second attempt.
#[utoipa::path(post, path = "/orders/{id}/payment", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 200, description = "Payment started", body = PaymentStartResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`PAYMENT_REFUSED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_NOT_PAYABLE`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`PAYMENT_GATEWAY_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_payment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<PaymentStartResponse>> {
    let base = format!(
        "{}/api/v1/payments/kakaopay",
        state.config.public_url.trim_end_matches('/')
    );
    let urls = ReturnUrls {
        approval_url: format!("{base}/approve?order_id={id}"),
        cancel_url: format!("{base}/cancel?order_id={id}"),
        fail_url: format!("{base}/fail?order_id={id}"),
    };
    let mut conn = state.db().await?;
    let ready = payment::start(
        &mut conn,
        state.payments.as_ref(),
        user.id,
        id,
        urls,
        state.clock.now(),
    )
    .await?;
    Ok(Json(PaymentStartResponse {
        tid: ready.tid,
        redirect_url: ready.redirect_url,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApproveQuery {
    pub order_id: i64,
    /// Given by KakaoPay when the buyer approved.
    pub pg_token: String,
}

/// KakaoPay sends the buyer back here after approval: the payment is approved and the order
/// becomes `PAID`. Repeating it changes nothing.
#[utoipa::path(get, path = "/payments/kakaopay/approve", tag = "shop", params(ApproveQuery),
    responses(
        (status = 200, description = "Paid", body = OrderResponse),
        (status = 400, description = "`INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`PAYMENT_REFUSED` (e.g. a wrong pg_token)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`PAYMENT_GATEWAY_MISMATCH`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`PAYMENT_GATEWAY_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn kakaopay_approve(
    State(state): State<AppState>,
    Query(query): Query<ApproveQuery>,
) -> ApiResult<Json<OrderResponse>> {
    let mut conn = state.db().await?;
    let order = payment::approve(
        &mut conn,
        state.payments.as_ref(),
        &state.calendar,
        query.order_id,
        &query.pg_token,
        state.clock.now(),
    )
    .await?;
    Ok(Json(order.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnQuery {
    pub order_id: i64,
}

/// KakaoPay sends the buyer here when they cancel at its page; the order stays payable.
#[utoipa::path(get, path = "/payments/kakaopay/cancel", tag = "shop", params(ReturnQuery),
    responses((status = 400, description = "`PAYMENT_CANCELED_BY_BUYER`", body = Problem, content_type = "application/problem+json")))]
pub async fn kakaopay_cancel(Query(query): Query<ReturnQuery>) -> ApiError {
    ApiError::bad_request(
        "PAYMENT_CANCELED_BY_BUYER",
        format!(
            "payment of order {} was cancelled; it can be paid again",
            query.order_id
        ),
    )
}

/// KakaoPay sends the buyer here when the payment failed; the order stays payable.
#[utoipa::path(get, path = "/payments/kakaopay/fail", tag = "shop", params(ReturnQuery),
    responses((status = 400, description = "`PAYMENT_FAILED`", body = Problem, content_type = "application/problem+json")))]
pub async fn kakaopay_fail(Query(query): Query<ReturnQuery>) -> ApiError {
    ApiError::bad_request(
        "PAYMENT_FAILED",
        format!(
            "payment of order {} failed; it can be paid again",
            query.order_id
        ),
    )
}
