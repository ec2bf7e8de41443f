//! The payment gateway port (KakaoPay today; the trait lets another gateway be added).
//!
//! A gateway call that times out or fails on the gateway's side has an unknown outcome: it is
//! resolved with [`PaymentGateway::lookup`], never by charging again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

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
    /// The page the buyer approves the payment on, in a desktop browser.
    pub redirect_pc_url: String,
    /// The same, in a phone's browser (it hands over to KakaoTalk).
    pub redirect_mobile_url: String,
    /// The same, from an app (it opens KakaoTalk).
    pub redirect_app_url: String,
}

crate::text_enum! {
    /// Where the buyer approves a payment: the gateway has a page for each.
    pub enum PaymentClient {
        Pc = "PC",
        Mobile = "MOBILE",
        App = "APP",
    }
}

impl Ready {
    /// The approval page fitting `client`.
    pub fn redirect_for(&self, client: PaymentClient) -> &str {
        match client {
            PaymentClient::Pc => &self.redirect_pc_url,
            PaymentClient::Mobile => &self.redirect_mobile_url,
            PaymentClient::App => &self.redirect_app_url,
        }
    }
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
    /// A subscription payment's subscription id.
    pub sid: Option<String>,
    pub status: GatewayStatus,
    pub amount: i64,
}

/// A payment's state at the gateway, in core's words: each adapter maps its vendor's statuses
/// (KakaoPay's `SUCCESS_PAYMENT`, `CANCEL_PAYMENT`, …) to these, so no vendor string reaches
/// the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayStatus {
    /// Started; the buyer has not approved (yet).
    Pending,
    /// Approved and charged.
    Approved,
    /// Cancelled: the money went back.
    Canceled,
    /// Partly cancelled: some of the money went back.
    PartlyCanceled,
    /// Failed or abandoned by the buyer: nothing was charged.
    Failed,
    /// A status this adapter does not know (kept for the log).
    Unknown(String),
}

impl std::fmt::Display for GatewayStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(vendor) => write!(f, "unknown ({vendor})"),
            known => write!(f, "{known:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Timeout, connection failure or a 5xx: the outcome is unknown.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
    /// The gateway refused the payment itself (bad token, declined card): the buyer's side.
    #[error("payment refused by the gateway: {0}")]
    Refused(String),
    /// The gateway refused our request (bad credentials or parameters): the merchant's fault,
    /// never the buyer's.
    #[error("payment gateway rejected the request: {0}")]
    Rejected(String),
    /// The subscription id is unknown or inactive: charging it can never succeed.
    #[error("the subscription cannot be charged: {0}")]
    SubscriptionInvalid(String),
    /// The answer does not match the request (tid, order or amount differ).
    #[error("payment gateway answer does not match: {0}")]
    Mismatch(String),
}

/// A recurring charge on a subscription's `sid` (no buyer interaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    pub sid: String,
    pub partner_order_id: String,
    pub partner_user_id: String,
    pub item_name: String,
    pub quantity: i64,
    pub total_amount: i64,
}

/// What the gateway says about a subscription id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub active: bool,
    pub last_approved_at: Option<DateTime<Utc>>,
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
    /// Charges a subscription again with its `sid`.
    async fn charge_subscription(&self, request: &ChargeRequest) -> Result<Approval, GatewayError>;
    /// Stops a subscription at the gateway; later charges on its `sid` are refused.
    async fn inactivate_subscription(&self, sid: &str) -> Result<(), GatewayError>;
    async fn subscription_status(&self, sid: &str) -> Result<SubscriptionState, GatewayError>;
}

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::order::{self, OrderStatus};
use super::{OrderId, ShopError};
use crate::db::DbError;
use crate::identity::UserId;
use crate::schema::{items, order_lines, orders, payments};

/// Where the gateway sends the buyer back to: `{base}/approve`, `/cancel` and `/fail` with the
/// order's id, the approval with a one-time `return_token` of this attempt (only its digest is
/// kept), so that nobody but the buyer's browser can make us call the gateway's approval.
fn return_urls(base: &str, order_id: OrderId, return_token: &str) -> (String, String, String) {
    let base = base.trim_end_matches('/');
    (
        format!("{base}/approve?order_id={order_id}&return_token={return_token}"),
        format!("{base}/cancel?order_id={order_id}"),
        format!("{base}/fail?order_id={order_id}"),
    )
}

