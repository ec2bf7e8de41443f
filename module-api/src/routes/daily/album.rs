//! The daily album: my photo of each day, my month, others' public months, the public feed and
//! "on this day".

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::daily::album::{self, AlbumPhoto, AlbumPhotoId, PhotoDraft, Visibility};
use petory_core::identity::UserId;
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumPhotoResponse {
    pub id: i64,
    /// The business day it is the photo of.
    pub date: NaiveDate,
    /// Where to read the photo, per size (`thumb` for the month grid and the feed).
    pub image_urls: ImageUrls,
    pub caption: String,
    pub visibility: Visibility,
    /// Hidden by moderation (only its owner sees it, marked so).
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AlbumPhotoResponse {
    fn with(photo: AlbumPhoto, image_urls: ImageUrls) -> Self {
        Self {
            id: photo.id.into(),
            date: photo.day,
            image_urls,
            caption: photo.caption,
            visibility: photo.visibility,
            hidden: photo.hidden_at.is_some(),
            created_at: photo.created_at,
            updated_at: photo.updated_at,
        }
    }

    async fn of(state: &AppState, photo: AlbumPhoto) -> Result<Self, ApiError> {
        Self::all(state, vec![photo])
            .await?
            .pop()
            .ok_or_else(|| ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR))
    }

    /// The responses, their images linked with one look at the uploads.
    async fn all(state: &AppState, photos: Vec<AlbumPhoto>) -> Result<Vec<Self>, ApiError> {
        let keys: Vec<String> = photos.iter().map(|photo| photo.image_key.clone()).collect();
        let urls = state.image_urls(&keys).await?;
        Ok(photos
            .into_iter()
            .zip(urls)
            .map(|(photo, image_urls)| Self::with(photo, image_urls))
            .collect())
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AlbumPhotoRequest {
    /// An upload of purpose `ALBUM` of mine.
    #[schema(min_length = 1, max_length = 200)]
    pub image_key: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub caption: String,
    pub visibility: Visibility,
}

/// Put my photo of a day (today or earlier, in the business time zone): the first photo of the
/// day, or a new image, caption or visibility for it. A replaced image is deleted from storage.
#[utoipa::path(put, path = "/users/me/albums/{date}", tag = "daily", security(("bearer" = [])),
    params(("date" = NaiveDate, Path, description = "The day, `YYYY-MM-DD`")), request_body = AlbumPhotoRequest,
    responses(
        (status = 201, description = "The day's first photo", body = AlbumPhotoResponse),
        (status = 200, description = "The day's photo, changed", body = AlbumPhotoResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content), `ALBUM_IMAGE_IN_USE` (the photo of another day)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`ALBUM_DAY_IN_FUTURE`, `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE`, `VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_album_photo(
    State(state): State<AppState>,
    user: AuthUser,
    Path(date): Path<NaiveDate>,
    ValidJson(body): ValidJson<AlbumPhotoRequest>,
) -> ApiResult<(StatusCode, Json<AlbumPhotoResponse>)> {
    let mut conn = state.db().await?;
    let put = album::put(
        &mut conn,
        state.object_store.as_ref(),
        &state.calendar,
        user.id,
        date,
        PhotoDraft {
            image_key: body.image_key,
            caption: body.caption,
            visibility: body.visibility,
        },
        state.clock.now(),
    )
    .await?;
    if let Some(replaced) = put.replaced_key {
        remove_now(&state, &mut conn, replaced).await;
    }
    drop(conn);
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AlbumPhotoResponse::of(&state, put.photo).await?),
    ))
}

/// Removes a discarded image from storage now; the hourly prune retries what fails here.
async fn remove_now(state: &AppState, conn: &mut petory_core::db::DbConn<'_>, key: String) {
    if let Err(error) = petory_core::platform::upload::remove_discarded(
        conn,
        state.object_store.as_ref(),
        std::slice::from_ref(&key),
    )
    .await
    {
        tracing::warn!(%error, key, "discarded image left for the prune job");
    }
}

/// Remove my photo of a day (and its image).
#[utoipa::path(delete, path = "/users/me/albums/{date}", tag = "daily", security(("bearer" = [])),
    params(("date" = NaiveDate, Path, description = "The day, `YYYY-MM-DD`")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`ALBUM_PHOTO_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_album_photo(
    State(state): State<AppState>,
    user: AuthUser,
    Path(date): Path<NaiveDate>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    let key = album::remove(&mut conn, user.id, date, state.clock.now()).await?;
    remove_now(&state, &mut conn, key).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// The month, `YYYY-MM` (this month by default).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumMonthResponse {
    /// `YYYY-MM`.
    pub month: String,
    /// One entry per day that has a photo, by day.
    pub items: Vec<AlbumPhotoResponse>,
}

impl MonthQuery {
    /// The month's first day.
    fn first_day(&self, state: &AppState) -> Result<NaiveDate, ApiError> {
        match &self.month {
            None => {
                let today = state.calendar.day_of(state.clock.now());
                Ok(today - chrono::Days::new(u64::from(chrono::Datelike::day0(&today))))
            }
            Some(month) => Some(month)
                .filter(|month| month.len() == 7)
                .and_then(|month| {
                    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
                })
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ProblemCode::InvalidQuery,
                        "month must be YYYY-MM, e.g. 2026-12",
                    )
                }),
        }
    }
}

