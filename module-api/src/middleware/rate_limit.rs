//! Request quotas: per user when authenticated, per client source otherwise (an IPv4 address,
//! an IPv6 /64), and a stricter per-source quota on `/api/v1/auth/*`. Each is one budget across
//! every API instance, kept in Redis, behind an in-process governor tier that answers the
//! obvious cases without a round trip and limits alone while Redis is down. A busy caller takes
//! its shared budget in small leases (see [`Lease`]) rather than one round trip per request.
//! Built once at start-up, so buckets persist across requests.

use crate::error::ProblemCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter};
use petory_redis::rate_limit::{RateLimiter, Verdict};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub struct RateLimits {
    all: DefaultKeyedRateLimiter<String>,
    auth: DefaultKeyedRateLimiter<String>,
    per_minute: NonZeroU32,
    auth_per_minute: NonZeroU32,
    /// The budget shared by every instance (Redis).
    shared: RateLimiter,
    /// While Redis fails, the shared tier is skipped until this instant (ms since the epoch)
    /// rather than wait on it for every request: the in-process tier alone limits meanwhile.
    shared_down_until_ms: AtomicU64,
    /// Requests already taken from the shared budget and not yet spent, per key.
    leases: Mutex<HashMap<String, Lease>>,
}

/// How long the shared tier is left alone after Redis failed.
const SHARED_TIER_PAUSE: Duration = Duration::from_secs(5);

/// Requests of a key's shared budget that this instance took at once and spends locally. A
/// caller starts with leases of one (one round trip per request, exact); each lease it spends
/// within [`LEASE_TTL`] doubles the next, up to a second of its quota's rate (at most
/// [`MAX_LEASE`]); a lease not spent in time is forgotten, and its requests stay spent, so the
/// budget across instances is never exceeded, only tightened by what busy callers leave unused.
#[derive(Debug, Clone, Copy)]
struct Lease {
    left: u32,
    size: u32,
    until: Instant,
}

const LEASE_TTL: Duration = Duration::from_secs(1);
const MAX_LEASE: u32 = 100;

impl Lease {
    /// How many to take next, after `previous` (if any) ran out or expired at `now`.
    fn next_size(previous: Option<&Lease>, now: Instant, per_minute: NonZeroU32) -> u32 {
        let largest = (per_minute.get() / 60).clamp(1, MAX_LEASE);
        match previous {
            Some(lease) if lease.until > now => lease.size.saturating_mul(2).min(largest),
            _ => 1,
        }
    }
}

impl RateLimits {
    /// `per_minute` requests a minute on every route, bursts up to the same number;
    /// `auth_per_minute` on `/api/v1/auth/*` per IP. Each quota is kept twice: in this
    /// process (the first, cheap tier, and the fallback while Redis is down) and in Redis (one
    /// budget across every instance).
    pub fn new(
        per_minute: NonZeroU32,
        auth_per_minute: NonZeroU32,
        shared: RateLimiter,
    ) -> Arc<Self> {
        Arc::new(Self {
            all: GovernorLimiter::keyed(Quota::per_minute(per_minute)),
            auth: GovernorLimiter::keyed(Quota::per_minute(auth_per_minute)),
            per_minute,
            auth_per_minute,
            shared,
            shared_down_until_ms: AtomicU64::new(0),
            leases: Mutex::new(HashMap::new()),
        })
    }

    /// Forgets idle buckets so the key space does not grow without bound.
    pub fn forget_idle(&self) {
        self.all.retain_recent();
        self.auth.retain_recent();
        let now = Instant::now();
        self.leases_mut().retain(|_, lease| lease.until > now);
    }

