//! The signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use petory_core::identity::account;
use petory_core::identity::address::NewAddress;
use petory_core::identity::closing::OtherSecrets;
use petory_core::notification::NotificationKind;
use petory_core::notification::settings::{self, ChannelsChange, SettingsChange};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::address::AddressRequest;
use super::{UserResponse, valid_password};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, OptionalJson, ValidJson};

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
    let account = account::find(&mut conn, user.id).await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateMeRequest {
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    /// A phone number, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::extract::nullable_field")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: Option<Option<String>>,
    /// A new nickname (at most once in 30 days: `409 NICKNAME_RECENTLY_CHANGED`; taken:
    /// `409 NICKNAME_TAKEN`).
    #[validate(custom(function = "super::valid_nickname"))]
    #[schema(pattern = "^[0-9A-Za-z가-힣_]{2,20}$", example = "보리맘")]
    pub nickname: Option<String>,
    /// A few words about me and my pets, shown on my profile.
    #[validate(length(max = 300))]
    #[schema(max_length = 300)]
    pub bio: Option<String>,
    /// My picture: the key of one of my uploads of purpose `AVATAR` (shown as a 256 px square),
    /// or `null` to remove it.
    #[serde(default, deserialize_with = "crate::extract::nullable_field")]
    #[schema(value_type = Option<crate::extract::ObjectKey>)]
    pub avatar_key: Option<Option<String>>,
    /// Receive the question of the day as a notification at midnight (the `DAILY_QUESTION`
    /// kind's in-app setting, also at `/users/me/notification-settings`).
    pub notify_daily_question: Option<bool>,
}

/// Change my name, phone, nickname, bio, picture or daily question setting.
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = UserResponse),
        (status = 409, description = "`NICKNAME_TAKEN`, `NICKNAME_RECENTLY_CHANGED`, `UPLOAD_IN_USE` (the picture belongs to other content)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (the avatar key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<UpdateMeRequest>,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    if let Some(on) = body.notify_daily_question {
        // The daily question's in-app setting, kept here for clients that set it with the rest.
        let change = SettingsChange {
            kinds: [(
                NotificationKind::DailyQuestion,
                ChannelsChange {
                    in_app: Some(on),
                    ..ChannelsChange::default()
                },
            )]
            .into(),
            muted_rooms: None,
        };
        settings::change(&mut conn, user.id, change, state.clock.now()).await?;
    }
    let change = account::AccountChange {
        name: body.name,
        phone: body.phone,
        nickname: body.nickname,
        bio: body.bio,
        avatar_key: body.avatar_key,
    };
    let store = state.object_store.as_ref();
    let account = account::update(&mut conn, store, user.id, change, state.clock.now()).await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
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
        (status = 409, description = "`TOO_MANY_ADDRESSES` (10 kept already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn complete_profile(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ProfileRequest>,
) -> ApiResult<Json<UserResponse>> {
    let address: NewAddress = body.address.into();
    let mut conn = state.db().await?;
    let account =
        account::complete_profile(&mut conn, user.id, body.phone, address, state.clock.now())
            .await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// Mixing letters with digits or symbols.
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
    /// Also stop my calendar feed's address (calendar apps subscribed to it see nothing more;
    /// make a new one with `POST /users/me/calendar-feed`). Worth it when someone else may
    /// have used the account.
    #[serde(default)]
    pub end_calendar_feed: bool,
}

/// Change my password. Every other session ends; this one continues. Wrong current passwords
/// are counted per account as logins are: ten in 15 minutes hold further tries back.
#[utoipa::path(put, path = "/users/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "`VALIDATION_FAILED` (a weak new password, or `current_password` wrong)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`LOGIN_THROTTLED` (10 wrong current passwords in 15 minutes), `RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    account::change_password(
        &state.db,
        state.sessions(),
        &user.claims,
        body.current_password,
        body.new_password,
        body.end_calendar_feed
            .then_some(&petory_core::calendar::feed::EndFeed as &dyn OtherSecrets),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct WithdrawRequest {
    /// The account's password (an account without one, signed in with Google, needs a
    /// sign-in within the last 5 minutes instead).
    #[schema(min_length = 1, max_length = 1024)]
    pub password: Option<String>,
}

/// Withdraw: the account is closed and every session ends; subscriptions are cancelled and
/// devices stop receiving pushes. Orders
/// are kept for the records. A stolen session alone cannot do it: it takes the password.
#[utoipa::path(delete, path = "/users/me", tag = "users", security(("bearer" = [])),
    request_body(content = WithdrawRequest, description = "The password (optional for accounts without one)"),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "`REAUTHENTICATION_REQUIRED` (no or a wrong password; a Google-only account signed in too long ago)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: AuthUser,
    OptionalJson(body): OptionalJson<WithdrawRequest>,
) -> ApiResult<StatusCode> {
    let password = body.and_then(|body| body.password);
    account::withdraw(
        &state.db,
        state.sessions(),
        &user.claims,
        password,
        &petory_core::identity::closing::Closings(&[
            &petory_core::shop::subscription::EndSubscriptions,
            &petory_core::notification::push::EndPushSubscriptions,
        ]),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mail a fresh link to verify my email address (at most one a minute).
#[utoipa::path(post, path = "/users/me/email-verification", tag = "users", security(("bearer" = [])),
    responses(
        (status = 202, description = "A link is on its way"),
        (status = 409, description = "`EMAIL_ALREADY_VERIFIED`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`VERIFICATION_RECENTLY_SENT` (with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    petory_core::identity::verification::resend(
        &mut conn,
        user.id,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}
