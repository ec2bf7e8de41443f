//! The served versions of uploaded images. Once content takes an upload, the `image-versions`
//! job decodes it once (never in a request) and writes three WebP versions next to it, under
//! keys no client ever had a URL for, then deletes the original: what is served carries no
//! metadata of the original and cannot be swapped. Until then, and for an image that failed or
//! that moderation withheld, responses point at a placeholder; [`ImageLinks::urls`] is the one
//! function that builds image URLs for every domain.
//!
//! Moderation withholds the images of content it hides or deletes: their versions move under
//! `withheld/` (out of a public base URL's reach, and purged from a CDN by key) and come back
//! when it shows the content again.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::upload::{Purpose, UploadError, UploadSettings};
use crate::ports::{Cdn, ImageError, ImageProcessor, ObjectStore, ObjectStoreError, Shape};
use crate::schema::uploads;

/// The most pixels an image may have (40 megapixels): decoding more would take more memory than
/// a phone photo ever needs.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Above this many pixels, a file that claims more than [`MAX_PIXELS_PER_BYTE`] pixels per byte
/// of its size is a decompression bomb, not a photo.
const BOMB_CHECKED_ABOVE: u64 = 4_000_000;
/// Photos hold a few pixels per byte (a 12-megapixel JPEG of 3 MB: 4); flat drawings hundreds.
pub const MAX_PIXELS_PER_BYTE: u64 = 1_000;

/// An image refused before decoding: too many pixels, or too many for its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the image is {width} × {height} pixels in {bytes} bytes; at most {MAX_PIXELS} pixels and \
     {MAX_PIXELS_PER_BYTE} pixels per byte are decoded"
)]
pub struct TooLargeImage {
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// Whether an image of these dimensions, `bytes` long, may be decoded.
pub fn check_size(width: u32, height: u32, bytes: u64) -> Result<(), TooLargeImage> {
    let pixels = u64::from(width) * u64::from(height);
    let bomb = pixels > BOMB_CHECKED_ABOVE && pixels > bytes.saturating_mul(MAX_PIXELS_PER_BYTE);
    if pixels > MAX_PIXELS || bomb {
        return Err(TooLargeImage {
            width,
            height,
            bytes,
        });
    }
    Ok(())
}

/// The served sizes: each the longest side in pixels (never enlarged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Lists.
    Thumb,
    /// Lists on large screens, cards.
    Medium,
    /// The image opened.
    Display,
}

impl Size {
    /// Every size, in the order [`ImageProcessor::versions`] returns them.
    pub const ALL: [Self; 3] = [Self::Thumb, Self::Medium, Self::Display];

    pub const fn longest_side(self) -> u32 {
        match self {
            Self::Thumb => 320,
            Self::Medium => 640,
            Self::Display => 1600,
        }
    }

    /// How the version's key ends (`{stem}.{suffix}`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::Thumb => "320.webp",
            Self::Medium => "640.webp",
            Self::Display => "1600.webp",
        }
    }
}

/// Where the `size` version of the upload `key` is served from: next to it, `{stem}.{suffix}`.
pub fn version_key(key: &str, size: Size) -> String {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    format!("{stem}.{}", size.suffix())
}

/// Where a version waits while moderation withholds it.
pub fn withheld_key(version_key: &str) -> String {
    format!("withheld/{version_key}")
}

/// Every object the server may hold for the upload `key` besides the original: its versions,
/// withheld or not, and the previews of earlier releases.
pub(super) fn derived_keys(key: &str) -> Vec<String> {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    let mut keys: Vec<String> = Size::ALL
        .into_iter()
        .flat_map(|size| {
            let version = version_key(key, size);
            [withheld_key(&version), version]
        })
        .collect();
    keys.push(format!("{stem}.256sq.webp"));
    keys
}

