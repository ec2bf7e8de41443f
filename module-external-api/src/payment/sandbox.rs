//! A KakaoPay-compatible sandbox (like stripe-mock for Stripe): the online payment endpoints
//! with the real field names and error format, a ledger of every call, an approval page, and
//! misbehaviour on request (fail with 5xx, decline, or answer too late after doing the work).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub secret_key: String,
    /// A plain GET of the redirect URL approves at once (scripts walk the flow without a browser).
    pub auto_approve: bool,
    pub subscription_cid: String,
    /// Added to every gateway call, like the network and the real gateway would.
    pub latency: Duration,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            secret_key: "DEV-SANDBOX-SECRET".into(),
            auto_approve: false,
            subscription_cid: "TCSUBSCRIP".into(),
            latency: Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerEntry {
    /// `ready`, `approve`, `subscription`, `cancel` or `inactive`.
    pub kind: String,
    pub tid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub partner_order_id: String,
    pub amount: i64,
    pub at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misbehaviour {
    /// Answer 500 without doing anything.
    Fail,
    /// Refuse like a declined payment (400, KakaoPay error body).
    Decline,
    /// Refuse the request itself, as for bad parameters (400, error code -2): the merchant's
    /// fault.
    Reject,
    /// Do the work, then answer only after a long delay (the client times out).
    Timeout,
}

#[derive(Debug, Clone)]
struct Payment {
    cid: String,
    partner_order_id: String,
    partner_user_id: String,
    item_name: String,
    amount: i64,
    approval_url: String,
    status: &'static str,
    pg_token: String,
    aid: Option<String>,
    sid: Option<String>,
    created_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Subscription {
    partner_user_id: String,
    active: bool,
    item_name: String,
    created_at: chrono::DateTime<Utc>,
    last_approved_at: chrono::DateTime<Utc>,
}

#[derive(Default)]
struct Books {
    payments: HashMap<String, Payment>,
    subscriptions: HashMap<String, Subscription>,
    ledger: Vec<LedgerEntry>,
    misbehaviours: VecDeque<Misbehaviour>,
}

#[derive(Clone)]
struct Sandbox {
    settings: Arc<SandboxSettings>,
    books: Arc<Mutex<Books>>,
    base_url: Arc<String>,
}

impl Sandbox {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&format!("SECRET_KEY {}", self.settings.secret_key))
    }

    fn next_misbehaviour(&self) -> Option<Misbehaviour> {
        self.books().misbehaviours.pop_front()
    }
}

fn kakao_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({"error_code": code, "error_message": message})),
    )
        .into_response()
}

