//! Sign-in with Google.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use petory_core::identity::IdentityError;
use petory_core::identity::oauth;
use serde::Deserialize;
use utoipa::IntoParams;

use super::TokenResponse;
use crate::app::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Query};

/// The cookie that binds a sign-in's `state` to the browser that started it: the callback is
/// refused without it, so an attacker cannot have a victim's browser finish the attacker's
/// sign-in (login CSRF).
const STATE_COOKIE: &str = "petory_oauth_state";
const STATE_COOKIE_PATH: &str = "/api/v1/auth/oauth";

fn state_cookie(state: &AppState, value: String, max_age: u64) -> Cookie<'static> {
    Cookie::build((STATE_COOKIE, value))
        .path(STATE_COOKIE_PATH)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.public_url.starts_with("https://"))
        .build()
}

/// Start signing in with Google: redirects to Google with `state`, `nonce` and a PKCE (S256)
/// challenge, and sets the `state` in an `HttpOnly` cookie for the callback to match.
#[utoipa::path(get, path = "/auth/oauth/google/authorize", tag = "auth",
    responses(
        (status = 302, description = "Redirect to Google", headers(("location" = String, description = "Google's consent page"), ("set-cookie" = String, description = "`petory_oauth_state`, for the callback"))),
        (status = 429, description = "`RATE_LIMITED`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`AUTH_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn google_authorize(
    State(state): State<AppState>,
    jar: CookieJar,
) -> ApiResult<Response> {
    let (url, oauth_state) = oauth::begin(state.sessions(), state.google.as_ref()).await?;
    let jar = jar.add(state_cookie(
        &state,
        oauth_state,
        oauth::PENDING_TTL.as_secs(),
    ));
    Ok((StatusCode::FOUND, jar, [(header::LOCATION, url)]).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    #[param(max_length = 2048)]
    pub code: Option<String>,
    #[param(max_length = 2048)]
    pub state: Option<String>,
    /// Set by Google when the user declined.
    #[param(max_length = 2048)]
    pub error: Option<String>,
}

/// Google sends the browser back here. Links the Google account to the user with the same
/// verified email, or creates a user (with `profile_complete: false`), and issues tokens: as
/// JSON, or by redirect to `PETORY_OAUTH_SUCCESS_REDIRECT` with the tokens in the fragment.
#[utoipa::path(get, path = "/auth/oauth/google/callback", tag = "auth", params(CallbackQuery),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 302, description = "Signed in; redirect to the app with the tokens in the URL fragment"),
        (status = 400, description = "`OAUTH_DENIED`, `INVALID_OAUTH_STATE` (also without the browser's state cookie), `OAUTH_CODE_REJECTED`, `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`OAUTH_NONCE_MISMATCH`, `OAUTH_ID_TOKEN_INVALID`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`OAUTH_EMAIL_UNVERIFIED`, `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`OAUTH_PROVIDER_UNAVAILABLE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn google_callback(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> ApiResult<Response> {
    if let Some(error) = query.error {
        return Err(ApiError::bad_request(
            ProblemCode::OauthDenied,
            format!("Google sign-in did not complete: {error}"),
        ));
    }
    let (Some(code), Some(oauth_state)) = (query.code, query.state) else {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "code and state are required",
        ));
    };
    // Checked before the state is spent, so a forged callback cannot burn a real sign-in.
    if jar.get(STATE_COOKIE).map(Cookie::value) != Some(oauth_state.as_str()) {
        return Err(IdentityError::InvalidOAuthState.into());
    }
    let pair = oauth::complete(
        &state.db,
        state.sessions(),
        state.google.as_ref(),
        &oauth_state,
        &code,
        state.clock.now(),
    )
    .await?;
    let tokens = TokenResponse::from(pair);
    let jar = jar.add(state_cookie(&state, String::new(), 0));
    let response = match &state.config.oauth_success_redirect {
        Some(target) => {
            let fragment = format!(
                "access_token={}&refresh_token={}&token_type=Bearer&expires_in={}",
                tokens.access_token, tokens.refresh_token, tokens.expires_in
            );
            (
                StatusCode::FOUND,
                [(header::LOCATION, format!("{target}#{fragment}"))],
            )
                .into_response()
        }
        None => Json(tokens).into_response(),
    };
    Ok((jar, response).into_response())
}