crate::text_enum! {
    /// Whether an image's versions are served.
    pub enum ImageStatus {
        /// The versions are served.
        Ready = "READY",
        /// The versions are being made; the placeholder is served.
        Processing = "PROCESSING",
        /// The image could not be read; the placeholder is served.
        Failed = "FAILED",
        /// Moderation withholds the content; the placeholder is served.
        Withheld = "WITHHELD",
    }
}

/// Where a client reads one image, per size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImageUrls {
    /// At most 320 px on the longest side (lists).
    pub thumb: String,
    /// At most 640 px.
    pub medium: String,
    /// At most 1,600 px (the image opened).
    pub display: String,
    /// `READY` once the versions exist; until then every URL is the placeholder's.
    pub status: ImageStatus,
}

/// Where clients read images from: a CDN in front of the bucket, or presigned `GET`s.
#[derive(Debug, Clone)]
pub enum Serving {
    PublicBase(String),
    Presigned { ttl: Duration },
}

/// How image URLs are built.
#[derive(Debug, Clone)]
pub struct ImageLinks {
    pub serving: Serving,
    /// What is shown for an image without served versions.
    pub placeholder: String,
}

impl ImageLinks {
    /// `PETORY_IMAGE_BASE_URL`: a public (CDN) base in front of the bucket; unset, responses
    /// carry presigned `GET`s valid for `settings.get_ttl`.
    pub fn from_env(
        settings: &UploadSettings,
        placeholder: String,
    ) -> Result<Self, crate::config::ConfigError> {
        let serving = match crate::config::var("PETORY_IMAGE_BASE_URL")? {
            Some(base) => Serving::PublicBase(base.trim_end_matches('/').to_owned()),
            None => Serving::Presigned {
                ttl: settings.get_ttl,
            },
        };
        Ok(Self {
            serving,
            placeholder,
        })
    }

    /// The public URL of `key` under a CDN base, if images are served from one.
    pub fn public_url(&self, key: &str) -> Option<String> {
        match &self.serving {
            Serving::PublicBase(base) => Some(format!("{base}/{key}")),
            Serving::Presigned { .. } => None,
        }
    }

    /// The URLs of each image, in order: its versions when [`ImageStatus::Ready`], the
    /// placeholder otherwise. Never the original.
    pub async fn urls(
        &self,
        store: &dyn ObjectStore,
        images: &[(String, ImageStatus)],
    ) -> Result<Vec<ImageUrls>, ObjectStoreError> {
        let mut all = Vec::with_capacity(images.len());
        for (key, status) in images {
            all.push(if *status == ImageStatus::Ready {
                let mut urls = Vec::with_capacity(Size::ALL.len());
                for size in Size::ALL {
                    let version = version_key(key, size);
                    urls.push(match &self.serving {
                        Serving::PublicBase(base) => format!("{base}/{version}"),
                        Serving::Presigned { ttl } => store.presign_get(&version, *ttl).await?.url,
                    });
                }
                let [thumb, medium, display] = <[String; 3]>::try_from(urls)
                    .unwrap_or_else(|_| unreachable!("one URL per size"));
                ImageUrls {
                    thumb,
                    medium,
                    display,
                    status: *status,
                }
            } else {
                ImageUrls {
                    thumb: self.placeholder.clone(),
                    medium: self.placeholder.clone(),
                    display: self.placeholder.clone(),
                    status: *status,
                }
            });
        }
        Ok(all)
    }
}

/// Each key with the status of its versions (a key without an upload is still processing, as
/// far as a reader can tell).
pub async fn statuses(
    conn: &mut AsyncPgConnection,
    keys: &[String],
) -> QueryResult<Vec<(String, ImageStatus)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, bool, bool, bool)> = uploads::table
        .filter(uploads::key.eq_any(keys))
        .select((
            uploads::key,
            uploads::versions_at.is_not_null(),
            uploads::failed_at.is_not_null(),
            uploads::withheld_at.is_not_null(),
        ))
        .load(conn)
        .await?;
    let known: HashMap<String, ImageStatus> = rows
        .into_iter()
        .map(|(key, versions, failed, withheld)| {
            let status = if withheld {
                ImageStatus::Withheld
            } else if versions {
                ImageStatus::Ready
            } else if failed {
                ImageStatus::Failed
            } else {
                ImageStatus::Processing
            };
            (key, status)
        })
        .collect();
    Ok(keys
        .iter()
        .map(|key| {
            let status = known.get(key).copied().unwrap_or(ImageStatus::Processing);
            (key.clone(), status)
        })
        .collect())
}

