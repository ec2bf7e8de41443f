//! Liveness and readiness probes.

use crate::error::ProblemCode;
use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;

/// How long one dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Each dependency checked, with `ok` or `down`.
    #[schema(example = json!({"postgres": "ok", "redis": "ok"}))]
    pub checks: BTreeMap<&'static str, &'static str>,
}

/// The process is up and serving.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok",
        checks: BTreeMap::new(),
    })
}

/// How long one readiness check answers every probe: the probes cost the dependencies at
/// most one check a second per instance, however many ask (the endpoint is public).
const CHECK_REUSE: Duration = Duration::from_secs(1);

/// The last readiness check and when it was made; probes take turns on it, so concurrent ones
/// wait for one check rather than each making their own.
#[derive(Default)]
pub struct LastCheck(tokio::sync::Mutex<Option<(tokio::time::Instant, Checks)>>);

type Checks = BTreeMap<&'static str, &'static str>;

/// Ready to serve traffic: PostgreSQL and Redis both answer (as of a check at most a second
/// old), and the process is not stopping.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Every dependency answers", body = Health),
        (status = 503, description = "A dependency is down (`DEPENDENCY_UNAVAILABLE`; `context.checks` names it), or the process is stopping (`SHUTTING_DOWN`)",
            body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    if state.is_draining() {
        return Err(ApiError::unavailable(
            ProblemCode::ShuttingDown,
            "this instance is stopping; another one takes the requests",
        )
        .retry_after(1));
    }
    let checks = {
        let mut last = state.readiness.0.lock().await;
        match &*last {
            Some((at, checks)) if at.elapsed() < CHECK_REUSE => checks.clone(),
            _ => {
                let checks = check(&state).await;
                *last = Some((tokio::time::Instant::now(), checks.clone()));
                checks
            }
        }
    };
    let down: Vec<&str> = checks
        .iter()
        .filter(|(_, status)| **status != "ok")
        .map(|(name, _)| *name)
        .collect();
    if down.is_empty() {
        return Ok(Json(Health {
            status: "ok",
            checks,
        }));
    }
    Err(ApiError::unavailable(
        ProblemCode::DependencyUnavailable,
        format!("unavailable: {}", down.join(", ")),
    )
    .with_context(serde_json::json!({ "checks": checks }))
    .retry_after(5))
}

/// Asks PostgreSQL and Redis, each within [`CHECK_TIMEOUT`].
async fn check(state: &AppState) -> Checks {
    let (postgres, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, petory_core::db::ping(&state.db)),
        tokio::time::timeout(CHECK_TIMEOUT, petory_redis::ping(&state.redis)),
    );
    BTreeMap::from([
        (
            "postgres",
            verdict(
                "postgres",
                postgres
                    .map_err(|_| "timed out".to_owned())
                    .and_then(|r| r.map_err(|e| e.to_string())),
            ),
        ),
        (
            "redis",
            verdict(
                "redis",
                redis
                    .map_err(|_| "timed out".to_owned())
                    .and_then(|r| r.map_err(|e| e.to_string())),
            ),
        ),
    ])
}

fn verdict(name: &'static str, outcome: Result<(), String>) -> &'static str {
    // `petory_dependency_up{dependency}`: 1 when it answered this instance's last check.
    metrics::gauge!("petory_dependency_up", "dependency" => name).set(if outcome.is_ok() {
        1.0
    } else {
        0.0
    });
    match outcome {
        Ok(()) => "ok",
        Err(cause) => {
            tracing::warn!(dependency = name, %cause, "readiness check failed");
            "down"
        }
    }
}
