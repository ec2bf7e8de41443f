use async_trait::async_trait;

/// Whose live notification streams should look for new rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    User(crate::types::UserId),
    Everyone,
}

#[derive(Debug, thiserror::Error)]
#[error("notification signal failed: {0}")]
pub struct SignalError(pub String);

/// Wakes live notification streams on every API instance (Redis pub/sub in production). The
/// rows themselves are in the database: a lost signal only delays a notification until the
/// client's next reconnect, it never loses one.
#[async_trait]
pub trait NotificationSignal: Send + Sync + 'static {
    async fn wake(&self, audience: Audience) -> Result<(), SignalError>;
}
