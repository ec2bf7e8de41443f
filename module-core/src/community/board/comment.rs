//! Comments on a post: threads one level deep, their edits and deletions, and telling the
//! members a comment answers.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{CommentId, Post, PostId, lock_open_post, visible_post_id};
use crate::community::block;
use crate::community::{CommunityError, Viewer, ensure_can_publish, ensure_can_write};
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::notification::{self, NewNotification, Notice};
use crate::platform::messages;
use crate::schema::{post_comments, posts, users};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = post_comments)]
pub struct Comment {
    pub id: CommentId,
    pub post_id: PostId,
    pub author_id: UserId,
    pub parent_id: Option<CommentId>,
    pub content: String,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentView {
    pub comment: Comment,
    pub author_name: String,
    /// The reader blocks its author: it shows as a "blocked member" placeholder.
    pub author_blocked: bool,
}

impl CommentView {
    /// What `viewer` may read of it: a deleted comment, a hidden one of someone else's (for
    /// anyone but admins), or one by a member the viewer blocks keeps its place in the thread
    /// without its words (and, for a blocked author, without their name).
    pub fn redacted_for(mut self, viewer: Viewer) -> Self {
        let hidden_from_viewer = !viewer.may_read(self.comment.author_id, self.comment.hidden_at);
        if self.comment.deleted_at.is_some() || hidden_from_viewer || self.author_blocked {
            self.comment.content.clear();
        }
        if self.author_blocked {
            messages::BLOCKED_MEMBER.clone_into(&mut self.author_name);
        }
        self
    }
}

/// Where the next page of comments starts: after this comment of this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentCursor {
    pub thread: CommentId,
    pub id: CommentId,
}

impl CommentCursor {
    pub fn of(comment: &Comment) -> Self {
        Self {
            thread: comment.parent_id.unwrap_or(comment.id),
            id: comment.id,
        }
    }

    pub fn encode(self) -> String {
        format!("{}:{}", self.thread, self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (thread, id) = text.split_once(':')?;
        Some(Self {
            thread: CommentId(thread.parse().ok()?),
            id: CommentId(id.parse().ok()?),
        })
    }
}

/// A post's comments in thread order: each top-level comment, then its replies, oldest first.
pub async fn comments(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    post: PostId,
    after: Option<CommentCursor>,
    limit: i64,
) -> Result<Vec<CommentView>, CommunityError> {
    visible_post_id(conn, viewer, post).await?;
    let thread =
        sql::<diesel::sql_types::BigInt>("coalesce(post_comments.parent_id, post_comments.id)");
    let mut query = post_comments::table
        .inner_join(users::table)
        .filter(post_comments::post_id.eq(post))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(
            sql::<Bool>(
                "(coalesce(post_comments.parent_id, post_comments.id), post_comments.id) > (",
            )
            .bind::<diesel::sql_types::BigInt, _>(after.thread)
            .sql(", ")
            .bind::<diesel::sql_types::BigInt, _>(after.id)
            .sql(")"),
        );
    }
    let rows: Vec<(Comment, String)> = query
        .order((thread.asc(), post_comments::id.asc()))
        .limit(limit)
        .select((
            Comment::as_select(),
            public_name(users::nickname, users::name),
        ))
        .load(conn)
        .await?;
    let blocked = match viewer.user {
        Some(reader) => block::blocked_by(conn, reader).await?,
        None => Vec::new(),
    };
    Ok(rows
        .into_iter()
        .map(|(comment, author_name)| {
            CommentView {
                author_blocked: blocked.contains(&comment.author_id),
                comment,
                author_name,
            }
            .redacted_for(viewer)
        })
        .collect())
}

async fn comment_view(
    conn: &mut AsyncPgConnection,
    id: CommentId,
) -> Result<CommentView, CommunityError> {
    let (comment, author_name) = post_comments::table
        .inner_join(users::table)
        .filter(post_comments::id.eq(id))
        .select((
            Comment::as_select(),
            public_name(users::nickname, users::name),
        ))
        .first(conn)
        .await?;
    Ok(CommentView {
        comment,
        author_name,
        author_blocked: false,
    })
}

