//! Sign-up, login, token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use petory_core::identity::account::{self, NewAccount};
use petory_core::identity::{password_reset, token, verification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{TokenResponse, valid_password};
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
    /// How other members will see me: 2 to 20 letters (Latin or Hangul), digits or underscores,
    /// unique whatever the case (`409 NICKNAME_TAKEN`); left out, `회원<id>` until I choose one.
    #[validate(custom(function = "super::valid_nickname"))]
    #[schema(pattern = "^[0-9A-Za-z가-힣_]{2,20}$", example = "보리맘")]
    pub nickname: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    /// The address the sign-up was for: a verification link goes there (or, if it has an
    /// account already, a note to its owner). Log in with the password next.
    pub email: String,
}

/// Create an account with email and password, then log in. A link to verify the address is
/// mailed; until it is followed the account reads but does not post, comment, review, like,
/// report, chat or order (`EMAIL_NOT_VERIFIED`), and a Google sign-in with that address takes
/// the account over, dropping this password. An address that has an account already gets the
/// same answer (its owner is mailed instead), so sign-ups tell nobody which addresses have
/// accounts.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 202, description = "Accepted: check the mailbox, then log in", body = SignupResponse),
        (status = 503, description = "`AUTH_BUSY` (too many sign-ins at once)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`NICKNAME_TAKEN`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`, `INVALID_BODY`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupResponse>)> {
    let email = body.email.trim().to_owned();
    let new = NewAccount {
        email: body.email,
        password: body.password,
        name: body.name,
        phone: body.phone,
        nickname: body.nickname,
    };
    account::register(
        &state.db,
        state.sessions.as_ref(),
        new,
        &state.config.public_url,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(SignupResponse { email })))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// The cookie that marks a device that signed in to an account: its logins are counted apart
/// from strangers' guesses (see `account::login`).
const DEVICE_COOKIE: &str = "petory_device";

fn device_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((DEVICE_COOKIE, token))
        .path("/api/v1/auth")
        .max_age(cookie::time::Duration::days(token::DEVICE_TTL.num_days()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.public_url.starts_with("https://"))
        .build()
}

/// Log in with email and password; a dormant account is reactivated. The answer sets an
/// `HttpOnly` cookie (`petory_device`) that marks this device: ten wrong passwords in 15
/// minutes hold back logins of the account from other devices, never from one that signed in
/// before.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    params(("petory_device" = Option<String>, Cookie, description = "Set by an earlier login of this device")),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse,
            headers(("set-cookie" = String, description = "`petory_device`, this device's mark (a year)"))),
        (status = 401, description = "`INVALID_CREDENTIALS` (unknown email and wrong password alike), `ACCOUNT_INACTIVE` (withdrawn)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ACCOUNT_SUSPENDED`; `context.suspended_until` says until when", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`, or `LOGIN_THROTTLED` (10 wrong passwords for this account in 15 minutes from devices that never signed in to it; `context.password_reset` offers the reset)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`AUTH_BUSY` (too many sign-ins at once), `AUTH_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ValidJson(body): ValidJson<LoginRequest>,
) -> ApiResult<(CookieJar, Json<TokenResponse>)> {
    let logged_in = account::login(
        &state.db,
        state.sessions(),
        &body.email,
        body.password,
        jar.get(DEVICE_COOKIE).map(Cookie::value),
        state.clock.now(),
    )
    .await?;
    let jar = jar.add(device_cookie(&state, logged_in.device));
    Ok((jar, Json(logged_in.tokens.into())))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordResetRequest {
    #[schema(min_length = 1, max_length = 254, format = Email, example = "bori@example.com")]
    pub email: String,
}

/// Ask for a password reset: if the address has an account, a single-use link (with its code)
/// is mailed to it, valid for 30 minutes; at most one a minute. The answer is the same
/// whether or not the address has an account.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted: if the address has an account, a link is on its way"),
        (status = 422, description = "`VALIDATION_FAILED`, `INVALID_BODY`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let link_base = state
        .config
        .app_url
        .as_deref()
        .unwrap_or(&state.config.public_url);
    password_reset::request(
        &state.db,
        state.sessions(),
        &body.email,
        link_base,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordResetConfirmation {
    /// The code of the mailed link (`token=`).
    #[schema(min_length = 1, max_length = 256)]
    pub token: String,
    /// Mixing letters with digits or symbols.
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 8, max_length = 128, example = "correct horse 2")]
    pub new_password: String,
}

/// Set a new password with a mailed reset code. Every session of the account ends, its
/// calendar feed's address stops (make a new one), the address counts as verified, and the
/// failed logins counted against it are forgotten. Log in with the new password next.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "The password is set"),
        (status = 400, description = "`INVALID_RESET_TOKEN` (unknown, used or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (a weak password), `INVALID_BODY`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`AUTH_BUSY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<PasswordResetConfirmation>,
) -> ApiResult<StatusCode> {
    password_reset::confirm(
        &state.db,
        state.sessions(),
        &body.token,
        body.new_password,
        &petory_core::calendar::feed::EndFeed,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
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

/// End this session: the access token is refused from now on, its refresh tokens stop working,
/// and the devices it subscribed to pushes stop receiving them.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    account::logout(state.sessions(), &user.claims, state.clock.now()).await?;
    // The device this session subscribed belongs to whoever signs in there next.
    let mut conn = state.db().await?;
    petory_core::notification::push::end_session(&mut conn, user.id, &user.claims.sid).await?;
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
