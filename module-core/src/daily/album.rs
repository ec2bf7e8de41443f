//! The daily album (하루 한 컷): one photo per member per business day, private or public. A
//! day's photo may be replaced (the old object is discarded and removed from storage) or
//! removed; each photo gets a 320 px WebP thumbnail, made once by the batch binary and stored
//! next to the original, which lists show. Public photos form a feed; moderation hides them
//! like any other content.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::community::block;
use crate::db::{self, DbError};
use crate::identity::rules::public_name;
use crate::identity::{self, Suspended, UserId};
use crate::platform::business_days::BusinessCalendar;
use crate::platform::upload::{self, Purpose, UploadError};
use crate::ports::{ObjectStore, Thumbnailer};
use crate::schema::{album_photos, users};

crate::id_type! {
    /// A photo of the album (`album_photos.id`).
    pub struct AlbumPhotoId;
}

crate::text_enum! {
    /// Who sees a day's photo besides its owner.
    pub enum Visibility {
        Private = "PRIVATE",
        Public = "PUBLIC",
    }
}

/// Thumbnails are this many pixels wide (never enlarged); see [`upload::THUMBNAIL_SUFFIX`].
pub const THUMBNAIL_WIDTH: u32 = 320;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = album_photos)]
pub struct AlbumPhoto {
    pub id: AlbumPhotoId,
    pub user_id: UserId,
    pub day: NaiveDate,
    pub image_key: String,
    pub thumbnail_key: Option<String>,
    pub caption: String,
    pub visibility: Visibility,
    pub hidden_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AlbumPhoto {
    /// What lists show: the thumbnail once made, the original until then.
    pub fn preview_key(&self) -> &str {
        self.thumbnail_key.as_deref().unwrap_or(&self.image_key)
    }
}

/// A public photo in the feed, with its owner's name.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct FeedPhoto {
    pub photo: AlbumPhoto,
    pub owner_name: String,
}

/// A day's photo as its owner puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoDraft {
    pub image_key: String,
    pub caption: String,
    pub visibility: Visibility,
}

#[derive(Debug, thiserror::Error)]
pub enum AlbumError {
    #[error("no photo on that day")]
    NotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("{day} has not come yet (today is {today})")]
    FutureDay { day: NaiveDate, today: NaiveDate },
    #[error("that image is the photo of another day already")]
    ImageInUse,
    #[error(transparent)]
    Suspended(#[from] Suspended),
    #[error(transparent)]
    EmailNotVerified(#[from] identity::EmailNotVerified),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for AlbumError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

/// The outcome of putting a day's photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    pub photo: AlbumPhoto,
    /// Whether the day had no photo before.
    pub created: bool,
    /// The image the day had before, now discarded (see [`upload::remove_discarded`]).
    pub replaced_key: Option<String>,
}

fn visible_photos() -> album_photos::BoxedQuery<'static, diesel::pg::Pg> {
    album_photos::table
        .filter(album_photos::deleted_at.is_null())
        .into_boxed()
}