/// Comments on a post, or replies to a top-level comment of it (one level deep).
pub async fn comment(
    conn: &mut AsyncPgConnection,
    author: UserId,
    post: PostId,
    content: &str,
    parent: Option<CommentId>,
    now: DateTime<Utc>,
) -> Result<CommentView, CommunityError> {
    ensure_can_publish(conn, author).await?;
    let id = conn
        .transaction(async |conn| {
            // The post's lock orders comments and their count.
            let post = lock_open_post(conn, Viewer::user(author), post).await?;
            // Where one of them blocks the other, no comment crosses (as in chat).
            if post.author_id != author && block::between(conn, author, post.author_id).await? {
                return Err(CommunityError::CommentBlocked);
            }
            let mut parent_author = None;
            if let Some(parent) = parent {
                let (parent_post, grandparent, deleted, author_of_parent): (
                    PostId,
                    Option<CommentId>,
                    Option<DateTime<Utc>>,
                    UserId,
                ) = post_comments::table
                    .find(parent)
                    .select((
                        post_comments::post_id,
                        post_comments::parent_id,
                        post_comments::deleted_at,
                        post_comments::author_id,
                    ))
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or(CommunityError::CommentNotFound)?;
                if parent_post != post.id || deleted.is_some() {
                    return Err(CommunityError::CommentNotFound);
                }
                if grandparent.is_some() {
                    return Err(CommunityError::Invalid {
                        field: "parent_id",
                        code: "one_level",
                        message: "replies go under a top-level comment".into(),
                    });
                }
                parent_author = Some(author_of_parent);
            }
            let id: CommentId = diesel::insert_into(post_comments::table)
                .values((
                    post_comments::post_id.eq(post.id),
                    post_comments::author_id.eq(author),
                    post_comments::parent_id.eq(parent),
                    post_comments::content.eq(content.trim()),
                    post_comments::created_at.eq(now),
                    post_comments::updated_at.eq(now),
                ))
                .returning(post_comments::id)
                .get_result(conn)
                .await?;
            diesel::update(posts::table.find(post.id))
                .set(posts::comment_count.eq(posts::comment_count + 1))
                .execute(conn)
                .await?;
            let answered = Answered {
                post: &post,
                comment: id,
                parent: parent.zip(parent_author),
                author,
                content: content.trim(),
            };
            let notifications = answered.notifications(conn).await?;
            notification::request_many(conn, &notifications, now).await?;
            Ok(id)
        })
        .await?;
    comment_view(conn, id).await
}

/// A new comment, as the members it answers are told of it.
struct Answered<'a> {
    post: &'a Post,
    comment: CommentId,
    /// The comment it replies to, and that comment's author.
    parent: Option<(CommentId, UserId)>,
    author: UserId,
    content: &'a str,
}

impl Answered<'_> {
    /// A reply tells the parent's author (`COMMENT_REPLIED`); any comment tells the post's author
    /// (`POST_COMMENTED`) unless that one was just told. Nobody is told of their own comment, nor
    /// of one by a member either of them blocks.
    async fn notifications(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Vec<NewNotification>, CommunityError> {
        let mut told: Vec<(UserId, Notice)> = Vec::new();
        if let Some((parent, parent_author)) = self.parent {
            told.push((
                parent_author,
                Notice::CommentReplied {
                    post_id: self.post.id.into(),
                    comment_id: self.comment.into(),
                    parent_id: parent.into(),
                },
            ));
        }
        if told.iter().all(|(to, _)| *to != self.post.author_id) {
            told.push((
                self.post.author_id,
                Notice::PostCommented {
                    post_id: self.post.id.into(),
                    comment_id: self.comment.into(),
                },
            ));
        }
        let mut notifications = Vec::new();
        for (to, notice) in told {
            if to == self.author || block::between(conn, self.author, to).await? {
                continue;
            }
            let name: String = users::table
                .find(self.author)
                .select(public_name(users::nickname, users::name))
                .first(conn)
                .await?;
            let words = match notice {
                Notice::CommentReplied { .. } => messages::comment_replied(&name, self.content),
                _ => messages::post_commented(&name, &self.post.title, self.content),
            };
            notifications.push(NewNotification {
                user_id: to,
                notice,
                title: words.title,
                body: words.body,
                once_per: None,
            });
        }
        Ok(notifications)
    }
}

/// The author's own, live comment on this post.
async fn own_comment(
    conn: &mut AsyncPgConnection,
    author: UserId,
    post: PostId,
    id: CommentId,
) -> Result<Comment, CommunityError> {
    post_comments::table
        .find(id)
        .filter(post_comments::post_id.eq(post))
        .filter(post_comments::author_id.eq(author))
        .filter(post_comments::deleted_at.is_null())
        .select(Comment::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::CommentNotFound)
}

pub async fn edit_comment(
    conn: &mut AsyncPgConnection,
    author: UserId,
    post: PostId,
    id: CommentId,
    content: &str,
    now: DateTime<Utc>,
) -> Result<CommentView, CommunityError> {
    ensure_can_write(conn, author).await?;
    own_comment(conn, author, post, id).await?;
    diesel::update(post_comments::table.find(id))
        .set((
            post_comments::content.eq(content.trim()),
            post_comments::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    comment_view(conn, id).await
}

/// The author deletes a comment: its words go, its place (and its replies) stay.
pub async fn delete_comment(
    conn: &mut AsyncPgConnection,
    author: UserId,
    post: PostId,
    id: CommentId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    ensure_can_write(conn, author).await?;
    conn.transaction(async |conn| {
        lock_open_post(conn, Viewer::user(author), post).await?;
        own_comment(conn, author, post, id).await?;
        diesel::update(post_comments::table.find(id))
            .set((
                post_comments::content.eq(""),
                post_comments::deleted_at.eq(now),
                post_comments::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        diesel::update(posts::table.find(post))
            .set(posts::comment_count.eq(posts::comment_count - 1))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::board::PostCursor;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = PostCursor {
            recent_likes: 3,
            id: PostId(42),
        };
        assert_eq!(PostCursor::parse(&cursor.encode()), Some(cursor));
        assert_eq!(PostCursor::parse("x:1"), None);
        assert_eq!(PostCursor::parse("1:-5"), None);
        assert_eq!(PostCursor::parse("17"), None);
        let thread = CommentCursor {
            thread: CommentId(1),
            id: CommentId(9),
        };
        assert_eq!(CommentCursor::parse(&thread.encode()), Some(thread));
    }
}
