//! The `SessionStore` port on Redis.
//!
//! Keys (under the configured prefix):
//! - `rt:{digest}`: hash `{user, family, state}` of one refresh token (`active` or `rotated`);
//! - `rtf:{family}`: set of the token digests of a family; `uf:{user}`: set of a user's families;
//! - `rvf:{family}`: a revoked family, kept as long as its access tokens could live;
//! - `bl:{jti}`: a revoked access token, until it would have expired.
//!
//! Scripts make rotation and revocation atomic. They build keys from the prefix, so on Redis
//! Cluster the prefix must carry a hash tag.

use std::time::Duration;

use async_trait::async_trait;
use petory_core::identity::UserId;
use petory_core::identity::oauth::PendingAuthorization;
use petory_core::identity::session::{RefreshSession, Rotation, SessionStore, SessionStoreError};
use redis::Script;

use crate::RedisPool;

const ROTATE: &str = r"
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'invalid'} end
local user = redis.call('HGET', KEYS[1], 'user')
local family = redis.call('HGET', KEYS[1], 'family')
local prefix = ARGV[2]
if redis.call('EXISTS', prefix .. 'rvf:' .. family) == 1 then return {'invalid'} end
if state ~= 'active' then return {'reused', user, family} end
redis.call('HSET', KEYS[1], 'state', 'rotated')
redis.call('HSET', KEYS[2], 'user', user, 'family', family, 'state', 'active')
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', prefix .. 'rtf:' .. family, ARGV[3])
redis.call('EXPIRE', prefix .. 'rtf:' .. family, ARGV[1])
redis.call('EXPIRE', prefix .. 'uf:' .. user, ARGV[1])
return {'rotated', user, family}
";

/// ARGV: prefix, user, marker ttl, family to revoke ('' = all of the user's), family to keep.
const REVOKE: &str = r"
local prefix, user, ttl, only, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local families
if only ~= '' then families = {only} else families = redis.call('SMEMBERS', prefix .. 'uf:' .. user) end
for _, family in ipairs(families) do
  if family ~= keep then
    for _, digest in ipairs(redis.call('SMEMBERS', prefix .. 'rtf:' .. family)) do
      redis.call('DEL', prefix .. 'rt:' .. digest)
    end
    redis.call('DEL', prefix .. 'rtf:' .. family)
    redis.call('SREM', prefix .. 'uf:' .. user, family)
    redis.call('SET', prefix .. 'rvf:' .. family, '1', 'EX', ttl)
  end
end
return 1
";

pub struct RedisSessionStore {
    pool: RedisPool,
    prefix: String,
    rotate: Script,
    revoke: Script,
}

impl RedisSessionStore {
    pub fn new(pool: RedisPool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            rotate: Script::new(ROTATE),
            revoke: Script::new(REVOKE),
        }
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    async fn conn(
        &self,
    ) -> Result<bb8::PooledConnection<'_, bb8_redis::RedisConnectionManager>, SessionStoreError>
    {
        self.pool
            .get()
            .await
            .map_err(|error| SessionStoreError(error.to_string()))
    }

