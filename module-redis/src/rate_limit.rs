//! One request budget per caller across every API instance: a GCRA (generic cell rate
//! algorithm) bucket per key in Redis, updated by one atomic script on Redis's own clock, so
//! the instances agree on time as well as on counts.
//!
//! A quota of `n` a minute admits a burst of `n` and then one request every `60/n` seconds,
//! the same shape as the in-process tier in front of it.

use std::time::Duration;

use redis::Script;

use crate::{RedisAdapterError, RedisPool};

/// KEYS[1] the bucket; ARGV[1] the emission interval (ms); ARGV[2] the burst (requests);
/// ARGV[3] the requests wanted at once. Grants as many of them as the bucket holds:
/// `{granted, 0}` when at least one, `{0, wait_ms}` when none.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local fit = math.floor((now + tolerance - tat) / interval)
if fit < 1 then
  return {0, tat + interval - tolerance - now}
end
local granted = math.min(fit, tonumber(ARGV[3]))
local new_tat = tat + granted * interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {granted, 0}
";

pub struct RateLimiter {
    pool: RedisPool,
    prefix: String,
    script: Script,
}

/// What the shared budget says about more requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// This many requests (at least one, at most those wanted) are admitted.
    Admit(u32),
    /// Over budget: the next request is admitted after this long.
    Wait(Duration),
}

impl RateLimiter {
    pub fn new(pool: RedisPool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            script: Script::new(GCRA),
        }
    }

    /// Spends up to `wanted` requests of `key`'s budget of `per_minute` (bursts up to the same
    /// number): as many as the budget holds, or none and how long until one.
    pub async fn take(
        &self,
        key: &str,
        per_minute: u32,
        wanted: u32,
    ) -> Result<Verdict, RedisAdapterError> {
        let per_minute = per_minute.max(1);
        let interval = Duration::from_millis((60_000 / u64::from(per_minute)).max(1));
        self.take_at(key, interval, per_minute, wanted).await
    }

    /// Spends up to `wanted` of `key`'s budget of one every `interval`, in bursts of up to
    /// `burst`: as many as the budget holds, or none and how long until one.
    pub async fn take_at(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
        wanted: u32,
    ) -> Result<Verdict, RedisAdapterError> {
        let interval_ms = u64::try_from(interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut conn = self.pool.get().await?;
        let (granted, wait_ms): (u32, i64) = self
            .script
            .key(format!("{}rl:{key}", self.prefix))
            .arg(interval_ms)
            .arg(burst.max(1))
            .arg(wanted.max(1))
            .invoke_async(&mut *conn)
            .await?;
        Ok(if granted > 0 {
            Verdict::Admit(granted)
        } else {
            Verdict::Wait(Duration::from_millis(
                u64::try_from(wait_ms).unwrap_or(0).max(1),
            ))
        })
    }
}
