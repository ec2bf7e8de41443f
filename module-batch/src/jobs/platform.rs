//! Housekeeping of platform records.

use async_trait::async_trait;
use chrono::TimeDelta;
use petory_core::db::DbError;
use petory_core::platform::idempotency;
use petory_core::platform::run_log::{self, JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// Deletes stored idempotent responses past their retention.
pub struct PruneIdempotencyKeys;

#[async_trait]
impl Job for PruneIdempotencyKeys {
    fn name(&self) -> &'static str {
        "prune-idempotency-keys"
    }

    fn default_schedule(&self) -> &'static str {
        "0 17 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let deleted = idempotency::prune_expired(&mut conn, date.as_of).await?;
        Ok(job_counts([("deleted", deleted)]))
    }
}

/// How long the run log keeps runs unless `PETORY_BATCH_RUN_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RUN_RETENTION: TimeDelta = TimeDelta::days(90);

/// Forgets runs (and idle counters) older than the retention period.
pub struct PruneBatchRuns;

#[async_trait]
impl Job for PruneBatchRuns {
    fn name(&self) -> &'static str {
        "prune-batch-runs"
    }

    fn default_schedule(&self) -> &'static str {
        "0 45 4 * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let deleted = run_log::prune(&mut conn, date.as_of - context.run_retention, 10_000).await?;
        Ok(job_counts([("deleted", deleted)]))
    }
}
