//! Uploads: every image in the product. A client asks for a presigned `PUT` of one object whose
//! key the server makes under the client's id; content refers to the key afterwards, and is
//! accepted only once the server has seen that the object is there, has the declared size, really
//! is an image of the declared type, and belongs to the caller.
//!
//! The client uploads to an incoming key (`incoming/{key}`); when content takes the upload, the
//! server copies it to the key itself, which no client ever had a URL for, checks that copy and
//! serves only versions made from it (see [`super::image`]): bytes put again with a still-valid
//! presigned URL change nothing served. An upload belongs to one content only, so removing one
//! content never removes another's image.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::ports::{ObjectStore, ObjectStoreError, PresignedRequest};
use crate::schema::uploads;
use crate::types::{Role, UserId};

crate::text_enum! {
    /// What an upload is for; a key is accepted only where its purpose belongs.
    pub enum Purpose {
        Pet = "PET",
        Post = "POST",
        Trade = "TRADE",
        Chat = "CHAT",
        Album = "ALBUM",
        PlaceReview = "PLACE_REVIEW",
        /// A place's own photos (admins).
        Place = "PLACE",
        Item = "ITEM",
        ItemReview = "ITEM_REVIEW",
        /// A member's picture.
        Avatar = "AVATAR",
    }
}

crate::text_enum! {
    /// The image types accepted.
    pub enum ImageType {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Webp = "image/webp",
        Gif = "image/gif",
    }
}

impl ImageType {
    fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }
}

/// The most bytes an upload may declare, whatever the configuration says (the schema's bound).
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// How many uploads a user may hold that nothing refers to yet.
pub const MAX_PENDING: i64 = 100;
/// How many bytes are read to tell the real type and the dimensions of an object (a JPEG's
/// size follows its EXIF block, which may fill 64 KiB).
const HEADER_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct UploadSettings {
    /// At most this many bytes per upload (`PETORY_UPLOAD_MAX_BYTES`, ≤ [`MAX_BYTES`]).
    pub max_bytes: u64,
    /// How long a presigned `PUT` stays valid.
    pub put_ttl: Duration,
    /// How long a presigned `GET` in a response stays valid.
    pub get_ttl: Duration,
    /// Uploads nothing refers to after this long are removed.
    pub unattached_ttl: TimeDelta,
}

impl UploadSettings {
    /// `PETORY_UPLOAD_MAX_BYTES` (10 MiB, at most that) and `PETORY_UPLOAD_UNATTACHED_HOURS` (24).
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        use crate::config;
        let defaults = Self::default();
        let max_bytes = config::parsed_or("PETORY_UPLOAD_MAX_BYTES", MAX_BYTES)?;
        config::ensure(
            "PETORY_UPLOAD_MAX_BYTES",
            max_bytes,
            (1..=MAX_BYTES).contains(&max_bytes),
            "must be 1 to 10485760",
        )?;
        let hours = config::parsed_or("PETORY_UPLOAD_UNATTACHED_HOURS", 24_i64)?;
        config::ensure(
            "PETORY_UPLOAD_UNATTACHED_HOURS",
            hours,
            (1..=24 * 30).contains(&hours),
            "must be 1 to 720",
        )?;
        Ok(Self {
            max_bytes,
            unattached_ttl: TimeDelta::hours(hours),
            ..defaults
        })
    }
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_bytes: MAX_BYTES,
            put_ttl: Duration::from_secs(15 * 60),
            get_ttl: Duration::from_secs(60 * 60),
            unattached_ttl: TimeDelta::hours(24),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("uploads are limited to {max} bytes")]
    TooLarge { max: u64 },
    #[error("only administrators upload item images")]
    AdminOnly,
    #[error("{pending} uploads are waiting to be used; use or let them expire first")]
    TooManyPending { pending: i64 },
    /// Unknown, someone else's, or made for another purpose: told apart to nobody.
    #[error("no upload {key} of yours for this purpose")]
    NotFound { key: String },
    #[error("nothing was uploaded to {key} yet")]
    NotUploaded { key: String },
    #[error("{key} holds {actual} bytes, not the {declared} declared")]
    SizeMismatch {
        key: String,
        declared: u64,
        actual: u64,
    },
    #[error("{key} is not a {declared} image")]
    NotAnImage { key: String, declared: ImageType },
    #[error("{key}: {image}")]
    TooLargeImage {
        key: String,
        image: super::image::TooLargeImage,
    },
    #[error("{key} is used already; upload the image again for new content")]
    InUse { key: String },
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for UploadError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error.into())
    }
}

/// What the client needs to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub key: String,
    pub request: PresignedRequest,
    pub expires_at: DateTime<Utc>,
}

