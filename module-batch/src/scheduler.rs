//! Scheduler mode: every enabled job on its cron schedule, in the business time zone.

use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use crate::config::schedule_for;
use crate::job::{JobContext, RunDate, all_jobs, run_recorded};
use petory_core::batch::Trigger;

/// Registers every enabled job and runs until `shutdown` completes.
pub async fn run(context: JobContext, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let mut scheduler = JobScheduler::new().await?;
    for job in all_jobs() {
        let Some(schedule) = schedule_for(job.name(), job.default_schedule())? else {
            tracing::info!(job = job.name(), "disabled by configuration");
            continue;
        };
        let context = context.clone();
        let zone = context.calendar.zone();
        let job_for_cron = job.clone();
        let cron = CronJob::new_async_tz(schedule.as_str(), zone, move |_, _| {
            let context = context.clone();
            let job = job_for_cron.clone();
            Box::pin(async move {
                let date = RunDate::today(&context);
                // The outcome is recorded and logged by `run_recorded`; the scheduler goes on.
                let _ = run_recorded(&context, job.as_ref(), date, Trigger::Schedule).await;
            })
        })
        .map_err(|error| anyhow::anyhow!("schedule {schedule:?} of {}: {error}", job.name()))?;
        scheduler.add(cron).await?;
        tracing::info!(job = job.name(), %schedule, "scheduled");
    }
    scheduler.start().await?;
    // Between polls, the relay also runs the moment an event is committed.
    let (stop_listener, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = match context.database_url.clone() {
        Some(url) => Some(tokio::spawn(petory_event::wakeup::relay_on_commit(
            url,
            petory_event::product_relay(
                petory_event::RetryPolicy::default(),
                context.relay_ports(),
            ),
            context.db.clone(),
            context.clock.clone(),
            async move {
                let _ = stopped.await;
            },
        ))),
        None => {
            tracing::info!(
                "no outbox listener (PgBouncer without PETORY_DB_LISTEN_URL): events are relayed by the poll"
            );
            None
        }
    };
    shutdown.await;
    let _ = stop_listener.send(());
    if let Some(listener) = listener {
        let _ = listener.await;
    }
    scheduler.shutdown().await?;
    Ok(())
}