/// Starts paying for an order: asks the gateway for a payment, whose return addresses start
/// with `return_base`, and remembers its `tid`. Asking again (the buyer closed the page)
/// starts a fresh attempt. No connection is held while the gateway answers.
pub async fn start(
    db: &crate::db::DbPool,
    gateway: &dyn PaymentGateway,
    user: UserId,
    order_id: OrderId,
    return_base: &str,
    now: DateTime<Utc>,
) -> Result<Ready, ShopError> {
    let order = {
        let mut conn = db.get().await.map_err(DbError::from)?;
        order::get(&mut conn, order_id, Some(user)).await?
    };
    if order.status != OrderStatus::PendingPayment || order.payment_expires_at <= now {
        return Err(ShopError::OrderNotPayable {
            status: order.status,
        });
    }
    let subscription = order
        .lines
        .iter()
        .any(|line| line.subscription_period_days.is_some());
    let quantity: i64 = order
        .lines
        .iter()
        .map(|line| i64::from(line.quantity))
        .sum();
    let first = <[_]>::first(&order.lines)
        .map(|line| line.item_name.clone())
        .unwrap_or_default();
    let item_name =
        crate::platform::messages::order_item_name(&first, order.lines.len().saturating_sub(1));
    let return_token = crate::identity::token::new_refresh_token();
    let (approval_url, cancel_url, fail_url) = return_urls(return_base, order.id, &return_token);
    let ready = gateway
        .ready(&ReadyRequest {
            partner_order_id: order.id.to_string(),
            partner_user_id: user.to_string(),
            item_name,
            quantity,
            total_amount: order.total_price,
            approval_url,
            cancel_url,
            fail_url,
            subscription,
        })
        .await
        .map_err(ShopError::Gateway)?;
    // A new attempt replaces the old one only while nothing was approved.
    let mut conn = db.get().await.map_err(DbError::from)?;
    let stored = diesel::sql_query(
        "INSERT INTO payments (order_id, tid, status, amount, is_subscription, return_token_digest,
                               created_at, updated_at)
         VALUES ($1, $2, 'READY', $3, $4, $6, $5, $5)
         ON CONFLICT (order_id) DO UPDATE
            SET tid = EXCLUDED.tid, return_token_digest = EXCLUDED.return_token_digest,
                updated_at = EXCLUDED.updated_at
          WHERE payments.status = 'READY'",
    )
    .bind::<diesel::sql_types::BigInt, _>(order.id)
    .bind::<diesel::sql_types::Text, _>(&ready.tid)
    .bind::<diesel::sql_types::BigInt, _>(order.total_price)
    .bind::<diesel::sql_types::Bool, _>(subscription)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Text, _>(crate::identity::token::secret_digest(&return_token))
    .execute(&mut conn)
    .await?;
    if stored == 0 {
        return Err(ShopError::OrderNotPayable {
            status: order.status,
        });
    }
    Ok(ready)
}

crate::text_enum! {
    /// A payment's state as the buyer sees it on the order; each says what the gateway said
    /// (`payments.status`).
    pub enum PaymentStatus {
        /// Started at the gateway, waiting for the buyer's approval.
        Ready = "READY",
        Paid = "PAID",
        /// The order was cancelled; the gateway has not confirmed the refund yet.
        RefundPending = "REFUND_PENDING",
        /// The gateway confirmed the refund.
        Refunded = "REFUNDED",
        /// The gateway refused the refund for good; support takes it from here.
        RefundFailed = "REFUND_FAILED",
    }
}

crate::text_enum! {
    /// Which gateway took a payment (`payments.provider`).
    pub enum PaymentProvider {
        KakaoPay = "KAKAOPAY",
    }
}

/// What a payment return URL tells its caller: the outcome, never the buyer's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutcome {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub paid_at: Option<DateTime<Utc>>,
}

