//! The calendar's upkeep: events' reminders and pets' D-days.

use async_trait::async_trait;
use petory_core::calendar::reminder;
use petory_core::platform::run_log::{JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// Events per reminder transaction.
const REMINDER_CHUNK: i64 = 2_000;
/// Reminder transactions at once: expanding rules is CPU work, so one per core, but at most
/// four, since each holds one of the connections every other job shares for its whole run.
fn reminder_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get().min(4))
}

/// Every minute: calendar reminders that fell due (`EVENT_REMINDER`), and once a day from 09:00
/// business time pets' D-days (`PET_DDAY`). Instances share the events (`SKIP LOCKED`); a
/// reminder or D-day is never told twice.
pub struct CalendarReminders;

#[async_trait]
impl Job for CalendarReminders {
    fn name(&self) -> &'static str {
        "calendar-reminders"
    }

    fn default_schedule(&self) -> &'static str {
        "0 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let reminders = reminder::send_reminders(
            &context.db,
            context.notifications.as_ref(),
            date.as_of,
            REMINDER_CHUNK,
            reminder_workers(),
        )
        .await?;
        let d_days = reminder::send_d_days(
            &context.db,
            context.notifications.as_ref(),
            &context.calendar,
            date.as_of,
        )
        .await?;
        Ok(job_counts([
            ("events", reminders.events),
            ("reminded", reminders.reminded),
            ("d_days", d_days),
        ]))
    }
}