    fn leases_mut(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lease>> {
        // A panic while holding the map leaves nothing half-done: the map stays usable.
        self.leases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Spends one request of `key`'s budget: `Err(seconds to wait)` when over it.
    async fn spend(&self, auth: bool, key: &str) -> Result<(), u64> {
        let (local, per_minute) = if auth {
            (&self.auth, self.auth_per_minute)
        } else {
            (&self.all, self.per_minute)
        };
        let key = if auth {
            format!("auth:{key}")
        } else {
            key.to_owned()
        };
        local.check_key(&key).map_err(|not_until| {
            seconds(not_until.wait_time_from(DefaultClock::default().now()))
        })?;
        let now_ms = unix_ms();
        if self.shared_down_until_ms.load(Ordering::Relaxed) > now_ms {
            return Ok(());
        }
        let now = Instant::now();
        let wanted = {
            let mut leases = self.leases_mut();
            if let Some(lease) = leases.get_mut(&key)
                && lease.left > 0
                && lease.until > now
            {
                lease.left -= 1;
                return Ok(());
            }
            Lease::next_size(leases.get(&key), now, per_minute)
        };
        match self.shared.take(&key, per_minute.get(), wanted).await {
            Ok(Verdict::Admit(granted)) => {
                let mut leases = self.leases_mut();
                let lease = leases.entry(key).or_insert(Lease {
                    left: 0,
                    size: 1,
                    until: now,
                });
                // Concurrent takes of one key add up rather than drop each other's.
                let unspent = if lease.until > now { lease.left } else { 0 };
                *lease = Lease {
                    left: unspent + granted - 1,
                    size: wanted,
                    until: now + LEASE_TTL,
                };
                Ok(())
            }
            Ok(Verdict::Wait(wait)) => Err(seconds(wait)),
            Err(error) => {
                let until = now_ms + SHARED_TIER_PAUSE.as_millis() as u64;
                if self.shared_down_until_ms.swap(until, Ordering::Relaxed) < now_ms {
                    tracing::warn!(%error, "shared rate limit unavailable; limiting per instance meanwhile");
                }
                Ok(())
            }
        }
    }
}

fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// Whose budget a request spends for an address: an IPv6 client controls a whole /64, so the
/// /64 is one source.
pub fn source_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Probes and scrapers are never throttled.
    let path = request.uri().path();
    if path.starts_with("/health/") || path == "/metrics" {
        return next.run(request).await;
    }
    let caller = request.extensions().get::<Caller>().cloned();
    let source = caller
        .as_ref()
        .and_then(|caller| caller.ip)
        .map_or_else(|| "unknown".to_owned(), source_key);
    let key = match caller.as_ref().and_then(|caller| caller.user) {
        Some(user) => format!("user:{user}"),
        None => format!("ip:{source}"),
    };
    let limits = &state.rate_limits;
    let mut verdict = limits.spend(false, &key).await;
    if verdict.is_ok() && request.uri().path().starts_with("/api/v1/auth/") {
        verdict = limits.spend(true, &format!("ip:{source}")).await;
    }
    match verdict {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "too many requests; retry later",
        )
        .retry_after(retry_after.max(1))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_grow_while_spent_in_time_and_start_over_after() {
        let now = Instant::now();
        let quota = |n| NonZeroU32::new(n).unwrap();
        let lease = |size, until| Lease {
            left: 0,
            size,
            until,
        };
        // A first request, or one after a quiet second: exactly one.
        assert_eq!(Lease::next_size(None, now, quota(6_000)), 1);
        let expired = lease(64, now - Duration::from_millis(1));
        assert_eq!(Lease::next_size(Some(&expired), now, quota(6_000)), 1);
        // Spent in time: twice as many, up to a second of the quota and MAX_LEASE.
        let live = |size| lease(size, now + Duration::from_millis(500));
        assert_eq!(Lease::next_size(Some(&live(1)), now, quota(6_000)), 2);
        assert_eq!(Lease::next_size(Some(&live(64)), now, quota(6_000)), 100);
        assert_eq!(Lease::next_size(Some(&live(64)), now, quota(600)), 10);
        assert_eq!(
            Lease::next_size(Some(&live(64)), now, quota(u32::MAX)),
            MAX_LEASE
        );
        // Small quotas are never leased ahead.
        assert_eq!(Lease::next_size(Some(&live(1)), now, quota(59)), 1);
    }

    #[test]
    fn an_ipv6_64_is_one_source() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        assert_eq!(source_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(
            source_key("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9"
        );
    }
}
