//! The owner board: posts with images, one-level comments, likes, views and search.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::dsl::{exists, not};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

mod comment;
mod liked;

pub use comment::{
    Comment, CommentCursor, CommentView, comment, comments, delete_comment, edit_comment,
};
pub use liked::{LIKES_NOTICE_INTERVAL, tell_likes};

use super::authored::Authored;
use super::block;
use super::search::{Matching, NewestRows, Search, newest_matches};
use super::{CommunityError, Viewer, ensure_can_publish, ensure_can_write};
use crate::db::id_or;
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::platform::upload::Purpose;
use crate::schema::{post_likes, post_likes_untold, posts, users};

crate::id_type! {
    /// A post of the owner board (`posts.id`).
    pub struct PostId;
}

crate::id_type! {
    /// A comment on a post (`post_comments.id`).
    pub struct CommentId;
}

crate::text_enum! {
    pub enum PostCategory {
        Daily = "DAILY",
        Question = "QUESTION",
        Info = "INFO",
        ShowOff = "SHOW_OFF",
    }
}

/// How many characters of a post a list shows.
pub const EXCERPT_CHARS: i32 = 120;
/// "Popular" counts the likes of this many days.
pub const POPULAR_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: PostId,
    pub author_id: UserId,
    pub category: PostCategory,
    pub title: String,
    pub content: String,
    pub image_keys: Vec<String>,
    pub like_count: i32,
    pub comment_count: i32,
    pub view_count: i64,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A post as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostView {
    pub post: Post,
    pub author_name: String,
    pub liked_by_me: bool,
}

/// A post in a list: what a feed shows of it, loaded in one query per page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable)]
pub struct PostSummary {
    pub id: PostId,
    pub category: PostCategory,
    pub title: String,
    pub excerpt: String,
    pub author_id: UserId,
    pub author_name: String,
    pub like_count: i32,
    pub comment_count: i32,
    pub view_count: i64,
    pub first_image_key: Option<String>,
    pub liked_by_me: bool,
    pub created_at: DateTime<Utc>,
    /// Likes of the last [`POPULAR_DAYS`] days (counted only for the popular sort).
    pub recent_likes: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PostSort {
    /// Newest first.
    #[default]
    New,
    /// Most liked in the last [`POPULAR_DAYS`] days first (posts without such likes are left
    /// out), then newest.
    Popular,
}

/// Where the next page starts: after this post (and, for popular, its recent likes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostCursor {
    pub recent_likes: i64,
    pub id: PostId,
}

impl PostCursor {
    pub fn of(post: &PostSummary) -> Self {
        Self {
            recent_likes: post.recent_likes,
            id: post.id,
        }
    }

    pub fn encode(self) -> String {
        format!("{}:{}", self.recent_likes, self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (likes, id) = text.split_once(':')?;
        let cursor = Self {
            recent_likes: likes.parse().ok()?,
            id: PostId(id.parse().ok()?),
        };
        (cursor.recent_likes >= 0 && cursor.id.0 > 0).then_some(cursor)
    }
}

#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub category: Option<PostCategory>,
    /// One member's posts (their page, or mine).
    pub author: Option<UserId>,
    pub search: Option<Search>,
    pub sort: PostSort,
    pub after: Option<PostCursor>,
}

diesel::define_sql_function! {
    /// The first `n` characters of a text.
    fn left(text: Text, n: diesel::sql_types::Integer) -> Text;
}

type PostRows<'a> = posts::BoxedQuery<'a, Pg>;

/// Which posts a list reads, search aside: one category, one author, or all.
#[derive(Debug, Clone, Copy)]
struct Scope {
    category: Option<PostCategory>,
    author: Option<UserId>,
}

impl PostFilter {
    fn scope(&self) -> Scope {
        Scope {
            category: self.category,
            author: self.author,
        }
    }
}

/// Visible posts (deleted and hidden ones are left out, and those of members the reader
/// blocks): of a category, and matching a search, if given.
fn visible_posts<'a>(
    scope: Scope,
    reader: Option<UserId>,
    search: Option<(&Search, Matching)>,
) -> PostRows<'a> {
    let mut query = posts::table
        .filter(posts::deleted_at.is_null())
        .filter(posts::hidden_at.is_null())
        .into_boxed();
    if let Some(reader) = reader {
        query = query.filter(not(posts::author_id.eq_any(block::hidden_authors(reader))));
    }
    if let Some(category) = scope.category {
        query = query.filter(posts::category.eq(category));
    }
    if let Some(author) = scope.author {
        query = query.filter(posts::author_id.eq(author));
    }
    if let Some((search, matching)) = search {
        query = query.filter(search.condition("posts.title || ' ' || posts.content", matching));
    }
    query
}

