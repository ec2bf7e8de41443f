//! Places' upkeep.

use async_trait::async_trait;
use petory_core::db::DbError;
use petory_core::place::ranking;
use petory_core::platform::run_log::{JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// Rebuilds the place rankings in Redis from the database: the weekly one (which likes leave
/// as they age) and the all-time one (mending any drift of likes recorded while Redis was
/// away).
pub struct RebuildPlaceRanking;

#[async_trait]
impl Job for RebuildPlaceRanking {
    fn name(&self) -> &'static str {
        "rebuild-place-ranking"
    }

    fn default_schedule(&self) -> &'static str {
        "30 */10 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let (all_time, week) =
            ranking::rebuild(&mut conn, context.place_ranking.as_ref(), date.as_of).await?;
        Ok(job_counts([("all_time", all_time), ("week", week)]))
    }
}
