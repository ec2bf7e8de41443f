//! Sign-up, login, token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use petory_core::identity::Role;
use petory_core::identity::account::{self, NewAccount};
use petory_core::identity::verification;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{TokenResponse, UserResponse, valid_password};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, ValidJson};

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SignupRequest {
    #[validate(email(code = "email", message = "must be an email address"))]
    #[schema(max_length = 254, format = Email, example = "bori@example.com")]
    pub email: String,
    /// Mixing letters with digits or symbols.
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 8, max_length = 128, example = "correct horse 1")]
    pub password: String,
    #[schema(example = "Bori's human")]
    #[schema(min_length = 1, max_length = 50)]
    pub name: String,
    #[schema(pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: Option<String>,
}

/// Create an account with email and password. A link to verify the address is mailed; until
/// it is followed the account does not own the address (`email_verified: false`), and a Google
/// sign-in with that address takes the account over, dropping this password.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse),
        (status = 409, description = "`EMAIL_TAKEN` (also when a dormant account keeps the address)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`AUTH_BUSY` (too many sign-ins at once)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`, `INVALID_BODY`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    let new = NewAccount {
        email: body.email,
        password: body.password,
        name: body.name,
        phone: body.phone,
    };
    let proof = account::Proof::MailLink(&state.config.public_url);
    let account = account::signup(&state.db, new, Role::User, proof, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// Log in with email and password; a dormant account is reactivated.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 401, description = "`INVALID_CREDENTIALS` (unknown email and wrong password alike)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`; `context.suspended_until` says until when", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`, or `LOGIN_THROTTLED` (10 failed logins of this account in 15 minutes, from any address)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`AUTH_BUSY` (too many sign-ins at once), `AUTH_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let pair = account::login(
        &state.db,
        state.sessions(),
        &body.email,
        body.password,
        state.clock.now(),
    )
    .await?;
    Ok(Json(pair.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a spent
/// one ends every session of that login (`REFRESH_TOKEN_REUSED`).
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "`INVALID_REFRESH_TOKEN`, `REFRESH_TOKEN_REUSED`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let mut conn = state.db().await?;
    let pair = account::refresh(
        &mut conn,
        state.sessions(),
        &body.refresh_token,
        state.clock.now(),
    )
    .await?;
    Ok(Json(pair.into()))
}

/// End this session: the access token is refused from now on and its refresh tokens stop working.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    account::logout(state.sessions(), &user.claims, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyEmailQuery {
    /// From the link mailed at sign-up.
    #[param(max_length = 100)]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerifiedResponse {
    pub email_verified: bool,
}

/// Confirms an email address: the link mailed at sign-up (and on request) points here. A link
/// works once and for 48 hours.
#[utoipa::path(get, path = "/auth/verify-email", tag = "auth", params(VerifyEmailQuery),
    responses(
        (status = 200, description = "Verified", body = EmailVerifiedResponse),
        (status = 400, description = "`INVALID_VERIFICATION_TOKEN`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    Query(query): Query<VerifyEmailQuery>,
) -> ApiResult<Json<EmailVerifiedResponse>> {
    let mut conn = state.db().await?;
    verification::confirm(&mut conn, &query.token, state.clock.now()).await?;
    Ok(Json(EmailVerifiedResponse {
        email_verified: true,
    }))
}
