//! What a member did on the owner board, for themself: their comments, each with the post it
//! belongs to.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::CommunityError;
use super::board::{Comment, CommentId};
use crate::identity::rules::public_name;
use crate::schema::{post_comments, posts, users};
use crate::types::UserId;

/// One of my comments and the title of its post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyComment {
    pub comment: Comment,
    /// How I show to others (every row alike).
    pub author_name: String,
    pub post_title: String,
}

/// `me`'s live comments, newest first, below the id `before`: on posts still there that I may
/// read (a hidden post only if it is mine).
pub async fn my_comments(
    conn: &mut AsyncPgConnection,
    me: UserId,
    before: Option<CommentId>,
    limit: i64,
) -> Result<Vec<MyComment>, CommunityError> {
    let mut query = post_comments::table
        .inner_join(posts::table)
        .filter(post_comments::author_id.eq(me))
        .filter(post_comments::deleted_at.is_null())
        .filter(posts::deleted_at.is_null())
        .filter(posts::hidden_at.is_null().or(posts::author_id.eq(me)))
        .select((Comment::as_select(), posts::title))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(post_comments::id.lt(before));
    }
    let rows: Vec<(Comment, String)> = query
        .order(post_comments::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    let author_name: String = users::table
        .find(me)
        .select(public_name(users::nickname, users::name))
        .first(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(comment, post_title)| MyComment {
            comment,
            author_name: author_name.clone(),
            post_title,
        })
        .collect())
}
