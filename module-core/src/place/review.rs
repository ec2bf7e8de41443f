//! Reviews of places: one live review per member and place, stars 1 to 5; the place's count
//! and sum of stars move in the review's transaction under the place's lock.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::ensure_can_publish;
use super::{PlaceError, PlaceId, lock_visible};
use crate::community::Viewer;
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::{place_reviews, places, users};

crate::id_type! {
    /// A review of a place (`place_reviews.id`).
    pub struct PlaceReviewId;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = place_reviews)]
pub struct PlaceReview {
    pub id: PlaceReviewId,
    pub place_id: PlaceId,
    pub author_id: UserId,
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A review with its author's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewView {
    pub review: PlaceReview,
    pub author_name: String,
}

#[derive(Debug, Clone)]
pub struct ReviewDraft {
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
}

/// How reviews list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReviewSort {
    #[default]
    Newest,
    /// Most stars first, then newest.
    Stars,
}

/// Where the next page starts: after this review (with these stars, for [`ReviewSort::Stars`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewCursor {
    pub stars: i16,
    pub id: PlaceReviewId,
}

/// Moves a place's review count and star sum: they count the live reviews readers see (not
/// hidden ones; moderation moves them when it hides or shows a review, `moderation::content`).
async fn move_rating(
    conn: &mut AsyncPgConnection,
    id: PlaceId,
    reviews: i32,
    stars: i32,
) -> Result<(), PlaceError> {
    diesel::update(places::table.find(id))
        .set((
            places::review_count.eq(places::review_count + reviews),
            places::star_sum.eq(places::star_sum + stars),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn view(conn: &mut AsyncPgConnection, id: PlaceReviewId) -> Result<ReviewView, PlaceError> {
    let (review, author_name) = place_reviews::table
        .inner_join(users::table)
        .filter(place_reviews::id.eq(id))
        .select((
            PlaceReview::as_select(),
            public_name(users::nickname, users::name),
        ))
        .first(conn)
        .await?;
    Ok(ReviewView {
        review,
        author_name,
    })
}

/// Reviews a place, once per member (`AlreadyReviewed` otherwise).
pub async fn create(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    author: UserId,
    place: PlaceId,
    draft: ReviewDraft,
    now: DateTime<Utc>,
) -> Result<ReviewView, PlaceError> {
    ensure_can_publish(conn, author).await?;
    let images = upload::verify(
        conn,
        store,
        author,
        Purpose::PlaceReview,
        &draft.image_keys,
        &[],
    )
    .await?;
    let id = conn
        .transaction(async |conn| -> Result<PlaceReviewId, PlaceError> {
            lock_visible(conn, place).await?;
            images.attach(conn, now).await?;
            let id: PlaceReviewId = diesel::insert_into(place_reviews::table)
                .values((
                    place_reviews::place_id.eq(place),
                    place_reviews::author_id.eq(author),
                    place_reviews::stars.eq(draft.stars),
                    place_reviews::content.eq(draft.content.trim()),
                    place_reviews::image_keys.eq(&draft.image_keys),
                    place_reviews::created_at.eq(now),
                    place_reviews::updated_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .returning(place_reviews::id)
                .get_result(conn)
                .await
                .optional()?
                .ok_or(PlaceError::AlreadyReviewed)?;
            move_rating(conn, place, 1, i32::from(draft.stars)).await?;
            Ok(id)
        })
        .await?;
    view(conn, id).await
}

/// My live review, its place locked (the place first, as every writer of it locks).
async fn lock_mine(
    conn: &mut AsyncPgConnection,
    author: UserId,
    id: PlaceReviewId,
) -> Result<PlaceReview, PlaceError> {
    let place: PlaceId = place_reviews::table
        .find(id)
        .filter(place_reviews::author_id.eq(author))
        .filter(place_reviews::deleted_at.is_null())
        .select(place_reviews::place_id)
        .first(conn)
        .await
        .optional()?
        .ok_or(PlaceError::ReviewNotFound)?;
    lock_visible(conn, place).await?;
    place_reviews::table
        .find(id)
        .filter(place_reviews::deleted_at.is_null())
        .select(PlaceReview::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(PlaceError::ReviewNotFound)
}

/// Rewrites my review (stars, words, photos).
pub async fn update(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    author: UserId,
    id: PlaceReviewId,
    draft: ReviewDraft,
    now: DateTime<Utc>,
) -> Result<ReviewView, PlaceError> {
    ensure_can_publish(conn, author).await?;
    let before: Vec<String> = place_reviews::table
        .find(id)
        .filter(place_reviews::author_id.eq(author))
        .select(place_reviews::image_keys)
        .first(conn)
        .await
        .optional()?
        .ok_or(PlaceError::ReviewNotFound)?;
    let images = upload::verify(
        conn,
        store,
        author,
        Purpose::PlaceReview,
        &draft.image_keys,
        &before,
    )
    .await?;
    conn.transaction(async |conn| -> Result<(), PlaceError> {
        let review = lock_mine(conn, author, id).await?;
        images.attach(conn, now).await?;
        diesel::update(place_reviews::table.find(id))
            .set((
                place_reviews::stars.eq(draft.stars),
                place_reviews::content.eq(draft.content.trim()),
                place_reviews::image_keys.eq(&draft.image_keys),
                place_reviews::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        // A hidden review is not in the rating (moderation took it out).
        if review.hidden_at.is_some() {
            return Ok(());
        }
        move_rating(
            conn,
            review.place_id,
            0,
            i32::from(draft.stars) - i32::from(review.stars),
        )
        .await
    })
    .await?;
    view(conn, id).await
}

/// Deletes my review; the place's rating forgets it (a hidden one is already forgotten).
pub async fn delete(
    conn: &mut AsyncPgConnection,
    author: UserId,
    id: PlaceReviewId,
    now: DateTime<Utc>,
) -> Result<(), PlaceError> {
    conn.transaction(async |conn| {
        let review = lock_mine(conn, author, id).await?;
        diesel::update(place_reviews::table.find(id))
            .set(place_reviews::deleted_at.eq(now))
            .execute(conn)
            .await?;
        if review.hidden_at.is_some() {
            return Ok(());
        }
        move_rating(conn, review.place_id, -1, -i32::from(review.stars)).await
    })
    .await
}

/// A page of a place's reviews that `viewer` may read.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    place: PlaceId,
    sort: ReviewSort,
    after: Option<ReviewCursor>,
    limit: i64,
) -> Result<Vec<ReviewView>, PlaceError> {
    super::get(conn, viewer, place).await?;
    let mut query = place_reviews::table
        .inner_join(users::table)
        .filter(place_reviews::place_id.eq(place))
        .filter(place_reviews::deleted_at.is_null())
        .select((
            PlaceReview::as_select(),
            public_name(users::nickname, users::name),
        ))
        .into_boxed();
    // Hidden reviews show to their authors and admins only.
    if !viewer.admin {
        query = match viewer.user {
            Some(me) => query.filter(
                place_reviews::hidden_at
                    .is_null()
                    .or(place_reviews::author_id.eq(me)),
            ),
            None => query.filter(place_reviews::hidden_at.is_null()),
        };
    }
    query = match sort {
        ReviewSort::Newest => {
            if let Some(after) = after {
                query = query.filter(place_reviews::id.lt(after.id));
            }
            query.order(place_reviews::id.desc())
        }
        ReviewSort::Stars => {
            if let Some(after) = after {
                query = query.filter(
                    place_reviews::stars.lt(after.stars).or(place_reviews::stars
                        .eq(after.stars)
                        .and(place_reviews::id.lt(after.id))),
                );
            }
            query.order((place_reviews::stars.desc(), place_reviews::id.desc()))
        }
    };
    let rows: Vec<(PlaceReview, String)> = query.limit(limit).load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(review, author_name)| ReviewView {
            review,
            author_name,
        })
        .collect())
}
