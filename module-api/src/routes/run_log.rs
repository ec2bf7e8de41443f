//! The batch job run log.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::platform::run_log::{self, JobRun, RunStatus, Trigger};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunResponse {
    pub id: i64,
    #[schema(example = "prune-idempotency-keys")]
    pub job: String,
    pub business_date: NaiveDate,
    pub trigger: Trigger,
    pub status: RunStatus,
    /// What the run did, by name.
    #[schema(value_type = Object, example = json!({"deleted": 3}))]
    pub counts: serde_json::Value,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobRun> for JobRunResponse {
    fn from(run: JobRun) -> Self {
        Self {
            id: run.id,
            job: run.job,
            business_date: run.business_date,
            trigger: run.trigger,
            status: run.status,
            counts: run.counts,
            error: run.error,
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListQuery {
    /// Only this job's runs.
    #[param(max_length = 100)]
    pub job: Option<String>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Batch job runs, newest first.
#[utoipa::path(get, path = "/admin/batch/runs", tag = "admin", security(("bearer" = [])), params(RunListQuery),
    responses(
        (status = 200, description = "A page of runs", body = inline(Page<JobRunResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_runs(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<RunListQuery>,
) -> ApiResult<Json<Page<JobRunResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let mut conn = state.db().await?;
    let runs = run_log::list_runs(
        &mut conn,
        query.job.as_deref(),
        page.before_id()?,
        page.fetch_limit(),
    )
    .await?;
    let runs: Vec<JobRunResponse> = runs.into_iter().map(Into::into).collect();
    Ok(Json(Page::by_id(runs, page.limit(), |run| run.id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdleRunsResponse {
    #[schema(example = "relay-events")]
    pub job: String,
    pub business_date: NaiveDate,
    /// Scheduled runs that day that found nothing to do (they are not kept one row each).
    pub runs: i32,
    pub last_finished_at: DateTime<Utc>,
}

/// Scheduled runs that found nothing to do, counted per job and day, newest day first.
#[utoipa::path(get, path = "/admin/batch/idle-runs", tag = "admin", security(("bearer" = [])), params(RunListQuery),
    responses(
        (status = 200, description = "A page of counters", body = inline(Page<IdleRunsResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_idle_runs(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<RunListQuery>,
) -> ApiResult<Json<Page<IdleRunsResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    // The cursor is `<business date>|<job>` of the last entry.
    let before = page.parsed_cursor(|cursor| {
        let (day, job) = cursor.split_once('|')?;
        Some((day.parse().ok()?, job.to_owned()))
    })?;
    let mut conn = state.db().await?;
    let idle = run_log::list_idle_runs(&mut conn, query.job.as_deref(), before, page.fetch_limit())
        .await?;
    let idle: Vec<IdleRunsResponse> = idle
        .into_iter()
        .map(|day| IdleRunsResponse {
            job: day.job,
            business_date: day.business_date,
            runs: day.runs,
            last_finished_at: day.last_finished_at,
        })
        .collect();
    Ok(Json(Page::new(idle, page.limit(), |day| {
        format!("{}|{}", day.business_date, day.job)
    })))
}
