//! Daily records upkeep: the midnight question notification and the album's thumbnails.

use async_trait::async_trait;
use petory_core::daily::{album, qna};
use petory_core::db::DbError;
use petory_core::platform::run_log::{JobCounts, job_counts};
use petory_core::ports::Audience;

use crate::job::{Job, JobContext, RunDate};

/// Users per `INSERT … SELECT` range of the midnight notification.
const RANGE: i64 = 50_000;
/// Ranges inserted at once: Postgres spreads them over its cores.
const PARALLEL_RANGES: usize = 2;

/// At 00:00 business time: one `DAILY_QUESTION` notification per active user who has not opted
/// out, for that day. Re-running the same date inserts nothing new.
pub struct DailyQuestionNotification;

#[async_trait]
impl Job for DailyQuestionNotification {
    fn name(&self) -> &'static str {
        "daily-question-notification"
    }

    fn default_schedule(&self) -> &'static str {
        "0 0 0 * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let counts = qna::notify_question_of_the_day(
            &context.db,
            date.business_date,
            date.as_of,
            RANGE,
            PARALLEL_RANGES,
        )
        .await?;
        if counts.inserted > 0
            && let Err(error) = context.notifications.wake(Audience::Everyone).await
        {
            tracing::warn!(%error, "daily question wake-up not sent");
        }
        Ok(job_counts([
            ("notified", counts.inserted),
            ("ranges", counts.ranges),
            ("pushes", counts.pushes),
        ]))
    }
}

/// Makes the 320 px WebP thumbnails of album photos that have none yet (every minute): lists
/// show the original until then. Instances share the photos (`SKIP LOCKED`).
pub struct AlbumThumbnails;

#[async_trait]
impl Job for AlbumThumbnails {
    fn name(&self) -> &'static str {
        "album-thumbnails"
    }

    fn default_schedule(&self) -> &'static str {
        "30 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let counts = album::make_thumbnails(
            &mut conn,
            context.object_store.as_ref(),
            context.thumbnailer.as_ref(),
            20,
            date.as_of,
        )
        .await?;
        Ok(job_counts([
            ("made", counts.made),
            ("failed", counts.failed),
        ]))
    }
}
