//! Paying for orders with KakaoPay.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use petory_core::shop::OrderId;
use petory_core::shop::order::OrderStatus;
use petory_core::shop::payment::{self, ApprovalOutcome, PaymentClient};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, OptionalJson, Path, Query};

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStartResponse {
    /// KakaoPay's transaction id.
    pub tid: String,
    /// Send the buyer here to approve the payment: KakaoPay's page for the `client` asked for.
    pub redirect_url: String,
    /// The client the page is for.
    pub client: PaymentClient,
}

/// How the buyer will approve: KakaoPay has a page for each kind of client.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct StartPaymentRequest {
    /// `PC` (a desktop browser, the default), `MOBILE` (a phone's browser, handed over to
    /// KakaoTalk) or `APP` (our app, opening KakaoTalk).
    #[schema(example = "MOBILE")]
    pub client: Option<PaymentClient>,
}

/// Start paying for my order: answers the KakaoPay page the buyer approves on, the one fitting
/// `client` (a body is optional: PC by default). Send an `Idempotency-Key` so a retry does not
/// start a second attempt.
#[utoipa::path(post, path = "/orders/{id}/payment", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body(content = Option<StartPaymentRequest>, description = "Optional: `{}` or no body is a PC"),
    responses(
        (status = 200, description = "Payment started", body = PaymentStartResponse),
        (status = 402, description = "`PAYMENT_REFUSED`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`PAYMENT_GATEWAY_ERROR` (our side; nothing was charged)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_NOT_PAYABLE`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`PAYMENT_GATEWAY_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start_payment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<OrderId>,
    OptionalJson(body): OptionalJson<StartPaymentRequest>,
) -> ApiResult<Json<PaymentStartResponse>> {
    let client = body
        .and_then(|body| body.client)
        .unwrap_or(PaymentClient::Pc);
    let return_base = format!(
        "{}/api/v1/payments/kakaopay",
        state.config.public_url.trim_end_matches('/')
    );
    let ready = payment::start(
        &state.db,
        state.payments.as_ref(),
        user.id,
        id,
        &return_base,
        state.clock.now(),
    )
    .await?;
    Ok(Json(PaymentStartResponse {
        redirect_url: ready.redirect_for(client).to_owned(),
        tid: ready.tid,
        client,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApproveQuery {
    pub order_id: i64,
    /// This payment attempt's one-time token, in the address the buyer's browser was given.
    #[param(max_length = 100)]
    pub return_token: String,
    /// Given by KakaoPay when the buyer approved.
    #[param(max_length = 100)]
    pub pg_token: String,
}

/// What the approve return URL answers: the outcome only. The order's details (delivery
/// address, lines) are read with `GET /orders/{id}` by its buyer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOutcomeResponse {
    /// The order.
    pub id: i64,
    /// The order's status, `PAID` once approved.
    pub status: OrderStatus,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<ApprovalOutcome> for PaymentOutcomeResponse {
    fn from(outcome: ApprovalOutcome) -> Self {
        Self {
            id: outcome.order_id.into(),
            status: outcome.status,
            paid_at: outcome.paid_at,
        }
    }
}

/// Where a browser coming back from KakaoPay goes: the app's order page, when `PETORY_APP_URL`
/// is set and the request accepts HTML.
struct AppReturn<'a> {
    app_url: &'a str,
}

impl<'a> AppReturn<'a> {
    fn for_request(state: &'a AppState, headers: &HeaderMap) -> Option<Self> {
        let accepts_html = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.contains("text/html"));
        let app_url = state.config.app_url.as_deref()?;
        accepts_html.then_some(Self { app_url })
    }

    /// `303 See Other` to `{app}/orders/{id}?payment={outcome}[&code={code}]`.
    fn redirect(&self, order_id: i64, outcome: &str, code: Option<&str>) -> Response {
        let code = code.map(|code| format!("&code={code}")).unwrap_or_default();
        Redirect::to(&format!(
            "{}/orders/{order_id}?payment={outcome}{code}",
            self.app_url.trim_end_matches('/')
        ))
        .into_response()
    }
}

/// KakaoPay sends the buyer back here after approval: the payment is approved and the order
/// becomes `PAID`, only with the attempt's own `return_token` (so nobody else can have us ask
/// KakaoPay). Only the outcome is answered, and a repeat answers it again only to the
/// `pg_token` that approved; any other token or order is `PAYMENT_REFUSED`. A browser
/// (`Accept: text/html`) is sent on to the app (`PETORY_APP_URL`).
#[utoipa::path(get, path = "/payments/kakaopay/approve", tag = "shop", params(ApproveQuery),
    responses(
        (status = 200, description = "Paid", body = PaymentOutcomeResponse),
        (status = 303, description = "A browser, sent on to `{PETORY_APP_URL}/orders/{id}?payment=approved` (or `=failed&code=…`)",
            headers(("Location" = String, description = "The app's order page"))),
        (status = 400, description = "`INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`PAYMENT_REFUSED` (a wrong `return_token` or `pg_token`, or not this order's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ORDER_NOT_PAYABLE` (cancelled while at KakaoPay: refunded)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`PAYMENT_GATEWAY_ERROR`, `PAYMENT_GATEWAY_MISMATCH`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`PAYMENT_GATEWAY_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn kakaopay_approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ApproveQuery>,
) -> Response {
    let approved = payment::approve(
        &state.db,
        state.payments.as_ref(),
        &state.calendar,
        query.order_id.into(),
        &query.return_token,
        &query.pg_token,
        state.clock.now(),
    )
    .await
    .map_err(ApiError::from);
    match (AppReturn::for_request(&state, &headers), approved) {
        (Some(app), Ok(_)) => app.redirect(query.order_id, "approved", None),
        (Some(app), Err(error)) => {
            app.redirect(query.order_id, "failed", Some(error.code().as_str()))
        }
        (None, Ok(outcome)) => Json(PaymentOutcomeResponse::from(outcome)).into_response(),
        (None, Err(error)) => error.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnQuery {
    pub order_id: i64,
}

/// KakaoPay sends the buyer here when they cancel at its page; the order stays payable. A
/// browser is sent on to the app (`?payment=canceled`).
#[utoipa::path(get, path = "/payments/kakaopay/cancel", tag = "shop", params(ReturnQuery),
    responses(
        (status = 303, description = "A browser, sent on to `{PETORY_APP_URL}/orders/{id}?payment=canceled&code=PAYMENT_CANCELED_BY_BUYER`",
            headers(("Location" = String, description = "The app's order page"))),
        (status = 400, description = "`PAYMENT_CANCELED_BY_BUYER`, `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn kakaopay_cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> Response {
    const CODE: ProblemCode = ProblemCode::PaymentCanceledByBuyer;
    match AppReturn::for_request(&state, &headers) {
        Some(app) => app.redirect(query.order_id, "canceled", Some(CODE.as_str())),
        None => ApiError::bad_request(
            CODE,
            "the payment was cancelled at KakaoPay; the order can be paid again",
        )
        .into_response(),
    }
}

/// KakaoPay sends the buyer here when the payment failed; the order stays payable. A browser
/// is sent on to the app (`?payment=failed`).
#[utoipa::path(get, path = "/payments/kakaopay/fail", tag = "shop", params(ReturnQuery),
    responses(
        (status = 303, description = "A browser, sent on to `{PETORY_APP_URL}/orders/{id}?payment=failed&code=PAYMENT_FAILED`",
            headers(("Location" = String, description = "The app's order page"))),
        (status = 400, description = "`PAYMENT_FAILED`, `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn kakaopay_fail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> Response {
    const CODE: ProblemCode = ProblemCode::PaymentFailed;
    match AppReturn::for_request(&state, &headers) {
        Some(app) => app.redirect(query.order_id, "failed", Some(CODE.as_str())),
        None => ApiError::bad_request(
            CODE,
            "the payment failed at KakaoPay; the order can be paid again",
        )
        .into_response(),
    }
}
