//! A member's picture: one upload of purpose `AVATAR`, set, replaced or removed by its owner.
//! Its served versions are squares (the middle of the picture; see `platform::image`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::IdentityError;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::users;
use crate::types::UserId;

/// Gives `user` the avatar `key` (one of their `AVATAR` uploads), or none; the one replaced is
/// discarded and removed from storage with its versions.
pub async fn set(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    user: UserId,
    key: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let held: Option<String> = users::table
        .find(user)
        .select(users::avatar_key)
        .first(conn)
        .await?;
    if held == key {
        return Ok(());
    }
    let keys: Vec<String> = key.iter().cloned().collect();
    let image = upload::verify(conn, store, user, Purpose::Avatar, &keys, &[]).await?;
    let replaced = conn
        .transaction(async |conn| {
            let before: Option<String> = users::table
                .find(user)
                .for_update()
                .select(users::avatar_key)
                .first(conn)
                .await?;
            image.attach(conn, now).await?;
            diesel::update(users::table.find(user))
                .set((users::avatar_key.eq(&key), users::updated_at.eq(now)))
                .execute(conn)
                .await?;
            let replaced: Vec<String> = before
                .into_iter()
                .filter(|old| Some(old) != key.as_ref())
                .collect();
            upload::discard(conn, user, &replaced, now).await?;
            Ok::<_, IdentityError>(replaced)
        })
        .await?;
    // Removed now if storage answers; otherwise the hourly upload job does it.
    if let Err(error) = upload::remove_discarded(conn, store, &replaced).await {
        tracing::warn!(%error, "replaced avatar left for the upload job");
    }
    Ok(())
}