/// What a list shows of each post ([`PostSummary`]), `recent` counting its recent likes.
macro_rules! summary_columns {
    ($me:expr, $recent:expr) => {
        (
            posts::id,
            posts::category,
            posts::title,
            left(posts::content, EXCERPT_CHARS),
            posts::author_id,
            author_name(),
            posts::like_count,
            posts::comment_count,
            posts::view_count,
            posts::image_keys.index(1).nullable(),
            liked_by($me),
            posts::created_at,
            $recent,
        )
    };
}

// After the macro it uses.
pub mod saved;

/// Likes of a post since `since`: only those are read, by their index.
#[diesel::dsl::auto_type(no_type_alias)]
fn recent_likes(since: DateTime<Utc>) -> _ {
    post_likes::table
        .filter(post_likes::post_id.eq(posts::id))
        .filter(post_likes::created_at.gt(since))
        .count()
        .single_value()
        .assume_not_null()
}

/// The author's name, looked up per row: cheaper to plan than a join, on the hottest page.
#[diesel::dsl::auto_type(no_type_alias)]
fn author_name() -> _ {
    users::table
        .filter(users::id.eq(posts::author_id))
        .select(public_name(users::nickname, users::name))
        .single_value()
        .assume_not_null()
}

#[diesel::dsl::auto_type(no_type_alias)]
fn liked_by(me: Option<UserId>) -> _ {
    // A guest (`None`) likes nothing: `user_id = NULL` matches no row.
    exists(
        post_likes::table
            .filter(post_likes::post_id.eq(posts::id))
            .filter(post_likes::user_id.nullable().eq(me)),
    )
}

/// Which of these posts `me` likes: a page read once for everyone (a cached first page) gets
/// each reader's own flags from this.
pub async fn liked_among(
    conn: &mut AsyncPgConnection,
    me: UserId,
    posts: &[PostId],
) -> Result<Vec<PostId>, CommunityError> {
    Ok(post_likes::table
        .filter(post_likes::user_id.eq(me))
        .filter(post_likes::post_id.eq_any(posts))
        .select(post_likes::post_id)
        .load(conn)
        .await?)
}

/// A page of visible posts, `limit` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    filter: &PostFilter,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PostSummary>, CommunityError> {
    let me = viewer.user;
    match filter.sort {
        PostSort::New => newest(conn, me, filter, limit).await,
        PostSort::Popular => popular(conn, me, filter, limit, now).await,
    }
}

/// Newest first; a search goes through [`newest_matches`], so that neither common nor rare
/// words cost a scan.
async fn newest(
    conn: &mut AsyncPgConnection,
    me: Option<UserId>,
    filter: &PostFilter,
    limit: i64,
) -> Result<Vec<PostSummary>, CommunityError> {
    let before = filter.after.map(|after| after.id);
    let Some(search) = &filter.search else {
        let all = visible_posts(filter.scope(), me, None);
        return newest_page(conn, me, all, before, limit).await;
    };
    let mut rows = PostSearch {
        conn,
        me,
        scope: filter.scope(),
        search,
    };
    newest_matches(&mut rows, before, limit).await
}

/// The posts a search reads, newest first.
struct PostSearch<'a> {
    conn: &'a mut AsyncPgConnection,
    me: Option<UserId>,
    scope: Scope,
    search: &'a Search,
}

impl NewestRows for PostSearch<'_> {
    type Id = PostId;
    type Row = PostSummary;
    type Error = CommunityError;

    async fn read(
        &mut self,
        matching: Matching,
        before: Option<PostId>,
        within: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PostSummary>, CommunityError> {
        let mut query = visible_posts(self.scope, self.me, Some((self.search, matching)));
        if let Some(within) = within {
            // The oldest of the newest `within` posts: posts alone, no author needed.
            let mut newest = visible_posts(self.scope, self.me, None);
            if let Some(before) = before {
                newest = newest.filter(posts::id.lt(before));
            }
            let floor = newest
                .order(posts::id.desc())
                .offset(within - 1)
                .select(posts::id)
                .single_value();
            query = query.filter(posts::id.ge(id_or(floor, 0_i64)));
        }
        newest_page(self.conn, self.me, query, before, limit).await
    }
}