/// Records an upload and presigns its `PUT`.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    settings: &UploadSettings,
    owner: UserId,
    role: Role,
    purpose: Purpose,
    content_type: ImageType,
    content_length: u64,
    now: DateTime<Utc>,
) -> Result<Started, UploadError> {
    let max = settings.max_bytes.min(MAX_BYTES);
    if content_length == 0 || content_length > max {
        return Err(UploadError::TooLarge { max });
    }
    if matches!(purpose, Purpose::Item | Purpose::Place) && role != Role::Admin {
        return Err(UploadError::AdminOnly);
    }
    let pending: i64 = uploads::table
        .filter(uploads::owner_id.eq(owner))
        .filter(uploads::attached_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    if pending >= MAX_PENDING {
        return Err(UploadError::TooManyPending { pending });
    }
    let key = format!(
        "{}/{owner}/{}.{}",
        purpose.as_str().to_lowercase(),
        uuid::Uuid::now_v7().simple(),
        content_type.extension()
    );
    let request = store
        .presign_put(
            &incoming_key(&key),
            content_type.as_str(),
            content_length,
            settings.put_ttl,
        )
        .await?;
    diesel::insert_into(uploads::table)
        .values((
            uploads::key.eq(&key),
            uploads::owner_id.eq(owner),
            uploads::purpose.eq(purpose),
            uploads::content_type.eq(content_type),
            uploads::content_length.eq(i64::try_from(content_length).unwrap_or(i64::MAX)),
            uploads::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    let expires_at = now + TimeDelta::from_std(settings.put_ttl).unwrap_or(TimeDelta::MAX);
    Ok(Started {
        key,
        request,
        expires_at,
    })
}

/// Where the client puts the bytes of the upload `key`.
pub fn incoming_key(key: &str) -> String {
    format!("incoming/{key}")
}

/// Keys that passed [`verify`]; [`Verified::attach`] binds them inside the content's
/// transaction, so that an upload is never both referred to and removed as unused.
#[must_use = "attach the keys in the transaction that stores the content"]
#[derive(Debug)]
pub struct Verified {
    owner: UserId,
    keys: Vec<String>,
}

impl Verified {
    /// Marks the keys as used by the content being stored; a key that other content took
    /// meanwhile is [`UploadError::InUse`] (and the content's transaction rolls back).
    pub async fn attach(
        self,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> Result<(), UploadError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let taken: Vec<String> = diesel::update(
            uploads::table
                .filter(uploads::key.eq_any(&self.keys))
                .filter(uploads::owner_id.eq(self.owner))
                .filter(uploads::attached_at.is_null()),
        )
        .set(uploads::attached_at.eq(now))
        .returning(uploads::key)
        .get_results(conn)
        .await?;
        if let Some(key) = self.keys.iter().find(|key| !taken.contains(key)) {
            return Err(UploadError::InUse { key: key.clone() });
        }
        Ok(())
    }
}

#[derive(Queryable)]
struct Row {
    key: String,
    /// `None` once its owner's account was removed (the row waits to be pruned).
    owner_id: Option<UserId>,
    purpose: Purpose,
    content_type: ImageType,
    content_length: i64,
    attached_at: Option<DateTime<Utc>>,
}

/// Checks that every key is one of `owner`'s uploads for `purpose`, not used by other content,
/// and seals it: its bytes are copied from where the client put them to the key itself, and the
/// copy must have the declared size and really be an image of the declared type. `already_yours`
/// are keys the content holds already (an edit keeps them without new checks).
pub async fn verify(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    owner: UserId,
    purpose: Purpose,
    keys: &[String],
    already_yours: &[String],
) -> Result<Verified, UploadError> {
    let mut new_keys: Vec<String> = keys
        .iter()
        .filter(|key| !already_yours.contains(key))
        .cloned()
        .collect();
    new_keys.sort();
    new_keys.dedup();
    if new_keys.is_empty() {
        return Ok(Verified {
            owner,
            keys: new_keys,
        });
    }
    let rows: Vec<Row> = uploads::table
        .filter(uploads::key.eq_any(&new_keys))
        .filter(uploads::discarded_at.is_null())
        .select((
            uploads::key,
            uploads::owner_id,
            uploads::purpose,
            uploads::content_type,
            uploads::content_length,
            uploads::attached_at,
        ))
        .load(conn)
        .await?;
    for key in &new_keys {
        let Some(row) = rows
            .iter()
            .find(|row| &row.key == key && row.owner_id == Some(owner) && row.purpose == purpose)
        else {
            return Err(UploadError::NotFound { key: key.clone() });
        };
        if row.attached_at.is_some() {
            return Err(UploadError::InUse { key: key.clone() });
        }
        seal(store, row).await?;
    }
    Ok(Verified {
        owner,
        keys: new_keys,
    })
}

/// Copies the upload's bytes from where the client put them to its own key, and checks the
/// copy; a copy that fails the checks is removed, so nothing but a checked image is served.
/// Sealing again (a retried request) finds the copy in place when the client's bytes are gone.
async fn seal(store: &dyn ObjectStore, row: &Row) -> Result<(), UploadError> {
    let incoming = incoming_key(&row.key);
    let copied = store.copy(&incoming, &row.key).await?;
    if let Err(refused) = check_object(store, row).await {
        store.delete(&row.key).await?;
        return Err(refused);
    }
    if copied {
        store.delete(&incoming).await?;
    }
    Ok(())
}

async fn check_object(store: &dyn ObjectStore, row: &Row) -> Result<(), UploadError> {
    let key = &row.key;
    let Some(meta) = store.head(key).await? else {
        return Err(UploadError::NotUploaded { key: key.clone() });
    };
    let declared = u64::try_from(row.content_length).unwrap_or(0);
    if meta.size != declared {
        return Err(UploadError::SizeMismatch {
            key: key.clone(),
            declared,
            actual: meta.size,
        });
    }
    let header = store
        .read_prefix(key, HEADER_BYTES)
        .await?
        .ok_or_else(|| UploadError::NotUploaded { key: key.clone() })?;
    if sniff(&header) != Some(row.content_type) {
        return Err(UploadError::NotAnImage {
            key: key.clone(),
            declared: row.content_type,
        });
    }
    // Dimensions not found in the header are checked again where the image is decoded.
    if let Ok(size) = imagesize::blob_size(&header) {
        let side = |side: usize| u32::try_from(side).unwrap_or(u32::MAX);
        super::image::check_size(side(size.width), side(size.height), meta.size).map_err(
            |image| UploadError::TooLargeImage {
                key: key.clone(),
                image,
            },
        )?;
    }
    Ok(())
}

/// Marks `owner`'s uploads as released by their content for good (a replaced or removed photo):
/// they are removed from storage by [`remove_discarded`] and, failing that, by the hourly
/// [`prune_unattached`]; no content may take them again.
pub async fn discard(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), UploadError> {
    diesel::update(
        uploads::table
            .filter(uploads::key.eq_any(keys))
            .filter(uploads::owner_id.eq(owner)),
    )
    .set(uploads::discarded_at.eq(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes discarded uploads now (their objects, what was derived from them, then their rows).
/// Keys not discarded are left alone.
pub async fn remove_discarded(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    keys: &[String],
) -> Result<(), UploadError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let due: Vec<String> = uploads::table
            .filter(uploads::key.eq_any(keys))
            .filter(uploads::discarded_at.is_not_null())
            .for_update()
            .skip_locked()
            .select(uploads::key)
            .load(conn)
            .await?;
        remove_objects(store, &due).await?;
        diesel::delete(uploads::table.filter(uploads::key.eq_any(&due)))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Removes the objects of uploads (where the client put them, too) and what was derived from
/// them.
async fn remove_objects(store: &dyn ObjectStore, keys: &[String]) -> Result<(), UploadError> {
    for key in keys {
        store.delete(&incoming_key(key)).await?;
        store.delete(key).await?;
        for derived in super::image::derived_keys(key) {
            store.delete(&derived).await?;
        }
    }
    Ok(())
}

/// What the first bytes of a file say it is, among the accepted image types.
pub fn sniff(prefix: &[u8]) -> Option<ImageType> {
    infer::get(prefix).and_then(|kind| ImageType::parse(kind.mime_type()))
}

/// Removes, chunk by chunk, uploads that nothing used within `settings.unattached_ttl`, and
/// discarded ones: first the objects, then the row, so a failure leaves the row to try again.
/// Returns how many went.
pub async fn prune_unattached(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    settings: &UploadSettings,
    chunk: i64,
    now: DateTime<Utc>,
) -> Result<u64, UploadError> {
    use diesel_async::AsyncConnection as _;
    let cutoff = now - settings.unattached_ttl;
    let mut removed = 0;
    loop {
        let gone = conn
            .transaction(async |conn| -> Result<usize, UploadError> {
                let due: Vec<String> = uploads::table
                    .filter(
                        uploads::attached_at
                            .is_null()
                            .and(uploads::created_at.le(cutoff))
                            .or(uploads::discarded_at.is_not_null()),
                    )
                    .order(uploads::created_at)
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select(uploads::key)
                    .load(conn)
                    .await?;
                remove_objects(store, &due).await?;
                diesel::delete(uploads::table.filter(uploads::key.eq_any(&due)))
                    .execute(conn)
                    .await?;
                Ok(due.len())
            })
            .await?;
        removed += gone as u64;
        if (gone as i64) < chunk {
            return Ok(removed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_tell_the_image_type() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageType::Png)
        );
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageType::Jpeg));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(ImageType::Gif));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(sniff(b"just some text, not a picture"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
    }
}