    async fn revoke_families(
        &self,
        user: UserId,
        only: &str,
        keep: &str,
        ttl: Duration,
    ) -> Result<(), SessionStoreError> {
        let mut conn = self.conn().await?;
        let _: i64 = self
            .revoke
            .arg(&self.prefix)
            .arg(user.to_string())
            .arg(seconds(ttl))
            .arg(only)
            .arg(keep)
            .invoke_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

fn unavailable(error: redis::RedisError) -> SessionStoreError {
    SessionStoreError(error.to_string())
}

/// Redis expiries are whole seconds and must be positive.
fn seconds(duration: Duration) -> u64 {
    duration.as_secs().max(1)
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create_refresh(
        &self,
        digest: &str,
        session: &RefreshSession,
        ttl: Duration,
    ) -> Result<(), SessionStoreError> {
        let mut conn = self.conn().await?;
        let token = self.key("rt", digest);
        let family = self.key("rtf", &session.family);
        let families = self.key("uf", &session.user.to_string());
        let ttl = i64::try_from(seconds(ttl)).unwrap_or(i64::MAX);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &token,
                &[
                    ("user", session.user.to_string()),
                    ("family", session.family.clone()),
                    ("state", "active".into()),
                ],
            )
            .expire(&token, ttl)
            .sadd(&family, digest)
            .expire(&family, ttl)
            .sadd(&families, &session.family)
            .expire(&families, ttl)
            .query_async::<()>(&mut *conn)
            .await
            .map_err(unavailable)
    }

    async fn rotate_refresh(
        &self,
        old_digest: &str,
        new_digest: &str,
        ttl: Duration,
    ) -> Result<Rotation, SessionStoreError> {
        let mut conn = self.conn().await?;
        let reply: Vec<String> = self
            .rotate
            .key(self.key("rt", old_digest))
            .key(self.key("rt", new_digest))
            .arg(seconds(ttl))
            .arg(&self.prefix)
            .arg(new_digest)
            .invoke_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        let session = |reply: &[String]| RefreshSession {
            user: UserId(
                reply
                    .get(1)
                    .and_then(|user| user.parse().ok())
                    .unwrap_or_default(),
            ),
            family: reply.get(2).cloned().unwrap_or_default(),
        };
        Ok(match reply.first().map(String::as_str) {
            Some("rotated") => Rotation::Rotated(session(&reply)),
            Some("reused") => Rotation::Reused(session(&reply)),
            _ => Rotation::Invalid,
        })
    }

    async fn revoke_family(
        &self,
        session: &RefreshSession,
        access_ttl: Duration,
    ) -> Result<(), SessionStoreError> {
        self.revoke_families(session.user, &session.family, "", access_ttl)
            .await
    }

    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<&str>,
        access_ttl: Duration,
    ) -> Result<(), SessionStoreError> {
        self.revoke_families(user, "", keep.unwrap_or(""), access_ttl)
            .await
    }

    async fn revoke_access(&self, jti: &str, ttl: Duration) -> Result<(), SessionStoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(self.key("bl", jti))
            .arg(1)
            .arg("EX")
            .arg(seconds(ttl))
            .query_async::<()>(&mut *conn)
            .await
            .map_err(unavailable)
    }

    async fn is_access_revoked(&self, jti: &str, family: &str) -> Result<bool, SessionStoreError> {
        let mut conn = self.conn().await?;
        let found: Vec<Option<String>> = redis::cmd("MGET")
            .arg(self.key("bl", jti))
            .arg(self.key("rvf", family))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(found.iter().any(Option::is_some))
    }

    async fn save_pending_authorization(
        &self,
        state: &str,
        pending: &PendingAuthorization,
        ttl: Duration,
    ) -> Result<(), SessionStoreError> {
        let mut conn = self.conn().await?;
        let value =
            serde_json::to_string(pending).map_err(|error| SessionStoreError(error.to_string()))?;
        redis::cmd("SET")
            .arg(self.key("oauth", state))
            .arg(value)
            .arg("EX")
            .arg(seconds(ttl))
            .query_async::<()>(&mut *conn)
            .await
            .map_err(unavailable)
    }

    async fn take_pending_authorization(
        &self,
        state: &str,
    ) -> Result<Option<PendingAuthorization>, SessionStoreError> {
        let mut conn = self.conn().await?;
        let value: Option<String> = redis::cmd("GETDEL")
            .arg(self.key("oauth", state))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(value.and_then(|value| serde_json::from_str(&value).ok()))
    }

    async fn failed_logins(&self, account: &str, window: i64) -> Result<u32, SessionStoreError> {
        let mut conn = self.conn().await?;
        let count: Option<u32> = redis::cmd("GET")
            .arg(self.key("lf", &format!("{account}:{window}")))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(count.unwrap_or(0))
    }

    async fn record_failed_login(
        &self,
        account: &str,
        window: i64,
        ttl: Duration,
    ) -> Result<u32, SessionStoreError> {
        let mut conn = self.conn().await?;
        let key = self.key("lf", &format!("{account}:{window}"));
        let (count, _): (u32, bool) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(seconds(ttl))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(count)
    }

    async fn clear_failed_logins(
        &self,
        account: &str,
        window: i64,
    ) -> Result<(), SessionStoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL")
            .arg(self.key("lf", &format!("{account}:{window}")))
            .query_async::<()>(&mut *conn)
            .await
            .map_err(unavailable)
    }

    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, SessionStoreError> {
        let mut conn = self.conn().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key("claim", key))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }
}
