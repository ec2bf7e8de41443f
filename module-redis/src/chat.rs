//! Chat fan-out across API instances over one Redis pub/sub channel (`{prefix}chat`), and who
//! has a chat socket open (`{prefix}chat-online:{user}`).
//!
//! A published event names the users it is for (`"7,9|{json}"`); each instance hands it to
//! its own sockets of those users. Redis is only the wake-up: the messages are in PostgreSQL,
//! and a socket that missed an event (Redis away, a full queue) catches up from there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use petory_core::identity::UserId;
use petory_core::ports::ChatPresence;
use tokio::sync::{mpsc, watch};

use crate::pubsub::Heard;
use crate::{RedisAdapterError, RedisPool};

/// How long a presence check may take before the member counts as away (and is notified).
const PRESENCE_PATIENCE: Duration = Duration::from_millis(100);

/// What a socket hears from the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatSignal {
    /// An update for this socket's user, as published (JSON).
    Update(Arc<str>),
    /// Events may have been missed (the subscription was away): read the rooms again.
    Resync,
}

/// One user's sockets on this instance: each socket's id and queue.
type Queues = Vec<(u64, mpsc::Sender<ChatSignal>)>;

/// This instance's end of the chat channel and its registry of open sockets.
#[derive(Clone)]
pub struct ChatHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    client: redis::Client,
    pool: RedisPool,
    channel: String,
    key_prefix: String,
    /// Names this instance's sockets in the presence sets.
    instance: String,
    subscribed: watch::Sender<bool>,
    started: OnceLock<()>,
    registry: Registry,
}

/// The sockets open on this instance, by user, each with its bounded queue.
#[derive(Default)]
struct Registry {
    next_socket: AtomicU64,
    sockets: Mutex<HashMap<UserId, Queues>>,
}

/// One open socket's registration; dropping it unregisters the socket.
pub struct ChatConnection {
    hub: Arc<HubInner>,
    pub user: UserId,
    pub id: u64,
    /// Closes (yields `None`) when the hub dropped the socket for not keeping up.
    pub signals: mpsc::Receiver<ChatSignal>,
}

impl Drop for ChatConnection {
    fn drop(&mut self) {
        self.hub.registry.unregister(self.user, self.id);
    }
}

impl Registry {
    /// A new socket of `user` with a queue of `queue` signals, unless the user has
    /// `max_per_user` already: its id and queue.
    fn register(
        &self,
        user: UserId,
        max_per_user: usize,
        queue: usize,
    ) -> Option<(u64, mpsc::Receiver<ChatSignal>)> {
        let (sender, signals) = mpsc::channel(queue.max(1));
        let id = self.next_socket.fetch_add(1, Ordering::Relaxed) + 1;
        let mut sockets = self.sockets.lock().ok()?;
        let list = sockets.entry(user).or_default();
        if list.len() >= max_per_user {
            return None;
        }
        list.push((id, sender));
        Some((id, signals))
    }

    fn unregister(&self, user: UserId, id: u64) {
        if let Ok(mut sockets) = self.sockets.lock()
            && let Some(list) = sockets.get_mut(&user)
        {
            list.retain(|(socket, _)| *socket != id);
            if list.is_empty() {
                sockets.remove(&user);
            }
        }
    }

    /// Hands a signal to the sockets of `users` (all, for `None`); one whose queue is full is
    /// dropped from the registry, which closes its queue: it disconnects, and its client
    /// resumes from the database.
    fn deliver(&self, users: Option<&[UserId]>, signal: &ChatSignal) {
        let Ok(mut sockets) = self.sockets.lock() else {
            return;
        };
        let hand = |list: &mut Queues| {
            list.retain(|(_, queue)| queue.try_send(signal.clone()).is_ok());
        };
        match users {
            Some(users) => {
                for user in users {
                    if let Some(list) = sockets.get_mut(user) {
                        hand(list);
                    }
                }
            }
            None => sockets.values_mut().for_each(hand),
        }
        sockets.retain(|_, list| !list.is_empty());
    }

