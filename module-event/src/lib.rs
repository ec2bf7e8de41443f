//! The outbox relay: delivers recorded events to their handlers at least once, retrying with
//! exponential backoff and parking events that keep failing as `FAILED` for an admin to retry.
//! Handlers must be idempotent: a crash after handling but before the commit re-delivers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use petory_core::db::{DbError, DbPool};
use petory_core::identity::session::RevokeRequested;
use petory_core::platform::outbox::{self, OutboxEvent, Payload};
use petory_core::shop::payment::RefundRequested;
use petory_core::shop::subscription::InactivationRequested;

pub mod wakeup;

#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The event kind this handler takes, e.g. `PAYMENT_CANCEL_REQUESTED`.
    fn kind(&self) -> &'static str;
    /// `now` is the relay's clock reading, for anything the handler records. An error that is
    /// (or wraps) [`GiveUp`] parks the event at once instead of retrying it.
    async fn handle(&self, event: &OutboxEvent, now: DateTime<Utc>) -> anyhow::Result<()>;

    /// Called once when the relay parks the event as `FAILED` (retries exhausted, or [`GiveUp`]),
    /// for what the domain must record about it. Its own errors are logged, not retried.
    async fn gave_up(
        &self,
        _event: &OutboxEvent,
        _error: &str,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A handler's error that retrying cannot fix (the other side refused for good).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GiveUp(pub String);

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before an event is parked as `FAILED`.
    pub max_attempts: i32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failures, or `None` to give up.
    pub fn next_attempt(&self, attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        let backoff = self
            .first_backoff
            .saturating_mul(2_u32.saturating_pow(exponent))
            .min(self.max_backoff);
        Some(now + TimeDelta::from_std(backoff).unwrap_or(TimeDelta::hours(1)))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounts {
    pub delivered: i64,
    pub retried: i64,
    pub failed: i64,
}

#[derive(Clone)]
pub struct Relay {
    handlers: HashMap<&'static str, Arc<dyn EventHandler>>,
    policy: RetryPolicy,
    lease: Duration,
}

impl Default for Relay {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

impl Relay {
    /// How long a claimed event is a relay's unless [`Relay::with_lease`] says otherwise.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);

    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            handlers: HashMap::new(),
            policy,
            lease: Self::DEFAULT_LEASE,
        }
    }

    pub fn with_handler(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// The kinds this relay delivers.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// How long a claimed event is this relay's (default 5 minutes): a relay that dies holding
    /// it leaves it to the next after this.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Delivers every event due at `now`, `chunk` at a time. Each chunk is claimed for the lease
    /// in one statement (`SKIP LOCKED`), so relays on several instances never take the same
    /// event; then each handler runs with no transaction open and no connection held (it calls
    /// KakaoPay, SMTP or Redis), and its outcome is recorded in a statement of its own. A crash
    /// between a call and its record hands the event to a relay after the lease: handlers are
    /// idempotent (notifications by `outbox:<id>`, refunds by the payment's state, inactivation
    /// and revocation by nature) except mail, which is at least once.
    pub async fn relay_due(
        &self,
        pool: &DbPool,
        now: DateTime<Utc>,
        chunk: i64,
    ) -> Result<RelayCounts, DbError> {
        let lease = TimeDelta::from_std(self.lease)
            .unwrap_or(TimeDelta::days(1))
            .clamp(TimeDelta::seconds(1), TimeDelta::days(1));
        // Leases are counted from `now`: a run hands what it has not started after half a
        // lease back to the next run (its claims lapse), so no handler starts on a lapsed claim.
        let started = std::time::Instant::now();
        let in_time = || started.elapsed() < self.lease / 2;
        let mut total = RelayCounts::default();
        loop {
            if !in_time() {
                return Ok(total);
            }
            let events = {
                let mut conn = pool.get().await?;
                outbox::claim_due(&mut conn, now, chunk, lease).await?
            };
            for due in &events {
                if !in_time() {
                    return Ok(total);
                }
                self.deliver(pool, due, now, &mut total).await?;
            }
            if i64::try_from(events.len()).unwrap_or(i64::MAX) < chunk {
                return Ok(total);
            }
        }
    }

    /// Runs one claimed event's handler and records what came of it.
    async fn deliver(
        &self,
        pool: &DbPool,
        due: &OutboxEvent,
        now: DateTime<Utc>,
        counts: &mut RelayCounts,
    ) -> Result<(), DbError> {
        // Its handling joins the trace of what recorded it.
        let span = tracing::info_span!("outbox_event", kind = %due.kind, id = due.id);
        petory_core::platform::trace::adopt(&span, due.trace_parent.as_deref());
        let handler = self.handlers.get(due.kind.as_str());
        let outcome = match handler {
            Some(handler) => handler.handle(due, now).instrument(span).await,
            None => Err(anyhow::anyhow!("no handler for {}", due.kind)),
        };
        let error = match outcome {
            Ok(()) => {
                let mut conn = pool.get().await?;
                if outbox::mark_delivered(&mut conn, due, now).await? {
                    counts.delivered += 1;
                } else {
                    tracing::warn!(event = due.id, kind = %due.kind, "delivered after its lease ended; another relay has it");
                }
                return Ok(());
            }
            Err(error) => error,
        };
        let message = format!("{error:#}");
        let retry_at = if error.is::<GiveUp>() {
            None
        } else {
            self.policy.next_attempt(due.attempts + 1, now)
        };
        tracing::warn!(event = due.id, kind = %due.kind, error = %message, ?retry_at, "event delivery failed");
        // Giving up is told before it is recorded: a crash in between hands the event to the
        // next relay, which gives up (and tells) again, rather than never.
        if retry_at.is_none()
            && let Some(handler) = handler
            && let Err(error) = handler.gave_up(due, &message, now).await
        {
            tracing::error!(event = due.id, kind = %due.kind, error = %format!("{error:#}"), "recording a failed event's outcome failed");
        }
        let recorded = {
            let mut conn = pool.get().await?;
            outbox::record_attempt_failed(&mut conn, due, &message, retry_at).await?
        };
        if !recorded {
            tracing::warn!(event = due.id, kind = %due.kind, "failed after its lease ended; another relay has it");
        } else if retry_at.is_some() {
            counts.retried += 1;
        } else {
            counts.failed += 1;
        }
        Ok(())
    }
}

/// Stops charging a cancelled subscription's `sid` at the gateway
/// (`SUBSCRIPTION_INACTIVATE_REQUESTED`). An `sid` the gateway already treats as inactive or
/// unknown counts as done.
pub struct InactivateSubscription {
    pub gateway: Arc<dyn petory_core::shop::payment::PaymentGateway>,
}

#[async_trait]
impl EventHandler for InactivateSubscription {
    fn kind(&self) -> &'static str {
        <InactivationRequested as Payload>::KIND
    }

    async fn handle(&self, event: &OutboxEvent, _now: DateTime<Utc>) -> anyhow::Result<()> {
        use petory_core::shop::payment::GatewayError;
        let request = InactivationRequested::decode(event)?;
        match self.gateway.inactivate_subscription(&request.sid).await {
            Ok(()) | Err(GatewayError::SubscriptionInvalid(_)) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// Mails asked for by domain changes (`MAIL_REQUESTED`), through the `Mailer` port. Sending is
/// at least once: a crash after sending and before the commit sends again.
pub struct SendMail {
    pub mailer: Arc<dyn petory_core::ports::Mailer>,
}

#[async_trait]
impl EventHandler for SendMail {
    fn kind(&self) -> &'static str {
        <petory_core::ports::Mail as Payload>::KIND
    }

    async fn handle(&self, event: &OutboxEvent, _now: DateTime<Utc>) -> anyhow::Result<()> {
        let mail = petory_core::ports::Mail::decode(event)?;
        self.mailer.send(&mail).await?;
        Ok(())
    }
}

/// What the product's handlers reach: each binary wires it once.
#[derive(Clone)]
pub struct RelayPorts {
    pub db: DbPool,
    pub gateway: Arc<dyn petory_core::shop::payment::PaymentGateway>,
    pub signal: Arc<dyn petory_core::ports::NotificationSignal>,
    pub mailer: Arc<dyn petory_core::ports::Mailer>,
    pub sessions: Arc<dyn petory_core::identity::session::SessionStore>,
    /// How long access tokens live: how long a revocation must be remembered.
    pub access_ttl: Duration,
}

/// The relay with every handler of the product; new event kinds register here.
pub fn product_relay(policy: RetryPolicy, ports: RelayPorts) -> Relay {
    Relay::new(policy)
        .with_handler(Arc::new(CancelPayment {
            gateway: ports.gateway.clone(),
            db: ports.db.clone(),
        }))
        .with_handler(Arc::new(InactivateSubscription {
            gateway: ports.gateway,
        }))
        .with_handler(Arc::new(SendMail {
            mailer: ports.mailer,
        }))
        .with_handler(Arc::new(DeliverNotification {
            db: ports.db,
            signal: ports.signal.clone(),
        }))
        .with_handler(Arc::new(RevokeSessions {
            sessions: ports.sessions,
            access_ttl: ports.access_ttl,
            signal: ports.signal,
        }))
}

/// Ends every session of an account a batch job closed or set aside
/// (`SESSIONS_REVOKE_REQUESTED`): its access tokens are refused from then on.
pub struct RevokeSessions {
    pub sessions: Arc<dyn petory_core::identity::session::SessionStore>,
    pub access_ttl: Duration,
    /// Wakes the user's live streams, which then close.
    pub signal: Arc<dyn petory_core::ports::NotificationSignal>,
}

#[async_trait]
impl EventHandler for RevokeSessions {
    fn kind(&self) -> &'static str {
        <RevokeRequested as Payload>::KIND
    }

    async fn handle(&self, event: &OutboxEvent, _now: DateTime<Utc>) -> anyhow::Result<()> {
        let request = RevokeRequested::decode(event)?;
        self.sessions
            .revoke_user(request.user_id, None, self.access_ttl)
            .await?;
        if let Err(error) = self
            .signal
            .wake(petory_core::ports::Audience::User(request.user_id))
            .await
        {
            tracing::warn!(%error, user = %request.user_id, "streams of ended sessions not woken");
        }
        Ok(())
    }
}

/// Refunds requested by order cancellations (`PAYMENT_CANCEL_REQUESTED`), through the gateway.
pub struct CancelPayment {
    pub gateway: Arc<dyn petory_core::shop::payment::PaymentGateway>,
    pub db: DbPool,
}

#[async_trait]
impl EventHandler for CancelPayment {
    fn kind(&self) -> &'static str {
        <RefundRequested as Payload>::KIND
    }

    async fn handle(&self, event: &OutboxEvent, now: DateTime<Utc>) -> anyhow::Result<()> {
        use petory_core::shop::payment::{self, RefundError};
        let request = RefundRequested::decode(event)?;
        let mut conn = self.db.get().await.map_err(DbError::from)?;
        match payment::complete_cancel(
            &mut conn,
            self.gateway.as_ref(),
            &request.tid,
            request.amount,
            request.subscription,
            now,
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(RefundError::Refused(cause)) => Err(GiveUp(cause).into()),
            Err(error @ RefundError::Transient(_)) => Err(error.into()),
        }
    }

    /// Retries ran out while the gateway kept failing: the refund is `REFUND_FAILED` for
    /// support, and the buyer is told.
    async fn gave_up(
        &self,
        event: &OutboxEvent,
        error: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let request = RefundRequested::decode(event)?;
        let mut conn = self.db.get().await.map_err(DbError::from)?;
        petory_core::shop::payment::refund_failed(&mut conn, &request.tid, error, now).await?;
        Ok(())
    }
}

/// Notifications that domain changes asked for (`NOTIFICATION_REQUESTED`): stored once per
/// event, then the user's live streams are woken.
pub struct DeliverNotification {
    pub db: DbPool,
    pub signal: Arc<dyn petory_core::ports::NotificationSignal>,
}

#[async_trait]
impl EventHandler for DeliverNotification {
    fn kind(&self) -> &'static str {
        <petory_core::notification::NewNotification as Payload>::KIND
    }

    async fn handle(&self, event: &OutboxEvent, now: DateTime<Utc>) -> anyhow::Result<()> {
        use petory_core::notification::{self, NewNotification};
        let request = NewNotification::decode(event)?;
        let mut conn = self.db.get().await.map_err(DbError::from)?;
        let dedupe_key = match &request.once_per {
            Some(cause) => format!("once:{cause}"),
            None => format!("outbox:{}", event.id),
        };
        // The in-app row, and the pushes to the member's devices (sent by `send-pushes`).
        if notification::deliver_everywhere(&mut conn, &request, &dedupe_key, now)
            .await?
            .stored
            .is_some()
        {
            // The row is stored; a lost wake-up only delays it until the stream next looks.
            if let Err(error) = self
                .signal
                .wake(petory_core::ports::Audience::User(request.user_id))
                .await
            {
                tracing::warn!(%error, user = %request.user_id, "notification wake-up not sent");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let policy = RetryPolicy {
            max_attempts: 4,
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(90),
        };
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let after = |attempts| {
            policy
                .next_attempt(attempts, now)
                .map(|at| (at - now).num_seconds())
        };
        assert_eq!(after(1), Some(30));
        assert_eq!(after(2), Some(60));
        assert_eq!(after(3), Some(90));
        assert_eq!(after(4), None);
    }
}
