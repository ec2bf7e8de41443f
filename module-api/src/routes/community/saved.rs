//! Posts a member keeps for themself: bookmarks (to read later) and the posts they liked.

use axum::extract::State;
use chrono::{DateTime, Utc};
use petory_core::community::board::PostId;
use petory_core::community::board::saved::{self, SavedPost};
use serde::Serialize;
use utoipa::ToSchema;

use super::board::{PostSummaryResponse, link_first_images};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct BookmarkResponse {
    pub bookmarked: bool,
}

/// A post in one of my lists, and when I kept it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedPostResponse {
    #[serde(flatten)]
    pub post: PostSummaryResponse,
    /// When I bookmarked (or liked) it.
    pub saved_at: DateTime<Utc>,
}

/// Bookmark a post to read later (idempotent); only I see my bookmarks.
#[utoipa::path(put, path = "/owner-boards/{id}/bookmark", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Bookmarked", body = BookmarkResponse),
        (status = 404, description = "`POST_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bookmark_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
) -> ApiResult<Json<BookmarkResponse>> {
    let mut conn = state.db().await?;
    saved::bookmark(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(Json(BookmarkResponse { bookmarked: true }))
}

/// Take a bookmark away (idempotent, whatever became of the post).
#[utoipa::path(delete, path = "/owner-boards/{id}/bookmark", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Not bookmarked", body = BookmarkResponse),
    ))]
pub async fn unbookmark_post(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PostId>,
) -> ApiResult<Json<BookmarkResponse>> {
    let mut conn = state.db().await?;
    saved::unbookmark(&mut conn, user.id, id).await?;
    Ok(Json(BookmarkResponse { bookmarked: false }))
}

/// My bookmarked posts, the latest bookmark first (deleted posts, and others' hidden ones, left
/// out).
#[utoipa::path(get, path = "/users/me/bookmarks", tag = "community", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of my bookmarks", body = inline(Page<SavedPostResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_bookmarks(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<SavedPostResponse>>> {
    let mut conn = state.db().await?;
    let rows = saved::bookmarks(&mut conn, user.id, page.before_id()?, page.fetch_limit()).await?;
    drop(conn);
    saved_page(&state, rows, &page).await
}

/// The posts I like, the latest like first (deleted posts, and others' hidden ones, left out).
#[utoipa::path(get, path = "/users/me/liked-posts", tag = "community", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the posts I like", body = inline(Page<SavedPostResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_liked_posts(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<SavedPostResponse>>> {
    let mut conn = state.db().await?;
    let rows =
        saved::liked_posts(&mut conn, user.id, page.before_id()?, page.fetch_limit()).await?;
    drop(conn);
    saved_page(&state, rows, &page).await
}

async fn saved_page(
    state: &AppState,
    rows: Vec<SavedPost>,
    page: &PageQuery,
) -> ApiResult<Json<Page<SavedPostResponse>>> {
    let mut page =
        Page::by_id(rows, page.limit(), |row| row.saved_id).map(|row| SavedPostResponse {
            post: row.post.into(),
            saved_at: row.saved_at,
        });
    link_first_images(state, page.items.iter_mut().map(|saved| &mut saved.post)).await?;
    Ok(Json(page))
}
