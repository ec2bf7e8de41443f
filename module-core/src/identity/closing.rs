//! What other domains do when an account closes (its owner withdraws, or the lifecycle job
//! deletes a dormant one): a port that identity calls and the domains implement (the shop ends
//! the account's subscriptions), so identity names no other domain. The binaries pass the
//! implementation in.

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
