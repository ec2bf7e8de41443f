//! Uploads that nothing came to use.

use async_trait::async_trait;
use petory_core::db::DbError;
use petory_core::platform::run_log::{JobCounts, job_counts};
use petory_core::platform::upload;

use crate::job::{Job, JobContext, RunDate};

/// Removes objects (and their records) that were presigned but never attached within a day.
pub struct PruneUnattachedUploads;

#[async_trait]
impl Job for PruneUnattachedUploads {
    fn name(&self) -> &'static str {
        "prune-unattached-uploads"
    }

    fn default_schedule(&self) -> &'static str {
        "0 25 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let removed = upload::prune_unattached(
            &mut conn,
            context.object_store.as_ref(),
            &context.uploads,
            500,
            date.as_of,
        )
        .await?;
        Ok(job_counts([("removed", removed)]))
    }
}
