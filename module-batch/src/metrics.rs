//! What the scheduler exports for Prometheus besides the billing counters: job runs and their
//! last success, the outbox backlog, mail deliveries and the pools. `deploy/prometheus/rules.yml`
//! alerts on them and `deploy/grafana/petory.json` draws them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use petory_core::ports::{Mail, MailError, Mailer};

use crate::job::{JobContext, all_jobs};

/// Buckets of `petory_batch_job_duration_seconds`: jobs take from milliseconds to minutes.
pub const JOB_DURATION_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// One finished run: `petory_batch_job_runs_total{job,outcome}`, its duration, and on success
/// `petory_batch_job_last_success_timestamp_seconds{job}`.
pub fn record_run(job: &'static str, started: Instant, succeeded: bool, now: DateTime<Utc>) {
    let outcome = if succeeded { "succeeded" } else { "failed" };
    metrics::counter!("petory_batch_job_runs_total", "job" => job, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("petory_batch_job_duration_seconds", "job" => job)
        .record(started.elapsed().as_secs_f64());
    if succeeded {
        record_success(job, now);
    }
}

fn record_success(job: &'static str, at: DateTime<Utc>) {
    // Seconds since the epoch as a float; a millisecond's precision is plenty.
    #[allow(clippy::cast_precision_loss)]
    let seconds = at.timestamp_millis() as f64 / 1000.0;
    metrics::gauge!("petory_batch_job_last_success_timestamp_seconds", "job" => job).set(seconds);
}

/// Starts each job's last-success gauge from the run log, so "billing has not succeeded for
/// 30 minutes" holds across restarts instead of starting from nothing.
pub async fn seed_last_successes(context: &JobContext) -> anyhow::Result<()> {
    let mut conn = context
        .db
        .get()
        .await
        .map_err(petory_core::db::DbError::from)?;
    for job in all_jobs() {
        if let Some(at) =
            petory_core::platform::run_log::last_success(&mut conn, job.name()).await?
        {
            record_success(job.name(), at);
        }
    }
    Ok(())
}

/// The outbox's pending and failed events and the age of the oldest pending one.
pub fn record_backlog(backlog: &petory_core::platform::outbox::Backlog, now: DateTime<Utc>) {
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!("petory_outbox_pending_events").set(backlog.pending as f64);
        metrics::gauge!("petory_outbox_failed_events").set(backlog.failed as f64);
        let age = backlog.oldest_pending.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("petory_outbox_oldest_pending_age_seconds").set(age);
    }
}

/// Which pool [`record_pool`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    Db,
    Redis,
}

/// A pool's size, idle connections, limit, and the checkouts that waited or timed out:
/// `db_pool_connections`, `db_pool_idle_connections`, `db_pool_max_connections`,
/// `db_pool_waits_total`, `db_pool_timeouts_total`, and the same `redis_pool_…` (the API
/// exports the same names).
pub fn record_pool(pool: Pool, state: PoolState) {
    let (connections, idle, max, waits, timeouts) = match pool {
        Pool::Db => (
            metrics::gauge!("db_pool_connections"),
            metrics::gauge!("db_pool_idle_connections"),
            metrics::gauge!("db_pool_max_connections"),
            metrics::counter!("db_pool_waits_total"),
            metrics::counter!("db_pool_timeouts_total"),
        ),
        Pool::Redis => (
            metrics::gauge!("redis_pool_connections"),
            metrics::gauge!("redis_pool_idle_connections"),
            metrics::gauge!("redis_pool_max_connections"),
            metrics::counter!("redis_pool_waits_total"),
            metrics::counter!("redis_pool_timeouts_total"),
        ),
    };
    connections.set(f64::from(state.connections));
    idle.set(f64::from(state.idle));
    max.set(f64::from(state.max));
    waits.absolute(state.waited);
    timeouts.absolute(state.timed_out);
}

/// What [`record_pool`] reads off a bb8 pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
    pub waited: u64,
    pub timed_out: u64,
}

/// Reads both pools every `every` until the process ends.
pub fn watch_pools(
    db: petory_core::db::DbPool,
    db_max: u32,
    redis: petory_redis::RedisPool,
    redis_max: u32,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let state = db.state();
            record_pool(
                Pool::Db,
                PoolState {
                    connections: state.connections,
                    idle: state.idle_connections,
                    max: db_max,
                    waited: state.statistics.get_waited,
                    timed_out: state.statistics.get_timed_out,
                },
            );
            let state = redis.state();
            record_pool(
                Pool::Redis,
                PoolState {
                    connections: state.connections,
                    idle: state.idle_connections,
                    max: redis_max,
                    waited: state.statistics.get_waited,
                    timed_out: state.statistics.get_timed_out,
                },
            );
        }
    });
}

/// Every counter at zero from the start, so a rate or an increase is defined before the first
/// event (an alert on `failed` sees 0, not nothing).
pub fn register_counters() {
    for job in all_jobs() {
        for outcome in ["succeeded", "failed"] {
            metrics::counter!("petory_batch_job_runs_total", "job" => job.name(), "outcome" => outcome)
                .increment(0);
        }
    }
    for outcome in ["sent", "failed"] {
        metrics::counter!("petory_mail_deliveries_total", "outcome" => outcome).increment(0);
    }
    for outcome in ["approved", "failed", "unknown", "deferred"] {
        metrics::counter!("petory_billing_charges_total", "outcome" => outcome).increment(0);
    }
    metrics::counter!("petory_billing_subscriptions_canceled_total").increment(0);
}

/// Counts deliveries by outcome (`petory_mail_deliveries_total{outcome="sent"|"failed"}`).
pub struct CountingMailer(pub Arc<dyn Mailer>);

#[async_trait]
impl Mailer for CountingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let sent = self.0.send(mail).await;
        let outcome = if sent.is_ok() { "sent" } else { "failed" };
        metrics::counter!("petory_mail_deliveries_total", "outcome" => outcome).increment(1);
        sent
    }
}
