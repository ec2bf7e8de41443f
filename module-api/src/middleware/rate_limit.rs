//! Request quotas (governor): per user when authenticated, per client IP otherwise, and a
//! stricter per-IP quota on `/api/v1/auth/*`. The limiters live in `AppState`, built once at
//! start-up, so buckets persist across requests.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub struct RateLimits {
    all: DefaultKeyedRateLimiter<String>,
    auth: DefaultKeyedRateLimiter<String>,
}

impl RateLimits {
    /// `per_minute` requests a minute on every route, bursts up to the same number;
    /// `auth_per_minute` on `/api/v1/auth/*` per IP.
    pub fn new(per_minute: NonZeroU32, auth_per_minute: NonZeroU32) -> Arc<Self> {
        Arc::new(Self {
            all: RateLimiter::keyed(Quota::per_minute(per_minute)),
            auth: RateLimiter::keyed(Quota::per_minute(auth_per_minute)),
        })
    }

    /// Forgets idle buckets so the key space does not grow without bound.
    pub fn forget_idle(&self) {
        self.all.retain_recent();
        self.auth.retain_recent();
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &String) -> Result<(), u64> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Probes and scrapers are never throttled.
    let path = request.uri().path();
    if path.starts_with("/health/") || path == "/metrics" {
        return next.run(request).await;
    }
    let caller = request.extensions().get::<Caller>().cloned();
    let ip = caller
        .as_ref()
        .and_then(|caller| caller.ip)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let key = match caller.as_ref().and_then(|caller| caller.user) {
        Some(user) => format!("user:{user}"),
        None => format!("ip:{ip}"),
    };
    let limits = &state.rate_limits;
    let mut verdict = RateLimits::check(&limits.all, &key);
    if verdict.is_ok() && request.uri().path().starts_with("/api/v1/auth/") {
        verdict = RateLimits::check(&limits.auth, &format!("ip:{ip}"));
    }
    match verdict {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests; retry later",
        )
        .retry_after(retry_after.max(1))
        .into_response(),
    }
}
