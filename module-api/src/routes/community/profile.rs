//! Members' public profiles.

use axum::extract::State;
use chrono::{DateTime, Utc};
use petory_core::community::pet::Species;
use petory_core::community::profile::{self, Profile, ProfilePet};
use petory_core::identity::UserId;
use petory_core::platform::image::ImageUrls;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{AppState, HasImages};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub user_id: i64,
    pub nickname: String,
    pub bio: String,
    /// Their picture (square versions), if they set one.
    pub avatar_urls: Option<ImageUrls>,
    pub joined_at: DateTime<Utc>,
    pub pets: Vec<ProfilePetResponse>,
    pub post_count: i64,
    pub listing_count: i64,
    /// Listings sold.
    pub sold_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePetResponse {
    pub id: i64,
    pub name: String,
    pub species: Species,
    /// Where to read the pet's photo, per size.
    pub photo_urls: Option<ImageUrls>,
    #[serde(skip)]
    photo_keys: Vec<String>,
    #[serde(skip)]
    linked: Vec<ImageUrls>,
}

impl From<ProfilePet> for ProfilePetResponse {
    fn from(pet: ProfilePet) -> Self {
        Self {
            id: pet.id.into(),
            name: pet.name,
            species: pet.species,
            photo_urls: None,
            photo_keys: pet.photo_key.into_iter().collect(),
            linked: Vec::new(),
        }
    }
}

impl HasImages for ProfilePetResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.photo_keys, &mut self.linked)
    }
}

impl ProfileResponse {
    async fn of(state: &AppState, profile: Profile) -> ApiResult<Self> {
        let mut pets: Vec<ProfilePetResponse> = profile.pets.into_iter().map(Into::into).collect();
        state.link_images(pets.iter_mut()).await?;
        for pet in &mut pets {
            pet.photo_urls = pet.linked.first().cloned();
        }
        Ok(Self {
            user_id: profile.user_id.into(),
            nickname: profile.nickname,
            bio: profile.bio,
            avatar_urls: state.image_url(profile.avatar_key.as_deref()).await?,
            joined_at: profile.joined_at,
            pets,
            post_count: profile.post_count,
            listing_count: profile.listing_count,
            sold_count: profile.sold_count,
        })
    }
}

/// A member's public profile (guests too): nickname, bio, pets and what they share; never their
/// name or email.
#[utoipa::path(get, path = "/users/{id}/profile", tag = "community", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
        (status = 404, description = "`USER_NOT_FOUND` (none, or withdrawn)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_profile(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
) -> ApiResult<Json<ProfileResponse>> {
    let found = profile::profile(&mut *state.db().await?, id).await?;
    Ok(Json(ProfileResponse::of(&state, found).await?))
}
