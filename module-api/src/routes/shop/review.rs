//! Item reviews.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::platform::image::ImageUrls;
use petory_core::shop::ItemId;
use petory_core::shop::ReviewId;
use petory_core::shop::review::{self, ReviewInput, ReviewWithAuthor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    pub id: i64,
    pub item_id: i64,
    pub author_id: i64,
    /// The author's nickname (never their name).
    pub author_name: String,
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
    /// Where to read each image, in the order of `image_keys`.
    pub image_urls: Vec<ImageUrls>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl HasImages for ReviewResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl From<ReviewWithAuthor> for ReviewResponse {
    fn from(r: ReviewWithAuthor) -> Self {
        let (review, author_name) = (r.review, r.author_name);
        Self {
            id: review.id.into(),
            item_id: review.item_id.into(),
            author_id: review.user_id.into(),
            author_name,
            stars: review.stars,
            content: review.content,
            image_keys: review.image_keys,
            image_urls: Vec::new(),
            created_at: review.created_at,
            updated_at: review.updated_at,
        }
    }
}

/// An item's reviews, newest first.
#[utoipa::path(get, path = "/items/{id}/reviews", tag = "shop", params(("id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "A page of reviews", body = inline(Page<ReviewResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_reviews(
    State(state): State<AppState>,
    Path(item): Path<ItemId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ReviewResponse>>> {
    let mut conn = state.db().await?;
    let reviews = review::list(&mut conn, item, page.before_id()?, page.fetch_limit()).await?;
    drop(conn);
    let mut page: Page<ReviewResponse> =
        Page::by_id(reviews, page.limit(), |r| r.review.id).map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ReviewRequest {
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i16,
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 5)]
    pub image_keys: Vec<String>,
}

/// Review an item I bought (once per paid order line).
#[utoipa::path(post, path = "/items/{id}/reviews", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReviewRequest,
    responses(
        (status = 201, description = "Reviewed", body = ReviewResponse),
        (status = 403, description = "`NOT_A_BUYER`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content), `ALREADY_REVIEWED`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(item): Path<ItemId>,
    ValidJson(body): ValidJson<ReviewRequest>,
) -> ApiResult<(StatusCode, Json<ReviewResponse>)> {
    let mut conn = state.db().await?;
    let input = ReviewInput {
        stars: body.stars,
        content: body.content,
        image_keys: body.image_keys,
    };
    let created = review::create(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        item,
        input,
        state.clock.now(),
    )
    .await?;
    let mut response = ReviewResponse::from(created);
    state.link_images([&mut response]).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateReviewRequest {
    #[schema(minimum = 1, maximum = 5)]
    pub stars: Option<i16>,
    #[schema(min_length = 1, max_length = 2000)]
    pub content: Option<String>,
    #[schema(value_type = Option<Vec<crate::extract::ObjectKey>>, max_items = 5)]
    pub image_keys: Option<Vec<String>>,
}

/// Edit my review.
#[utoipa::path(patch, path = "/reviews/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateReviewRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Updated", body = ReviewResponse),
        (status = 404, description = "`REVIEW_NOT_FOUND` (also for others' reviews)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ReviewId>,
    ValidJson(body): ValidJson<UpdateReviewRequest>,
) -> ApiResult<Json<ReviewResponse>> {
    let mut conn = state.db().await?;
    let updated = review::update(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        body.stars,
        body.content,
        body.image_keys,
        state.clock.now(),
    )
    .await?;
    let mut response = ReviewResponse::from(updated);
    state.link_images([&mut response]).await?;
    Ok(Json(response))
}

/// Delete my review.
#[utoipa::path(delete, path = "/reviews/{id}", tag = "shop", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`REVIEW_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ReviewId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    review::delete(&mut conn, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
