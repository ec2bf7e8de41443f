//! Reviews: only a buyer reviews, once per paid order line; the item's rating moves in the same
//! transaction by relative updates, so it stays exact under concurrent reviews.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{ItemId, OrderId, ReviewId, ShopError};
use crate::db::violates;
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::{item_reviews, items, order_lines, orders, users};

/// Orders in these states were paid for, so their lines may be reviewed.
const PAID_STATES: [&str; 3] = ["PAID", "SHIPPING", "DELIVERED"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = item_reviews)]
pub struct Review {
    pub id: ReviewId,
    pub item_id: ItemId,
    pub user_id: UserId,
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewWithAuthor {
    pub review: Review,
    /// Masked (see [`public_name`]): reviews are public.
    pub author_name: String,
}

#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
}

fn check_stars(stars: i16) -> Result<(), ShopError> {
    if (1..=5).contains(&stars) {
        Ok(())
    } else {
        Err(ShopError::Invalid {
            field: "stars",
            code: "range",
            message: "must be 1 to 5".into(),
        })
    }
}

/// Reviews an item on the buyer's oldest paid, unreviewed order line for it.
pub async fn create(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    user: UserId,
    item_id: ItemId,
    input: ReviewInput,
    now: DateTime<Utc>,
) -> Result<ReviewWithAuthor, ShopError> {
    check_stars(input.stars)?;
    let images = upload::verify(
        conn,
        store,
        user,
        Purpose::ItemReview,
        &input.image_keys,
        &[],
    )
    .await?;
    conn.transaction(async move |conn| -> Result<ReviewWithAuthor, ShopError> {
        let bought: Vec<(i64, bool)> = order_lines::table
            .inner_join(orders::table)
            .left_join(item_reviews::table.on(item_reviews::order_line_id.eq(order_lines::id)))
            .filter(orders::user_id.eq(user))
            .filter(orders::status.eq_any(PAID_STATES))
            .filter(order_lines::item_id.eq(item_id))
            .order(order_lines::id)
            .select((order_lines::id, item_reviews::id.nullable().is_not_null()))
            .load(conn)
            .await?;
        if bought.is_empty() {
            return Err(ShopError::NotABuyer);
        }
        let line = bought
            .iter()
            .find(|(_, reviewed)| !reviewed)
            .map(|(line, _)| *line)
            .ok_or(ShopError::AlreadyReviewed)?;
        let review = diesel::insert_into(item_reviews::table)
            .values((
                item_reviews::order_line_id.eq(line),
                item_reviews::item_id.eq(item_id),
                item_reviews::user_id.eq(user),
                item_reviews::stars.eq(input.stars),
                item_reviews::content.eq(input.content.trim()),
                item_reviews::image_keys.eq(input.image_keys),
                item_reviews::created_at.eq(now),
                item_reviews::updated_at.eq(now),
            ))
            .returning(Review::as_returning())
            .get_result(conn)
            .await
            .map_err(|error| {
                // Two requests raced for the same line: the loser reviewed it already.
                if violates(
                    &error,
                    DatabaseErrorKind::UniqueViolation,
                    "item_reviews_order_line_id_key",
                ) {
                    ShopError::AlreadyReviewed
                } else {
                    error.into()
                }
            })?;
        adjust_rating(conn, item_id, i64::from(input.stars), 1).await?;
        images.attach(conn, now).await?;
        with_author(conn, review).await
    })
    .await
}

async fn with_author(
    conn: &mut AsyncPgConnection,
    review: Review,
) -> Result<ReviewWithAuthor, ShopError> {
    let author_name: String = users::table
        .find(review.user_id)
        .select(public_name(users::nickname, users::name))
        .first(conn)
        .await?;
    Ok(ReviewWithAuthor {
        review,
        author_name,
    })
}

