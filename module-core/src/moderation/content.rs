//! The kinds of content moderation acts on, each [`Reportable`]: how its live rows are locked,
//! hidden, shown again and deleted, who may read it at all, and which parent counts it. Each
//! kind speaks to its own tables in typed queries; a new kind is one more implementation and
//! one more arm of [`TargetType::content`] (and of `queue.sql`, which shows its excerpt).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::TargetType;
use crate::daily::album::Visibility;
use crate::platform::image;
use crate::schema::{
    album_photos, chat_members, chat_messages, listings, place_reviews, places, post_comments,
    posts,
};
use crate::types::UserId;

/// Live content, locked: who wrote it (nobody for a place) and since when it is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub author_id: Option<UserId>,
    pub hidden_at: Option<DateTime<Utc>>,
}

/// Which items of a kind its parent counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountRule {
    /// Every live item, hidden or not (a post's comments: the thread's shape).
    Live,
    /// The live items readers see (a place's rating): hiding and showing move the counts too,
    /// so the parent is locked before the content wherever its visibility changes, reports
    /// included.
    Seen,
}

/// What moderation does to one kind of content (Lemmy's `Reportable`). Rows have `hidden_at`
/// and `deleted_at`; a deleted item keeps its words, as evidence should a decision be disputed.
#[async_trait]
pub trait Reportable: Sync {
    /// The live item `id`, locked.
    async fn lock(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Locked>>;

    /// Hides the item, keeping the first hiding's time.
    async fn hide(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        now: DateTime<Utc>,
    ) -> QueryResult<()>;

    /// Shows the item again.
    async fn show(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()>;

    /// Deletes the item as its author would; whether it was live.
    async fn delete(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        now: DateTime<Utc>,
    ) -> QueryResult<bool>;

    /// Whether `reader` reads the item at all, hidden or not (a chat message: the room's
    /// members; a private photo: its owner).
    async fn readable_by(
        &self,
        _conn: &mut AsyncPgConnection,
        _id: i64,
        _reader: UserId,
    ) -> QueryResult<bool> {
        Ok(true)
    }

    /// Locks the item's parent, before the item, when a decision may move the parent's counts
    /// (deleting a comment changes its post's count). Reports leave parents alone unless they
    /// may hide what the parent counts as seen, so that reports of comments do not queue
    /// behind a busy post's likes.
    async fn lock_parent(&self, _conn: &mut AsyncPgConnection, _id: i64) -> QueryResult<()> {
        Ok(())
    }

    /// How the parent counts items of this kind, if it does.
    fn counted(&self) -> Option<CountRule> {
        None
    }

    /// Moves the parent's counts of the item by `by` (1 or -1).
    async fn count(&self, _conn: &mut AsyncPgConnection, _id: i64, _by: i32) -> QueryResult<()> {
        Ok(())
    }

    /// The uploads the item shows: withheld from public reach while it is hidden or deleted.
    async fn image_keys(
        &self,
        _conn: &mut AsyncPgConnection,
        _id: i64,
    ) -> QueryResult<Vec<String>> {
        Ok(Vec::new())
    }
}

impl TargetType {
    /// What moderation does to content of this kind.
    pub fn content(self) -> &'static dyn Reportable {
        match self {
            Self::Post => &Posts,
            Self::Comment => &Comments,
            Self::Listing => &Listings,
            Self::ChatMessage => &ChatMessages,
            Self::PlaceReview => &PlaceReviews,
            Self::Place => &Places,
            Self::AlbumPhoto => &AlbumPhotos,
        }
    }
}

/// Hides the locked item or shows it again, moving what its parent counts as seen.
pub(super) async fn set_hidden(
    content: &dyn Reportable,
    conn: &mut AsyncPgConnection,
    id: i64,
    locked: &Locked,
    hidden: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if hidden {
        content.hide(conn, id, now).await?;
    } else {
        content.show(conn, id).await?;
    }
    let images = content.image_keys(conn, id).await?;
    image::withhold(conn, &images, hidden, now).await?;
    if locked.hidden_at.is_some() != hidden {
        count(
            content,
            conn,
            id,
            CountRule::Seen,
            if hidden { -1 } else { 1 },
        )
        .await?;
    }
    Ok(())
}

/// Deletes the locked item, moving its parent's counts.
pub(super) async fn delete(
    content: &dyn Reportable,
    conn: &mut AsyncPgConnection,
    id: i64,
    locked: &Locked,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if content.delete(conn, id, now).await? {
        let images = content.image_keys(conn, id).await?;
        image::withhold(conn, &images, true, now).await?;
        count(content, conn, id, CountRule::Live, -1).await?;
        if locked.hidden_at.is_none() {
            count(content, conn, id, CountRule::Seen, -1).await?;
        }
    }
    Ok(())
}

/// Moves the parent's counts by `by`, if it counts the content by `rule`.
async fn count(
    content: &dyn Reportable,
    conn: &mut AsyncPgConnection,
    id: i64,
    rule: CountRule,
    by: i32,
) -> QueryResult<()> {
    if content.counted() == Some(rule) {
        content.count(conn, id, by).await?;
    }
    Ok(())
}

/// A `Reportable` whose rows live in `$table` (with `id`, `hidden_at` and `deleted_at`), written
/// by `$author` (or by `nobody`), with the methods that differ from the defaults after the `;`.
macro_rules! reportable {
    ($kind:ident: $table:ident by nobody; $($methods:tt)*) => {
        reportable!(@impl $kind, $table, None::<UserId>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(); $($methods)*);
    };
    ($kind:ident: $table:ident by $author:ident; $($methods:tt)*) => {
        reportable!(@impl $kind, $table, $table::$author.nullable(); $($methods)*);
    };
    (@impl $kind:ident, $table:ident, $author:expr; $($methods:tt)*) => {
        pub struct $kind;

        #[async_trait]
        impl Reportable for $kind {
            async fn lock(
                &self,
                conn: &mut AsyncPgConnection,
                id: i64,
            ) -> QueryResult<Option<Locked>> {
                let row: Option<(Option<UserId>, Option<DateTime<Utc>>)> = $table::table
                    .find(id)
                    .filter($table::deleted_at.is_null())
                    .select(($author, $table::hidden_at))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                Ok(row.map(|(author_id, hidden_at)| Locked { author_id, hidden_at }))
            }

            async fn hide(
                &self,
                conn: &mut AsyncPgConnection,
                id: i64,
                now: DateTime<Utc>,
            ) -> QueryResult<()> {
                diesel::update($table::table.find(id).filter($table::hidden_at.is_null()))
                    .set($table::hidden_at.eq(now))
                    .execute(conn)
                    .await
                    .map(drop)
            }

            async fn show(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
                diesel::update($table::table.find(id))
                    .set($table::hidden_at.eq(None::<DateTime<Utc>>))
                    .execute(conn)
                    .await
                    .map(drop)
            }

            async fn delete(
                &self,
                conn: &mut AsyncPgConnection,
                id: i64,
                now: DateTime<Utc>,
            ) -> QueryResult<bool> {
                diesel::update($table::table.find(id).filter($table::deleted_at.is_null()))
                    .set($table::deleted_at.eq(now))
                    .execute(conn)
                    .await
                    .map(|deleted| deleted == 1)
            }

            $($methods)*
        }
    };
}

reportable!(Posts: posts by author_id;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let keys: Option<Vec<String>> =
            posts::table.find(id).select(posts::image_keys).first(conn).await.optional()?;
        Ok(keys.unwrap_or_default())
    }
);

