//! My pets and their growth log.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use petory_core::community::pet::{self, NewPet, Pet, PetChanges, PetId, Sex, Species, Weight};
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Day, Json, Path, Query, ValidJson, nullable};
use crate::pagination::Page;

#[derive(Debug, Serialize, ToSchema)]
pub struct PetResponse {
    pub id: i64,
    pub name: String,
    pub species: Species,
    pub breed: String,
    pub birthday: Option<NaiveDate>,
    pub adopted_on: Option<NaiveDate>,
    pub sex: Sex,
    pub neutered: bool,
    /// The latest weight, in grams.
    pub weight_grams: Option<i32>,
    pub photo_key: Option<String>,
    /// Where to read the photo, per size.
    pub photo_urls: Option<ImageUrls>,
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    photo_keys: Vec<String>,
    #[serde(skip)]
    linked: Vec<ImageUrls>,
}

impl From<Pet> for PetResponse {
    fn from(p: Pet) -> Self {
        Self {
            id: p.id.into(),
            name: p.name,
            species: p.species,
            breed: p.breed,
            birthday: p.birthday,
            adopted_on: p.adopted_on,
            sex: p.sex,
            neutered: p.neutered,
            weight_grams: p.weight_grams,
            photo_keys: p.photo_key.iter().cloned().collect(),
            photo_key: p.photo_key,
            photo_urls: None,
            linked: Vec::new(),
            memo: p.memo,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl HasImages for PetResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.photo_keys, &mut self.linked)
    }
}

impl PetResponse {
    async fn of(state: &AppState, pet: Pet) -> ApiResult<Self> {
        let mut response = Self::from(pet);
        state.link_images([&mut response]).await?;
        response.photo_urls = response.linked.first().cloned();
        Ok(response)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PetRequest {
    #[schema(min_length = 1, max_length = 30)]
    pub name: String,
    pub species: Species,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub breed: String,
    pub birthday: Option<Day>,
    pub adopted_on: Option<Day>,
    #[serde(default = "unknown_sex")]
    pub sex: Sex,
    #[serde(default)]
    pub neutered: bool,
    #[schema(minimum = 1, maximum = 200_000)]
    pub weight_grams: Option<i32>,
    #[schema(value_type = Option<crate::extract::ObjectKey>)]
    pub photo_key: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub memo: String,
}

fn unknown_sex() -> Sex {
    Sex::Unknown
}

/// Only the fields sent change; `null` clears an optional one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdatePetRequest {
    #[schema(min_length = 1, max_length = 30)]
    pub name: Option<String>,
    pub species: Option<Species>,
    #[schema(max_length = 50)]
    pub breed: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Day>)]
    pub birthday: Option<Option<Day>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Day>)]
    pub adopted_on: Option<Option<Day>>,
    pub sex: Option<Sex>,
    pub neutered: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 200_000)]
    pub weight_grams: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<crate::extract::ObjectKey>)]
    pub photo_key: Option<Option<String>>,
    #[schema(max_length = 500)]
    pub memo: Option<String>,
}

/// My pets, oldest first.
#[utoipa::path(get, path = "/pets", tag = "community", security(("bearer" = [])),
    responses(
        (status = 200, description = "My pets (one page: at most 20)", body = inline(Page<PetResponse>)),
    ))]
