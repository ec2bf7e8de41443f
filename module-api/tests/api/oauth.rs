//! Google sign-in end to end against the fake provider: PKCE, state, nonce, ID token checks,
//! linking and creating accounts.

use crate::client::Client as _;
use crate::fake_google::{FakeGoogle, GoogleUser};
use crate::fixtures::shop::{Account, Tokens, me};
use crate::util::{ClockExt as _, TestApp, assert_problem};

async fn app_with_google() -> (TestApp, FakeGoogle) {
    let google = FakeGoogle::start(crate::util::start_of_test_time()).await;
    let app = TestApp::builder().google(google.settings()).spawn().await;
    (app, google)
}

async fn authorize(app: &TestApp) -> String {
    let response = app.get("/api/v1/auth/oauth/google/authorize").await;
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The callback as the browser that started the sign-in sends it (with its state cookie).
async fn callback(app: &TestApp, code: &str, state: &str) -> reqwest::Response {
    callback_with(
        app,
        code,
        state,
        Some(&format!("petory_oauth_state={state}")),
    )
    .await
}

pub async fn callback_with(
    app: &TestApp,
    code: &str,
    state: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!(
        "/api/v1/auth/oauth/google/callback?code={code}&state={state}"
    )));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// The `name=value` of the state cookie `authorize` set.
