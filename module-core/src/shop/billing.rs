//! Subscription billing: exactly one charge per (subscription, cycle), whatever fails.
//!
//! A run works in chunks. Each chunk is claimed with `FOR UPDATE SKIP LOCKED` and recorded as
//! `IN_FLIGHT` charges (unique per subscription and cycle) in a committed transaction *before*
//! the gateway is called, so a crash leaves evidence. Charges go out with bounded concurrency;
//! their outcomes are written back in one transaction per chunk with set-based SQL.
//!
//! An outcome that is unknown (timeout, 5xx, a crash between call and write-back) is resolved
//! with the gateway's `sid` status before anything is retried: a `last_approved_at` later than
//! the last approval we know of on that `sid` is the lost charge. Only one charge per `sid` is
//! ever in flight (a partial unique index), so that comparison is never ambiguous.
//!
//! Retry ladder (Pillivery's): the first failure is retried at once, the next ones every 24 h;
//! the fifth failure, or a hard decline (the `sid` is invalid or inactive), cancels the
//! subscription and tells the user.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, SmallInt, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt as _;

use super::order::{self, OrderStatus};
use super::payment::{ChargeRequest, GatewayError, PaymentGateway};
use super::subscription::{self, CancelReason, ChargeResolution, ChargeStatus, Subscription};
use super::{OrderId, ShopError, SubscriptionId};
use crate::db::{self, DbError, DbPool};
use crate::identity::UserId;
use crate::notification::{self, NewNotification, Notice, SubscriptionCycle};
use crate::platform::messages;
use crate::schema::{subscription_charges, subscriptions};

#[derive(Debug, Clone, Copy)]
pub struct BillingSettings {
    /// Subscriptions claimed per transaction.
    pub chunk: i64,
    /// Gateway calls in flight at once.
    pub concurrency: usize,
    /// How long other runs leave a claimed charge alone before treating its run as dead.
    pub lease: TimeDelta,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            chunk: 1000,
            concurrency: 128,
            lease: TimeDelta::minutes(5),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BillingCounts {
    /// Charge attempts made (each due cycle, and each retry).
    pub due: i64,
    pub charged: i64,
    pub failed: i64,
    /// Attempts that were retries of an earlier failure or of a lost answer.
    pub retried: i64,
    /// Subscriptions cancelled by the retry ladder or a hard decline.
    pub canceled: i64,
    /// Outcomes still unknown (the gateway could not be asked); a later run resolves them.
    pub unknown: i64,
    /// Charges the gateway rejected as our fault (see [`DEFERRAL`]).
    pub deferred: i64,
}

impl BillingCounts {
    /// Adds what a write-back learned (attempts are counted when claimed).
    fn add_outcomes(&mut self, written: Self) {
        self.charged += written.charged;
        self.failed += written.failed;
        self.canceled += written.canceled;
        self.unknown += written.unknown;
        self.deferred += written.deferred;
    }
}

/// How long a charge the gateway rejected as our fault waits before it is tried again.
pub const DEFERRAL: TimeDelta = TimeDelta::hours(1);

/// The fifth failure of a cycle ends the subscription.
pub const MAX_FAILURES: i16 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    GiveUp(CancelReason),
}

/// The retry ladder: what follows the `failures`-th failure of a cycle.
pub fn after_failure(failures: i16, hard: bool, now: DateTime<Utc>) -> AfterFailure {
    if hard {
        AfterFailure::GiveUp(CancelReason::SubscriptionInvalid)
    } else if failures >= MAX_FAILURES {
        AfterFailure::GiveUp(CancelReason::PaymentFailed)
    } else if failures <= 1 {
        AfterFailure::RetryAt(now)
    } else {
        AfterFailure::RetryAt(now + TimeDelta::hours(24))
    }
}

/// A charge this run is responsible for.
#[derive(Debug, Clone, QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    charge_id: i64,
    #[diesel(sql_type = BigInt)]
    subscription_id: SubscriptionId,
    #[diesel(sql_type = Date)]
    cycle_date: NaiveDate,
    #[diesel(sql_type = Text)]
    sid: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = SmallInt)]
    attempts: i16,
    #[diesel(sql_type = BigInt)]
    user_id: UserId,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    quantity: i32,
    #[diesel(sql_type = SmallInt)]
    failed_attempts: i16,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    sid_approved_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    item_name: String,
}