pub async fn list_pets(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Page<PetResponse>>> {
    let mut conn = state.db().await?;
    let pets = pet::list(&mut conn, user.id).await?;
    drop(conn);
    let mut page: Page<PetResponse> = Page::all(pets).map(Into::into);
    state.link_images(&mut page.items).await?;
    for pet in &mut page.items {
        pet.photo_urls = pet.linked.first().cloned();
    }
    Ok(Json(page))
}

/// Add a pet.
#[utoipa::path(post, path = "/pets", tag = "community", security(("bearer" = [])), request_body = PetRequest,
    responses(
        (status = 201, description = "Added", body = PetResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content), `TOO_MANY_PETS` (20 kept already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (the photo)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_pet(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<PetRequest>,
) -> ApiResult<(StatusCode, Json<PetResponse>)> {
    let new = NewPet {
        name: body.name,
        species: body.species,
        breed: body.breed,
        birthday: body.birthday.map(|day| day.0),
        adopted_on: body.adopted_on.map(|day| day.0),
        sex: body.sex,
        neutered: body.neutered,
        weight_grams: body.weight_grams,
        photo_key: body.photo_key,
        memo: body.memo,
    };
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let created = pet::create(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        new,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    drop(conn);
    Ok((
        StatusCode::CREATED,
        Json(PetResponse::of(&state, created).await?),
    ))
}

/// One of my pets.
#[utoipa::path(get, path = "/pets/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The pet", body = PetResponse),
        (status = 404, description = "`PET_NOT_FOUND` (also for others' pets)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_pet(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
) -> ApiResult<Json<PetResponse>> {
    let mut conn = state.db().await?;
    let found = pet::get(&mut conn, user.id, id).await?;
    drop(conn);
    Ok(Json(PetResponse::of(&state, found).await?))
}

/// Change my pet.
#[utoipa::path(patch, path = "/pets/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdatePetRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Updated", body = PetResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (the photo)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_pet(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
    ValidJson(body): ValidJson<UpdatePetRequest>,
) -> ApiResult<Json<PetResponse>> {
    let day = |day: Option<Option<Day>>| day.map(|day| day.map(|day| day.0));
    let changes = PetChanges {
        name: body.name,
        species: body.species,
        breed: body.breed,
        birthday: day(body.birthday),
        adopted_on: day(body.adopted_on),
        sex: body.sex,
        neutered: body.neutered,
        weight_grams: body.weight_grams,
        photo_key: body.photo_key,
        memo: body.memo,
    };
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let updated = pet::update(
        &mut conn,
        state.object_store.as_ref(),
        user.id,
        id,
        changes,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    drop(conn);
    Ok(Json(PetResponse::of(&state, updated).await?))
}

/// Remove my pet, with its growth log and diary.
#[utoipa::path(delete, path = "/pets/{id}", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_pet(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    pet::delete(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct WeightRequest {
    pub measured_on: Day,
    #[schema(minimum = 1, maximum = 200_000)]
    pub grams: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeightResponse {
    pub measured_on: NaiveDate,
    pub grams: i32,
}

impl From<Weight> for WeightResponse {
    fn from(w: Weight) -> Self {
        Self {
            measured_on: w.measured_on,
            grams: w.grams,
        }
    }
}

/// Record a weight (one a day: the same day again replaces it). The latest becomes the pet's.
#[utoipa::path(post, path = "/pets/{id}/weights", tag = "community", security(("bearer" = [])), params(("id" = i64, Path)), request_body = WeightRequest,
    responses(
        (status = 201, description = "Recorded", body = WeightResponse),
        (status = 200, description = "That day's weight replaced", body = WeightResponse),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. a day in the future)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn record_weight(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
    ValidJson(body): ValidJson<WeightRequest>,
) -> ApiResult<(StatusCode, Json<WeightResponse>)> {
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let entry = Weight {
        measured_on: body.measured_on.0,
        grams: body.grams,
    };
    let (entry, created) = pet::record_weight(
        &mut conn,
        user.id,
        id,
        entry,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeightsQuery {
    /// From this day (inclusive).
    #[param(inline)]
    pub from: Option<Day>,
    /// To this day (inclusive).
    #[param(inline)]
    pub to: Option<Day>,
}

/// The growth log, oldest first, for a chart.
#[utoipa::path(get, path = "/pets/{id}/weights", tag = "community", security(("bearer" = [])), params(("id" = i64, Path), WeightsQuery),
    responses(
        (status = 200, description = "Weights in date order", body = inline(Page<WeightResponse>)),
        (status = 404, description = "`PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_weights(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PetId>,
    Query(query): Query<WeightsQuery>,
) -> ApiResult<Json<Page<WeightResponse>>> {
    let mut conn = state.db().await?;
    let weights = pet::weights(
        &mut conn,
        user.id,
        id,
        query.from.map(|day| day.0),
        query.to.map(|day| day.0),
    )
    .await?;
    Ok(Json(Page::all(weights).map(Into::into)))
}

/// Remove one day's weight.
#[utoipa::path(delete, path = "/pets/{id}/weights/{measured_on}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path), ("measured_on" = String, Path, format = Date)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PET_NOT_FOUND`, `WEIGHT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_weight(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, measured_on)): Path<(PetId, Day)>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    pet::delete_weight(&mut conn, user.id, id, measured_on.0, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
