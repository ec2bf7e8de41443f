use std::time::Duration;

use async_trait::async_trait;

/// Where a push goes: a browser's subscription (RFC 8030 endpoint, RFC 8291 keys, base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// How soon a device should wake for a push (RFC 8030 `Urgency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Low,
    Normal,
    High,
}

impl Urgency {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

/// One push: the plaintext the adapter encrypts (aes128gcm) and the delivery headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    pub payload: Vec<u8>,
    /// How long the push service keeps it for an offline device (`TTL`).
    pub ttl: Duration,
    pub urgency: Urgency,
    /// A newer push with the same topic replaces an older one not yet delivered (`Topic`,
    /// at most 32 base64url characters).
    pub topic: Option<String>,
}

/// What the push service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// `201`: it has the push.
    Accepted,
    /// `404`/`410`: the subscription is gone for good; delete it.
    Gone,
    /// `429`/`5xx`, or the service was unreachable: try again later (after this long, when it
    /// said so with `Retry-After`).
    RetryLater {
        reason: String,
        after: Option<Duration>,
    },
    /// Any other answer (`400`, `403`, `413`): retrying would not help.
    Refused { reason: String },
}

/// Sends Web Push messages (RFC 8030 with RFC 8291 encryption and RFC 8292 VAPID). Called by
/// the push sender after the outbox relay queued the pushes, never in a request.
#[async_trait]
pub trait PushService: Send + Sync + 'static {
    async fn send(&self, target: &PushTarget, message: &PushMessage) -> PushOutcome;
}