#[derive(Debug, Clone)]
enum Outcome {
    Approved {
        tid: Option<String>,
        aid: Option<String>,
        /// The gateway's approval time (the new baseline for the `sid`).
        gateway_at: Option<DateTime<Utc>>,
        resolved_by: ChargeResolution,
    },
    Failed {
        error: String,
        hard: bool,
    },
    /// A lost answer of a dead run turned out never to have charged: try again, no failure.
    NotCharged,
    /// The gateway rejected our request (our fault, e.g. a bad key): nothing was charged and
    /// the subscriber is not to blame; try again after [`DEFERRAL`] without climbing the ladder.
    Deferred(String),
    Unknown(String),
}

/// Bills every subscription due on or before `business_date`, as of `now`.
pub async fn run(
    pool: &DbPool,
    gateway: &dyn PaymentGateway,
    business_date: NaiveDate,
    now: DateTime<Utc>,
    settings: BillingSettings,
) -> Result<BillingCounts, ShopError> {
    let mut counts = BillingCounts::default();
    // First the lost answers of runs that died, so their cycles are never charged twice.
    loop {
        let claimed = claim_stale(pool, now, settings).await?;
        if claimed.is_empty() {
            break;
        }
        let full = claimed.len() as i64 >= settings.chunk;
        let outcomes = for_each(claimed, settings.concurrency, |charge| async move {
            let outcome = match charged_since_baseline(gateway, &charge).await {
                Ok(Some(gateway_at)) => approved_by_status(gateway_at),
                Ok(None) => Outcome::NotCharged,
                Err(error) => Outcome::Unknown(error.to_string()),
            };
            (charge, outcome)
        })
        .await;
        finalize(pool, outcomes, business_date, now, settings, &mut counts).await?;
        if !full {
            break;
        }
    }
    // Passes over the due subscriptions in (date, id) order; each chunk starts after the last
    // one, so no chunk rescans what earlier ones billed. A pass that claimed anything is followed
    // by another from the start, for the failures retried at once. A chunk's outcomes are
    // written back while the next chunk is being charged.
    let mut races = 0;
    let mut after = PASS_START;
    let mut pass_claimed = false;
    let mut unwritten: Option<Vec<(Claimed, Outcome)>> = None;
    loop {
        let claimed = match claim_due(pool, business_date, now, settings, after).await {
            Ok(claimed) => claimed,
            // Another instance put a charge on one of these sids in flight first: look again.
            Err(ShopError::Database(DbError::Query(error)))
                if races < 10
                    && db::violates(
                        &error,
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        "subscription_charges_one_in_flight_per_sid",
                    ) =>
            {
                races += 1;
                continue;
            }
            Err(error) => return Err(error),
        };
        if claimed.is_empty() {
            if let Some(outcomes) = unwritten.take() {
                finalize(pool, outcomes, business_date, now, settings, &mut counts).await?;
            }
            if !pass_claimed {
                break;
            }
            (after, pass_claimed) = (PASS_START, false);
            continue;
        }
        pass_claimed = true;
        after = claimed
            .iter()
            .map(|c| (c.cycle_date, c.subscription_id))
            .max()
            .unwrap_or(after);
        counts.due += claimed.len() as i64;
        counts.retried += claimed.iter().filter(|c| c.attempts > 1).count() as i64;
        let mut written = BillingCounts::default();
        let previous = unwritten.take();
        let write_back = async {
            match previous {
                Some(outcomes) => {
                    finalize(pool, outcomes, business_date, now, settings, &mut written).await
                }
                None => Ok(()),
            }
        };
        let charge = for_each(claimed, settings.concurrency, |charge| async move {
            let outcome = charge_once(gateway, &charge).await;
            (charge, outcome)
        });
        let (write_back, outcomes) = tokio::join!(write_back, charge);
        write_back?;
        counts.add_outcomes(written);
        unwritten = Some(outcomes);
    }
    Ok(counts)
}

async fn for_each<F, Fut>(
    charges: Vec<Claimed>,
    concurrency: usize,
    work: F,
) -> Vec<(Claimed, Outcome)>
where
    F: Fn(Claimed) -> Fut,
    Fut: Future<Output = (Claimed, Outcome)>,
{
    futures_util::stream::iter(charges)
        .map(work)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Where a pass over the due subscriptions starts: before every (billing date, id).
const PASS_START: (NaiveDate, SubscriptionId) = (
    NaiveDate::from_ymd_opt(1, 1, 1).expect("a date"),
    SubscriptionId(0),
);

/// Records an `IN_FLIGHT` charge for each due subscription of the next chunk after `after`
/// (in (billing date, id) order), one per `sid`.
async fn claim_due(
    pool: &DbPool,
    business_date: NaiveDate,
    now: DateTime<Utc>,
    settings: BillingSettings,
    after: (NaiveDate, SubscriptionId),
) -> Result<Vec<Claimed>, ShopError> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    Ok(diesel::sql_query(include_str!("billing/claim_due.sql"))
        .bind::<Date, _>(business_date)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(settings.chunk)
        .bind::<Timestamptz, _>(now + settings.lease)
        .bind::<Date, _>(after.0)
        .bind::<BigInt, _>(after.1)
        .load(&mut conn)
        .await?)
}

