//! The signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use petory_core::identity::account;
use petory_core::identity::address::NewAddress;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::address::AddressRequest;
use super::{UserResponse, valid_password};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, ValidJson};

/// My account.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "My account", body = UserResponse),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_me(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(account::find(&mut conn, user.id).await?.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateMeRequest {
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    /// A phone number, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::extract::nullable_field")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: Option<Option<String>>,
    /// Receive the question of the day as a notification at midnight.
    pub notify_daily_question: Option<bool>,
}

/// Change my name, phone or notification settings.
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = UserResponse),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<UpdateMeRequest>,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        account::update(
            &mut conn,
            user.id,
            account::AccountChange {
                name: body.name,
                phone: body.phone,
                notify_daily_question: body.notify_daily_question,
            },
            state.clock.now(),
        )
        .await?
        .into(),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ProfileRequest {
    #[schema(pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: String,
    /// Becomes the default delivery address.
    #[validate(nested)]
    pub address: AddressRequest,
}

/// Complete my profile (phone and default delivery address): required before ordering, and
/// the step that accounts created through Google go through.
#[utoipa::path(put, path = "/users/me/profile", tag = "users", security(("bearer" = [])), request_body = ProfileRequest,
    responses(
        (status = 200, description = "Profile complete", body = UserResponse),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn complete_profile(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ProfileRequest>,
) -> ApiResult<Json<UserResponse>> {
    let address: NewAddress = body.address.into();
    let mut conn = state.db().await?;
    Ok(Json(
        account::complete_profile(&mut conn, user.id, body.phone, address, state.clock.now())
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// Mixing letters with digits or symbols.
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Change my password. Every other session ends; this one continues.
#[utoipa::path(put, path = "/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "`VALIDATION_FAILED` (a weak new password, or `current_password` wrong)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    account::change_password(
        &mut conn,
        state.sessions(),
        &user.claims,
        body.current_password,
        body.new_password,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw: the account is closed and every session ends. Orders are kept for the records.
#[utoipa::path(delete, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
    ))]
pub async fn withdraw(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    account::withdraw(&mut conn, state.sessions(), user.id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