pub fn state_cookie(authorize: &reqwest::Response) -> String {
    let set_cookie = authorize.headers()["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_sign_in_state_is_bound_to_the_browser_that_started_it() {
    let (app, google) = app_with_google().await;
    let authorize = app.get("/api/v1/auth/oauth/google/authorize").await;
    let set_cookie = authorize.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/api/v1/auth/oauth",
        "Max-Age=600",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = state_cookie(&authorize);
    let location = authorize.headers()["location"].to_str().unwrap().to_owned();
    let (code, state) = google.consent(&location, GoogleUser::new("g-csrf", "csrf@gmail.com"));
    // Another browser (an attacker's link opened by a victim) has no such cookie.
    assert_problem(
        callback_with(&app, &code, &state, None).await,
        400,
        "INVALID_OAUTH_STATE",
    )
    .await;
    assert_problem(
        callback_with(&app, &code, &state, Some("petory_oauth_state=someone-else")).await,
        400,
        "INVALID_OAUTH_STATE",
    )
    .await;
    let signed_in = callback_with(&app, &code, &state, Some(&cookie)).await;
    assert_eq!(signed_in.status(), 200);
    assert!(
        signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "the cookie is spent"
    );
}

#[tokio::test]
async fn a_new_google_user_gets_an_account_with_an_incomplete_profile() {
    let (app, google) = app_with_google().await;
    let location = authorize(&app).await;
    assert!(location.starts_with(&google.settings().authorization_endpoint));
    let (code, state) = google.consent(&location, GoogleUser::new("g-100", "Bori@Gmail.com"));

    let response = callback(&app, &code, &state).await;
    assert_eq!(response.status(), 200);
    let tokens: Tokens = response.json().await.unwrap();
    let bori = app.holding("bori@gmail.com", tokens.access_token).await;
    let me: Account = bori.get("/api/v1/users/me").await;
    assert_eq!(me.email, "bori@gmail.com");
    assert_eq!(me.name, "Bori Kim");
    assert!(!me.profile_complete);

    // Signing in again finds the same account.
    let (code, state) = google.consent(
        &authorize(&app).await,
        GoogleUser::new("g-100", "bori@gmail.com"),
    );
    let again: Tokens = callback(&app, &code, &state).await.json().await.unwrap();
    let bori_again = app.holding("bori@gmail.com", again.access_token).await;
    let me_again: Account = bori_again.get("/api/v1/users/me").await;
    assert_eq!(me_again.id, me.id);
}

#[tokio::test]
async fn a_verified_google_email_links_the_existing_account() {
    let (app, google) = app_with_google().await;
    app.signup("bori@gmail.com").await;
    let existing = app.user_id("bori@gmail.com").await;
    let (code, state) = google.consent(
        &authorize(&app).await,
        GoogleUser::new("g-200", "bori@gmail.com"),
    );
    let tokens: Tokens = callback(&app, &code, &state).await.json().await.unwrap();
    let bori = app.holding("bori@gmail.com", tokens.access_token).await;
    let me: Account = bori.get("/api/v1/users/me").await;
    assert_eq!(me.id, existing);
}

#[tokio::test]
async fn an_unverified_email_cannot_claim_an_account() {
    let (app, google) = app_with_google().await;
    app.signup("bori@gmail.com").await;
    let user = GoogleUser {
        email_verified: false,
        ..GoogleUser::new("g-300", "bori@gmail.com")
    };
    let (code, state) = google.consent(&authorize(&app).await, user);
    assert_problem(
        callback(&app, &code, &state).await,
        403,
        "OAUTH_EMAIL_UNVERIFIED",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_or_replayed_state_is_refused() {
    let (app, google) = app_with_google().await;
    let (code, state) = google.consent(
        &authorize(&app).await,
        GoogleUser::new("g-400", "a@gmail.com"),
    );
    assert_problem(
        callback(&app, &code, "forged-state").await,
        400,
        "INVALID_OAUTH_STATE",
    )
    .await;
    assert_eq!(callback(&app, &code, &state).await.status(), 200);
    assert_problem(
        callback(&app, &code, &state).await,
        400,
        "INVALID_OAUTH_STATE",
    )
    .await;
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    let (app, google) = app_with_google().await;
    let user = GoogleUser {
        nonce_override: Some("someone-elses-nonce".into()),
        ..GoogleUser::new("g-500", "a@gmail.com")
    };
    let (code, state) = google.consent(&authorize(&app).await, user);
    assert_problem(
        callback(&app, &code, &state).await,
        401,
        "OAUTH_NONCE_MISMATCH",
    )
    .await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let (app, google) = app_with_google().await;
    let user = GoogleUser {
        audience_override: Some("another-app".into()),
        ..GoogleUser::new("g-600", "a@gmail.com")
    };
    let (code, state) = google.consent(&authorize(&app).await, user);
    assert_problem(
        callback(&app, &code, &state).await,
        401,
        "OAUTH_ID_TOKEN_INVALID",
    )
    .await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (app, google) = app_with_google().await;
    let (code, state) = google.consent(
        &authorize(&app).await,
        GoogleUser::new("g-700", "a@gmail.com"),
    );
    // The provider signed it an hour's validity ago, by our clock.
    app.clock
        .set(app.clock.now_utc() + chrono::TimeDelta::hours(2));
    assert_problem(
        callback(&app, &code, &state).await,
        401,
        "OAUTH_ID_TOKEN_INVALID",
    )
    .await;
}

#[tokio::test]
async fn a_denied_consent_and_an_unreachable_provider_are_clear_problems() {
    let (app, _google) = app_with_google().await;
    assert_problem(
        app.get("/api/v1/auth/oauth/google/callback?error=access_denied")
            .await,
        400,
        "OAUTH_DENIED",
    )
    .await;
    assert_problem(
        app.get("/api/v1/auth/oauth/google/callback?code=x").await,
        400,
        "INVALID_QUERY",
    )
    .await;

    let offline = TestApp::spawn().await; // its provider points at a closed port
    let location = authorize(&offline).await;
    let state = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    assert_problem(
        callback(&offline, "some-code", &state).await,
        503,
        "OAUTH_PROVIDER_UNAVAILABLE",
    )
    .await;
}

#[tokio::test]
async fn a_configured_app_url_receives_the_tokens_in_the_fragment() {
    let google = FakeGoogle::start(crate::util::start_of_test_time()).await;
    let app = TestApp::builder()
        .google(google.settings())
        .oauth_success_redirect("https://app.petory.test/signed-in")
        .spawn()
        .await;
    let (code, state) = google.consent(
        &authorize(&app).await,
        GoogleUser::new("g-800", "a@gmail.com"),
    );
    let response = callback(&app, &code, &state).await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (target, fragment) = location.split_once('#').unwrap();
    assert_eq!(target, "https://app.petory.test/signed-in");
    let access = fragment
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .unwrap();
    assert!(fragment.contains("refresh_token=") && fragment.contains("token_type=Bearer"));
    let signed_in = app.holding("a@gmail.com", access.to_owned()).await;
    assert_eq!(me(&signed_in).await.status(), 200);
}