/// Takes over `IN_FLIGHT` charges whose run's lease passed (it died or hung).
async fn claim_stale(
    pool: &DbPool,
    now: DateTime<Utc>,
    settings: BillingSettings,
) -> Result<Vec<Claimed>, ShopError> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    Ok(diesel::sql_query(include_str!("billing/claim_stale.sql"))
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(settings.chunk)
        .bind::<Timestamptz, _>(now + settings.lease)
        .load(&mut conn)
        .await?)
}

/// The gateway reports `last_approved_at` to the second, on its own clock: a charge sent within
/// the same second as the previous approval on its `sid` could not be told apart from it. So no
/// `sid` is charged until this long after its last known approval, in real time (it is the
/// gateway's clock that matters, not the business clock).
const SAME_SID_GAP: TimeDelta = TimeDelta::seconds(2);

async fn charge_once(gateway: &dyn PaymentGateway, charge: &Claimed) -> Outcome {
    if let Some(wait) = charge
        .sid_approved_at
        .and_then(|at| (at + SAME_SID_GAP - Utc::now()).to_std().ok())
    {
        tokio::time::sleep(wait).await;
    }
    let request = ChargeRequest {
        sid: charge.sid.clone(),
        partner_order_id: format!("S{}-{}", charge.subscription_id, charge.cycle_date),
        partner_user_id: charge.user_id.to_string(),
        item_name: charge.item_name.clone(),
        quantity: i64::from(charge.quantity),
        total_amount: charge.amount,
    };
    match gateway.charge_subscription(&request).await {
        Ok(approval) => Outcome::Approved {
            tid: Some(approval.tid),
            aid: Some(approval.aid),
            gateway_at: approval.approved_at,
            resolved_by: ChargeResolution::Answer,
        },
        Err(GatewayError::SubscriptionInvalid(error)) => Outcome::Failed { error, hard: true },
        Err(GatewayError::Refused(error)) => Outcome::Failed { error, hard: false },
        Err(GatewayError::Rejected(error)) => {
            tracing::error!(charge = charge.charge_id, %error, "the gateway rejected our charge request (merchant configuration?)");
            Outcome::Deferred(error)
        }
        Err(GatewayError::Unavailable(error) | GatewayError::Mismatch(error)) => {
            tracing::warn!(charge = charge.charge_id, %error, "charge outcome unknown; asking the gateway");
            match charged_since_baseline(gateway, charge).await {
                Ok(Some(gateway_at)) => approved_by_status(gateway_at),
                Ok(None) => Outcome::Failed { error, hard: false },
                Err(lookup) => Outcome::Unknown(format!("{error}; lookup: {lookup}")),
            }
        }
    }
}

fn approved_by_status(gateway_at: Option<DateTime<Utc>>) -> Outcome {
    Outcome::Approved {
        tid: None,
        aid: None,
        gateway_at,
        resolved_by: ChargeResolution::SidStatus,
    }
}

/// Whether the `sid` was charged after the last approval we know of: `Some(its time)` if so.
async fn charged_since_baseline(
    gateway: &dyn PaymentGateway,
    charge: &Claimed,
) -> Result<Option<Option<DateTime<Utc>>>, GatewayError> {
    let state = gateway.subscription_status(&charge.sid).await?;
    Ok(match (state.last_approved_at, charge.sid_approved_at) {
        (Some(last), Some(known)) if last > known => Some(Some(last)),
        (Some(_), Some(_)) | (None, _) => None,
        // No baseline recorded: assume charged rather than risk charging twice.
        (Some(last), None) => Some(Some(last)),
    })
}

