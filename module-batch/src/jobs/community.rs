//! Community upkeep.

use async_trait::async_trait;
use petory_core::community::{board, views};
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

/// Posts at most this many liked posts per transaction.
const LIKES_CHUNK: i64 = 1_000;

/// Every five minutes: tells authors how many members liked their posts since they were last
/// told (`POST_LIKED`), at most once an hour per post, through the outbox. Instances share
/// the posts (`SKIP LOCKED`); no like is told twice.
pub struct TellPostLikes;

#[async_trait]
impl Job for TellPostLikes {
    fn name(&self) -> &'static str {
        "post-likes"
    }

    fn default_schedule(&self) -> &'static str {
        "45 */5 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let mut told = 0;
        loop {
            let pass = board::tell_likes(&mut conn, date.as_of, LIKES_CHUNK).await?;
            told += pass;
            if i64::try_from(pass).unwrap_or(i64::MAX) < LIKES_CHUNK {
                break;
            }
        }
        Ok(job_counts([("told", told)]))
    }
}