/// Puts `owner`'s photo of `day` (today or earlier in the business calendar): a new photo, or
/// a new image, caption or visibility for the day's photo. A replaced image is discarded in the
/// same transaction. The day's moderation (if hidden) stays.
pub async fn put(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    calendar: &BusinessCalendar,
    owner: UserId,
    day: NaiveDate,
    draft: PhotoDraft,
    now: DateTime<Utc>,
) -> Result<Put, AlbumError> {
    let today = calendar.day_of(now);
    if day > today {
        return Err(AlbumError::FutureDay { day, today });
    }
    // A public photo joins the feed others read.
    if draft.visibility == Visibility::Public {
        identity::ensure_can_publish::<AlbumError>(conn, owner).await?;
    } else {
        identity::ensure_can_write::<AlbumError>(conn, owner).await?;
    }
    // The day's own image may be given again (a new caption): it is the photo's already.
    let current: Option<String> = album_photos::table
        .filter(album_photos::deleted_at.is_null())
        .filter(album_photos::user_id.eq(owner))
        .filter(album_photos::day.eq(day))
        .select(album_photos::image_key)
        .first(conn)
        .await
        .optional()?;
    let image = upload::verify(
        conn,
        store,
        owner,
        Purpose::Album,
        std::slice::from_ref(&draft.image_key),
        current.as_slice(),
    )
    .await?;
    let outcome = conn
        .transaction(async |conn| {
            image.attach(conn, now).await?;
            let before: Option<AlbumPhoto> = album_photos::table
                .filter(album_photos::deleted_at.is_null())
                .filter(album_photos::user_id.eq(owner))
                .filter(album_photos::day.eq(day))
                .select(AlbumPhoto::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?;
            match before {
                Some(before) => {
                    let replaced = before.image_key != draft.image_key;
                    if replaced {
                        upload::discard(conn, owner, std::slice::from_ref(&before.image_key), now)
                            .await?;
                    }
                    let change = PhotoChange {
                        image_key: &draft.image_key,
                        caption: &draft.caption,
                        visibility: draft.visibility,
                        // A new image waits for its own thumbnail (and gets its own try).
                        thumbnail_key: replaced.then_some(None),
                        thumbnail_failed_at: replaced.then_some(None),
                        updated_at: now,
                    };
                    let photo = diesel::update(album_photos::table.find(before.id))
                        .set(change)
                        .returning(AlbumPhoto::as_returning())
                        .get_result(conn)
                        .await?;
                    Ok::<_, AlbumError>(Put {
                        photo,
                        created: false,
                        replaced_key: replaced.then_some(before.image_key),
                    })
                }
                None => {
                    let photo = diesel::insert_into(album_photos::table)
                        .values((
                            album_photos::user_id.eq(owner),
                            album_photos::day.eq(day),
                            album_photos::image_key.eq(&draft.image_key),
                            album_photos::caption.eq(&draft.caption),
                            album_photos::visibility.eq(draft.visibility),
                            album_photos::created_at.eq(now),
                            album_photos::updated_at.eq(now),
                        ))
                        .returning(AlbumPhoto::as_returning())
                        .get_result(conn)
                        .await?;
                    Ok(Put {
                        photo,
                        created: true,
                        replaced_key: None,
                    })
                }
            }
        })
        .await;
    let unique = diesel::result::DatabaseErrorKind::UniqueViolation;
    match outcome {
        Err(AlbumError::Database(DbError::Query(error)))
            if db::violates(&error, unique, "album_photos_image") =>
        {
            Err(AlbumError::ImageInUse)
        }
        // Two first photos of one day at once: the later one replaces the earlier, as it would
        // have a moment after.
        Err(AlbumError::Database(DbError::Query(error)))
            if db::violates(&error, unique, "album_photos_one_a_day") =>
        {
            Box::pin(put(conn, store, calendar, owner, day, draft, now)).await
        }
        other => other,
    }
}

/// A day's photo as a put changes it: its thumbnail columns only when the image is new.
#[derive(AsChangeset)]
#[diesel(table_name = album_photos)]
struct PhotoChange<'a> {
    image_key: &'a str,
    caption: &'a str,
    visibility: Visibility,
    thumbnail_key: Option<Option<String>>,
    thumbnail_failed_at: Option<Option<DateTime<Utc>>>,
    updated_at: DateTime<Utc>,
}

/// Removes `owner`'s photo of `day`; its image is discarded. Returns the discarded key.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<String, AlbumError> {
    conn.transaction(async |conn| {
        let key: String = diesel::delete(
            album_photos::table
                .filter(album_photos::user_id.eq(owner))
                .filter(album_photos::day.eq(day))
                .filter(album_photos::deleted_at.is_null()),
        )
        .returning(album_photos::image_key)
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AlbumError::NotFound)?;
        upload::discard(conn, owner, std::slice::from_ref(&key), now).await?;
        Ok(key)
    })
    .await
}

/// The photos of a month of `owner`'s album, by day: all of them for the owner (hidden ones
/// too, flagged), only the public and unhidden ones for anyone else.
pub async fn month(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    viewer: Option<UserId>,
    first_day: NaiveDate,
) -> Result<Vec<AlbumPhoto>, AlbumError> {
    if viewer != Some(owner) {
        let known: i64 = users::table.find(owner).count().get_result(conn).await?;
        if known == 0 {
            return Err(AlbumError::UserNotFound);
        }
    }
    let next_month = first_day
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    let mut query = visible_photos()
        .filter(album_photos::user_id.eq(owner))
        .filter(album_photos::day.ge(first_day))
        .filter(album_photos::day.lt(next_month));
    if viewer != Some(owner) {
        if block::hides(conn, viewer, owner).await? {
            return Ok(Vec::new());
        }
        query = query
            .filter(album_photos::visibility.eq(Visibility::Public))
            .filter(album_photos::hidden_at.is_null());
    }
    Ok(query
        .order(album_photos::day)
        .select(AlbumPhoto::as_select())
        .load(conn)
        .await?)
}

