//! Store upkeep.

use async_trait::async_trait;
use petory_core::db::DbError;
use petory_core::platform::run_log::{JobCounts, job_counts};
use petory_core::shop::{billing, order, shipment};

use crate::job::{Job, JobContext, RunDate};

/// Cancels orders whose payment window closed and puts their stock back on sale. Chunks are
/// claimed with `SKIP LOCKED`, so several batch instances share the work.
pub struct ExpireUnpaidOrders;

#[async_trait]
impl Job for ExpireUnpaidOrders {
    fn name(&self) -> &'static str {
        "expire-unpaid-orders"
    }

    fn default_schedule(&self) -> &'static str {
        "30 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let canceled = order::expire_unpaid(&mut conn, date.as_of, 500).await?;
        Ok(job_counts([("canceled", canceled)]))
    }
}

/// Charges every due subscription cycle exactly once (see `petory_core::shop::billing`).
pub struct BillSubscriptions;

#[async_trait]
impl Job for BillSubscriptions {
    fn name(&self) -> &'static str {
        "billing"
    }

    fn default_schedule(&self) -> &'static str {
        "0 */10 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let counts = billing::run(
            &context.db,
            context.payments.as_ref(),
            date.business_date,
            date.as_of,
            context.billing,
        )
        .await?;
        metrics::counter!("petory_billing_charges_total", "outcome" => "approved")
            .increment(u64::try_from(counts.charged).unwrap_or(0));
        metrics::counter!("petory_billing_charges_total", "outcome" => "failed")
            .increment(u64::try_from(counts.failed).unwrap_or(0));
        metrics::counter!("petory_billing_charges_total", "outcome" => "unknown")
            .increment(u64::try_from(counts.unknown).unwrap_or(0));
        metrics::counter!("petory_billing_charges_total", "outcome" => "deferred")
            .increment(u64::try_from(counts.deferred).unwrap_or(0));
        metrics::counter!("petory_billing_subscriptions_canceled_total")
            .increment(u64::try_from(counts.canceled).unwrap_or(0));
        Ok(job_counts([
            ("due", counts.due),
            ("charged", counts.charged),
            ("failed", counts.failed),
            ("retried", counts.retried),
            ("canceled", counts.canceled),
            ("unknown", counts.unknown),
            ("deferred", counts.deferred),
        ]))
    }
}

/// Marks shipped orders delivered once nobody confirmed receipt for the shop's days
/// (`PETORY_ORDER_DELIVERY_CONFIRM_DAYS`). Set-based, in `SKIP LOCKED` chunks; a second run finds
/// nothing more.
pub struct ConfirmDeliveries;

#[async_trait]
impl Job for ConfirmDeliveries {
    fn name(&self) -> &'static str {
        "confirm-deliveries"
    }

    fn default_schedule(&self) -> &'static str {
        "0 20 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let delivered = shipment::deliver_unconfirmed(
            &mut conn,
            date.as_of,
            context.shop.confirm_delivery_after,
            500,
        )
        .await?;
        Ok(job_counts([("delivered", delivered)]))
    }
}