/// Posts of `query` below `before`, newest first.
async fn newest_page(
    conn: &mut AsyncPgConnection,
    me: Option<UserId>,
    mut query: PostRows<'_>,
    before: Option<PostId>,
    limit: i64,
) -> Result<Vec<PostSummary>, CommunityError> {
    if let Some(before) = before {
        query = query.filter(posts::id.lt(before));
    }
    Ok(query
        .order(posts::id.desc())
        .limit(limit)
        // No SQL literal here: the statement stays cacheable, so the board's hottest page is
        // planned once per connection rather than per request.
        .select(summary_columns!(me, 0_i64.into_sql::<BigInt>()))
        .load(conn)
        .await?)
}

/// Most liked in the last [`POPULAR_DAYS`] days first, then newest.
async fn popular(
    conn: &mut AsyncPgConnection,
    me: Option<UserId>,
    filter: &PostFilter,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PostSummary>, CommunityError> {
    let since = now - TimeDelta::days(POPULAR_DAYS);
    let search = filter
        .search
        .as_ref()
        .map(|search| (search, Matching::Indexed));
    let recent = recent_likes(since);
    let mut query = visible_posts(filter.scope(), me, search).filter(
        posts::id.eq_any(
            post_likes::table
                .filter(post_likes::created_at.gt(since))
                .select(post_likes::post_id),
        ),
    );
    if let Some(after) = filter.after {
        query = query.filter(
            recent
                .lt(after.recent_likes)
                .or(recent.eq(after.recent_likes).and(posts::id.lt(after.id))),
        );
    }
    Ok(query
        .order((recent.desc(), posts::id.desc()))
        .limit(limit)
        .select(summary_columns!(me, recent))
        .load(conn)
        .await?)
}

/// A post its reader may see: never a deleted one; a hidden one only by its author and admins.
pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: PostId,
) -> Result<PostView, CommunityError> {
    let me = viewer.user;
    let (post, author_name, liked_by_me): (Post, String, bool) = posts::table
        .inner_join(users::table)
        .filter(posts::id.eq(id))
        .filter(posts::deleted_at.is_null())
        .select((
            Post::as_select(),
            public_name(users::nickname, users::name),
            liked_by(me),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::PostNotFound)?;
    if !viewer.may_read(post.author_id, post.hidden_at)
        || block::hides(conn, me, post.author_id).await?
    {
        return Err(CommunityError::PostNotFound);
    }
    Ok(PostView {
        post,
        author_name,
        liked_by_me,
    })
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub category: PostCategory,
    pub title: String,
    pub content: String,
    pub image_keys: Vec<String>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = posts)]
pub struct PostChanges {
    pub category: Option<PostCategory>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub image_keys: Option<Vec<String>>,
}

/// Posts as authored content: the shared path ([`super::authored`]) writes, changes and
/// deletes them; someone else's post is not found.
pub struct Posts;

#[async_trait]
impl Authored for Posts {
    type Id = PostId;
    type Draft = NewPost;
    type Changes = PostChanges;
    type View = PostView;

    const IMAGES: Purpose = Purpose::Post;

    fn draft_images(draft: &NewPost) -> &[String] {
        &draft.image_keys
    }

    fn changed_images(changes: &PostChanges) -> Option<&[String]> {
        changes.image_keys.as_deref()
    }

