//! Notification upkeep.

use async_trait::async_trait;
use chrono::TimeDelta;
use petory_core::db::DbError;
use petory_core::notification;
use petory_core::platform::run_log::{JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// How long notifications are kept unless `PETORY_NOTIFICATION_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION: TimeDelta = TimeDelta::days(30);

/// Deletes notifications older than the retention period, in chunks.
pub struct PurgeNotifications;

#[async_trait]
impl Job for PurgeNotifications {
    fn name(&self) -> &'static str {
        "purge-notifications"
    }

    fn default_schedule(&self) -> &'static str {
        "0 0 4 * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let purged = notification::purge_older_than(
            &mut conn,
            date.as_of - context.notification_retention,
            10_000,
        )
        .await?;
        let pushes = notification::push::delivery::purge_older_than(
            &mut conn,
            date.as_of - context.notification_retention,
        )
        .await?;
        Ok(job_counts([("purged", purged), ("pushes_purged", pushes)]))
    }
}

/// Sends the queued Web Push messages (`push_deliveries`), `PETORY_PUSH_CONCURRENCY` in flight;
/// retries wait their backoff in the queue.
pub struct SendPushes;

#[async_trait]
impl Job for SendPushes {
    fn name(&self) -> &'static str {
        "send-pushes"
    }

    fn default_schedule(&self) -> &'static str {
        "*/5 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let counts = notification::push::delivery::send_due(
            &context.db,
            context.push.clone(),
            date.as_of,
            context.push_sender,
        )
        .await?;
        Ok(job_counts([
            ("sent", counts.sent),
            ("gone", counts.gone),
            ("retried", counts.retried),
            ("gave_up", counts.gave_up),
        ]))
    }
}