reportable!(Comments: post_comments by author_id;
    async fn lock_parent(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
        posts::table
            .filter(posts::id.eq_any(post_of(id)))
            .select(posts::id)
            .for_update()
            .load::<i64>(conn)
            .await
            .map(drop)
    }

    fn counted(&self) -> Option<CountRule> {
        Some(CountRule::Live)
    }

    async fn count(&self, conn: &mut AsyncPgConnection, id: i64, by: i32) -> QueryResult<()> {
        diesel::update(posts::table.filter(posts::id.eq_any(post_of(id))))
            .set(posts::comment_count.eq(posts::comment_count + by))
            .execute(conn)
            .await
            .map(drop)
    }
);

/// The post of comment `id`, as a subquery.
fn post_of(
    id: i64,
) -> diesel::dsl::Select<diesel::dsl::Find<post_comments::table, i64>, post_comments::post_id> {
    post_comments::table.find(id).select(post_comments::post_id)
}

reportable!(Listings: listings by seller_id;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let keys: Option<Vec<String>> =
            listings::table.find(id).select(listings::image_keys).first(conn).await.optional()?;
        Ok(keys.unwrap_or_default())
    }
);

// Places have no author: nobody's own, hidden from all but admins.
reportable!(Places: places by nobody;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let keys: Option<Vec<String>> =
            places::table.find(id).select(places::image_keys).first(conn).await.optional()?;
        Ok(keys.unwrap_or_default())
    }
);

