//! Admins find content without waiting for a report: posts, comments and listings, hidden and
//! deleted ones too, newest first, by words (as the boards search), author and hiddenness.
//!
//! A search reads through [`newest_matches`] as the boards do. Its indexed read asks the
//! boards' index (visible rows only) for the visible rows and checks the few taken-down rows
//! (hidden or deleted, with an index of their own: `*_taken_down`) word by word.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::ModerationError;
use crate::community::board::{CommentId, PostCategory, PostId};
use crate::community::search::{Matching, NewestRows, Search, newest_matches};
use crate::community::trade::{ListingCategory, ListingId, ListingStatus};
use crate::db::id_or;
use crate::identity::AccountStatus;
use crate::identity::rules::public_name;
use crate::schema::{listings, post_comments, posts, users};
use crate::types::UserId;

/// How many characters of a post's or listing's content a list shows.
pub const EXCERPT_CHARS: i32 = 120;

diesel::define_sql_function! {
    /// The first `n` characters of a text.
    fn left(text: Text, n: diesel::sql_types::Integer) -> Text;
}

/// Which content an admin list reads.
#[derive(Debug, Clone, Default)]
pub struct ContentFilter {
    /// Words that must all occur (a post's or listing's title or content, a comment's words).
    pub search: Option<Search>,
    pub author: Option<UserId>,
    /// Only hidden content (`true`), or only content that is not (`false`); deleted content
    /// either way.
    pub hidden: Option<bool>,
    /// The id of the last item of the previous page (newest first).
    pub before: Option<i64>,
}

/// Which rows a list reads, search aside.
#[derive(Debug, Clone, Copy)]
struct Scope {
    author: Option<UserId>,
    hidden: Option<bool>,
}

impl ContentFilter {
    fn scope(&self) -> Scope {
        Scope {
            author: self.author,
            hidden: self.hidden,
        }
    }
}

/// Who wrote the content, as an admin needs to act on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable)]
pub struct ContentAuthor {
    pub id: UserId,
    /// The name members see.
    pub nickname: String,
    pub status: AccountStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable)]
pub struct AdminPost {
    pub id: PostId,
    pub category: PostCategory,
    pub title: String,
    pub excerpt: String,
    pub author: ContentAuthor,
    pub like_count: i32,
    pub comment_count: i32,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable)]
pub struct AdminComment {
    pub id: CommentId,
    pub post_id: PostId,
    pub post_title: String,
    /// The comment it answers, for a reply.
    pub parent_id: Option<CommentId>,
    /// Empty once its author deleted it.
    pub content: String,
    pub author: ContentAuthor,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable)]
