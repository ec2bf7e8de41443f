//! Cross-instance wake-ups for live notification streams, over one Redis pub/sub channel
//! (`{prefix}notifications`). Messages carry only who to wake (`user:ID` or `*`); streams then
//! read the rows from Postgres, so a message lost while Redis is away delays, never loses.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use petory_core::identity::UserId;
use petory_core::ports::{Audience, NotificationSignal, SignalError};
use tokio::sync::{broadcast, watch};

use crate::pubsub::Heard;
use crate::{RedisAdapterError, RedisPool};

fn channel(key_prefix: &str) -> String {
    format!("{key_prefix}notifications")
}

fn encode(audience: Audience) -> String {
    match audience {
        Audience::User(id) => format!("user:{id}"),
        Audience::Everyone => "*".to_owned(),
    }
}

fn decode(message: &str) -> Option<Audience> {
    match message {
        "*" => Some(Audience::Everyone),
        _ => message
            .strip_prefix("user:")
            .and_then(|id| id.parse().ok())
            .map(Audience::User),
    }
}

/// Publishes wake-ups; used by whatever creates notifications (the relay, batch jobs).
pub struct RedisNotificationSignal {
    pool: RedisPool,
    channel: String,
}

impl RedisNotificationSignal {
    pub fn new(pool: RedisPool, key_prefix: &str) -> Self {
        Self {
            pool,
            channel: channel(key_prefix),
        }
    }
}

#[async_trait]
impl NotificationSignal for RedisNotificationSignal {
    async fn wake(&self, audience: Audience) -> Result<(), SignalError> {
        let publish = async {
            let mut conn = self.pool.get().await?;
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(encode(audience))
                .query_async::<i64>(&mut *conn)
                .await?;
            Ok::<_, RedisAdapterError>(())
        };
        publish
            .await
            .map_err(|error| SignalError(error.to_string()))
    }
}

/// Single-use tickets that open a live stream without an `Authorization` header (browsers'
/// `EventSource` cannot send one). Stored as `{prefix}stream-ticket:{ticket}` → user id.
pub struct StreamTickets {
    pool: RedisPool,
    key_prefix: String,
}

impl StreamTickets {
    pub fn new(pool: RedisPool, key_prefix: &str) -> Self {
        Self {
            pool,
            key_prefix: key_prefix.to_owned(),
        }
    }

    fn key(&self, ticket: &str) -> String {
        format!("{}stream-ticket:{ticket}", self.key_prefix)
    }

    /// A new ticket for the session that asks for it, valid for `ttl` and one use.
    pub async fn issue(
        &self,
        holder: &TicketHolder,
        ttl: Duration,
    ) -> Result<String, RedisAdapterError> {
        let ticket = hex::encode(rand::random::<[u8; 24]>());
        let mut conn = self.pool.get().await?;
        redis::cmd("SET")
            .arg(self.key(&ticket))
            .arg(serde_json::to_string(holder).unwrap_or_default())
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(ticket)
    }

    /// The session a ticket was issued to, once; `None` for an unknown, used or expired ticket.
    pub async fn redeem(&self, ticket: &str) -> Result<Option<TicketHolder>, RedisAdapterError> {
        if ticket.is_empty() || ticket.len() > 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(None);
        }
        let mut conn = self.pool.get().await?;
        let holder: Option<String> = redis::cmd("GETDEL")
            .arg(self.key(ticket))
            .query_async(&mut *conn)
            .await?;
        Ok(holder.and_then(|holder| serde_json::from_str(&holder).ok()))
    }
}

/// Who a stream ticket opens the stream for: the user, and the access token (`jti`) and session
/// (`sid`) that asked for it, so that the stream ends when they are revoked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketHolder {
    pub user: i64,
    pub jti: String,
    pub sid: String,
    /// When that access token expires (seconds since the epoch): the stream ends then too.
    pub exp: i64,
}

/// This instance's end of the channel: one Redis subscription, fanned out in process to every
/// live stream. The subscription starts with the first stream and reconnects on its own.
#[derive(Clone)]
pub struct NotificationHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    client: redis::Client,
    channel: String,
    wakes: broadcast::Sender<Audience>,
    subscribed: watch::Sender<bool>,
    started: OnceLock<()>,
    /// Live streams open on this instance, per user.
    open: std::sync::Mutex<std::collections::HashMap<UserId, usize>>,
}

/// One of a user's live streams on this instance; the slot frees when it is dropped.
pub struct StreamSlot {
    hub: Arc<HubInner>,
    user: UserId,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.hub.open.lock()
            && let Some(count) = open.get_mut(&self.user)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl NotificationHub {
    pub fn new(redis_url: &str, key_prefix: &str) -> Result<Self, redis::RedisError> {
        let (wakes, _) = broadcast::channel(1024);
        Ok(Self {
            inner: Arc::new(HubInner {
                client: redis::Client::open(redis_url)?,
                channel: channel(key_prefix),
                wakes,
                subscribed: watch::channel(false).0,
                started: OnceLock::new(),
                open: std::sync::Mutex::default(),
            }),
        })
    }

    /// A slot for one more live stream of `user` on this instance, unless it has `max` open.
    pub fn claim_stream(&self, user: UserId, max: usize) -> Option<StreamSlot> {
        let mut open = self.inner.open.lock().ok()?;
        let count = open.entry(user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            hub: self.inner.clone(),
            user,
        })
    }

    /// Wake-ups from now on. Waits (briefly) until the Redis subscription is live, so that no
    /// wake published after this returns is missed while Redis is up.
    pub async fn subscribe(&self) -> broadcast::Receiver<Audience> {
        let receiver = self.inner.wakes.subscribe();
        self.inner.started.get_or_init(|| {
            tokio::spawn(listen(self.inner.clone()));
        });
        if !crate::pubsub::wait_live(&self.inner.subscribed, Duration::from_secs(2)).await {
            tracing::warn!("notification channel not subscribed yet; streams fall back to polling");
        }
        receiver
    }
}

async fn listen(hub: Arc<HubInner>) {
    let wakes = hub.wakes.clone();
    crate::pubsub::subscribe_forever(
        hub.client.clone(),
        hub.channel.clone(),
        &hub.subscribed,
        move |heard| {
            // No receivers is fine: no stream is open on this instance.
            let _ = match heard {
                // Anything published while we were away is unknown: everyone re-reads.
                Heard::Subscribed => wakes.send(Audience::Everyone),
                Heard::Message(payload) => match decode(&payload) {
                    Some(audience) => wakes.send(audience),
                    None => return,
                },
            };
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_round_trip_through_messages() {
        for audience in [Audience::User(UserId(42)), Audience::Everyone] {
            assert_eq!(decode(&encode(audience)), Some(audience));
        }
        assert_eq!(decode("user:x"), None);
        assert_eq!(decode("hello"), None);
    }
}
