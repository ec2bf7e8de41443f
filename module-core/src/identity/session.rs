//! The session store port: refresh-token families with rotation and reuse detection, and
//! revocation of access tokens before they expire. Redis implements it.

use std::time::Duration;

use async_trait::async_trait;

use super::UserId;
use super::oauth::PendingAuthorization;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSession {
    pub user: UserId,
    /// Every token descended from one login shares a family.
    pub family: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was current; it is now spent and the new one is current.
    Rotated(RefreshSession),
    /// The presented token was already spent: someone replayed it.
    Reused(RefreshSession),
    /// Unknown, expired or revoked.
    Invalid,
}

/// Outbox event: end every session of an account that was closed or set aside by a batch job
/// (dormancy, deletion), so its access tokens are refused at once, not when they expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevokeRequested {
    pub user_id: super::UserId,
}

impl crate::platform::outbox::Payload for RevokeRequested {
    const KIND: &'static str = "SESSIONS_REVOKE_REQUESTED";
}

#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct SessionStoreError(pub String);

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn create_refresh(
        &self,
        digest: &str,
        session: &RefreshSession,
        ttl: Duration,
    ) -> Result<(), SessionStoreError>;

    /// Spends `old_digest` and makes `new_digest` current in the same family, atomically.
    async fn rotate_refresh(
        &self,
        old_digest: &str,
        new_digest: &str,
        ttl: Duration,
    ) -> Result<Rotation, SessionStoreError>;

    /// Ends one family: its refresh tokens stop working, and access tokens carrying it are
    /// refused for `access_ttl` (after which they have expired anyway).
    async fn revoke_family(
        &self,
        session: &RefreshSession,
        access_ttl: Duration,
    ) -> Result<(), SessionStoreError>;

    /// Ends every family of a user, except `keep` if given.
    async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<&str>,
        access_ttl: Duration,
    ) -> Result<(), SessionStoreError>;

    /// Refuses one access token (`jti`) for `ttl`.
    async fn revoke_access(&self, jti: &str, ttl: Duration) -> Result<(), SessionStoreError>;

    /// Whether this access token, or its family, was revoked.
    async fn is_access_revoked(&self, jti: &str, family: &str) -> Result<bool, SessionStoreError>;

    /// Remembers a sign-in in progress under its `state`.
    async fn save_pending_authorization(
        &self,
        state: &str,
        pending: &PendingAuthorization,
        ttl: Duration,
    ) -> Result<(), SessionStoreError>;

    /// Takes a sign-in in progress back, at most once.
    async fn take_pending_authorization(
        &self,
        state: &str,
    ) -> Result<Option<PendingAuthorization>, SessionStoreError>;

    /// Failed logins of `account` (a digest) counted in the fixed window `window`.
    async fn failed_logins(&self, account: &str, window: i64) -> Result<u32, SessionStoreError>;

    /// Counts one more failed login of `account` in `window`, kept `ttl`.
    async fn record_failed_login(
        &self,
        account: &str,
        window: i64,
        ttl: Duration,
    ) -> Result<u32, SessionStoreError>;

    /// Forgets the failed logins of `account` in `window` (it signed in).
    async fn clear_failed_logins(
        &self,
        account: &str,
        window: i64,
    ) -> Result<(), SessionStoreError>;

    /// Claims `key` for `ttl`: `true` the first time, `false` while an earlier claim lasts (at
    /// most one mail of a kind to an address in a while, whichever instance is asked).
    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, SessionStoreError>;
}

/// Whether this is the first time `key` is asked for in the fixed window of `every` that `now`
/// falls in (windows by our clock, as failed logins are counted). A store that cannot answer
/// gives `when_away`.
pub async fn first_in_window(
    store: &dyn SessionStore,
    key: &str,
    every: chrono::TimeDelta,
    now: chrono::DateTime<chrono::Utc>,
    when_away: bool,
) -> bool {
    let seconds = every.num_seconds().max(1);
    let window = now.timestamp().div_euclid(seconds);
    let ttl = every.to_std().unwrap_or_default();
    store
        .claim(&format!("{key}:{window}"), ttl)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, key, "the session store is away: once-a-while not checked");
            when_away
        })
}
