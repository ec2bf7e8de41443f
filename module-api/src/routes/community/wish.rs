//! Wishes (찜): listings a member wants. The seller sees interest only as `wish_count`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use petory_core::community::trade::ListingId;
use petory_core::community::trade::wish::{self, WishState};
use serde::Serialize;
use utoipa::ToSchema;

use super::trade::ListingResponse;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct WishResponse {
    pub wished: bool,
    /// Members who wish for the listing now.
    pub wish_count: i32,
}

impl From<WishState> for WishResponse {
    fn from(state: WishState) -> Self {
        Self {
            wished: state.wished,
            wish_count: state.wish_count,
        }
    }
}

/// A listing in my wish list, and when I wished for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishedListingResponse {
    #[serde(flatten)]
    pub listing: ListingResponse,
    pub wished_at: DateTime<Utc>,
}

/// Wish for a listing (찜; idempotent). Its seller is told that someone did (never who), once
/// per member; I am told when its price drops.
#[utoipa::path(put, path = "/trade-boards/{id}/wish", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Wished; how many wish for it now", body = WishResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`LISTING_SOLD`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`OWN_LISTING` (a seller does not wish for their own)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn wish_listing(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ListingId>,
) -> ApiResult<Json<WishResponse>> {
    let mut conn = state.db().await?;
    let wished = wish::wish(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(Json(wished.into()))
}

/// Take a wish back (idempotent, whatever became of the listing).
#[utoipa::path(delete, path = "/trade-boards/{id}/wish", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Not wished; how many wish for it now", body = WishResponse),
        (status = 404, description = "`LISTING_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unwish_listing(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<ListingId>,
) -> ApiResult<Json<WishResponse>> {
    let mut conn = state.db().await?;
    let unwished = wish::unwish(&mut conn, user.id, id).await?;
    Ok(Json(unwished.into()))
}

/// My wish list, the latest wish first (deleted and hidden listings left out).
#[utoipa::path(get, path = "/users/me/wishes", tag = "community", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of my wishes", body = inline(Page<WishedListingResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_wishes(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<WishedListingResponse>>> {
    let mut conn = state.db().await?;
    let rows = wish::wishes(&mut conn, user.id, page.before_id()?, page.fetch_limit()).await?;
    drop(conn);
    let mut page =
        Page::by_id(rows, page.limit(), |row| row.wish_id).map(|row| WishedListingResponse {
            listing: row.listing.into(),
            wished_at: row.wished_at,
        });
    for wished in &mut page.items {
        state.link_images([&mut wished.listing]).await?;
    }
    Ok(Json(page))
}