/// The buyer approved at the gateway: approve there, then mark the order paid.
///
/// The return URL is public and order ids are sequential, so a `READY` payment is approved only
/// with the attempt's own `return_token` (which only the buyer's browser was sent back with):
/// nobody else can make us call the gateway. Approving a payment that is no longer `READY`
/// changes nothing and answers the outcome again only to the `pg_token` that approved it;
/// anything else is [`ShopError::PaymentLinkInvalid`], whatever the order. A gateway timeout is
/// resolved by looking the payment up, never by approving twice. No connection is held while
/// the gateway answers.
pub async fn approve(
    db: &crate::db::DbPool,
    gateway: &dyn PaymentGateway,
    calendar: &crate::platform::business_days::BusinessCalendar,
    order_id: OrderId,
    return_token: &str,
    pg_token: &str,
    now: DateTime<Utc>,
) -> Result<ApprovalOutcome, ShopError> {
    // The tokens themselves are credentials: only their digests are kept.
    let digest = crate::identity::token::secret_digest(pg_token);
    let mut conn = db.get().await.map_err(DbError::from)?;
    let (tid, status, amount, subscription, user_id, approved_digest, return_digest): (
        String,
        PaymentStatus,
        i64,
        bool,
        UserId,
        Option<String>,
        Option<String>,
    ) = payments::table
        .inner_join(orders::table)
        .filter(payments::order_id.eq(order_id))
        .select((
            payments::tid,
            payments::status,
            payments::amount,
            payments::is_subscription,
            orders::user_id,
            payments::pg_token_digest,
            payments::return_token_digest,
        ))
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(ShopError::PaymentLinkInvalid)?;
    if status != PaymentStatus::Ready {
        return if approved_digest.as_deref() == Some(digest.as_str()) {
            outcome(&mut conn, order_id).await
        } else {
            Err(ShopError::PaymentLinkInvalid)
        };
    }
    if return_digest.as_deref()
        != Some(crate::identity::token::secret_digest(return_token).as_str())
    {
        return Err(ShopError::PaymentLinkInvalid);
    }
    drop(conn);
    let request = ApproveRequest {
        tid: tid.clone(),
        partner_order_id: order_id.to_string(),
        partner_user_id: user_id.to_string(),
        pg_token: pg_token.to_owned(),
        subscription,
    };
    let (aid, sid, approved_amount, mut sid_approved_at) = match gateway.approve(&request).await {
        Ok(approval) => (
            Some(approval.aid),
            approval.sid,
            approval.amount,
            approval.approved_at,
        ),
        Err(GatewayError::Unavailable(cause)) => {
            tracing::warn!(%order_id, %tid, %cause, "approval outcome unknown; looking it up");
            let state = gateway
                .lookup(&tid, subscription)
                .await
                .map_err(ShopError::Gateway)?;
            if state.status != GatewayStatus::Approved {
                return Err(ShopError::Gateway(GatewayError::Unavailable(format!(
                    "payment is {}",
                    state.status
                ))));
            }
            (None, state.sid, state.amount, None)
        }
        Err(error) => return Err(ShopError::Gateway(error)),
    };
    if approved_amount != amount {
        tracing::error!(%order_id, %tid, approved_amount, amount, "approved amount differs from the order");
        return Err(ShopError::Gateway(GatewayError::Mismatch(format!(
            "approved {approved_amount}, expected {amount}"
        ))));
    }
    if let (Some(sid), None) = (&sid, sid_approved_at) {
        // Billing resolves lost answers against the gateway's own clock: learn it now.
        sid_approved_at = gateway
            .subscription_status(sid)
            .await
            .ok()
            .and_then(|state| state.last_approved_at);
    }
    let tid_for_refund = tid.clone();
    let paid_on = calendar.day_of(now);
    let mut conn = db.get().await.map_err(DbError::from)?;
    let refused = conn
        .transaction(
            async move |conn| -> Result<Option<OrderStatus>, ShopError> {
                let marked = diesel::update(
                    payments::table
                        .filter(payments::order_id.eq(order_id))
                        .filter(payments::status.eq(PaymentStatus::Ready)),
                )
                .set((
                    payments::status.eq(PaymentStatus::Paid),
                    payments::aid.eq(aid),
                    payments::sid.eq(sid.as_deref()),
                    payments::pg_token_digest.eq(&digest),
                    payments::approved_at.eq(now),
                    payments::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
                if marked == 0 {
                    return Ok(None); // a concurrent approval (the same browser, twice) got here first
                }
                let paid = diesel::update(
                    orders::table
                        .find(order_id)
                        .filter(orders::status.eq(OrderStatus::PendingPayment)),
                )
                .set((
                    orders::status.eq(OrderStatus::Paid),
                    orders::paid_at.eq(now),
                    orders::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
                if paid == 0 {
                    // The order was cancelled (or expired, its stock released) while the buyer was at
                    // the gateway: give the money back rather than resurrect the order.
                    let status: OrderStatus = orders::table
                        .find(order_id)
                        .select(orders::status)
                        .first(conn)
                        .await?;
                    request_refund(conn, order_id, &tid_for_refund, amount, subscription, now)
                        .await?;
                    return Ok(Some(status));
                }
                if let Some(sid) = &sid {
                    super::subscription::create_for_order(
                        conn,
                        order_id,
                        user_id,
                        sid,
                        sid_approved_at,
                        paid_on,
                        now,
                    )
                    .await?;
                }
                order::notify_status(conn, &[(order_id, user_id)], OrderStatus::Paid, now).await?;
                let lines: Vec<(i64, i32)> = order_lines::table
                    .filter(order_lines::order_id.eq(order_id))
                    .select((order_lines::item_id, order_lines::quantity))
                    .load(conn)
                    .await?;
                for (item_id, quantity) in lines {
                    diesel::update(items::table.find(item_id))
                        .set(items::sales_count.eq(items::sales_count + i64::from(quantity)))
                        .execute(conn)
                        .await?;
                }
                Ok(None)
            },
        )
        .await?;
    if let Some(status) = refused {
        return Err(ShopError::OrderNotPayable { status });
    }
    outcome(&mut conn, order_id).await
}

async fn outcome(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
) -> Result<ApprovalOutcome, ShopError> {
    let (status, paid_at): (OrderStatus, Option<DateTime<Utc>>) = orders::table
        .find(order_id)
        .select((orders::status, orders::paid_at))
        .first(conn)
        .await?;
    Ok(ApprovalOutcome {
        order_id,
        status,
        paid_at,
    })
}

/// KakaoPay's ids of an order's payment and why its refund failed, for an admin's detail view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct GatewayRefs {
    pub tid: String,
    pub aid: Option<String>,
    pub sid: Option<String>,
    pub refund_error: Option<String>,
}

pub async fn gateway_refs(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
) -> Result<Option<GatewayRefs>, ShopError> {
    Ok(payments::table
        .filter(payments::order_id.eq(order_id))
        .select(GatewayRefs::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Outbox event: cancel (refund) an approved payment at the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RefundRequested {
    pub order_id: OrderId,
    pub tid: String,
    pub amount: i64,
    pub subscription: bool,
}

impl crate::platform::outbox::Payload for RefundRequested {
    const KIND: &'static str = "PAYMENT_CANCEL_REQUESTED";
}

/// Marks a paid payment `REFUND_PENDING` and asks for the refund through the outbox, in the
/// caller's transaction. Returns `false` when the payment was not `PAID`.
pub(crate) async fn request_refund(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    tid: &str,
    amount: i64,
    subscription: bool,
    now: DateTime<Utc>,
) -> Result<bool, ShopError> {
    let marked = diesel::update(
        payments::table
            .filter(payments::order_id.eq(order_id))
            .filter(payments::status.eq(PaymentStatus::Paid)),
    )
    .set((
        payments::status.eq(PaymentStatus::RefundPending),
        payments::refund_requested_at.eq(now),
        payments::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if marked == 0 {
        return Ok(false);
    }
    crate::platform::outbox::record(
        conn,
        &RefundRequested {
            order_id,
            tid: tid.to_owned(),
            amount,
            subscription,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Why a refund did not go through at the gateway.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// Worth trying again later (the gateway was unavailable, or the database).
    #[error("refund not completed yet: {0}")]
    Transient(String),
    /// The gateway refused for good: record it with [`refund_failed`].
    #[error("the gateway refused the refund: {0}")]
    Refused(String),
}

impl From<DbError> for RefundError {
    fn from(error: DbError) -> Self {
        Self::Transient(error.to_string())
    }
}

impl From<diesel::result::Error> for RefundError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Transient(error.to_string())
    }
}

/// Carries out a requested refund at the gateway, idempotently: a payment the gateway already
/// shows as cancelled is not cancelled again. `REFUNDED` is written only after the gateway
/// confirmed it; the order becomes `REFUNDED` with it and the buyer is told. A refusal for good
/// is the caller's to record with [`refund_failed`] (the relay does when it parks the event).
pub async fn complete_cancel(
    conn: &mut AsyncPgConnection,
    gateway: &dyn PaymentGateway,
    tid: &str,
    amount: i64,
    subscription: bool,
    now: DateTime<Utc>,
) -> Result<(), RefundError> {
    let confirmed = async {
        let state = gateway.lookup(tid, subscription).await?;
        if state.status == GatewayStatus::Canceled {
            return Ok(());
        }
        let state = gateway.cancel(tid, amount, subscription).await?;
        if state.status == GatewayStatus::Canceled {
            Ok(())
        } else {
            Err(GatewayError::Unavailable(format!(
                "the refund is {} at the gateway",
                state.status
            )))
        }
    }
    .await;
    match confirmed {
        Ok(()) => {}
        Err(GatewayError::Unavailable(cause)) => return Err(RefundError::Transient(cause)),
        Err(error) => return Err(RefundError::Refused(error.to_string())),
    }
    conn.transaction(async move |conn| -> Result<(), RefundError> {
        let refunded: Option<OrderId> = diesel::update(
            payments::table.filter(payments::tid.eq(tid)).filter(
                payments::status
                    .eq_any([PaymentStatus::RefundPending, PaymentStatus::RefundFailed]),
            ),
        )
        .set((
            payments::status.eq(PaymentStatus::Refunded),
            payments::refunded_at.eq(now),
            payments::refund_error.eq(None::<String>),
            payments::updated_at.eq(now),
        ))
        .returning(payments::order_id)
        .get_result(conn)
        .await
        .optional()?;
        let Some(order_id) = refunded else {
            return Ok(()); // confirmed before: nothing changes
        };
        let buyer: Option<UserId> = diesel::update(
            orders::table
                .find(order_id)
                .filter(orders::status.eq(OrderStatus::Canceled)),
        )
        .set((
            orders::status.eq(OrderStatus::Refunded),
            orders::updated_at.eq(now),
        ))
        .returning(orders::user_id)
        .get_result(conn)
        .await
        .optional()?;
        if let Some(user_id) = buyer {
            order::notify_status(conn, &[(order_id, user_id)], OrderStatus::Refunded, now).await?;
        }
        Ok(())
    })
    .await
}

/// Records that a refund will not happen by itself (the gateway refused, or the relay gave up):
/// the payment reads `REFUND_FAILED` and the buyer is told once. The failed outbox event is
/// what admins see and retry.
pub async fn refund_failed(
    conn: &mut AsyncPgConnection,
    tid: &str,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    conn.transaction(async move |conn| -> Result<(), DbError> {
        let failed: Option<OrderId> = diesel::update(
            payments::table
                .filter(payments::tid.eq(tid))
                .filter(payments::status.eq(PaymentStatus::RefundPending)),
        )
        .set((
            payments::status.eq(PaymentStatus::RefundFailed),
            payments::refund_error.eq(cause),
            payments::updated_at.eq(now),
        ))
        .returning(payments::order_id)
        .get_result(conn)
        .await
        .optional()?;
        let Some(order_id) = failed else {
            return Ok(());
        };
        let user_id: UserId = orders::table
            .find(order_id)
            .select(orders::user_id)
            .first(conn)
            .await?;
        tracing::error!(%order_id, %tid, %cause, "refund failed for good");
        let message = super::messages::refund_failed(order_id);
        crate::notification::request_many(
            conn,
            &[crate::notification::NewNotification {
                user_id,
                notice: crate::notification::Notice::OrderStatus {
                    order_id: order_id.into(),
                    status: None,
                    payment_status: Some(PaymentStatus::RefundFailed.as_str().to_owned()),
                },
                title: message.title,
                body: message.body,
                once_per: None,
            }],
            now,
        )
        .await
    })
    .await
}