    fn len(&self) -> usize {
        self.sockets
            .lock()
            .map(|sockets| sockets.values().map(Vec::len).sum())
            .unwrap_or(0)
    }
}

impl HubInner {
    fn presence_key(&self, user: UserId) -> String {
        format!("{}chat-online:{user}", self.key_prefix)
    }
}

fn encode(to: &[UserId], event: &str) -> String {
    let users: Vec<String> = to.iter().map(ToString::to_string).collect();
    format!("{}|{event}", users.join(","))
}

fn decode(message: &str) -> Option<(Vec<UserId>, &str)> {
    let (users, event) = message.split_once('|')?;
    let users = users
        .split(',')
        .map(|id| id.parse().ok().map(UserId))
        .collect::<Option<Vec<_>>>()?;
    Some((users, event))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl ChatHub {
    pub fn new(
        redis_url: &str,
        pool: RedisPool,
        key_prefix: &str,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
            inner: Arc::new(HubInner {
                client: redis::Client::open(redis_url)?,
                pool,
                channel: format!("{key_prefix}chat"),
                key_prefix: key_prefix.to_owned(),
                instance: hex::encode(rand::random::<[u8; 8]>()),
                subscribed: watch::channel(false).0,
                started: OnceLock::new(),
                registry: Registry::default(),
            }),
        })
    }

    /// Registers one more socket of `user`, with a queue of `queue` signals, unless the user
    /// has `max_per_user` open on this instance. Waits (briefly) for the subscription, so that
    /// nothing published after this returns is missed while Redis is up.
    pub async fn connect(
        &self,
        user: UserId,
        max_per_user: usize,
        queue: usize,
    ) -> Option<ChatConnection> {
        let (id, signals) = self.inner.registry.register(user, max_per_user, queue)?;
        self.inner.started.get_or_init(|| {
            tokio::spawn(listen(self.inner.clone()));
        });
        if !crate::pubsub::wait_live(&self.inner.subscribed, Duration::from_secs(2)).await {
            tracing::warn!("chat channel not subscribed yet; sockets catch up by polling");
        }
        Some(ChatConnection {
            hub: self.inner.clone(),
            user,
            id,
            signals,
        })
    }

    /// Sockets open on this instance.
    pub fn open_sockets(&self) -> usize {
        self.inner.registry.len()
    }

    /// Sends `event` (JSON) to every socket of `to`, on every instance.
    pub async fn publish(&self, to: &[UserId], event: &str) -> Result<(), RedisAdapterError> {
        let mut conn = self.inner.pool.get().await?;
        redis::cmd("PUBLISH")
            .arg(&self.inner.channel)
            .arg(encode(to, event))
            .query_async::<i64>(&mut *conn)
            .await?;
        Ok(())
    }

    /// Marks a socket as open for `ttl` (renewed by its heartbeat; a crashed instance's
    /// sockets lapse on their own).
    pub async fn mark_online(
        &self,
        connection: &ChatConnection,
        ttl: Duration,
    ) -> Result<(), RedisAdapterError> {
        let key = self.inner.presence_key(connection.user);
        let expires = now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let mut conn = self.inner.pool.get().await?;
        redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now_ms())
            .ignore()
            .cmd("ZADD")
            .arg(&key)
            .arg(expires)
            .arg(self.member(connection))
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .ignore()
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    /// Marks a new socket as open, as [`Self::mark_online`] does, unless its user has
    /// `max_per_user` sockets open already across every instance: then `false`, and nothing
    /// changes. One atomic script, so concurrent connections cannot both take the last place.
    pub async fn claim_online(
        &self,
        connection: &ChatConnection,
        ttl: Duration,
        max_per_user: usize,
    ) -> Result<bool, RedisAdapterError> {
        const CLAIM: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) == false
   and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
