//! The daily album (하루 한 컷): one photo per member per business day, private or public. A
//! day's photo may be replaced (the old object is discarded and removed from storage) or
//! removed; its served versions are made like every upload's (`platform::image`). Public photos
//! form a feed; moderation hides them like any other content.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::community::block;
use crate::db::{self, DbError};
use crate::identity::rules::public_name;
use crate::identity::{self, Suspended, UserId};
use crate::platform::business_days::BusinessCalendar;
use crate::platform::upload::{self, Purpose, UploadError};
use crate::ports::ObjectStore;
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

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = album_photos)]
pub struct AlbumPhoto {
    pub id: AlbumPhotoId,
    pub user_id: UserId,
    pub day: NaiveDate,
    pub image_key: String,
    pub caption: String,
    pub visibility: Visibility,
    pub hidden_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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

/// A day's photo as a put changes it.
#[derive(AsChangeset)]
#[diesel(table_name = album_photos)]
struct PhotoChange<'a> {
    image_key: &'a str,
    caption: &'a str,
    visibility: Visibility,
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