/// Writes a chunk's outcomes back in one transaction.
async fn finalize(
    pool: &DbPool,
    outcomes: Vec<(Claimed, Outcome)>,
    business_date: NaiveDate,
    now: DateTime<Utc>,
    settings: BillingSettings,
    counts: &mut BillingCounts,
) -> Result<(), ShopError> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    let chunk = conn
        .transaction(async move |conn| -> Result<BillingCounts, ShopError> {
            let mut chunk = BillingCounts::default();
            let mut approved = Vec::new();
            for (charge, outcome) in outcomes {
                match outcome {
                    Outcome::Approved {
                        tid,
                        aid,
                        gateway_at,
                        resolved_by,
                    } => approved.push(Approved {
                        charge,
                        tid,
                        aid,
                        gateway_at,
                        resolved_by,
                    }),
                    Outcome::Failed { error, hard } => {
                        record_failure(conn, &charge, &error, hard, now, &mut chunk).await?;
                    }
                    Outcome::NotCharged => {
                        set_charge_status(conn, charge.charge_id, ChargeStatus::Retry, None, now)
                            .await?;
                    }
                    Outcome::Deferred(error) => {
                        if set_charge_status(
                            conn,
                            charge.charge_id,
                            ChargeStatus::Retry,
                            Some(&error),
                            now,
                        )
                        .await?
                        {
                            diesel::update(subscriptions::table.find(charge.subscription_id))
                                .set((
                                    subscriptions::retry_at.eq(now + DEFERRAL),
                                    subscriptions::last_failure.eq(&error),
                                    subscriptions::updated_at.eq(now),
                                ))
                                .execute(conn)
                                .await?;
                        }
                        chunk.deferred += 1;
                    }
                    Outcome::Unknown(error) => {
                        // Still in flight: a later run asks the gateway again.
                        diesel::update(subscription_charges::table.find(charge.charge_id))
                            .set((
                                subscription_charges::lease_until.eq(now + settings.lease),
                                subscription_charges::last_error.eq(error),
                                subscription_charges::updated_at.eq(now),
                            ))
                            .execute(conn)
                            .await?;
                        chunk.unknown += 1;
                    }
                }
            }
            chunk.charged = record_approvals(conn, approved, business_date, now).await?;
            Ok(chunk)
        })
        .await?;
    counts.add_outcomes(chunk);
    Ok(())
}

