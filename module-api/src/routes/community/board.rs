//! The owner board: posts, comments, likes, views and search.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::community::board::{
    self, CommentCursor, CommentId, CommentView, LikeState, NewPost, PostCategory, PostChanges,
    PostCursor, PostFilter, PostId, PostSort, PostSummary, PostView, Posts,
};
use petory_core::community::views;
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::{AuthUser, Caller};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

use super::authored::{self, Rendered};
use super::{search_of, viewer_of};

#[derive(Debug, Serialize, ToSchema)]
pub struct PostResponse {
    pub id: i64,
    pub category: PostCategory,
    pub title: String,
    pub content: String,
    pub image_keys: Vec<String>,
    /// Where to read each image, in the order of `image_keys`.
    pub image_urls: Vec<ImageUrls>,
    pub author_id: i64,
    pub author_name: String,
    pub like_count: i32,
    pub comment_count: i32,
    /// Views, one per reader (or guest address) per day.
    pub view_count: i64,
    pub liked_by_me: bool,
    /// Hidden by moderation: only its author and admins see it (and this flag).
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PostView> for PostResponse {
    fn from(view: PostView) -> Self {
        let post = view.post;
        Self {
            id: post.id.into(),
            category: post.category,
            title: post.title,
            content: post.content,
            image_keys: post.image_keys,
            image_urls: Vec::new(),
            author_id: post.author_id.into(),
            author_name: view.author_name,
            like_count: post.like_count,
            comment_count: post.comment_count,
            view_count: post.view_count,
            liked_by_me: view.liked_by_me,
            hidden: post.hidden_at.is_some(),
            created_at: post.created_at,
            updated_at: post.updated_at,
        }
    }
}

impl HasImages for PostResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl Rendered<PostView> for PostResponse {
    /// The response, with image URLs and the views still on their way to the database.
    async fn of(state: &AppState, view: PostView) -> ApiResult<Self> {
        let mut response = Self::from(view);
        state.link_images([&mut response]).await?;
        response.view_count = views::total(
            state.views.as_ref(),
            &views::post_subject(PostId(response.id)),
            response.view_count,
        )
        .await;
        Ok(response)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostSummaryResponse {
    pub id: i64,
    pub category: PostCategory,
    pub title: String,
    /// The first 120 characters.
    pub excerpt: String,
    pub author_id: i64,
    pub author_name: String,
    pub like_count: i32,
    pub comment_count: i32,
    pub view_count: i64,
    pub first_image_key: Option<String>,
    /// Where to read the first image, per size.
    pub first_image_urls: Option<ImageUrls>,
    pub liked_by_me: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    image_keys: Vec<String>,
    #[serde(skip)]
    image_urls: Vec<ImageUrls>,
}

impl From<PostSummary> for PostSummaryResponse {
    fn from(post: PostSummary) -> Self {
        Self {
            id: post.id.into(),
            category: post.category,
            title: post.title,
            excerpt: post.excerpt,
            author_id: post.author_id.into(),
            author_name: post.author_name,
            like_count: post.like_count,
            comment_count: post.comment_count,
            view_count: post.view_count,
            image_keys: post.first_image_key.iter().cloned().collect(),
            first_image_key: post.first_image_key,
            first_image_urls: None,
            image_urls: Vec::new(),
            liked_by_me: post.liked_by_me,
            created_at: post.created_at,
        }
    }
}

/// Fills in each summary's `first_image_urls`.
pub(crate) async fn link_first_images<'a>(
    state: &AppState,
    posts: impl Iterator<Item = &'a mut PostSummaryResponse>,
) -> ApiResult<()> {
    let mut posts: Vec<&'a mut PostSummaryResponse> = posts.collect();
    state
        .link_images(posts.iter_mut().map(|post| &mut **post))
        .await?;
    for post in posts {
        post.first_image_urls = post.image_urls.first().cloned();
    }
    Ok(())
}

impl HasImages for PostSummaryResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BoardSort {
    /// Newest first.
    #[default]
    New,
    /// Most liked in the last 7 days (only posts liked in that time), then newest.
    Popular,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostListQuery {
    pub category: Option<PostCategory>,
    /// Only this member's posts (their page, or mine).
    #[param(minimum = 1)]
    pub author_id: Option<i64>,
    /// Words that must all occur in the title or content (Korean substrings too).
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<BoardSort>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// The board: visible posts, newest or most liked first, one query per page.
#[utoipa::path(get, path = "/owner-boards", tag = "community", security((), ("bearer" = [])), params(PostListQuery),
    responses(
        (status = 200, description = "A page of posts", body = inline(Page<PostSummaryResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY` (no letter or digit in `q`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_posts(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Query(query): Query<PostListQuery>,
) -> ApiResult<Json<Page<PostSummaryResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.parsed_cursor(PostCursor::parse)?;
    let search = search_of(query.q.as_deref())?;
    let filter = PostFilter {
        category: query.category,
        author: query.author_id.map(petory_core::types::UserId),
        search,
        sort: match query.sort.unwrap_or_default() {
            BoardSort::New => PostSort::New,
            BoardSort::Popular => PostSort::Popular,
        },
        after,
    };
    let viewer = viewer_of(user.as_ref());
    let cached = state
        .board_pages
        .first_page(&state, &filter, page.fetch_limit(), viewer)
        .await?;
    let posts = match cached {
        Some(posts) => posts,
        None => {
            let mut conn = state.db().await?;
            board::list(
                &mut conn,
                viewer,
                &filter,
                page.fetch_limit(),
                state.clock.now(),
            )
            .await?
        }
    };
    let mut page: Page<PostSummaryResponse> =
        Page::new(posts, page.limit(), |post| PostCursor::of(post).encode()).map(Into::into);
    link_first_images(&state, page.items.iter_mut()).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PostRequest {
    pub category: PostCategory,
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 10)]
    pub image_keys: Vec<String>,
}

/// Write a post.
#[utoipa::path(post, path = "/owner-boards", tag = "community", security(("bearer" = [])), request_body = PostRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Posted", body = PostResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_post(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<PostRequest>,
) -> ApiResult<(StatusCode, Json<PostResponse>)> {
    authored::create(&state, &Posts, user.id, body.into()).await
}

impl From<PostRequest> for NewPost {
    fn from(body: PostRequest) -> Self {
        Self {
            category: body.category,
            title: body.title,
            content: body.content,
            image_keys: body.image_keys,
        }
    }
}

/// Read a post; this counts a view (once a day per reader, or per address for guests).
#[utoipa::path(get, path = "/owner-boards/{id}", tag = "community", security((), ("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The post", body = PostResponse),
        (status = 404, description = "`POST_NOT_FOUND` (also deleted, and hidden unless yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_post(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<PostId>,
) -> ApiResult<Json<PostResponse>> {
    let mut conn = state.db().await?;
    let post = board::get(&mut conn, viewer_of(user.as_ref()), id).await?;
    drop(conn);
    let reader = match (&user, caller.ip) {
        (Some(user), _) => Some(format!("u{}", user.id)),
        (None, Some(ip)) => Some(format!("ip{ip}")),
        (None, None) => None,
    };
    if let Some(reader) = reader {
        let day = state.calendar.day_of(state.clock.now());
        views::record(state.views.as_ref(), &views::post_subject(id), &reader, day).await;
    }
    Ok(Json(PostResponse::of(&state, post).await?))
}

/// Only the fields sent change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdatePostRequest {
    pub category: Option<PostCategory>,
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub content: Option<String>,
    #[schema(value_type = Option<Vec<crate::extract::ObjectKey>>, max_items = 10)]
    pub image_keys: Option<Vec<String>>,
}

/// Edit my post.
#[utoipa::path(patch, path = "/owner-boards/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdatePostRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Edited", body = PostResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND` (also others' posts)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
    ValidJson(body): ValidJson<UpdatePostRequest>,
) -> ApiResult<Json<PostResponse>> {
    authored::update(&state, &Posts, user.id, id, body.into()).await
}

impl From<UpdatePostRequest> for PostChanges {
    fn from(body: UpdatePostRequest) -> Self {
        Self {
            category: body.category,
            title: body.title,
            content: body.content,
            image_keys: body.image_keys,
        }
    }
}

/// Delete my post (its comments go with it from every view).
#[utoipa::path(delete, path = "/owner-boards/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND` (also others' posts)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
) -> ApiResult<StatusCode> {
    authored::delete(&state, &Posts, user.id, id).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikeResponse {
    pub liked: bool,
    pub like_count: i32,
}

impl From<LikeState> for LikeResponse {
    fn from(state: LikeState) -> Self {
        Self {
            liked: state.liked,
            like_count: state.like_count,
        }
    }
}

/// Like a post (idempotent).
#[utoipa::path(put, path = "/owner-boards/{id}/like", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Liked; the exact count", body = LikeResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn like_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
) -> ApiResult<Json<LikeResponse>> {
    let mut conn = state.db().await?;
    let liked = board::like(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(Json(liked.into()))
}

/// Take my like back (idempotent).
#[utoipa::path(delete, path = "/owner-boards/{id}/like", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Not liked; the exact count", body = LikeResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unlike_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
) -> ApiResult<Json<LikeResponse>> {
    let mut conn = state.db().await?;
    let unliked = board::unlike(&mut conn, user.id, id).await?;
    Ok(Json(unliked.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: i64,
    pub post_id: i64,
    /// The top-level comment this replies to.
    pub parent_id: Option<i64>,
    pub author_id: i64,
    /// The author's nickname; "차단한 회원" when you block them.
    pub author_name: String,
    /// You block its author: it shows as a placeholder, without its words.
    pub author_blocked: bool,
    /// Empty when deleted, hidden from you or by a member you block: the comment keeps its
    /// place in the thread.
    pub content: String,
    pub deleted: bool,
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CommentView> for CommentResponse {
    fn from(view: CommentView) -> Self {
        let comment = view.comment;
        Self {
            id: comment.id.into(),
            post_id: comment.post_id.into(),
            parent_id: comment.parent_id.map(Into::into),
            author_id: comment.author_id.into(),
            author_name: view.author_name,
            author_blocked: view.author_blocked,
            content: comment.content,
            deleted: comment.deleted_at.is_some(),
            hidden: comment.hidden_at.is_some(),
            created_at: comment.created_at,
            updated_at: comment.updated_at,
        }
    }
}

/// A post's comments in thread order: each top-level comment followed by its replies.
#[utoipa::path(get, path = "/owner-boards/{id}/comments", tag = "community", security((), ("bearer" = [])), params(("id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "A page of comments", body = inline(Page<CommentResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_comments(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Path(id): Path<PostId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<CommentResponse>>> {
    let after = page.parsed_cursor(CommentCursor::parse)?;
    let mut conn = state.db().await?;
    let comments = board::comments(
        &mut conn,
        viewer_of(user.as_ref()),
        id,
        after,
        page.fetch_limit(),
    )
    .await?;
    Ok(Json(
        Page::new(comments, page.limit(), |view| {
            CommentCursor::of(&view.comment).encode()
        })
        .map(Into::into),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CommentRequest {
    #[schema(min_length = 1, max_length = 1000)]
    pub content: String,
    /// Reply to this top-level comment of the post.
    pub parent_id: Option<i64>,
}

/// Comment on a post, or reply to one of its top-level comments.
#[utoipa::path(post, path = "/owner-boards/{id}/comments", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CommentRequest,
    responses(
        (status = 201, description = "Commented", body = CommentResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`, `COMMENT_BLOCKED` (the post's author and you block one another)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND`, `COMMENT_NOT_FOUND` (the parent)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. replying to a reply)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_comment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
    ValidJson(body): ValidJson<CommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentResponse>)> {
    let mut conn = state.db().await?;
    let created = board::comment(
        &mut conn,
        user.id,
        id,
        &body.content,
        body.parent_id.map(CommentId),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateCommentRequest {
    #[schema(min_length = 1, max_length = 1000)]
    pub content: String,
}

/// Edit my comment.
#[utoipa::path(patch, path = "/owner-boards/{id}/comments/{comment_id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path), ("comment_id" = i64, Path)), request_body = UpdateCommentRequest,
    responses(
        (status = 200, description = "Edited", body = CommentResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`COMMENT_NOT_FOUND` (also others' comments)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_comment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, comment_id)): Path<(PostId, CommentId)>,
    ValidJson(body): ValidJson<UpdateCommentRequest>,
) -> ApiResult<Json<CommentResponse>> {
    let mut conn = state.db().await?;
    let updated = board::edit_comment(
        &mut conn,
        user.id,
        id,
        comment_id,
        &body.content,
        state.clock.now(),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// Delete my comment (its replies stay, under an empty comment).
#[utoipa::path(delete, path = "/owner-boards/{id}/comments/{comment_id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path), ("comment_id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`POST_NOT_FOUND`, `COMMENT_NOT_FOUND` (also others' comments)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_comment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, comment_id)): Path<(PostId, CommentId)>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    board::delete_comment(&mut conn, user.id, id, comment_id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