/// What a run of the versions job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionCounts {
    /// Uploads whose versions were written.
    pub made: u64,
    /// Uploads that cannot be read: marked with the reason, not tried again.
    pub failed: u64,
}

/// How many images of a chunk are read, processed and written at once (the processor bounds
/// the decoding itself).
const IN_FLIGHT: usize = 8;

/// Makes the versions of every attached upload that has none, `chunk` uploads per transaction;
/// instances share the uploads (`SKIP LOCKED`). The originals go once their versions are
/// recorded. A storage failure stops the run (the chunk is tried again later).
pub async fn make_versions(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    processor: &dyn ImageProcessor,
    chunk: i64,
    now: DateTime<Utc>,
) -> Result<VersionCounts, UploadError> {
    let mut counts = VersionCounts::default();
    loop {
        let (made, claimed) = conn
            .transaction(async |conn| -> Result<(Vec<String>, usize), UploadError> {
                let due: Vec<(String, Purpose)> = uploads::table
                    .filter(uploads::attached_at.is_not_null())
                    .filter(uploads::versions_at.is_null())
                    .filter(uploads::failed_at.is_null())
                    .filter(uploads::discarded_at.is_null())
                    .order(uploads::attached_at)
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select((uploads::key, uploads::purpose))
                    .load(conn)
                    .await?;
                let results: Vec<(String, Result<(), Failure>)> =
                    futures_util::stream::iter(due.clone())
                        .map(move |(key, purpose)| async move {
                            let written = write_versions(store, processor, &key, purpose).await;
                            (key, written)
                        })
                        .buffer_unordered(IN_FLIGHT)
                        .collect()
                        .await;
                let mut made = Vec::new();
                for (key, result) in results {
                    match result {
                        Ok(()) => {
                            diesel::update(uploads::table.find(&key))
                                .set(uploads::versions_at.eq(now))
                                .execute(conn)
                                .await?;
                            made.push(key);
                        }
                        Err(Failure::Image(reason)) => {
                            tracing::warn!(%key, %reason, "image versions not made");
                            diesel::update(uploads::table.find(&key))
                                .set((
                                    uploads::failed_at.eq(now),
                                    uploads::failure.eq(truncated(&reason)),
                                ))
                                .execute(conn)
                                .await?;
                        }
                        Err(Failure::Store(error)) => return Err(error.into()),
                    }
                }
                Ok((made, due.len()))
            })
            .await?;
        counts.made += made.len() as u64;
        counts.failed += (claimed - made.len()) as u64;
        // The versions are recorded: the original is never served again. One left behind (a
        // storage failure) goes with its upload.
        for key in &made {
            if let Err(error) = store.delete(key).await {
                tracing::warn!(%key, %error, "original left in storage");
            }
        }
        if (claimed as i64) < chunk {
            return Ok(counts);
        }
    }
}

enum Failure {
    /// The image cannot be read (a reason for the upload's row).
    Image(String),
    Store(ObjectStoreError),
}

async fn write_versions(
    store: &dyn ObjectStore,
    processor: &dyn ImageProcessor,
    key: &str,
    purpose: Purpose,
) -> Result<(), Failure> {
    let original = store
        .read(key)
        .await
        .map_err(Failure::Store)?
        .ok_or_else(|| Failure::Image("the original is gone from storage".into()))?;
    let shape = if purpose == Purpose::Avatar {
        Shape::Square
    } else {
        Shape::Fit
    };
    let versions = processor
        .versions(original, shape)
        .await
        .map_err(|error: ImageError| Failure::Image(error.to_string()))?;
    for (size, bytes) in Size::ALL.into_iter().zip(versions) {
        store
            .put(&version_key(key, size), bytes, "image/webp")
            .await
            .map_err(Failure::Store)?;
    }
    Ok(())
}