/// Takes down the reviews of a refunded order's lines (inside the refund's transaction) and
/// takes their stars off the items' ratings: a refunded purchase no longer speaks for the item.
pub(crate) async fn remove_for_order(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
) -> Result<usize, ShopError> {
    let removed: Vec<(ItemId, i16)> = diesel::delete(
        item_reviews::table.filter(
            item_reviews::order_line_id.eq_any(
                order_lines::table
                    .filter(order_lines::order_id.eq(order_id))
                    .select(order_lines::id),
            ),
        ),
    )
    .returning((item_reviews::item_id, item_reviews::stars))
    .get_results(conn)
    .await?;
    for (item_id, stars) in &removed {
        adjust_rating(conn, *item_id, -i64::from(*stars), -1).await?;
    }
    Ok(removed.len())
}

async fn adjust_rating(
    conn: &mut AsyncPgConnection,
    item_id: ItemId,
    stars: i64,
    count: i32,
) -> Result<(), ShopError> {
    diesel::update(items::table.find(item_id))
        .set((
            items::rating_sum.eq(items::rating_sum + stars),
            items::review_count.eq(items::review_count + count),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn owned(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: ReviewId,
) -> Result<Review, ShopError> {
    item_reviews::table
        .filter(item_reviews::id.eq(id))
        .filter(item_reviews::user_id.eq(user))
        .for_update()
        .select(Review::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::ReviewNotFound)
}

/// Edits one's own review; a change of stars moves the item's rating by the difference.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    user: UserId,
    id: ReviewId,
    stars: Option<i16>,
    content: Option<String>,
    image_keys: Option<Vec<String>>,
    now: DateTime<Utc>,
) -> Result<ReviewWithAuthor, ShopError> {
    if let Some(stars) = stars {
        check_stars(stars)?;
    }
    let images = match &image_keys {
        Some(keys) => {
            let current = owned(conn, user, id).await?.image_keys;
            Some(upload::verify(conn, store, user, Purpose::ItemReview, keys, &current).await?)
        }
        None => None,
    };
    conn.transaction(async move |conn| -> Result<ReviewWithAuthor, ShopError> {
        let before = owned(conn, user, id).await?;
        if let Some(images) = images {
            images.attach(conn, now).await?;
        }
        let review = diesel::update(item_reviews::table.find(id))
            .set((
                stars.map(|stars| item_reviews::stars.eq(stars)),
                content.map(|content| item_reviews::content.eq(content.trim().to_owned())),
                image_keys.map(|keys| item_reviews::image_keys.eq(keys)),
                item_reviews::updated_at.eq(now),
            ))
            .returning(Review::as_returning())
            .get_result(conn)
            .await?;
        if review.stars != before.stars {
            adjust_rating(
                conn,
                review.item_id,
                i64::from(review.stars - before.stars),
                0,
            )
            .await?;
        }
        with_author(conn, review).await
    })
    .await
}

/// Deletes one's own review; the order line may be reviewed again.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: ReviewId,
) -> Result<(), ShopError> {
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        let review = owned(conn, user, id).await?;
        diesel::delete(item_reviews::table.find(id))
            .execute(conn)
            .await?;
        adjust_rating(conn, review.item_id, -i64::from(review.stars), -1).await
    })
    .await
}

/// An item's reviews, newest first, with their authors' names.
pub async fn list(
    conn: &mut AsyncPgConnection,
    item_id: ItemId,
    before: Option<ReviewId>,
    limit: i64,
) -> Result<Vec<ReviewWithAuthor>, ShopError> {
    let mut query = item_reviews::table
        .inner_join(users::table)
        .filter(item_reviews::item_id.eq(item_id))
        .select((
            Review::as_select(),
            public_name(users::nickname, users::name),
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(item_reviews::id.lt(before));
    }
    let rows: Vec<(Review, String)> = query
        .order(item_reviews::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(review, author_name)| ReviewWithAuthor {
            review,
            author_name,
        })
        .collect())
}
