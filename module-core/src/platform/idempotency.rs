//! Idempotent replay of POST requests that carry an `Idempotency-Key`.
//!
//! The first request with a key claims it; its response is stored and replayed for any retry
//! with the same key and the same request. The same key with a different request is refused.
//! A claim left behind by a crashed request expires after a short lease.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::schema::idempotency_keys;

/// Keys are opaque to the server, but bounded so they cannot be used to store data.
pub const MAX_KEY_LENGTH: usize = 255;

crate::text_enum! {
    /// Where a keyed request stands (`idempotency_keys.state`).
    pub enum KeyState {
        InProgress = "IN_PROGRESS",
        Completed = "COMPLETED",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key now: run it, then `complete` or `release`.
    Acquired,
    /// The key was used for this very request before: send the stored response again.
    Replay(StoredResponse),
    /// The key was used for a different request.
    KeyReused,
    /// The first request with this key has not finished yet.
    InProgress,
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// How long a claim blocks retries before it is presumed abandoned.
    pub lease: Duration,
    /// How long a stored response is replayed.
    pub retention: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// Whether a client-supplied key is acceptable: 1 to 255 visible ASCII characters.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LENGTH && key.bytes().all(|b| b.is_ascii_graphic())
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    key: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct ExistingKey {
    request_hash: Vec<u8>,
    state: KeyState,
    response_status: Option<i16>,
    response_headers: Option<serde_json::Value>,
    response_body: Option<Vec<u8>>,
}

/// Claims `key` for `owner`, or reports what happened to it before.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    owner: &str,
    key: &str,
    request_hash: &[u8; 32],
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Claim, DbError> {
    // A key may be taken when it is new, when its record expired, or when the same request's
    // earlier attempt crashed and its lease ran out.
    let claimed: Vec<Claimed> = diesel::sql_query(include_str!("idempotency/claim_key.sql"))
        .bind::<Text, _>(owner)
        .bind::<Text, _>(key)
        .bind::<Bytea, _>(request_hash.as_slice())
        .bind::<Timestamptz, _>(now + delta(lifetimes.lease))
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now + delta(lifetimes.retention))
        .load(conn)
        .await?;
    if !claimed.is_empty() {
        return Ok(Claim::Acquired);
    }

    let existing = idempotency_keys::table
        .find((owner, key))
        .select(ExistingKey::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(existing) = existing else {
        // Pruned between the two statements: the retry's own claim will settle it.
        return Ok(Claim::InProgress);
    };
    if existing.request_hash != request_hash {
        return Ok(Claim::KeyReused);
    }
    match (
        existing.state,
        existing.response_status,
        existing.response_body,
    ) {
        (KeyState::Completed, Some(status), Some(body)) => Ok(Claim::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            headers: existing
                .response_headers
                .and_then(|headers| serde_json::from_value(headers).ok())
                .unwrap_or_default(),
            body,
        })),
        _ => Ok(Claim::InProgress),
    }
}

/// Stores the response of a claimed key for later replay.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    owner: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), DbError> {
    let headers = serde_json::to_value(&response.headers).unwrap_or_default();
    diesel::update(idempotency_keys::table.find((owner, key)))
        .filter(idempotency_keys::state.eq(KeyState::InProgress))
        .set((
            idempotency_keys::state.eq(KeyState::Completed),
            idempotency_keys::response_status.eq(i16::try_from(response.status).unwrap_or(500)),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(&response.body),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a claimed key back without a stored response (the request failed on our side), so a
/// retry runs the request again.
pub async fn release(conn: &mut AsyncPgConnection, owner: &str, key: &str) -> Result<(), DbError> {
    diesel::delete(idempotency_keys::table.find((owner, key)))
        .filter(idempotency_keys::state.eq(KeyState::InProgress))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes expired records in bounded chunks, returning how many went.
pub async fn prune_expired(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    const CHUNK: i64 = 10_000;
    let mut total = 0_u64;
    loop {
        let deleted = diesel::sql_query(
            "DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(CHUNK)
        .execute(conn)
        .await?;
        total += deleted as u64;
        if (deleted as i64) < CHUNK {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(is_valid_key("order-2026-11-23-7f3a"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("has space"));
        assert!(!is_valid_key("한글"));
        assert!(!is_valid_key(&"k".repeat(MAX_KEY_LENGTH + 1)));
        assert!(is_valid_key(&"k".repeat(MAX_KEY_LENGTH)));
    }
}
