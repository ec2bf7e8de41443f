//! The relay runs as soon as an event is committed, not at its next poll: a connection of its
//! own `LISTEN`s on `petory_outbox` (a trigger notifies at commit, see migration `000015`) and
//! each wake-up runs the relay, wake-ups that arrive meanwhile folded into one more pass. The
//! scheduled `relay-events` poll stays as the safety net for wake-ups lost while reconnecting.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use futures_util::{FutureExt as _, StreamExt as _};
use petory_core::db::DbPool;
use petory_core::ports::Clock;

use crate::Relay;

/// The channel the outbox trigger notifies.
pub const CHANNEL: &str = "petory_outbox";

/// Events relayed per claimed chunk.
const CHUNK: i64 = 100;

/// Listens and relays until `shutdown` completes.
pub async fn relay_on_commit(
    database_url: String,
    relay: Relay,
    pool: DbPool,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = pin!(shutdown);
    let mut backoff = Duration::from_millis(500);
    loop {
        let started = tokio::time::Instant::now();
        tokio::select! {
            outcome = listen(&database_url, &relay, &pool, clock.as_ref()) => {
                if let Err(error) = outcome {
                    tracing::warn!(%error, retry_in = ?backoff, "outbox listener lost its connection");
                }
            }
            () = &mut shutdown => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = &mut shutdown => return,
        }
        backoff = if started.elapsed() > Duration::from_secs(60) {
            Duration::from_millis(500) // it had been working: a fresh failure
        } else {
            (backoff * 2).min(Duration::from_secs(30))
        };
    }
}

async fn listen(
    database_url: &str,
    relay: &Relay,
    pool: &DbPool,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    tracing::info!(channel = CHANNEL, "outbox listener ready");
    let mut wakeups = pin!(conn.notifications_stream());
    // Whatever was committed before we listened.
    relay_now(relay, pool, clock).await;
    loop {
        match wakeups.next().await {
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("the notification stream ended"),
        }
        // Wake-ups that are already waiting are covered by the pass we are about to make.
        while let Some(Some(next)) = wakeups.next().now_or_never() {
            next?;
        }
        relay_now(relay, pool, clock).await;
    }
}

async fn relay_now(relay: &Relay, pool: &DbPool, clock: &dyn Clock) {
    match relay.relay_due(pool, clock.now(), CHUNK).await {
        Ok(counts) if counts.delivered + counts.retried + counts.failed > 0 => {
            tracing::debug!(?counts, "relayed on commit");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "relay on commit failed; the poll will retry"),
    }
}