reportable!(PlaceReviews: place_reviews by author_id;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let keys: Option<Vec<String>> =
            place_reviews::table.find(id).select(place_reviews::image_keys).first(conn).await.optional()?;
        Ok(keys.unwrap_or_default())
    }

    async fn lock_parent(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
        places::table
            .filter(
                places::id.eq_any(place_reviews::table.find(id).select(place_reviews::place_id)),
            )
            .select(places::id)
            .for_update()
            .load::<i64>(conn)
            .await
            .map(drop)
    }

    // The place's rating counts the reviews readers see: a review hidden (by reports or an
    // admin) or deleted leaves it, one shown again comes back.
    fn counted(&self) -> Option<CountRule> {
        Some(CountRule::Seen)
    }

    async fn count(&self, conn: &mut AsyncPgConnection, id: i64, by: i32) -> QueryResult<()> {
        let Some((place, stars)) = place_reviews::table
            .find(id)
            .select((place_reviews::place_id, place_reviews::stars))
            .first::<(i64, i16)>(conn)
            .await
            .optional()?
        else {
            return Ok(());
        };
        diesel::update(places::table.find(place))
            .set((
                places::review_count.eq(places::review_count + by),
                places::star_sum.eq(places::star_sum + by * i32::from(stars)),
            ))
            .execute(conn)
            .await
            .map(drop)
    }
);

reportable!(AlbumPhotos: album_photos by user_id;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let key: Option<Option<String>> = album_photos::table
            .find(id)
            .select(album_photos::image_key.nullable())
            .first(conn)
            .await
            .optional()?;
        Ok(key.flatten().into_iter().collect())
    }

    // A private photo is its owner's alone: no one else can see it to report it.
    async fn readable_by(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        reader: UserId,
    ) -> QueryResult<bool> {
        diesel::select(exists(
            album_photos::table.find(id).filter(
                album_photos::visibility
                    .eq(Visibility::Public)
                    .or(album_photos::user_id.eq(reader)),
            ),
        ))
        .get_result(conn)
        .await
    }
);

reportable!(ChatMessages: chat_messages by sender_id;
    async fn image_keys(&self, conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Vec<String>> {
        let key: Option<Option<String>> = chat_messages::table
            .find(id)
            .select(chat_messages::image_key.nullable())
            .first(conn)
            .await
            .optional()?;
        Ok(key.flatten().into_iter().collect())
    }

    async fn readable_by(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        reader: UserId,
    ) -> QueryResult<bool> {
        diesel::select(exists(
            chat_members::table
                .filter(
                    chat_members::room_id
                        .eq_any(chat_messages::table.find(id).select(chat_messages::room_id)),
                )
                .filter(chat_members::user_id.eq(reader)),
        ))
        .get_result(conn)
        .await
    }
);
