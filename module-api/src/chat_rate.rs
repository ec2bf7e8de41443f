//! How fast one user may send chat frames: one budget across every API instance (Redis, a GCRA
//! bucket per user), behind this instance's own bucket, which answers the obvious cases without
//! a round trip and limits alone while Redis is away.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter};
use petory_core::identity::UserId;
use petory_redis::rate_limit::{RateLimiter, Verdict};

pub struct ChatRate {
    local: DefaultKeyedRateLimiter<UserId>,
    shared: RateLimiter,
    interval: Duration,
    burst: NonZeroU32,
}

impl ChatRate {
    /// `per_second` frames a second, in bursts of up to `burst`, per user.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32, shared: RateLimiter) -> Self {
        Self {
            local: GovernorLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            shared,
            interval: Duration::from_secs(1) / per_second.get(),
            burst,
        }
    }

    /// Spends one frame of `user`'s budget: `false` when over it, on this instance or across
    /// all of them.
    pub async fn admit(&self, user: UserId) -> bool {
        if self.local.check_key(&user).is_err() {
            return false;
        }
        match self
            .shared
            .take_at(&format!("chat:{user}"), self.interval, self.burst.get(), 1)
            .await
        {
            Ok(Verdict::Admit(_)) => true,
            Ok(Verdict::Wait(_)) => false,
            Err(error) => {
                tracing::debug!(%error, "chat rate shared across instances unknown; this instance's alone");
                true
            }
        }
    }

    /// Forgets idle buckets so the key space does not grow without bound.
    pub fn forget_idle(&self) {
        self.local.retain_recent();
    }
}

#[async_trait::async_trait]
impl petory_core::community::chat::ChatSendRate for ChatRate {
    async fn admit(&self, sender: UserId) -> bool {
        ChatRate::admit(self, sender).await
    }
}