/// Everyone's public photos, newest first, before the photo `before` (but those of members
/// the reader blocks).
pub async fn feed(
    conn: &mut AsyncPgConnection,
    reader: Option<UserId>,
    before: Option<AlbumPhotoId>,
    limit: i64,
) -> Result<Vec<FeedPhoto>, AlbumError> {
    let mut query = album_photos::table
        .inner_join(users::table)
        .filter(album_photos::visibility.eq(Visibility::Public))
        .filter(album_photos::hidden_at.is_null())
        .filter(album_photos::deleted_at.is_null())
        .into_boxed();
    if let Some(reader) = reader {
        query = query.filter(diesel::dsl::not(
            album_photos::user_id.eq_any(block::hidden_authors(reader)),
        ));
    }
    if let Some(before) = before {
        query = query.filter(album_photos::id.lt(before));
    }
    Ok(query
        .order(album_photos::id.desc())
        .limit(limit)
        .select((
            AlbumPhoto::as_select(),
            public_name(users::nickname, users::name),
        ))
        .load::<(AlbumPhoto, String)>(conn)
        .await?
        .into_iter()
        .map(|(photo, owner_name)| FeedPhoto { photo, owner_name })
        .collect())
}

/// My photos of today's month and day in earlier years, the latest year first.
pub async fn on_this_day(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    today: NaiveDate,
) -> Result<Vec<AlbumPhoto>, AlbumError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Integer};
    let (month, day) = (today.month() as i32, today.day() as i32);
    Ok(visible_photos()
        .filter(album_photos::user_id.eq(owner))
        .filter(album_photos::day.lt(today))
        .filter(
            sql::<Bool>("extract(month FROM day) = ")
                .bind::<Integer, _>(month)
                .sql(" AND extract(day FROM day) = ")
                .bind::<Integer, _>(day),
        )
        .order(album_photos::day.desc())
        .select(AlbumPhoto::as_select())
        .load(conn)
        .await?)
}

/// Where a photo's thumbnail is stored: next to the original (and removed with it).
pub fn thumbnail_key_of(image_key: &str) -> String {
    upload::derived_key(image_key, upload::THUMBNAIL_SUFFIX)
}

/// What a thumbnail run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThumbnailCounts {
    pub made: u64,
    /// Photos whose image the thumbnailer cannot read: marked, not tried again.
    pub failed: u64,
}

/// Makes the thumbnails that are missing, `chunk` photos per transaction; instances share the
/// work (`SKIP LOCKED`). A storage failure stops the run and leaves the rest for the next.
pub async fn make_thumbnails(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    thumbnailer: &dyn Thumbnailer,
    chunk: i64,
    now: DateTime<Utc>,
) -> Result<ThumbnailCounts, AlbumError> {
    let mut counts = ThumbnailCounts::default();
    loop {
        let claimed = conn
            .transaction(async |conn| {
                let due: Vec<(AlbumPhotoId, String)> = album_photos::table
                    .filter(album_photos::thumbnail_key.is_null())
                    .filter(album_photos::thumbnail_failed_at.is_null())
                    .filter(album_photos::deleted_at.is_null())
                    .order(album_photos::id)
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select((album_photos::id, album_photos::image_key))
                    .load(conn)
                    .await?;
                for (id, image_key) in &due {
                    let image = store.read(image_key).await.map_err(UploadError::from)?;
                    let made = match image {
                        Some(image) => thumbnailer.webp(image, THUMBNAIL_WIDTH).await,
                        None => Err(crate::ports::ThumbnailError("the image is gone".into())),
                    };
                    match made {
                        Ok(thumbnail) => {
                            let key = thumbnail_key_of(image_key);
                            store
                                .put(&key, thumbnail, "image/webp")
                                .await
                                .map_err(UploadError::from)?;
                            diesel::update(album_photos::table.find(id))
                                .set(album_photos::thumbnail_key.eq(key))
                                .execute(conn)
                                .await?;
                            counts.made += 1;
                        }
                        Err(error) => {
                            tracing::warn!(photo = %id, %error, "album thumbnail not made");
                            diesel::update(album_photos::table.find(id))
                                .set(album_photos::thumbnail_failed_at.eq(now))
                                .execute(conn)
                                .await?;
                            counts.failed += 1;
                        }
                    }
                }
                Ok::<_, AlbumError>(due.len())
            })
            .await?;
        if (claimed as i64) < chunk {
            return Ok(counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_sit_next_to_their_originals() {
        assert_eq!(
            thumbnail_key_of("album/42/0190abc.jpg"),
            "album/42/0190abc.320.webp"
        );
        assert_eq!(
            thumbnail_key_of("album/42/plain"),
            "album/42/plain.320.webp"
        );
    }
}
