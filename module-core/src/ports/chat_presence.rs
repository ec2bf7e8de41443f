use async_trait::async_trait;

use crate::types::UserId;

/// Whether a user has a chat socket open on any API instance (Redis in production): a
/// message to someone without one becomes a notification.
#[async_trait]
pub trait ChatPresence: Send + Sync + 'static {
    /// `false` when unsure (the store is unreachable): a needless notification is better
    /// than a missed message.
    async fn is_online(&self, user: UserId) -> bool;
}

/// For processes with no chat sockets.
pub struct NobodyOnline;

#[async_trait]
impl ChatPresence for NobodyOnline {
    async fn is_online(&self, _user: UserId) -> bool {
        false
    }
}
