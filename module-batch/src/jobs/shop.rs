//! Store upkeep.

use async_trait::async_trait;
use petory_core::batch::JobCounts;
use petory_core::db::DbError;
use petory_core::shop::order;

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
        Ok(JobCounts::from([(
            "canceled".to_owned(),
            i64::try_from(canceled).unwrap_or(i64::MAX),
        )]))
    }
}