pub struct AdminListing {
    pub id: ListingId,
    pub category: ListingCategory,
    pub title: String,
    pub excerpt: String,
    pub price: i64,
    pub status: ListingStatus,
    pub author: ContentAuthor,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The rows of `$table` in `$scope` (its author column `$author`), and those matching
/// `$search` read by `$matching` over `$text` (the expression of the table's search index).
macro_rules! scoped {
    ($table:ident by $author:ident, $scope:expr) => {{
        let scope: Scope = $scope;
        let mut query = $table::table.into_boxed::<Pg>();
        if let Some(author) = scope.author {
            query = query.filter($table::$author.eq(author));
        }
        match scope.hidden {
            Some(true) => query = query.filter($table::hidden_at.is_not_null()),
            Some(false) => query = query.filter($table::hidden_at.is_null()),
            None => {}
        }
        query
    }};
    ($table:ident by $author:ident, $scope:expr, $search:expr, $text:literal) => {{
        let mut query = scoped!($table by $author, $scope);
        if let Some((search, matching)) = $search {
            let search: &Search = search;
            query = match matching {
                Matching::Words => query.filter(search.condition($text, Matching::Words)),
                // The search index holds the visible rows; the taken-down rows, few, are read
                // by their own index and checked word by word.
                Matching::Indexed => query.filter(
                    $table::deleted_at
                        .is_null()
                        .and($table::hidden_at.is_null())
                        .and(search.condition($text, Matching::Indexed))
                        .or($table::deleted_at
                            .is_not_null()
                            .or($table::hidden_at.is_not_null())
                            .and(search.condition($text, Matching::Words))),
                ),
            };
        }
        query
    }};
}

/// Below `before`, and with `within`, among the newest `within` rows of the scope (matching or
/// not) below `before`.
macro_rules! window {
    ($query:expr, $table:ident by $author:ident, $scope:expr, $before:expr, $within:expr) => {{
        let mut query = $query;
        if let Some(before) = $before {
            query = query.filter($table::id.lt(before));
        }
        if let Some(within) = $within {
            let mut newest = scoped!($table by $author, $scope);
            if let Some(before) = $before {
                newest = newest.filter($table::id.lt(before));
            }
            let floor = newest
                .order($table::id.desc())
                .offset(within - 1)
                .select($table::id)
                .single_value();
            query = query.filter($table::id.ge(id_or(floor, 0_i64)));
        }
        query
    }};
}

/// The author of a row whose author column is `$author`, looked up per row.
macro_rules! author {
    ($author:expr) => {
        (
            $author,
            users::table
                .filter(users::id.eq($author))
                .select(public_name(users::nickname, users::name))
                .single_value()
                .assume_not_null(),
            users::table
                .filter(users::id.eq($author))
                .select(users::status)
                .single_value()
                .assume_not_null(),
        )
    };
}

/// A newest-first admin list of one kind: without a search one read, with one through
/// [`newest_matches`].
macro_rules! admin_list {
    ($(#[$doc:meta])* $name:ident, $rows:ident, $read:ident -> $row:ty) => {
        $(#[$doc])*
        pub async fn $name(
            conn: &mut AsyncPgConnection,
            filter: &ContentFilter,
            limit: i64,
        ) -> Result<Vec<$row>, ModerationError> {
            let Some(search) = &filter.search else {
                return $read(conn, filter.scope(), None, filter.before, None, limit).await;
            };
            let mut rows = $rows {
                conn,
                scope: filter.scope(),
                search,
            };
            newest_matches(&mut rows, filter.before, limit).await
        }

        /// The rows a search reads, newest first.
        struct $rows<'a> {
            conn: &'a mut AsyncPgConnection,
            scope: Scope,
            search: &'a Search,
        }

        impl NewestRows for $rows<'_> {
            type Id = i64;
            type Row = $row;
            type Error = ModerationError;

            async fn read(
                &mut self,
                matching: Matching,
                before: Option<i64>,
                within: Option<i64>,
                limit: i64,
            ) -> Result<Vec<$row>, ModerationError> {
                $read(
                    self.conn,
                    self.scope,
                    Some((self.search, matching)),
                    before,
                    within,
                    limit,
                )
                .await
            }
        }
    };
}

admin_list!(
    /// Posts, hidden and deleted ones too, newest first.
    list_posts, PostRows, read_posts -> AdminPost
);

admin_list!(
    /// Comments, hidden and deleted ones too, newest first, with their post's id and title.
    list_comments, CommentRows, read_comments -> AdminComment
);

admin_list!(
    /// Listings, hidden and deleted ones too, newest first.
    list_listings, ListingRows, read_listings -> AdminListing
);

async fn read_posts(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    search: Option<(&Search, Matching)>,
    before: Option<i64>,
    within: Option<i64>,
    limit: i64,
) -> Result<Vec<AdminPost>, ModerationError> {
    let query = scoped!(posts by author_id, scope, search, "posts.title || ' ' || posts.content");
    Ok(window!(query, posts by author_id, scope, before, within)
        .order(posts::id.desc())
        .limit(limit)
        .select((
            posts::id,
            posts::category,
            posts::title,
            left(posts::content, EXCERPT_CHARS),
            author!(posts::author_id),
            posts::like_count,
            posts::comment_count,
            posts::hidden_at,
            posts::deleted_at,
            posts::created_at,
        ))
        .load(conn)
        .await?)
}

async fn read_comments(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    search: Option<(&Search, Matching)>,
    before: Option<i64>,
    within: Option<i64>,
    limit: i64,
) -> Result<Vec<AdminComment>, ModerationError> {
    let query = scoped!(post_comments by author_id, scope, search, "post_comments.content");
    Ok(
        window!(query, post_comments by author_id, scope, before, within)
            .order(post_comments::id.desc())
            .limit(limit)
            .select((
                post_comments::id,
                post_comments::post_id,
                posts::table
                    .filter(posts::id.eq(post_comments::post_id))
                    .select(posts::title)
                    .single_value()
                    .assume_not_null(),
                post_comments::parent_id,
                post_comments::content,
                author!(post_comments::author_id),
                post_comments::hidden_at,
                post_comments::deleted_at,
                post_comments::created_at,
            ))
            .load(conn)
            .await?,
    )
}

async fn read_listings(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    search: Option<(&Search, Matching)>,
    before: Option<i64>,
    within: Option<i64>,
    limit: i64,
) -> Result<Vec<AdminListing>, ModerationError> {
    let query =
        scoped!(listings by seller_id, scope, search, "listings.title || ' ' || listings.content");
    Ok(window!(query, listings by seller_id, scope, before, within)
        .order(listings::id.desc())
        .limit(limit)
        .select((
            listings::id,
            listings::category,
            listings::title,
            left(listings::content, EXCERPT_CHARS),
            listings::price,
            listings::status,
            author!(listings::seller_id),
            listings::hidden_at,
            listings::deleted_at,
            listings::created_at,
        ))
        .load(conn)
        .await?)
}