/// Moves an in-flight charge on; `false` if it was not in flight any more (another run took it).
async fn set_charge_status(
    conn: &mut AsyncPgConnection,
    charge_id: i64,
    status: ChargeStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let moved = diesel::update(
        subscription_charges::table
            .find(charge_id)
            .filter(subscription_charges::status.eq(ChargeStatus::InFlight)),
    )
    .set((
        subscription_charges::status.eq(status),
        subscription_charges::lease_until.eq(None::<DateTime<Utc>>),
        subscription_charges::last_error.eq(error),
        subscription_charges::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(moved == 1)
}

async fn record_failure(
    conn: &mut AsyncPgConnection,
    charge: &Claimed,
    error: &str,
    hard: bool,
    now: DateTime<Utc>,
    counts: &mut BillingCounts,
) -> Result<(), ShopError> {
    let failures = charge.failed_attempts.saturating_add(1);
    let next = after_failure(failures, hard, now);
    let status = match next {
        AfterFailure::RetryAt(_) => ChargeStatus::Retry,
        AfterFailure::GiveUp(_) => ChargeStatus::GaveUp,
    };
    if !set_charge_status(conn, charge.charge_id, status, Some(error), now).await? {
        return Ok(());
    }
    counts.failed += 1;
    diesel::update(subscriptions::table.find(charge.subscription_id))
        .set((
            subscriptions::failed_attempts.eq(failures),
            subscriptions::last_failure.eq(error),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    match next {
        AfterFailure::RetryAt(at) => {
            diesel::update(subscriptions::table.find(charge.subscription_id))
                .set(subscriptions::retry_at.eq(at))
                .execute(conn)
                .await?;
            tracing::info!(subscription = %charge.subscription_id, failures, %error, retry_at = %at, "subscription charge failed");
            if failures > 1 {
                notification::request(conn, &billing_notification(charge, false), now).await?;
            }
        }
        AfterFailure::GiveUp(reason) => {
            let subscription: Subscription = subscriptions::table
                .find(charge.subscription_id)
                .select(Subscription::as_select())
                .first(conn)
                .await?;
            subscription::end(conn, &subscription, reason, now).await?;
            counts.canceled += 1;
            tracing::warn!(subscription = %charge.subscription_id, failures, reason = reason.as_str(), %error, "subscription cancelled after failed charges");
            notification::request(conn, &billing_notification(charge, true), now).await?;
        }
    }
    Ok(())
}

/// What the subscriber reads when a charge failed (`ended`: and the subscription ended).
fn billing_notification(charge: &Claimed, ended: bool) -> NewNotification {
    let cycle = SubscriptionCycle {
        subscription_id: charge.subscription_id.into(),
        cycle_date: charge.cycle_date,
    };
    let (notice, message) = if ended {
        (
            Notice::SubscriptionCanceled(cycle),
            messages::subscription_ended_after_failures(&charge.item_name),
        )
    } else {
        (
            Notice::SubscriptionPaymentFailed(cycle),
            messages::renewal_failed(&charge.item_name),
        )
    };
    NewNotification {
        user_id: charge.user_id,
        notice,
        title: message.title,
        body: message.body,
        once_per: None,
    }
}

struct Approved {
    charge: Claimed,
    tid: Option<String>,
    aid: Option<String>,
    gateway_at: Option<DateTime<Utc>>,
    resolved_by: ChargeResolution,
}

/// Approved charges: the cycle's order (with its payment when the tid is known), the next
/// billing date, the `sid`'s new baseline and the item's sales, all set-based.
async fn record_approvals(
    conn: &mut AsyncPgConnection,
    approved: Vec<Approved>,
    business_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, ShopError> {
    if approved.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = approved.iter().map(|a| a.charge.charge_id).collect();
    let tids: Vec<Option<String>> = approved.iter().map(|a| a.tid.clone()).collect();
    let aids: Vec<Option<String>> = approved.iter().map(|a| a.aid.clone()).collect();
    let resolved_by: Vec<&str> = approved.iter().map(|a| a.resolved_by.as_str()).collect();
    let sids: Vec<&str> = approved.iter().map(|a| a.charge.sid.as_str()).collect();
    let gateway_at: Vec<Option<DateTime<Utc>>> = approved.iter().map(|a| a.gateway_at).collect();

    // Only charges still in flight: one another run already settled are left alone.
    let settled: Vec<i64> = diesel::sql_query(include_str!("billing/settle_charges.sql"))
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Nullable<Text>>, _>(&tids)
        .bind::<Array<Text>, _>(&resolved_by)
        .bind::<Timestamptz, _>(now)
        .load::<SettledId>(conn)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    if settled.is_empty() {
        return Ok(0);
    }

    let orders: Vec<NewOrder> =
        diesel::sql_query(include_str!("billing/create_renewal_orders.sql"))
            .bind::<Array<BigInt>, _>(&settled)
            .bind::<Timestamptz, _>(now)
            .load(conn)
            .await?;

    diesel::sql_query(include_str!("billing/record_renewal_payments.sql"))
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Nullable<Text>>, _>(&aids)
        .bind::<Timestamptz, _>(now)
        .bind::<Array<BigInt>, _>(&settled)
        .execute(conn)
        .await?;

    // The next date falls back onto the anchor, past today (no catching up on missed cycles);
    // a date the user moved beyond this cycle stays as it is.
    diesel::sql_query(include_str!("billing/advance_schedules.sql"))
        .bind::<Array<BigInt>, _>(&settled)
        .bind::<Date, _>(business_date)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;

    // Every subscription on the sid learns the new approval time (siblings share an sid).
    diesel::sql_query(include_str!("billing/share_sid_approval.sql"))
        .bind::<Array<Text>, _>(&sids)
        .bind::<Array<Nullable<Timestamptz>>, _>(&gateway_at)
        .execute(conn)
        .await?;

    diesel::sql_query(include_str!("billing/count_sales.sql"))
        .bind::<Array<BigInt>, _>(&settled)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;

    let paid: Vec<(OrderId, UserId)> = orders.iter().map(|o| (o.order_id, o.user_id)).collect();
    order::notify_status(conn, &paid, OrderStatus::Paid, now).await?;
    Ok(settled.len() as i64)
}

#[derive(QueryableByName)]
struct SettledId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct NewOrder {
    #[diesel(sql_type = BigInt)]
    order_id: OrderId,
    #[diesel(sql_type = BigInt)]
    user_id: UserId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_ladder_retries_at_once_then_daily_then_gives_up() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(after_failure(1, false, now), AfterFailure::RetryAt(now));
        for failures in 2..MAX_FAILURES {
            assert_eq!(
                after_failure(failures, false, now),
                AfterFailure::RetryAt(now + TimeDelta::hours(24))
            );
        }
        assert_eq!(
            after_failure(MAX_FAILURES, false, now),
            AfterFailure::GiveUp(CancelReason::PaymentFailed)
        );
        assert_eq!(
            after_failure(1, true, now),
            AfterFailure::GiveUp(CancelReason::SubscriptionInvalid)
        );
    }
}