    async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        author: UserId,
        new: &NewPost,
        now: DateTime<Utc>,
    ) -> Result<PostId, CommunityError> {
        Ok(diesel::insert_into(posts::table)
            .values((
                posts::author_id.eq(author),
                posts::category.eq(new.category),
                posts::title.eq(new.title.trim()),
                posts::content.eq(&new.content),
                posts::image_keys.eq(&new.image_keys),
                posts::created_at.eq(now),
                posts::updated_at.eq(now),
            ))
            .returning(posts::id)
            .get_result(conn)
            .await?)
    }

    async fn lock_own(
        &self,
        conn: &mut AsyncPgConnection,
        author: UserId,
        id: PostId,
    ) -> Result<Vec<String>, CommunityError> {
        posts::table
            .find(id)
            .filter(posts::author_id.eq(author))
            .filter(posts::deleted_at.is_null())
            .for_update()
            .select(posts::image_keys)
            .first(conn)
            .await
            .optional()?
            .ok_or(CommunityError::PostNotFound)
    }

    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        id: PostId,
        mut changes: PostChanges,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        changes.title = changes.title.map(|title| title.trim().to_owned());
        diesel::update(posts::table.find(id))
            .set((&changes, posts::updated_at.eq(now)))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Its comments stay with it, out of every view.
    async fn mark_deleted(
        &self,
        conn: &mut AsyncPgConnection,
        id: PostId,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        diesel::update(posts::table.find(id))
            .set((posts::deleted_at.eq(now), posts::updated_at.eq(now)))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn view(
        &self,
        conn: &mut AsyncPgConnection,
        viewer: Viewer,
        id: PostId,
    ) -> Result<PostView, CommunityError> {
        get(conn, viewer, id).await
    }
}

/// Locks a post that may be interacted with (visible, or hidden but the viewer's own).
async fn lock_open_post(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: PostId,
) -> Result<Post, CommunityError> {
    let post: Post = posts::table
        .find(id)
        .filter(posts::deleted_at.is_null())
        .for_update()
        .select(Post::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::PostNotFound)?;
    if !viewer.may_read(post.author_id, post.hidden_at) {
        return Err(CommunityError::PostNotFound);
    }
    Ok(post)
}

/// What a like or unlike leaves: whether I like it, and the exact count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LikeState {
    pub liked: bool,
    pub like_count: i32,
}

/// Likes a post (again: no change). The count moves in the same transaction as the like.
pub async fn like(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: PostId,
    now: DateTime<Utc>,
) -> Result<LikeState, CommunityError> {
    ensure_can_publish(conn, user).await?;
    conn.transaction(async |conn| {
        let post = visible_post_id(conn, Viewer::user(user), id).await?;
        let added = diesel::insert_into(post_likes::table)
            .values((
                post_likes::post_id.eq(post),
                post_likes::user_id.eq(user),
                post_likes::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if added > 0 {
            // Its author is told by the `post-likes` job, with the others since the last notice.
            diesel::insert_into(post_likes_untold::table)
                .values((
                    post_likes_untold::post_id.eq(post),
                    post_likes_untold::since.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        let like_count = adjust_likes(conn, post, i32::try_from(added).unwrap_or(0)).await?;
        Ok(LikeState {
            liked: true,
            like_count,
        })
    })
    .await
}

/// Takes a like back (none: no change).
pub async fn unlike(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: PostId,
) -> Result<LikeState, CommunityError> {
    ensure_can_write(conn, user).await?;
    conn.transaction(async |conn| {
        let post = visible_post_id(conn, Viewer::user(user), id).await?;
        let removed = diesel::delete(post_likes::table.find((post, user)))
            .execute(conn)
            .await?;
        let like_count = adjust_likes(conn, post, -i32::try_from(removed).unwrap_or(0)).await?;
        Ok(LikeState {
            liked: false,
            like_count,
        })
    })
    .await
}

/// A post that may be liked or commented on, without locking it (likes lock only the count).
async fn visible_post_id(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: PostId,
) -> Result<PostId, CommunityError> {
    let (author, hidden): (UserId, Option<DateTime<Utc>>) = posts::table
        .find(id)
        .filter(posts::deleted_at.is_null())
        .select((posts::author_id, posts::hidden_at))
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::PostNotFound)?;
    if !viewer.may_read(author, hidden) {
        return Err(CommunityError::PostNotFound);
    }
    Ok(id)
}

async fn adjust_likes(
    conn: &mut AsyncPgConnection,
    post: PostId,
    by: i32,
) -> Result<i32, CommunityError> {
    if by == 0 {
        return Ok(posts::table
            .find(post)
            .select(posts::like_count)
            .first(conn)
            .await?);
    }
    Ok(diesel::update(posts::table.find(post))
        .set(posts::like_count.eq(posts::like_count + by))
        .returning(posts::like_count)
        .get_result(conn)
        .await?)
}
