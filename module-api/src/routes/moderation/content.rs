//! Admins find content without waiting for a report: posts, comments and listings, hidden and
//! deleted ones too, by words, author and hiddenness.

use axum::extract::State;
use chrono::{DateTime, Utc};
use petory_core::community::board::PostCategory;
use petory_core::community::trade::{ListingCategory, ListingStatus};
use petory_core::identity::{AccountStatus, UserId};
use petory_core::moderation::search::{
    self, AdminComment, AdminListing, AdminPost, ContentAuthor, ContentFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageQuery};
use crate::routes::community::search_of;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminContentQuery {
    /// Words that must all occur (Korean substrings too), as the boards search: in a post's or
    /// listing's title or content, in a comment's words.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Only this member's content.
    #[param(minimum = 1)]
    pub author_id: Option<i64>,
    /// Only hidden content (`true`), or only content that is not (`false`); deleted content
    /// either way.
    pub hidden: Option<bool>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

impl AdminContentQuery {
    /// The core's filter and the page asked for, or 400 `INVALID_CURSOR`, `INVALID_QUERY`.
    fn filter(self) -> ApiResult<(ContentFilter, PageQuery)> {
        let page = PageQuery {
            cursor: self.cursor,
            limit: self.limit,
        };
        let filter = ContentFilter {
            search: search_of(self.q.as_deref())?,
            author: self.author_id.map(UserId),
            hidden: self.hidden,
            before: page.before_id()?,
        };
        Ok((filter, page))
    }
}

/// Who wrote the content: the one to suspend (`POST /admin/users/{id}/suspension`), whose
/// whole record is `GET /admin/users/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentAuthorResponse {
    pub id: i64,
    /// The name members see.
    pub nickname: String,
    pub status: AccountStatus,
}

impl From<ContentAuthor> for ContentAuthorResponse {
    fn from(author: ContentAuthor) -> Self {
        Self {
            id: author.id.into(),
            nickname: author.nickname,
            status: author.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminPostResponse {
    pub id: i64,
    pub category: PostCategory,
    pub title: String,
    /// The first 120 characters of the content.
    pub excerpt: String,
    pub author: ContentAuthorResponse,
    pub like_count: i32,
    pub comment_count: i32,
    /// Hidden from readers (by reports or an admin) since `hidden_at`.
    pub hidden: bool,
    pub hidden_at: Option<DateTime<Utc>>,
    /// Deleted (by its author or an admin) at `deleted_at`.
    pub deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AdminPost> for AdminPostResponse {
    fn from(post: AdminPost) -> Self {
        Self {
            id: post.id.into(),
            category: post.category,
            title: post.title,
            excerpt: post.excerpt,
            author: post.author.into(),
            like_count: post.like_count,
            comment_count: post.comment_count,
            hidden: post.hidden_at.is_some(),
            hidden_at: post.hidden_at,
            deleted: post.deleted_at.is_some(),
            deleted_at: post.deleted_at,
            created_at: post.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminCommentResponse {
    pub id: i64,
    pub post_id: i64,
    pub post_title: String,
    /// The comment it answers, for a reply.
    pub parent_id: Option<i64>,
    /// Empty once its author deleted it (an admin's deletion keeps the words).
    pub content: String,
    pub author: ContentAuthorResponse,
    pub hidden: bool,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AdminComment> for AdminCommentResponse {
    fn from(comment: AdminComment) -> Self {
        Self {
            id: comment.id.into(),
            post_id: comment.post_id.into(),
            post_title: comment.post_title,
            parent_id: comment.parent_id.map(Into::into),
            content: comment.content,
            author: comment.author.into(),
            hidden: comment.hidden_at.is_some(),
            hidden_at: comment.hidden_at,
            deleted: comment.deleted_at.is_some(),
            deleted_at: comment.deleted_at,
            created_at: comment.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminListingResponse {
    pub id: i64,
    pub category: ListingCategory,
    pub title: String,
    /// The first 120 characters of the content.
    pub excerpt: String,
    pub price: i64,
    pub status: ListingStatus,
    /// The seller.
    pub author: ContentAuthorResponse,
    pub hidden: bool,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AdminListing> for AdminListingResponse {
    fn from(listing: AdminListing) -> Self {
        Self {
            id: listing.id.into(),
            category: listing.category,
            title: listing.title,
            excerpt: listing.excerpt,
            price: listing.price,
            status: listing.status,
            author: listing.author.into(),
            hidden: listing.hidden_at.is_some(),
            hidden_at: listing.hidden_at,
            deleted: listing.deleted_at.is_some(),
            deleted_at: listing.deleted_at,
            created_at: listing.created_at,
        }
    }
}

/// Posts, hidden and deleted ones too, newest first.
#[utoipa::path(get, path = "/admin/posts", tag = "admin", security(("bearer" = [])), params(AdminContentQuery),
    responses(
        (status = 200, description = "A page of posts", body = inline(Page<AdminPostResponse>)),
        (status = 400, description = "`INVALID_QUERY` (also no letter or digit in `q`), `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_admin_posts(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminContentQuery>,
) -> ApiResult<Json<Page<AdminPostResponse>>> {
    let (filter, page) = query.filter()?;
    let mut conn = state.db().await?;
    let posts = search::list_posts(&mut conn, &filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(posts, page.limit(), |post| post.id).map(Into::into),
    ))
}

/// Comments, hidden and deleted ones too, newest first, with their post's id and title.
#[utoipa::path(get, path = "/admin/comments", tag = "admin", security(("bearer" = [])), params(AdminContentQuery),
    responses(
        (status = 200, description = "A page of comments", body = inline(Page<AdminCommentResponse>)),
        (status = 400, description = "`INVALID_QUERY` (also no letter or digit in `q`), `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_admin_comments(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminContentQuery>,
) -> ApiResult<Json<Page<AdminCommentResponse>>> {
    let (filter, page) = query.filter()?;
    let mut conn = state.db().await?;
    let comments = search::list_comments(&mut conn, &filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(comments, page.limit(), |comment| comment.id).map(Into::into),
    ))
}

/// Listings, hidden and deleted ones too, newest first.
#[utoipa::path(get, path = "/admin/listings", tag = "admin", security(("bearer" = [])), params(AdminContentQuery),
    responses(
        (status = 200, description = "A page of listings", body = inline(Page<AdminListingResponse>)),
        (status = 400, description = "`INVALID_QUERY` (also no letter or digit in `q`), `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_admin_listings(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminContentQuery>,
) -> ApiResult<Json<Page<AdminListingResponse>>> {
    let (filter, page) = query.filter()?;
    let mut conn = state.db().await?;
    let listings = search::list_listings(&mut conn, &filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(listings, page.limit(), |listing| listing.id).map(Into::into),
    ))
}
