//! Community upkeep.

use async_trait::async_trait;
use petory_core::community::views;
use petory_core::db::DbError;
use petory_core::platform::run_log::{JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// Takes the views counted in Redis into the posts' counts, a batch at a time.
pub struct FlushViews;

#[async_trait]
impl Job for FlushViews {
    fn name(&self) -> &'static str {
        "flush-views"
    }

    fn default_schedule(&self) -> &'static str {
        "15 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let stored = views::flush(&mut conn, context.views.as_ref(), date.as_of).await?;
        Ok(job_counts([("views", stored)]))
    }
}
