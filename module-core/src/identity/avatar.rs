//! A member's picture: one upload of purpose `AVATAR`, set, replaced or removed by its owner.
//! The `avatar-thumbnails` job makes its 256 px square (the middle of the picture, WebP), which
//! is what the API shows once it exists.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::IdentityError;
use crate::platform::upload::{self, Purpose, SQUARE_SUFFIX, UploadError};
use crate::ports::{ObjectStore, ThumbnailError, Thumbnailer};
use crate::schema::users;
use crate::types::UserId;

/// The side of an avatar's square, in pixels.
pub const AVATAR_SIDE: u32 = 256;

/// Gives `user` the avatar `key` (one of their `AVATAR` uploads), or none; the one replaced is
/// discarded and removed from storage with its square.
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
                .set((
                    users::avatar_key.eq(&key),
                    users::avatar_thumbnail_key.eq(None::<String>),
                    users::avatar_thumbnail_failed_at.eq(None::<DateTime<Utc>>),
                    users::updated_at.eq(now),
                ))
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

/// What a run of the avatar job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AvatarCounts {
    pub made: u64,
    /// Avatars whose picture cannot be read: marked, not tried again.
    pub failed: u64,
}

/// Makes the squares of avatars that have none yet, `chunk` members per transaction;
/// instances share the work (`SKIP LOCKED`). A storage failure stops the run.
pub async fn make_squares(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    thumbnailer: &dyn Thumbnailer,
    chunk: i64,
    now: DateTime<Utc>,
) -> Result<AvatarCounts, IdentityError> {
    let mut counts = AvatarCounts::default();
    loop {
        let claimed = conn
            .transaction(async |conn| {
                let due: Vec<(UserId, Option<String>)> = users::table
                    .filter(users::avatar_key.is_not_null())
                    .filter(users::avatar_thumbnail_key.is_null())
                    .filter(users::avatar_thumbnail_failed_at.is_null())
                    .order(users::id)
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select((users::id, users::avatar_key))
                    .load(conn)
                    .await?;
                for (user, key) in &due {
                    let Some(key) = key else { continue };
                    let image = store.read(key).await.map_err(UploadError::from)?;
                    let made = match image {
                        Some(image) => thumbnailer.square_webp(image, AVATAR_SIDE).await,
                        None => Err(ThumbnailError("the picture is gone".into())),
                    };
                    match made {
                        Ok(square) => {
                            let square_key = upload::derived_key(key, SQUARE_SUFFIX);
                            store
                                .put(&square_key, square, "image/webp")
                                .await
                                .map_err(UploadError::from)?;
                            diesel::update(users::table.find(user))
                                .set(users::avatar_thumbnail_key.eq(square_key))
                                .execute(conn)
                                .await?;
                            counts.made += 1;
                        }
                        Err(error) => {
                            tracing::warn!(%user, %error, "avatar square not made");
                            diesel::update(users::table.find(user))
                                .set(users::avatar_thumbnail_failed_at.eq(now))
                                .execute(conn)
                                .await?;
                            counts.failed += 1;
                        }
                    }
                }
                Ok::<_, IdentityError>(due.len())
            })
            .await?;
        if (claimed as i64) < chunk {
            return Ok(counts);
        }
    }
}

/// The key to show for an avatar: its square once made, the picture until then.
pub fn shown_key(avatar_key: Option<String>, square_key: Option<String>) -> Option<String> {
    square_key.or(avatar_key)
}
