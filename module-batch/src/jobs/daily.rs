//! Daily records upkeep: the midnight question notification.

use async_trait::async_trait;
use petory_core::daily::qna;
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
