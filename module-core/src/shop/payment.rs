//! The payment gateway port (KakaoPay today; the trait lets another gateway be added).
//!
//! A gateway call that times out or fails on the gateway's side has an unknown outcome: it is
//! resolved with [`PaymentGateway::lookup`], never by charging again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyRequest {
    pub partner_order_id: String,
    pub partner_user_id: String,
    pub item_name: String,
    pub quantity: i64,
    pub total_amount: i64,
    /// Where the gateway sends the buyer back; the gateway appends `pg_token`.
    pub approval_url: String,
    pub cancel_url: String,
    pub fail_url: String,
    /// A subscription's first payment (its approval yields an `sid`).
    pub subscription: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub tid: String,
    /// The page the buyer approves the payment on.
    pub redirect_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproveRequest {
    pub tid: String,
    pub partner_order_id: String,
    pub partner_user_id: String,
    pub pg_token: String,
    pub subscription: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub tid: String,
    pub aid: String,
    pub partner_order_id: String,
    pub amount: i64,
    /// The subscription id for later charges, on a subscription's first approval.
    pub sid: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// What the gateway says about a payment when asked (`order` lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    pub tid: String,
    /// The gateway's own status, e.g. `READY`, `SUCCESS_PAYMENT`, `CANCEL_PAYMENT`, `FAIL_PAYMENT`.
    pub status: String,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Timeout, connection failure or a 5xx: the outcome is unknown.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
    /// The gateway refused (bad token, declined card, invalid request).
    #[error("payment refused by the gateway: {0}")]
    Refused(String),
    /// The answer does not match the request (tid, order or amount differ).
    #[error("payment gateway answer does not match: {0}")]
    Mismatch(String),
}

#[async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    async fn ready(&self, request: &ReadyRequest) -> Result<Ready, GatewayError>;
    async fn approve(&self, request: &ApproveRequest) -> Result<Approval, GatewayError>;
    async fn cancel(
        &self,
        tid: &str,
        amount: i64,
        subscription: bool,
    ) -> Result<PaymentState, GatewayError>;
    async fn lookup(&self, tid: &str, subscription: bool) -> Result<PaymentState, GatewayError>;
}