/// The reason stored for a failed upload (the column holds 500 characters).
fn truncated(reason: &str) -> String {
    reason.chars().take(500).collect()
}

/// Withholds the images `keys` (content moderation hid or deleted) or serves them again; the
/// versions move on the next [`apply_withholding`].
pub async fn withhold(
    conn: &mut AsyncPgConnection,
    keys: &[String],
    withheld: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    diesel::update(uploads::table.filter(uploads::key.eq_any(keys)))
        .set(uploads::withheld_at.eq(withheld.then_some(now)))
        .execute(conn)
        .await
        .map(drop)
}

/// Moves the versions of images whose withholding changed: under `withheld/` (and purged from
/// the CDN) or back. Instances share the work (`SKIP LOCKED`); returns how many images moved.
pub async fn apply_withholding(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    cdn: &dyn Cdn,
    chunk: i64,
) -> Result<u64, UploadError> {
    let mut moved = 0;
    loop {
        let (count, purged) = conn
            .transaction(async |conn| -> Result<(usize, Vec<String>), UploadError> {
                let due: Vec<(String, bool)> = uploads::table
                    .filter(uploads::versions_at.is_not_null())
                    .filter(
                        uploads::withheld_at
                            .is_not_null()
                            .ne(uploads::versions_withheld),
                    )
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select((uploads::key, uploads::withheld_at.is_not_null()))
                    .load(conn)
                    .await?;
                let mut purged = Vec::new();
                for (key, withhold) in &due {
                    for size in Size::ALL {
                        let public = version_key(key, size);
                        let private = withheld_key(&public);
                        let (from, to) = if *withhold {
                            (&public, &private)
                        } else {
                            (&private, &public)
                        };
                        if store.copy(from, to).await? {
                            store.delete(from).await?;
                        }
                        purged.push(public);
                    }
                    diesel::update(uploads::table.find(key))
                        .set(uploads::versions_withheld.eq(withhold))
                        .execute(conn)
                        .await?;
                }
                Ok((due.len(), purged))
            })
            .await?;
        moved += count as u64;
        if !purged.is_empty()
            && let Err(error) = cdn.purge(&purged).await
        {
            tracing::warn!(%error, "CDN not purged of withheld images");
        }
        if (count as i64) < chunk {
            return Ok(moved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sit_next_to_their_upload() {
        assert_eq!(
            version_key("post/42/0190abc.jpg", Size::Thumb),
            "post/42/0190abc.320.webp"
        );
        assert_eq!(
            version_key("post/42/0190abc.jpg", Size::Display),
            "post/42/0190abc.1600.webp"
        );
        assert_eq!(
            withheld_key("post/42/0190abc.640.webp"),
            "withheld/post/42/0190abc.640.webp"
        );
        assert_eq!(derived_keys("album/1/a.png").len(), 7);
    }

    #[test]
    fn photos_pass_and_bombs_do_not() {
        // A 12-megapixel phone photo of 3 MB.
        assert!(check_size(4000, 3000, 3_000_000).is_ok());
        // A small flat drawing compresses far, and is small enough not to matter.
        assert!(check_size(1000, 1000, 2_000).is_ok());
        // Too many pixels, whatever the size.
        assert!(check_size(8000, 6000, 10_000_000).is_err());
        assert!(check_size(20_000, 20_000, 10_000_000).is_err());
        // 36 megapixels in 20 kB: a decompression bomb.
        assert!(check_size(6000, 6000, 20_000).is_err());
        assert!(check_size(u32::MAX, u32::MAX, u64::MAX).is_err());
    }
}
