//! The trade board: listings, their filters and their status.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::community::trade::{
    self, ListingCategory, ListingChanges, ListingFilter, ListingId, ListingStatus, ListingView,
    Listings, NewListing,
};
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

use super::authored::{self, Rendered};
use super::{search_of, viewer_of};

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingResponse {
    pub id: i64,
    pub category: ListingCategory,
    pub title: String,
    pub content: String,
    /// KRW.
    pub price: i64,
    pub region: String,
    pub image_keys: Vec<String>,
    /// Where to read each image, in the order of `image_keys`.
    pub image_urls: Vec<ImageUrls>,
    pub status: ListingStatus,
    /// Buyers who opened a chat about it.
    pub chat_count: i32,
    /// Members who wish for it (찜); who they are is nobody's to see.
    pub wish_count: i32,
    pub seller_id: i64,
    pub seller_name: String,
    /// Hidden by moderation: only its seller and admins see it (and this flag).
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ListingView> for ListingResponse {
    fn from(view: ListingView) -> Self {
        let listing = view.listing;
        Self {
            id: listing.id.into(),
            category: listing.category,
            title: listing.title,
            content: listing.content,
            price: listing.price,
            region: listing.region,
            image_keys: listing.image_keys,
            image_urls: Vec::new(),
            status: listing.status,
            chat_count: listing.chat_count,
            wish_count: listing.wish_count,
            seller_id: listing.seller_id.into(),
            seller_name: view.seller_name,
            hidden: listing.hidden_at.is_some(),
            created_at: listing.created_at,
            updated_at: listing.updated_at,
        }
    }
}

impl HasImages for ListingResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl Rendered<ListingView> for ListingResponse {
    async fn of(state: &AppState, view: ListingView) -> ApiResult<Self> {
        state.linked(view).await
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingListQuery {
    pub status: Option<ListingStatus>,
    /// Only this seller's listings (their shop, or mine).
    #[param(minimum = 1)]
    pub seller_id: Option<i64>,
    pub category: Option<ListingCategory>,
    /// Exactly this region.
    #[param(min_length = 1, max_length = 50)]
    pub region: Option<String>,
    /// KRW, inclusive.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub min_price: Option<i64>,
    /// KRW, inclusive.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub max_price: Option<i64>,
    /// Words that must all occur in the title or content (Korean substrings too).
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Listings, newest first, filtered (for a member, without those of members they block).
#[utoipa::path(get, path = "/trade-boards", tag = "community", security((), ("bearer" = [])), params(ListingListQuery),
    responses(
        (status = 200, description = "A page of listings", body = inline(Page<ListingResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_listings(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Query(query): Query<ListingListQuery>,
) -> ApiResult<Json<Page<ListingResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let search = search_of(query.q.as_deref())?;
    if let (Some(min), Some(max)) = (query.min_price, query.max_price)
        && min > max
    {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "min_price must not be above max_price",
        ));
    }
    let filter = ListingFilter {
        status: query.status,
        category: query.category,
        region: query.region,
        min_price: query.min_price,
        max_price: query.max_price,
        seller: query.seller_id.map(petory_core::types::UserId),
        reader: user.map(|user| user.id),
        search,
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let listings = trade::list(&mut conn, &filter, page.fetch_limit()).await?;
    drop(conn);
    let mut page: Page<ListingResponse> =
        Page::by_id(listings, page.limit(), |view| view.listing.id).map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ListingRequest {
    pub category: ListingCategory,
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub content: String,
    /// KRW.
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub price: i64,
    #[schema(min_length = 1, max_length = 50)]
    pub region: String,
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 10)]
    pub image_keys: Vec<String>,
}

/// Put something up for sale.
#[utoipa::path(post, path = "/trade-boards", tag = "community", security(("bearer" = [])), request_body = ListingRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Listed", body = ListingResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_listing(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ListingRequest>,
) -> ApiResult<(StatusCode, Json<ListingResponse>)> {
    authored::create(&state, &Listings, user.id, body.into()).await
}

impl From<ListingRequest> for NewListing {
    fn from(body: ListingRequest) -> Self {
        Self {
            category: body.category,
            title: body.title,
            content: body.content,
            price: body.price,
            region: body.region,
            image_keys: body.image_keys,
        }
    }
}

/// One listing.
#[utoipa::path(get, path = "/trade-boards/{id}", tag = "community", security((), ("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The listing", body = ListingResponse),
        (status = 404, description = "`LISTING_NOT_FOUND` (also deleted, and hidden unless yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_listing(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Path(id): Path<ListingId>,
) -> ApiResult<Json<ListingResponse>> {
    let mut conn = state.db().await?;
    let found = trade::get(&mut conn, viewer_of(user.as_ref()), id).await?;
    drop(conn);
    Ok(Json(ListingResponse::of(&state, found).await?))
}

/// Only the fields sent change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateListingRequest {
    pub category: Option<ListingCategory>,
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 5000)]
    pub content: Option<String>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub price: Option<i64>,
    #[schema(min_length = 1, max_length = 50)]
    pub region: Option<String>,
    #[schema(value_type = Option<Vec<crate::extract::ObjectKey>>, max_items = 10)]
    pub image_keys: Option<Vec<String>>,
}

/// Edit my listing.
#[utoipa::path(patch, path = "/trade-boards/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateListingRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Edited", body = ListingResponse),
        (status = 403, description = "`NOT_THE_SELLER`, `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_listing(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ListingId>,
    ValidJson(body): ValidJson<UpdateListingRequest>,
) -> ApiResult<Json<ListingResponse>> {
    authored::update(&state, &Listings, user.id, id, body.into()).await
}

impl From<UpdateListingRequest> for ListingChanges {
    fn from(body: UpdateListingRequest) -> Self {
        Self {
            category: body.category,
            title: body.title,
            content: body.content,
            price: body.price,
            region: body.region,
            image_keys: body.image_keys,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ListingStatusRequest {
    pub status: ListingStatus,
}

/// Reserve, release or sell my listing: `FOR_SALE → RESERVED → SOLD`, back from `RESERVED`
/// to `FOR_SALE`; `SOLD` is final.
#[utoipa::path(patch, path = "/trade-boards/{id}/status", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ListingStatusRequest,
    responses(
        (status = 200, description = "The listing in its new status", body = ListingResponse),
        (status = 403, description = "`NOT_THE_SELLER`, `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_LISTING_TRANSITION` (e.g. anything after `SOLD`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_listing_status(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ListingId>,
    ValidJson(body): ValidJson<ListingStatusRequest>,
) -> ApiResult<Json<ListingResponse>> {
    let mut conn = state.db().await?;
    let updated = trade::set_status(&mut conn, user.id, id, body.status, state.clock.now()).await?;
    drop(conn);
    Ok(Json(ListingResponse::of(&state, updated).await?))
}

/// Take my listing down.
#[utoipa::path(delete, path = "/trade-boards/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Taken down"),
        (status = 403, description = "`NOT_THE_SELLER`, `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_listing(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ListingId>,
) -> ApiResult<StatusCode> {
    authored::delete(&state, &Listings, user.id, id).await
}