/// KakaoPay's wire times: Korean local time without an offset.
fn kakao_time(instant: chrono::DateTime<Utc>) -> String {
    (instant + TimeDelta::hours(9))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn kakao_now() -> String {
    kakao_time(Utc::now())
}

/// Runs `work`, then answers as the misbehaviour (if any) says.
async fn answer(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    work: impl FnOnce(&mut Books) -> Response,
) -> Response {
    if !sandbox.authorised(headers) {
        return kakao_error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    if !sandbox.settings.latency.is_zero() {
        tokio::time::sleep(sandbox.settings.latency).await;
    }
    match sandbox.next_misbehaviour() {
        Some(Misbehaviour::Fail) => kakao_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            -9999,
            "internal server error",
        ),
        Some(Misbehaviour::Decline) => {
            kakao_error(StatusCode::BAD_REQUEST, -780, "approval failure!")
        }
        Some(Misbehaviour::Reject) => kakao_error(StatusCode::BAD_REQUEST, -2, "invalid parameter"),
        Some(Misbehaviour::Timeout) => {
            let response = work(&mut sandbox.books());
            tokio::time::sleep(Duration::from_secs(30)).await;
            response
        }
        None => work(&mut sandbox.books()),
    }
}

#[derive(Deserialize)]
struct ReadyBody {
    cid: String,
    partner_order_id: String,
    partner_user_id: String,
    item_name: String,
    total_amount: i64,
    approval_url: String,
}

async fn ready(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<ReadyBody>,
) -> Response {
    let base = sandbox.base_url.clone();
    answer(&sandbox, &headers, |books| {
        if body.total_amount <= 0 {
            return kakao_error(StatusCode::BAD_REQUEST, -2, "invalid total_amount");
        }
        let tid = format!("T{}", uuid::Uuid::new_v4().simple());
        let now = Utc::now();
        books.ledger.push(LedgerEntry { kind: "ready".into(), tid: tid.clone(), sid: None, partner_order_id: body.partner_order_id.clone(), amount: body.total_amount, at: now });
        books.payments.insert(
            tid.clone(),
            Payment {
                cid: body.cid,
                partner_order_id: body.partner_order_id,
                partner_user_id: body.partner_user_id,
                item_name: body.item_name,
                amount: body.total_amount,
                approval_url: body.approval_url,
                status: "READY",
                pg_token: format!("pg{}", uuid::Uuid::new_v4().simple()),
                aid: None,
                sid: None,
                created_at: now,
            },
        );
        // One page per client, as KakaoPay's `info`, `mInfo` and `aInfo`.
        let page = format!("{base}/__sandbox/approve/{tid}");
        Json(json!({
            "tid": tid,
            "tms_result": false,
            "next_redirect_app_url": format!("{page}/app"),
            "next_redirect_mobile_url": format!("{page}/mobile"),
            "next_redirect_pc_url": page,
            "android_app_scheme": "kakaotalk://kakaopay/pg?url=", "ios_app_scheme": "kakaotalk://kakaopay/pg?url=",
            "created_at": kakao_now(),
        }))
        .into_response()
    })
    .await
}

/// Where a phone's browser or an app lands: the same approval as the desktop page (KakaoPay's
/// hand over to KakaoTalk, which the sandbox has not).
async fn client_approval_page(
    State(sandbox): State<Sandbox>,
    Path((tid, client)): Path<(String, String)>,
) -> Response {
    if !matches!(client.as_str(), "mobile" | "app") {
        return (StatusCode::NOT_FOUND, "unknown client").into_response();
    }
    approval_page(State(sandbox), Path(tid)).await
}

/// Where the buyer lands: approves at once with `--auto-approve`, otherwise shows a page.
async fn approval_page(State(sandbox): State<Sandbox>, Path(tid): Path<String>) -> Response {
    let books = sandbox.books();
    let Some(payment) = books.payments.get(&tid) else {
        return (StatusCode::NOT_FOUND, "unknown tid").into_response();
    };
    let separator = if payment.approval_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let approve = format!(
        "{}{separator}pg_token={}",
        payment.approval_url, payment.pg_token
    );
    if sandbox.settings.auto_approve {
        return (StatusCode::FOUND, [(header::LOCATION, approve)]).into_response();
    }
    Html(format!(
        "<!doctype html><title>KakaoPay sandbox</title><h1>{}</h1><p>{} KRW</p><a href=\"{approve}\">Approve</a>",
        payment.item_name, payment.amount
    ))
    .into_response()
}

#[derive(Deserialize)]
struct ApproveBody {
    cid: String,
    tid: String,
    partner_order_id: String,
    partner_user_id: String,
    pg_token: String,
}

async fn approve(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<ApproveBody>,
) -> Response {
    let subscription_cid = sandbox.settings.subscription_cid.clone();
    answer(&sandbox, &headers, |books| {
        let Some(payment) = books.payments.get_mut(&body.tid) else {
            return kakao_error(StatusCode::BAD_REQUEST, -703, "tid not found");
        };
        if payment.cid != body.cid || payment.partner_order_id != body.partner_order_id || payment.partner_user_id != body.partner_user_id {
            return kakao_error(StatusCode::BAD_REQUEST, -701, "partner information mismatch");
        }
        if payment.status != "READY" {
            return kakao_error(StatusCode::BAD_REQUEST, -702, "payment already done");
        }
        if payment.pg_token != body.pg_token {
            return kakao_error(StatusCode::BAD_REQUEST, -780, "approval failure! invalid pg_token");
        }
        payment.status = "SUCCESS_PAYMENT";
        payment.aid = Some(format!("A{}", uuid::Uuid::new_v4().simple()));
        if payment.cid == subscription_cid {
            payment.sid = Some(format!("S{}", uuid::Uuid::new_v4().simple()));
        }
        let payment = payment.clone();
        if let Some(sid) = &payment.sid {
            books.subscriptions.insert(
                sid.clone(),
                Subscription {
                    partner_user_id: payment.partner_user_id.clone(),
                    active: true,
                    item_name: payment.item_name.clone(),
                    created_at: Utc::now(),
                    last_approved_at: Utc::now(),
                },
            );
        }
        books.ledger.push(LedgerEntry {
            kind: "approve".into(),
            tid: body.tid.clone(),
            sid: payment.sid.clone(),
            partner_order_id: payment.partner_order_id.clone(),
            amount: payment.amount,
            at: Utc::now(),
        });
        let mut answer = json!({
            "aid": payment.aid, "tid": body.tid, "cid": payment.cid,
            "partner_order_id": payment.partner_order_id, "partner_user_id": payment.partner_user_id,
            "payment_method_type": "MONEY", "item_name": payment.item_name, "quantity": 1,
            "amount": {"total": payment.amount, "tax_free": 0, "vat": payment.amount / 11, "point": 0, "discount": 0, "green_deposit": 0},
            "created_at": kakao_time(payment.created_at),
            "approved_at": kakao_now(),
        });
        if let Some(sid) = payment.sid {
            answer["sid"] = Value::String(sid);
        }
        Json(answer).into_response()
    })
    .await
}

#[derive(Deserialize)]
struct CancelBody {
    tid: String,
    cancel_amount: i64,
}

async fn cancel(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<CancelBody>,
) -> Response {
    answer(&sandbox, &headers, |books| {
        let Some(payment) = books.payments.get_mut(&body.tid) else {
            return kakao_error(StatusCode::BAD_REQUEST, -703, "tid not found");
        };
        if payment.status != "SUCCESS_PAYMENT" {
            return kakao_error(StatusCode::BAD_REQUEST, -721, "payment cannot be cancelled in its state");
        }
        if body.cancel_amount != payment.amount {
            return kakao_error(StatusCode::BAD_REQUEST, -722, "partial cancel is not supported by the sandbox");
        }
        payment.status = "CANCEL_PAYMENT";
        let partner_order_id = payment.partner_order_id.clone();
        books.ledger.push(LedgerEntry { kind: "cancel".into(), tid: body.tid.clone(), sid: None, partner_order_id, amount: body.cancel_amount, at: Utc::now() });
        Json(json!({"tid": body.tid, "status": "CANCEL_PAYMENT", "canceled_amount": {"total": body.cancel_amount}, "canceled_at": kakao_now()})).into_response()
    })
    .await
}

#[derive(Deserialize)]
struct OrderBody {
    tid: String,
}

async fn order(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<OrderBody>,
) -> Response {
    answer(&sandbox, &headers, |books| match books.payments.get(&body.tid) {
        None => kakao_error(StatusCode::BAD_REQUEST, -703, "tid not found"),
        Some(payment) => Json(json!({
            "tid": body.tid, "cid": payment.cid, "status": payment.status,
            "partner_order_id": payment.partner_order_id, "partner_user_id": payment.partner_user_id,
            "item_name": payment.item_name, "amount": {"total": payment.amount}, "sid": payment.sid,
        }))
        .into_response(),
    })
    .await
}

#[derive(Deserialize)]
struct ChargeBody {
    cid: String,
    sid: String,
    partner_order_id: String,
    partner_user_id: String,
    item_name: String,
    total_amount: i64,
}

/// A recurring charge with a subscription's `sid`.
async fn subscription(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<ChargeBody>,
) -> Response {
    answer(&sandbox, &headers, |books| {
        let Some(subscription) = books.subscriptions.get_mut(&body.sid) else {
            return kakao_error(StatusCode::BAD_REQUEST, -797, "invalid sid");
        };
        if !subscription.active {
            return kakao_error(StatusCode::BAD_REQUEST, -798, "inactive sid");
        }
        if subscription.partner_user_id != body.partner_user_id {
            return kakao_error(StatusCode::BAD_REQUEST, -701, "partner information mismatch");
        }
        subscription.last_approved_at = Utc::now();
        let tid = format!("T{}", uuid::Uuid::new_v4().simple());
        let aid = format!("A{}", uuid::Uuid::new_v4().simple());
        books.ledger.push(LedgerEntry {
            kind: "subscription".into(),
            tid: tid.clone(),
            sid: Some(body.sid.clone()),
            partner_order_id: body.partner_order_id.clone(),
            amount: body.total_amount,
            at: Utc::now(),
        });
        books.payments.insert(
            tid.clone(),
            Payment {
                cid: body.cid.clone(),
                partner_order_id: body.partner_order_id.clone(),
                partner_user_id: body.partner_user_id.clone(),
                item_name: body.item_name.clone(),
                amount: body.total_amount,
                approval_url: String::new(),
                status: "SUCCESS_PAYMENT",
                pg_token: String::new(),
                aid: Some(aid.clone()),
                sid: Some(body.sid.clone()),
                created_at: Utc::now(),
            },
        );
        Json(json!({
            "aid": aid, "tid": tid, "cid": body.cid, "sid": body.sid,
            "partner_order_id": body.partner_order_id, "partner_user_id": body.partner_user_id,
            "payment_method_type": "CARD", "item_name": body.item_name, "quantity": 1,
            "amount": {"total": body.total_amount, "tax_free": 0, "vat": body.total_amount / 11, "point": 0, "discount": 0},
            "created_at": kakao_now(), "approved_at": kakao_now(),
        }))
        .into_response()
    })
    .await
}

#[derive(Deserialize)]
struct SidBody {
    cid: String,
    sid: String,
}

async fn inactive(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<SidBody>,
) -> Response {
    answer(&sandbox, &headers, |books| {
        let Some(subscription) = books.subscriptions.get_mut(&body.sid) else {
            return kakao_error(StatusCode::BAD_REQUEST, -797, "invalid sid");
        };
        subscription.active = false;
        let created_at = subscription.created_at;
        books.ledger.push(LedgerEntry {
            kind: "inactive".into(),
            tid: String::new(),
            sid: Some(body.sid.clone()),
            partner_order_id: String::new(),
            amount: 0,
            at: Utc::now(),
        });
        Json(json!({
            "cid": body.cid, "sid": body.sid, "status": "INACTIVE",
            "created_at": kakao_time(created_at),
            "inactivated_at": kakao_now(),
        }))
        .into_response()
    })
    .await
}

async fn subscription_status(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<SidBody>,
) -> Response {
    answer(&sandbox, &headers, |books| {
        match books.subscriptions.get(&body.sid) {
            None => kakao_error(StatusCode::BAD_REQUEST, -797, "invalid sid"),
            Some(subscription) => Json(json!({
                "available": subscription.active, "cid": body.cid, "sid": body.sid,
                "status": if subscription.active { "ACTIVE" } else { "INACTIVE" },
                "payment_method_type": "CARD", "item_name": subscription.item_name,
                "created_at": kakao_time(subscription.created_at),
                "last_approved_at": kakao_time(subscription.last_approved_at),
            }))
            .into_response(),
        }
    })
    .await
}

async fn ledger(State(sandbox): State<Sandbox>) -> Json<Vec<LedgerEntry>> {
    Json(sandbox.books().ledger.clone())
}

#[derive(Deserialize)]
struct MisbehaveBody {
    next: Misbehaviour,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

/// `POST /__sandbox/misbehave {"next": "fail"|"decline"|"reject"|"timeout", "times": n}`.
async fn misbehave(State(sandbox): State<Sandbox>, Json(body): Json<MisbehaveBody>) -> StatusCode {
    sandbox
        .books()
        .misbehaviours
        .extend(std::iter::repeat_n(body.next, body.times));
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct SeedBody {
    subscriptions: Vec<SeedSubscription>,
}

#[derive(Deserialize)]
struct SeedSubscription {
    sid: String,
    partner_user_id: String,
    item_name: String,
    /// When the first payment was approved (the status lookup answers it until the next charge).
    approved_at: chrono::DateTime<Utc>,
}

/// `POST /__sandbox/subscriptions`: active `sid`s as if their first payments had been approved,
/// so that tests and benchmarks can bill many subscriptions without walking each first payment.
async fn seed_subscriptions(
    State(sandbox): State<Sandbox>,
    Json(body): Json<SeedBody>,
) -> StatusCode {
    let mut books = sandbox.books();
    for seed in body.subscriptions {
        books.subscriptions.insert(
            seed.sid,
            Subscription {
                partner_user_id: seed.partner_user_id,
                active: true,
                item_name: seed.item_name,
                created_at: seed.approved_at,
                last_approved_at: seed.approved_at,
            },
        );
    }
    StatusCode::NO_CONTENT
}

pub struct KakaoPaySandbox {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl KakaoPaySandbox {
    pub fn serve(listener: TcpListener, settings: SandboxSettings) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let sandbox = Sandbox {
            settings: Arc::new(settings),
            books: Arc::default(),
            base_url: Arc::new(format!("http://{addr}")),
        };
        let app = Router::new()
            .route("/online/v1/payment/ready", post(ready))
            .route("/online/v1/payment/approve", post(approve))
            .route("/online/v1/payment/cancel", post(cancel))
            .route("/online/v1/payment/order", post(order))
            .route("/online/v1/payment/subscription", post(subscription))
            .route(
                "/online/v1/payment/manage/subscription/inactive",
                post(inactive),
            )
            .route(
                "/online/v1/payment/manage/subscription/status",
                post(subscription_status),
            )
            .route("/__sandbox/approve/{tid}", get(approval_page))
            .route(
                "/__sandbox/approve/{tid}/{client}",
                get(client_approval_page),
            )
            .route("/__sandbox/ledger", get(ledger))
            .route("/__sandbox/misbehave", post(misbehave))
            .route("/__sandbox/subscriptions", post(seed_subscriptions))
            .with_state(sandbox);
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "kakaopay sandbox stopped");
            }
        });
        Ok(Self { addr, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn wait(self) {
        let task = &mut { self }.task;
        let _ = task.await;
    }
}

impl Drop for KakaoPaySandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
