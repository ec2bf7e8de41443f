//! One request budget per caller across every API instance: a GCRA (generic cell rate
//! algorithm) bucket per key in Redis, updated by one atomic script on Redis's own clock, so
//! the instances agree on time as well as on counts.
//!
//! A quota of `n` a minute admits a burst of `n` and then one request every `60/n` seconds,
//! the same shape as the in-process tier in front of it.

use std::time::Duration;

use redis::Script;

use crate::{RedisAdapterError, RedisPool};

/// KEYS[1] the bucket; ARGV[1] the emission interval (ms); ARGV[2] the burst (requests).
/// Returns `{1, 0}` when admitted, `{0, wait_ms}` when not.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0}
";

pub struct RateLimiter {
    pool: RedisPool,
    prefix: String,
    script: Script,
}

/// What the shared budget says about one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
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

    /// Spends one request of `key`'s budget of `per_minute` (bursts up to the same number).
    pub async fn check(&self, key: &str, per_minute: u32) -> Result<Verdict, RedisAdapterError> {
        let per_minute = per_minute.max(1);
        let interval_ms = (60_000 / u64::from(per_minute)).max(1);
        let mut conn = self.pool.get().await?;
        let (admitted, wait_ms): (i64, i64) = self
            .script
            .key(format!("{}rl:{key}", self.prefix))
            .arg(interval_ms)
            .arg(per_minute)
            .invoke_async(&mut *conn)
            .await?;
        Ok(if admitted == 1 {
            Verdict::Admit
        } else {
            Verdict::Wait(Duration::from_millis(
                u64::try_from(wait_ms).unwrap_or(0).max(1),
            ))
        })
    }
}
