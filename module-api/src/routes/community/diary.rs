//! A pet's growth diary: the owner's entries (`/pets/{id}/diary`) and the public ones on the
//! owner's profile (`/users/{id}/diary`).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::community::pet::{
    self, DiaryChanges, DiaryCursor, DiaryEntryId, DiaryEntryView, NewDiaryEntry, PetId,
};
use petory_core::identity::UserId;
use petory_core::platform::image::ImageUrls;
use petory_core::platform::upload;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Day, Json, Path, Query, ValidJson};
use crate::pagination::{Limit, Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct DiaryEntryResponse {
    pub id: i64,
    pub pet_id: i64,
    pub pet_name: String,
    /// The day the entry is about.
    pub day: NaiveDate,
    pub text: String,
    pub image_keys: Vec<String>,
    /// Where to read each photo, in the order of `image_keys`.
    pub image_urls: Vec<ImageUrls>,
    /// Shown to anyone on the owner's profile; otherwise the owner's alone.
    pub public: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DiaryEntryView> for DiaryEntryResponse {
    fn from(view: DiaryEntryView) -> Self {
        let entry = view.entry;
        Self {
            id: entry.id.into(),
            pet_id: entry.pet_id.into(),
            pet_name: view.pet_name,
            day: entry.day,
            text: entry.text,
            image_keys: entry.image_keys,
            image_urls: Vec::new(),
            public: entry.public,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
        }
    }
}

impl HasImages for DiaryEntryResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl DiaryEntryResponse {
    async fn of(state: &AppState, view: DiaryEntryView) -> ApiResult<Self> {
        state.linked(view).await
    }
}

/// A page of entries with their photos' URLs.
async fn page_of(
    state: &AppState,
    entries: Vec<DiaryEntryView>,
    limit: i64,
) -> ApiResult<Page<DiaryEntryResponse>> {
    let mut page: Page<DiaryEntryResponse> =
        Page::new(entries, limit, |view| DiaryCursor::of(&view.entry).encode()).map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(page)
}

/// Removes released photos from storage now; the hourly prune retries what fails here.
async fn remove_now(state: &AppState, conn: &mut petory_core::db::DbConn<'_>, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    if let Err(error) = upload::remove_discarded(conn, state.object_store.as_ref(), keys).await {
        tracing::warn!(%error, ?keys, "discarded diary photos left for the prune job");
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DiaryEntryRequest {
    /// The day the entry is about: today or before, in the business time zone.
    pub day: Day,
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
    /// Uploads for `PET`, at most 5, none twice.
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 5)]
    pub image_keys: Vec<String>,
    /// Show it on my profile; private by default.
    #[serde(default)]
    pub public: bool,
}

/// Only the fields sent change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateDiaryEntryRequest {
    pub day: Option<Day>,
    #[schema(min_length = 1, max_length = 2000)]
    pub text: Option<String>,
    /// The photos after the edit (uploads for `PET`); photos left out are removed.
    #[schema(value_type = Option<Vec<crate::extract::ObjectKey>>, max_items = 5)]
    pub image_keys: Option<Vec<String>>,
    pub public: Option<bool>,
}

/// Write an entry in my pet's diary.
#[utoipa::path(post, path = "/pets/{id}/diary", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DiaryEntryRequest,
    responses(
        (status = 201, description = "Written", body = DiaryEntryResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`, `EMAIL_NOT_VERIFIED` (a public entry, before the mailed link is followed)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND` (also others' pets)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the photo belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. a day in the future, a photo twice); `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (a photo; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn write_diary_entry(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
    ValidJson(body): ValidJson<DiaryEntryRequest>,
) -> ApiResult<(StatusCode, Json<DiaryEntryResponse>)> {
    let new = NewDiaryEntry {
        day: body.day.0,
        text: body.text,
        image_keys: body.image_keys,
        public: body.public,
    };
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let written = pet::write_diary_entry(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        new,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    drop(conn);
    Ok((
        StatusCode::CREATED,
        Json(DiaryEntryResponse::of(&state, written).await?),
    ))
}

/// My pet's diary, newest day first, private entries too.
#[utoipa::path(get, path = "/pets/{id}/diary", tag = "community", security(("bearer" = [])), params(("id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = inline(Page<DiaryEntryResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY` (a `limit` out of range)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND` (also others' pets)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_diary(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<DiaryEntryResponse>>> {
    let after = page.parsed_cursor(DiaryCursor::parse)?;
    let mut conn = state.db().await?;
    let entries = pet::diary(&mut conn, user.id, id, after, page.fetch_limit()).await?;
    drop(conn);
    Ok(Json(page_of(&state, entries, page.limit()).await?))
}

/// Edit an entry of my pet's diary.
#[utoipa::path(patch, path = "/pets/{id}/diary/{entry_id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path), ("entry_id" = i64, Path)), request_body = UpdateDiaryEntryRequest,
    responses(
        (status = 200, description = "Edited", body = DiaryEntryResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`, `EMAIL_NOT_VERIFIED` (making it public, before the mailed link is followed)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`DIARY_ENTRY_NOT_FOUND` (also others' entries and pets)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the photo belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. a day in the future, a photo twice); `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (a photo; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_diary_entry(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, entry_id)): Path<(PetId, DiaryEntryId)>,
    ValidJson(body): ValidJson<UpdateDiaryEntryRequest>,
) -> ApiResult<Json<DiaryEntryResponse>> {
    let changes = DiaryChanges {
        day: body.day.map(|day| day.0),
        text: body.text,
        image_keys: body.image_keys,
        public: body.public,
    };
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let edited = pet::edit_diary_entry(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        entry_id,
        changes,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    remove_now(&state, &mut conn, &edited.discarded).await;
    drop(conn);
    Ok(Json(DiaryEntryResponse::of(&state, edited.value).await?))
}

/// Remove an entry of my pet's diary, with its photos.
#[utoipa::path(delete, path = "/pets/{id}/diary/{entry_id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path), ("entry_id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`DIARY_ENTRY_NOT_FOUND` (also others' entries and pets)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_diary_entry(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, entry_id)): Path<(PetId, DiaryEntryId)>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    let removed =
        pet::delete_diary_entry(&mut conn, user.id, id, entry_id, state.clock.now()).await?;
    remove_now(&state, &mut conn, &removed.discarded).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicDiaryQuery {
    /// Only this pet's entries.
    #[param(minimum = 1)]
    pub pet_id: Option<i64>,
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<Limit>,
}

/// A member's public diary entries, of all their pets (or one), newest day first: what their
/// profile shows of their pets' growth (guests too).
#[utoipa::path(get, path = "/users/{id}/diary", tag = "community", security((), ("bearer" = [])), params(("id" = i64, Path), PublicDiaryQuery),
    responses(
        (status = 200, description = "A page of public entries", body = inline(Page<DiaryEntryResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY` (a `limit` or `pet_id` out of range)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND` (none, or withdrawn)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn public_diary(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    Query(query): Query<PublicDiaryQuery>,
) -> ApiResult<Json<Page<DiaryEntryResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.parsed_cursor(DiaryCursor::parse)?;
    let mut conn = state.db().await?;
    let entries = pet::public_diary(
        &mut conn,
        id,
        query.pet_id.map(PetId),
        after,
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    Ok(Json(page_of(&state, entries, page.limit()).await?))
}
