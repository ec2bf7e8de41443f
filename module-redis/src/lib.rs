//! Redis adapters for the ports `petory-core` declares. Redis coordinates and caches; it never
//! holds the only copy of data that matters.

pub mod chat;
pub mod notification;
pub mod place_ranking;
mod pubsub;
pub mod rate_limit;
pub mod session;
pub mod views;

use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use petory_core::config::{self, ConfigError};
use redis::RedisError;

pub type RedisPool = bb8::Pool<RedisConnectionManager>;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    pub max_size: u32,
    pub connection_timeout: Duration,
    /// Prefix of every key and channel, so that environments (and tests) can share a server.
    pub key_prefix: String,
}

impl RedisSettings {
    pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

    /// `REDIS_URL`, `PETORY_REDIS_POOL_SIZE` and `PETORY_REDIS_PREFIX`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let url = config::var_or("REDIS_URL", Self::DEFAULT_URL)?;
        config::ensure(
            "REDIS_URL",
            &url,
            redis::parse_redis_url(&url).is_some(),
            "must be a redis:// URL",
        )?;
        // Redis connections are cheap to hold; a request keeps its connection until its task
        // runs again after the reply, so a small pool (10 used to be the default) became what
        // busy API instances queued for: the board's first page had p99 53 ms with 10 under 64
        // connections, 15–17 ms with 32 (docs/benchmarks.md).
        let max_size = config::parsed_or("PETORY_REDIS_POOL_SIZE", 32_u32)?;
        config::ensure(
            "PETORY_REDIS_POOL_SIZE",
            max_size,
            max_size >= 1,
            "must be at least 1",
        )?;
        Ok(Self {
            url,
            max_size,
            connection_timeout: Duration::from_secs(2),
            key_prefix: config::var_or("PETORY_REDIS_PREFIX", "petory:")?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisAdapterError {
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Command(#[from] RedisError),
}

impl From<bb8::RunError<RedisError>> for RedisAdapterError {
    fn from(error: bb8::RunError<RedisError>) -> Self {
        match error {
            bb8::RunError::User(error) => Self::Unavailable(error.to_string()),
            bb8::RunError::TimedOut => {
                Self::Unavailable("timed out waiting for a connection".into())
            }
        }
    }
}

/// Builds the pool without connecting, so that a process starts (and reports "not ready")
/// while Redis is down. Fails only for a malformed URL.
pub fn pool(settings: &RedisSettings) -> Result<RedisPool, RedisError> {
    let manager = RedisConnectionManager::new(settings.url.as_str())?;
    Ok(bb8::Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.connection_timeout)
        .build_unchecked(manager))
}

/// A round trip used by readiness checks.
pub async fn ping(pool: &RedisPool) -> Result<(), RedisAdapterError> {
    let mut conn = pool.get().await?;
    let reply: String = redis::cmd("PING").query_async(&mut *conn).await?;
    if reply == "PONG" {
        Ok(())
    } else {
        Err(RedisAdapterError::Unavailable(format!(
            "unexpected PING reply {reply:?}"
        )))
    }
}
