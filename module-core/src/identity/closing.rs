//! What other domains do when an account closes (its owner withdraws, or the lifecycle job
//! deletes a dormant one) or its password changes: ports that identity calls and the domains
//! implement (the shop ends the account's subscriptions; the calendar ends its feed's secret
//! address), so identity names no other domain. The binaries pass the implementations in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::UserId;
use crate::db::DbError;

#[async_trait]
pub trait AccountClosing: Send + Sync {
    /// Ends what `user` had running, inside the transaction that closes the account.
    async fn account_closed(
        &self,
        conn: &mut AsyncPgConnection,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
}

/// Several domains' parts of an account's closing, one after another.
pub struct Closings<'a>(pub &'a [&'a dyn AccountClosing]);

#[async_trait]
impl AccountClosing for Closings<'_> {
    async fn account_closed(
        &self,
        conn: &mut AsyncPgConnection,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        for closing in self.0 {
            closing.account_closed(conn, user, now).await?;
        }
        Ok(())
    }
}

/// Other secrets that reach an account's data without its password (the calendar feed's
/// address): ended with the password when it is reset, or changed and asked to.
#[async_trait]
pub trait OtherSecrets: Send + Sync {
    /// Ends them, inside the transaction that changes the password.
    async fn end(&self, conn: &mut AsyncPgConnection, user: UserId) -> Result<(), DbError>;
}
