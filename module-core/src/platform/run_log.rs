//! The log of batch job runs: every run of every job, scheduled or one-off, with its outcome.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::DbError;
use crate::schema::{batch_job_idle_runs, batch_job_runs};

/// What a job did, by name: `{"deleted": 12}`, `{"due": 40, "charged": 39, "failed": 1}`.
pub type JobCounts = BTreeMap<String, i64>;

/// A run's counts by name, from counts of any integer type (one beyond `i64` saturates).
pub fn job_counts<N: TryInto<i64>, const K: usize>(named: [(&str, N); K]) -> JobCounts {
    named
        .into_iter()
        .map(|(name, n)| (name.to_owned(), n.try_into().unwrap_or(i64::MAX)))
        .collect()
}

crate::text_enum! {
    /// What started a run (`batch_job_runs.trigger`).
    pub enum Trigger {
        Schedule = "SCHEDULE",
        Manual = "MANUAL",
    }
}

crate::text_enum! {
    /// How a run stands (`batch_job_runs.status`).
    pub enum RunStatus {
        Running = "RUNNING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Queryable, Selectable)]
#[diesel(table_name = batch_job_runs)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub business_date: NaiveDate,
    pub trigger: Trigger,
    pub status: RunStatus,
    pub counts: serde_json::Value,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A run still `RUNNING` this long after it started was cut off (its process died): the job's
/// next start records it as failed.
pub const ABANDONED_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// Records the start of a run and returns its id; closes runs of the same job that were
/// abandoned.
pub async fn start_run(
    conn: &mut AsyncPgConnection,
    job: &str,
    business_date: NaiveDate,
    trigger: Trigger,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    diesel::update(
        batch_job_runs::table
            .filter(batch_job_runs::job.eq(job))
            .filter(batch_job_runs::status.eq(RunStatus::Running))
            .filter(batch_job_runs::started_at.lt(now - ABANDONED_AFTER)),
    )
    .set((
        batch_job_runs::status.eq(RunStatus::Failed),
        batch_job_runs::finished_at.eq(now),
        batch_job_runs::error.eq(
            "abandoned: still running 12 hours after it started; its process must have stopped",
        ),
    ))
    .execute(conn)
    .await?;
    Ok(diesel::insert_into(batch_job_runs::table)
        .values((
            batch_job_runs::job.eq(job),
            batch_job_runs::business_date.eq(business_date),
            batch_job_runs::trigger.eq(trigger),
            batch_job_runs::started_at.eq(now),
        ))
        .returning(batch_job_runs::id)
        .get_result(conn)
        .await?)
}

/// Records how a run ended: its counts on success, its error otherwise. A scheduled run that
/// succeeded with nothing to show (every count zero) is folded into its job's idle counter for
/// the day instead of kept as a row.
pub async fn finish_run(
    conn: &mut AsyncPgConnection,
    run_id: i64,
    outcome: Result<&JobCounts, &str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if let Ok(counts) = outcome
        && counts.values().all(|count| *count == 0)
    {
        let folded = diesel::sql_query(include_str!("run_log/fold_idle_run.sql"))
            .bind::<diesel::sql_types::BigInt, _>(run_id)
            .bind::<diesel::sql_types::Timestamptz, _>(now)
            .execute(conn)
            .await?;
        if folded == 1 {
            return Ok(());
        }
    }
    let (status, counts, error) = match outcome {
        Ok(counts) => (
            "SUCCEEDED",
            serde_json::to_value(counts).unwrap_or_default(),
            None,
        ),
        Err(error) => ("FAILED", serde_json::json!({}), Some(error)),
    };
    diesel::update(batch_job_runs::table.find(run_id))
        .set((
            batch_job_runs::status.eq(status),
            batch_job_runs::counts.eq(counts),
            batch_job_runs::error.eq(error),
            batch_job_runs::finished_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Scheduled runs that found nothing to do, per job and business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = batch_job_idle_runs)]
pub struct IdleRuns {
    pub job: String,
    pub business_date: NaiveDate,
    pub runs: i32,
    pub last_finished_at: DateTime<Utc>,
}

/// Idle-run counters, newest day first, `limit` at most; `before` is the (day, job) of the last
/// entry of the previous page.
pub async fn list_idle_runs(
    conn: &mut AsyncPgConnection,
    job: Option<&str>,
    before: Option<(NaiveDate, String)>,
    limit: i64,
) -> Result<Vec<IdleRuns>, DbError> {
    let mut query = batch_job_idle_runs::table
        .select(IdleRuns::as_select())
        .into_boxed();
    if let Some(job) = job {
        query = query.filter(batch_job_idle_runs::job.eq(job.to_owned()));
    }
    if let Some((day, job)) = before {
        query = query.filter(
            batch_job_idle_runs::business_date
                .lt(day)
                .or(batch_job_idle_runs::business_date
                    .eq(day)
                    .and(batch_job_idle_runs::job.gt(job))),
        );
    }
    Ok(query
        .order((
            batch_job_idle_runs::business_date.desc(),
            batch_job_idle_runs::job.asc(),
        ))
        .limit(limit)
        .load(conn)
        .await?)
}

/// Forgets finished runs and idle counters older than `cutoff`, in chunks. Returns how many
/// runs were deleted.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    chunk: i64,
) -> Result<i64, DbError> {
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(
            "DELETE FROM batch_job_runs WHERE id IN (
                SELECT id FROM batch_job_runs
                 WHERE started_at < $1 AND status <> 'RUNNING' LIMIT $2)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
        .bind::<diesel::sql_types::BigInt, _>(chunk)
        .execute(conn)
        .await? as i64;
        total += deleted;
        if deleted < chunk {
            break;
        }
    }
    diesel::delete(
        batch_job_idle_runs::table.filter(batch_job_idle_runs::last_finished_at.lt(cutoff)),
    )
    .execute(conn)
    .await?;
    Ok(total)
}

/// Runs newest first; `before` is the id of the last run of the previous page.
pub async fn list_runs(
    conn: &mut AsyncPgConnection,
    job: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRun>, DbError> {
    let mut query = batch_job_runs::table
        .select(JobRun::as_select())
        .into_boxed();
    if let Some(job) = job {
        query = query.filter(batch_job_runs::job.eq(job.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(batch_job_runs::id.lt(before));
    }
    Ok(query
        .order(batch_job_runs::id.desc())
        .limit(limit)
        .load(conn)
        .await?)
}

/// When `job` last finished a successful run (one with work kept as a row, or an idle one
/// folded into its day's counter), for the scheduler's "last success" gauge at start-up.
pub async fn last_success(
    conn: &mut AsyncPgConnection,
    job: &str,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let kept = batch_job_runs::table
        .filter(batch_job_runs::job.eq(job))
        .filter(batch_job_runs::status.eq(RunStatus::Succeeded))
        .order(batch_job_runs::started_at.desc())
        .select(batch_job_runs::finished_at)
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()?
        .flatten();
    let idle = batch_job_idle_runs::table
        .filter(batch_job_idle_runs::job.eq(job))
        .select(diesel::dsl::max(batch_job_idle_runs::last_finished_at))
        .get_result::<Option<DateTime<Utc>>>(conn)
        .await?;
    Ok(kept.max(idle))
}

/// Claims `job`'s lease for a scheduled tick: `true` when this `holder` may run it now. No one
/// claims a lease that is held (`until` not passed) nor one claimed within the last `window`
/// (the same tick, already run by another replica); a claim holds for `hold`, renewed by
/// [`renew_lease`] while the job runs and given back by [`release_lease`].
pub async fn claim_lease(
    conn: &mut AsyncPgConnection,
    job: &str,
    holder: &str,
    window: chrono::TimeDelta,
    hold: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let claimed = diesel::sql_query(
        "INSERT INTO batch_job_leases (job, holder, started_at, until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job) DO UPDATE
            SET holder = EXCLUDED.holder, started_at = EXCLUDED.started_at, until = EXCLUDED.until
          WHERE batch_job_leases.until <= $3 AND batch_job_leases.started_at <= $5",
    )
    .bind::<diesel::sql_types::Text, _>(job)
    .bind::<diesel::sql_types::Text, _>(holder)
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Timestamptz, _>(now + hold)
    .bind::<diesel::sql_types::Timestamptz, _>(now - window)
    .execute(conn)
    .await?;
    Ok(claimed == 1)
}

/// Keeps `holder`'s lease of `job` for another `hold` while the job runs.
pub async fn renew_lease(
    conn: &mut AsyncPgConnection,
    job: &str,
    holder: &str,
    hold: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    use crate::schema::batch_job_leases as leases;
    diesel::update(
        leases::table
            .filter(leases::job.eq(job))
            .filter(leases::holder.eq(holder)),
    )
    .set(leases::until.eq(now + hold))
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives `holder`'s lease of `job` back once its run ended: the next tick may be anyone's.
pub async fn release_lease(
    conn: &mut AsyncPgConnection,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    use crate::schema::batch_job_leases as leases;
    diesel::update(
        leases::table
            .filter(leases::job.eq(job))
            .filter(leases::holder.eq(holder)),
    )
    .set(leases::until.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}
