//! Scheduler mode: every enabled job on its cron schedule, in the business time zone. Every
//! replica schedules every job; each tick of a job runs on the one replica that claims its
//! lease (`run_log::claim_lease`), so two replicas run it once.

use std::sync::Arc;

use chrono::TimeDelta;
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use crate::config::schedule_for;
use crate::job::{Job, JobContext, RunDate, all_jobs, run_recorded};
use petory_core::db::DbError;
use petory_core::platform::run_log::{self, Trigger};

/// Registers every enabled job and runs until `shutdown` completes. `lease` is how long this
/// replica's claim on a tick holds without renewal.
pub async fn run(
    context: JobContext,
    lease: TimeDelta,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut scheduler = JobScheduler::new().await?;
    let holder: Arc<str> = Arc::from(format!(
        "{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    for job in all_jobs() {
        let Some(schedule) = schedule_for(job.name(), job.default_schedule())? else {
            tracing::info!(job = job.name(), "disabled by configuration");
            continue;
        };
        let window = tick_window(&schedule)
            .map_err(|error| anyhow::anyhow!("schedule {schedule:?} of {}: {error}", job.name()))?;
        let context = context.clone();
        let zone = context.calendar.zone();
        let job_for_cron = job.clone();
        let holder = holder.clone();
        let cron = CronJob::new_async_tz(schedule.as_str(), zone, move |_, _| {
            let context = context.clone();
            let job = job_for_cron.clone();
            let holder = holder.clone();
            Box::pin(async move {
                run_leased(&context, job, &holder, window, lease).await;
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

/// How long after a tick of `schedule` its lease cannot be claimed again: half the time to the
/// next tick, so that replicas firing the same tick a moment apart run it once and the next
/// tick is free.
fn tick_window(schedule: &str) -> anyhow::Result<TimeDelta> {
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .build()
        .parse(schedule)?;
    let now = chrono::Utc::now();
    let next = cron.find_next_occurrence(&now, false)?;
    let after = cron.find_next_occurrence(&next, false)?;
    Ok((after - next) / 2)
}

/// One scheduled tick of `job`: run and recorded here if this replica claims the tick's lease,
/// which is renewed while the job runs and given back when it ends; otherwise another replica
/// has it, and nothing happens here.
async fn run_leased(
    context: &JobContext,
    job: Arc<dyn Job>,
    holder: &str,
    window: TimeDelta,
    lease: TimeDelta,
) {
    let name = job.name();
    let claimed = async {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        run_log::claim_lease(&mut conn, name, holder, window, lease, context.clock.now()).await
    }
    .await;
    match claimed {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(job = name, "this tick runs on another replica");
            return;
        }
        Err(error) => {
            tracing::warn!(job = name, %error, "tick skipped: its lease could not be claimed");
            return;
        }
    }
    let renewing = {
        let context = context.clone();
        let holder = holder.to_owned();
        tokio::spawn(async move {
            let every = (lease / 3)
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(1));
            loop {
                tokio::time::sleep(every).await;
                let renewed = async {
                    let mut conn = context.db.get().await.map_err(DbError::from)?;
                    run_log::renew_lease(&mut conn, name, &holder, lease, context.clock.now()).await
                }
                .await;
                if let Err(error) = renewed {
                    tracing::warn!(job = name, %error, "lease not renewed");
                }
            }
        })
    };
    let date = RunDate::today(context);
    // The outcome is recorded and logged by `run_recorded`; the scheduler goes on.
    let _ = run_recorded(context, job.as_ref(), date, Trigger::Schedule).await;
    renewing.abort();
    let released = async {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        run_log::release_lease(&mut conn, name, holder, context.clock.now()).await
    }
    .await;
    if let Err(error) = released {
        tracing::warn!(job = name, %error, "lease not given back; it lapses on its own");
    }
}

#[cfg(test)]
mod tests {
    use super::tick_window;

    #[test]
    fn a_tick_is_half_the_time_to_the_next() {
        assert_eq!(tick_window("*/10 * * * * *").unwrap().num_seconds(), 5);
        assert_eq!(tick_window("0 */10 * * * *").unwrap().num_seconds(), 300);
        assert_eq!(tick_window("0 0 3 * * *").unwrap().num_hours(), 12);
    }
}