";
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let now = now_ms();
        let mut conn = self.inner.pool.get().await?;
        let claimed: i64 = redis::Script::new(CLAIM)
            .key(self.inner.presence_key(connection.user))
            .arg(now)
            .arg(now + ttl_ms)
            .arg(max_per_user)
            .arg(self.member(connection))
            .arg(ttl_ms)
            .invoke_async(&mut *conn)
            .await?;
        Ok(claimed == 1)
    }

    pub async fn mark_offline(&self, connection: &ChatConnection) -> Result<(), RedisAdapterError> {
        let mut conn = self.inner.pool.get().await?;
        redis::cmd("ZREM")
            .arg(self.inner.presence_key(connection.user))
            .arg(self.member(connection))
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    fn member(&self, connection: &ChatConnection) -> String {
        format!("{}:{}", self.inner.instance, connection.id)
    }
}

#[async_trait]
impl ChatPresence for ChatHub {
    async fn is_online(&self, user: UserId) -> bool {
        let count = async {
            let mut conn = self.inner.pool.get().await?;
            Ok::<i64, RedisAdapterError>(
                redis::cmd("ZCOUNT")
                    .arg(self.inner.presence_key(user))
                    .arg(now_ms())
                    .arg("+inf")
                    .query_async(&mut *conn)
                    .await?,
            )
        };
        // A send waits on this under its room's lock: Redis gets a moment, not its timeout.
        match tokio::time::timeout(PRESENCE_PATIENCE, count)
            .await
            .unwrap_or_else(|_| Err(RedisAdapterError::Unavailable("presence timed out".into())))
        {
            Ok(count) => count > 0,
            Err(error) => {
                tracing::warn!(%error, "chat presence unknown; notifying");
                false
            }
        }
    }
}

async fn listen(hub: Arc<HubInner>) {
    let inner = hub.clone();
    crate::pubsub::subscribe_forever(
        hub.client.clone(),
        hub.channel.clone(),
        &hub.subscribed,
        move |heard| match heard {
            Heard::Subscribed => inner.registry.deliver(None, &ChatSignal::Resync),
            Heard::Message(message) => {
                if let Some((users, event)) = decode(&message) {
                    inner
                        .registry
                        .deliver(Some(&users), &ChatSignal::Update(Arc::from(event)));
                }
            }
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_with_their_users() {
        let message = encode(&[UserId(7), UserId(9)], r#"{"type":"message","a|b":1}"#);
        assert_eq!(
            decode(&message),
            Some((vec![UserId(7), UserId(9)], r#"{"type":"message","a|b":1}"#))
        );
        assert_eq!(decode("x|{}"), None);
        assert_eq!(decode("no separator"), None);
    }

    #[test]
    fn a_socket_that_falls_behind_is_dropped_and_the_others_go_on() {
        let registry = Registry::default();
        let (_, mut slow) = registry.register(UserId(1), 10, 2).unwrap();
        let (_, mut quick) = registry.register(UserId(1), 10, 100).unwrap();
        let (_, mut stranger) = registry.register(UserId(2), 10, 100).unwrap();
        for n in 0..5 {
            let event = ChatSignal::Update(Arc::from(format!("event {n}")));
            registry.deliver(Some(&[UserId(1)]), &event);
        }
        // The slow socket keeps what fit and then its queue closes: it must resume.
        for n in 0..2 {
            assert_eq!(
                slow.try_recv(),
                Ok(ChatSignal::Update(Arc::from(format!("event {n}"))))
            );
        }
        assert_eq!(
            slow.try_recv(),
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected)
        );
        for n in 0..5 {
            assert_eq!(
                quick.try_recv(),
                Ok(ChatSignal::Update(Arc::from(format!("event {n}"))))
            );
        }
        assert!(stranger.try_recv().is_err(), "only the named users hear it");
        registry.deliver(None, &ChatSignal::Resync);
        assert_eq!(stranger.try_recv(), Ok(ChatSignal::Resync));
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn sockets_per_user_are_capped_and_freed() {
        let registry = Registry::default();
        let (first, _a) = registry.register(UserId(1), 2, 1).unwrap();
        let (_, _b) = registry.register(UserId(1), 2, 1).unwrap();
        assert!(registry.register(UserId(1), 2, 1).is_none());
        registry.unregister(UserId(1), first);
        assert!(registry.register(UserId(1), 2, 1).is_some());
    }
}
