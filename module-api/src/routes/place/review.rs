//! Reviews of places.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::place::PlaceId;
use petory_core::place::review::{
    self, PlaceReviewId, ReviewCursor, ReviewDraft, ReviewSort, ReviewView,
};
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};
use crate::routes::community::viewer_of;

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceReviewResponse {
    pub id: i64,
    pub place_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub stars: i16,
    pub content: String,
    pub image_keys: Vec<String>,
    pub image_urls: Vec<ImageUrls>,
    /// Hidden by moderation: only its author and admins see it.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReviewView> for PlaceReviewResponse {
    fn from(view: ReviewView) -> Self {
        let review = view.review;
        Self {
            id: review.id.into(),
            place_id: review.place_id.into(),
            author_id: review.author_id.into(),
            author_name: view.author_name,
            stars: review.stars,
            content: review.content,
            image_keys: review.image_keys,
            image_urls: Vec::new(),
            hidden: review.hidden_at.is_some(),
            created_at: review.created_at,
            updated_at: review.updated_at,
        }
    }
}

impl HasImages for PlaceReviewResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl PlaceReviewResponse {
    async fn of(state: &AppState, view: ReviewView) -> ApiResult<Self> {
        let mut response = Self::from(view);
        state.link_images([&mut response]).await?;
        Ok(response)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PlaceReviewRequest {
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i16,
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
    /// Uploads of purpose `PLACE_REVIEW`.
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 5)]
    pub image_keys: Vec<String>,
}

impl From<PlaceReviewRequest> for ReviewDraft {
    fn from(body: PlaceReviewRequest) -> Self {
        Self {
            stars: body.stars,
            content: body.content,
            image_keys: body.image_keys,
        }
    }
}

/// How reviews list.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewOrder {
    /// Newest first.
    #[default]
    New,
    /// Most stars first, then newest.
    Stars,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewListQuery {
    #[param(inline)]
    pub sort: Option<ReviewOrder>,
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

fn review_cursor(cursor: &str) -> Option<ReviewCursor> {
    let (stars, id) = cursor.split_once('_')?;
    Some(ReviewCursor {
        stars: stars.parse().ok().filter(|stars| (0..=5).contains(stars))?,
        id: PlaceReviewId(id.parse().ok().filter(|id| *id > 0)?),
    })
}

/// A place's reviews.
#[utoipa::path(get, path = "/places/{id}/reviews", tag = "places", security((), ("bearer" = [])), params(("id" = i64, Path), ReviewListQuery),
    responses(
        (status = 200, description = "A page of reviews", body = inline(Page<PlaceReviewResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_place_reviews(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Path(id): Path<PlaceId>,
    Query(query): Query<ReviewListQuery>,
) -> ApiResult<Json<Page<PlaceReviewResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.parsed_cursor(review_cursor)?;
    let sort = match query.sort.unwrap_or_default() {
        ReviewOrder::New => ReviewSort::Newest,
        ReviewOrder::Stars => ReviewSort::Stars,
    };
    let mut conn = state.db().await?;
    let reviews = review::list(
        &mut conn,
        viewer_of(user.as_ref()),
        id,
        sort,
        after,
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    let mut page: Page<PlaceReviewResponse> = Page::new(reviews, page.limit(), |view| {
        format!("{}_{}", view.review.stars, view.review.id)
    })
    .map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

/// Review a place (once; edit that review afterwards).
#[utoipa::path(post, path = "/places/{id}/reviews", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PlaceReviewRequest,
    responses(
        (status = 201, description = "Reviewed", body = PlaceReviewResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND` (also hidden or deleted places)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ALREADY_REVIEWED`, `UPLOAD_IN_USE` (an image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_place_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PlaceId>,
    ValidJson(body): ValidJson<PlaceReviewRequest>,
) -> ApiResult<(StatusCode, Json<PlaceReviewResponse>)> {
    let mut conn = state.db().await?;
    let view = review::create(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        body.into(),
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok((
        StatusCode::CREATED,
        Json(PlaceReviewResponse::of(&state, view).await?),
    ))
}

/// Rewrite my review of a place.
#[utoipa::path(put, path = "/place-reviews/{id}", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PlaceReviewRequest,
    responses(
        (status = 200, description = "Rewritten", body = PlaceReviewResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_REVIEW_NOT_FOUND` (also others' reviews), `PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_place_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PlaceReviewId>,
    ValidJson(body): ValidJson<PlaceReviewRequest>,
) -> ApiResult<Json<PlaceReviewResponse>> {
    let mut conn = state.db().await?;
    let view = review::update(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        body.into(),
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok(Json(PlaceReviewResponse::of(&state, view).await?))
}

/// Delete my review of a place.
#[utoipa::path(delete, path = "/place-reviews/{id}", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`PLACE_REVIEW_NOT_FOUND`, `PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_place_review(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PlaceReviewId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    review::delete(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
