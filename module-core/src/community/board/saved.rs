//! Posts a member keeps for themself: those they bookmarked to read later and those they liked,
//! each list newest first by when they kept it. A post deleted (or hidden, unless it is mine, or
//! by a member I block) drops out of the lists; the bookmark stays, so it shows again if the
//! post is shown again.

use chrono::{DateTime, Utc};
use diesel::dsl::not;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    CommunityError, EXCERPT_CHARS, PostId, PostSummary, Viewer, author_name, left, liked_by,
    visible_post_id,
};
use crate::community::block;
use crate::schema::{post_bookmarks, post_likes, posts};
use crate::types::UserId;

/// A post in one of my lists: when I kept it, and what a list shows of it. `saved_id` orders
/// the list (the bookmark's or the like's own id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPost {
    pub saved_id: i64,
    pub saved_at: DateTime<Utc>,
    pub post: PostSummary,
}

/// Bookmarks a post I may read (again: no change); only I see my bookmarks.
pub async fn bookmark(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: PostId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let post = visible_post_id(conn, Viewer::user(me), id).await?;
    diesel::insert_into(post_bookmarks::table)
        .values((
            post_bookmarks::user_id.eq(me),
            post_bookmarks::post_id.eq(post),
            post_bookmarks::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a bookmark away, whatever became of the post (none: no change).
pub async fn unbookmark(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: PostId,
) -> Result<(), CommunityError> {
    diesel::delete(
        post_bookmarks::table
            .filter(post_bookmarks::user_id.eq(me))
            .filter(post_bookmarks::post_id.eq(id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether I bookmarked the post.
pub async fn bookmarked(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: PostId,
) -> Result<bool, CommunityError> {
    Ok(diesel::select(diesel::dsl::exists(
        post_bookmarks::table
            .filter(post_bookmarks::user_id.eq(me))
            .filter(post_bookmarks::post_id.eq(id)),
    ))
    .get_result(conn)
    .await?)
}

/// My bookmarked posts, the latest bookmark first, below the bookmark id `before`.
pub async fn bookmarks(
    conn: &mut AsyncPgConnection,
    me: UserId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SavedPost>, CommunityError> {
    let mut query = post_bookmarks::table
        .inner_join(posts::table)
        .filter(post_bookmarks::user_id.eq(me))
        .filter(posts::deleted_at.is_null())
        .filter(posts::hidden_at.is_null().or(posts::author_id.eq(me)))
        .filter(not(posts::author_id.eq_any(block::hidden_authors(me))))
        .select((
            post_bookmarks::id,
            post_bookmarks::created_at,
            summary_columns!(Some(me), 0_i64.into_sql::<BigInt>()),
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(post_bookmarks::id.lt(before));
    }
    let rows: Vec<(i64, DateTime<Utc>, PostSummary)> = query
        .order(post_bookmarks::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    Ok(saved(rows))
}

/// The posts I like, the latest like first, below the like id `before`.
pub async fn liked_posts(
    conn: &mut AsyncPgConnection,
    me: UserId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SavedPost>, CommunityError> {
    // The likes under another name: the summary's own `liked_by` reads `post_likes` too.
    let mine = diesel::alias!(post_likes as my_likes);
    let id = mine.field(post_likes::id);
    let mut query = mine
        .inner_join(posts::table.on(posts::id.eq(mine.field(post_likes::post_id))))
        .filter(mine.field(post_likes::user_id).eq(me))
        .filter(posts::deleted_at.is_null())
        .filter(posts::hidden_at.is_null().or(posts::author_id.eq(me)))
        .filter(not(posts::author_id.eq_any(block::hidden_authors(me))))
        .select((
            id,
            mine.field(post_likes::created_at),
            summary_columns!(Some(me), 0_i64.into_sql::<BigInt>()),
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(id.lt(before));
    }
    let rows: Vec<(i64, DateTime<Utc>, PostSummary)> =
        query.order(id.desc()).limit(limit).load(conn).await?;
    Ok(saved(rows))
}

fn saved(rows: Vec<(i64, DateTime<Utc>, PostSummary)>) -> Vec<SavedPost> {
    rows.into_iter()
        .map(|(saved_id, saved_at, post)| SavedPost {
            saved_id,
            saved_at,
            post,
        })
        .collect()
}