async fn month_response(
    state: &AppState,
    first_day: NaiveDate,
    photos: Vec<AlbumPhoto>,
) -> Result<AlbumMonthResponse, ApiError> {
    Ok(AlbumMonthResponse {
        month: first_day.format("%Y-%m").to_string(),
        items: AlbumPhotoResponse::all(state, photos).await?,
    })
}

/// My album of a month: a calendar of my photos (hidden ones marked).
#[utoipa::path(get, path = "/users/me/albums", tag = "daily", security(("bearer" = [])), params(MonthQuery),
    responses(
        (status = 200, description = "The month", body = AlbumMonthResponse),
        (status = 400, description = "`INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_album(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<MonthQuery>,
) -> ApiResult<Json<AlbumMonthResponse>> {
    let first_day = query.first_day(&state)?;
    let mut conn = state.db().await?;
    let photos = album::month(&mut conn, user.id, Some(user.id), first_day).await?;
    drop(conn);
    Ok(Json(month_response(&state, first_day, photos).await?))
}

/// Someone's album of a month: their public, visible photos (guests may look).
#[utoipa::path(get, path = "/users/{id}/albums", tag = "daily", security((), ("bearer" = [])),
    params(("id" = i64, Path), MonthQuery),
    responses(
        (status = 200, description = "The month", body = AlbumMonthResponse),
        (status = 400, description = "`INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn user_album(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(id): Path<UserId>,
    Query(query): Query<MonthQuery>,
) -> ApiResult<Json<AlbumMonthResponse>> {
    let first_day = query.first_day(&state)?;
    let mut conn = state.db().await?;
    let photos = album::month(&mut conn, id, viewer.map(|viewer| viewer.id), first_day).await?;
    drop(conn);
    Ok(Json(month_response(&state, first_day, photos).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoOwner {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPhotoResponse {
    #[serde(flatten)]
    pub photo: AlbumPhotoResponse,
    pub owner: PhotoOwner,
}

/// Everyone's public photos, the newest first (for a member, without those of members they
/// block).
#[utoipa::path(get, path = "/albums/feed", tag = "daily", security((), ("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of photos", body = inline(Page<FeedPhotoResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn album_feed(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<FeedPhotoResponse>>> {
    let before = page.parsed_cursor(|cursor| cursor.parse().ok().filter(|id| *id > 0))?;
    let mut conn = state.db().await?;
    let reader = user.map(|user| user.id);
    let photos = album::feed(
        &mut conn,
        reader,
        before.map(AlbumPhotoId),
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    let page = Page::new(photos, page.limit(), |feed| feed.photo.id.to_string());
    let (owners, photos): (Vec<PhotoOwner>, Vec<AlbumPhoto>) = page
        .items
        .into_iter()
        .map(|feed| {
            let owner = PhotoOwner {
                id: feed.photo.user_id.into(),
                name: feed.owner_name,
            };
            (owner, feed.photo)
        })
        .unzip();
    let photos = AlbumPhotoResponse::all(&state, photos).await?;
    let items = owners
        .into_iter()
        .zip(photos)
        .map(|(owner, photo)| FeedPhotoResponse { owner, photo })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnThisDayResponse {
    /// Today (business time zone).
    pub date: NaiveDate,
    /// My photos of this month and day in earlier years, the latest first.
    pub items: Vec<AlbumPhotoResponse>,
}

/// "On this day": my photos of today's date in earlier years.
#[utoipa::path(get, path = "/users/me/albums/on-this-day", tag = "daily", security(("bearer" = [])),
    responses(
        (status = 200, description = "Earlier years' photos of today", body = OnThisDayResponse),
    ))]
pub async fn on_this_day(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<OnThisDayResponse>> {
    let today = state.calendar.day_of(state.clock.now());
    let mut conn = state.db().await?;
    let photos = album::on_this_day(&mut conn, user.id, today).await?;
    drop(conn);
    Ok(Json(OnThisDayResponse {
        date: today,
        items: AlbumPhotoResponse::all(&state, photos).await?,
    }))
}
