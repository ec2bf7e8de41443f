//! The signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use petory_core::identity::account;
use petory_core::identity::address::NewAddress;
use petory_core::identity::rules;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::address::AddressRequest;
use super::{UserResponse, valid_password, valid_phone};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
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
    #[validate(length(
        min = 1,
        max = 50,
        code = "length",
        message = "must be 1 to 50 characters"
    ))]
    pub name: Option<String>,
    /// A phone number, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::extract::nullable_field")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Receive the question of the day as a notification at midnight.
    pub notify_daily_question: Option<bool>,
}

/// Change my name, phone or notification settings.
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = UserResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<UpdateMeRequest>,
) -> ApiResult<Json<UserResponse>> {
    if let Some(Some(phone)) = &body.phone {
        rules::check_phone(phone)
            .map_err(|message| ApiError::invalid_field("phone", "phone", message))?;
    }
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
    #[validate(custom(function = "valid_phone"))]
    #[schema(example = "010-1234-5678")]
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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
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
    #[validate(length(min = 1, max = 1024, code = "length", message = "is required"))]
    pub current_password: String,
    #[validate(custom(function = "valid_password"))]
    pub new_password: String,
}

/// Change my password. Every other session ends; this one continues.
#[utoipa::path(put, path = "/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    account::withdraw(&mut conn, state.sessions(), user.id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
