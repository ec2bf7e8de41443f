//! Logging in and staying logged in: tokens that open my account, refresh tokens that rotate
//! (and a replayed one that ends the whole family), logging out.

use chrono::TimeDelta;
use reqwest::Method;

use crate::client::Client as _;
use crate::fixtures::shop::{Account, Tokens, me};
use crate::util::{PASSWORD, TestApp, assert_problem};

#[tokio::test]
async fn login_gives_tokens_that_open_my_account() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let response = app.try_login("bori@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let tokens: Tokens = response.json().await.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900);
    let id = app.user_id("bori@example.com").await;
    let bori = app.member_of(id, "bori@example.com", tokens.access_token);
    let response = me(&bori).await;
    assert_eq!(response.status(), 200);
    let account: Account = response.json().await.unwrap();
    assert_eq!(account.email, "bori@example.com");
    assert_eq!(
        account.last_login_at.as_deref(),
        Some("2026-11-23T01:00:00Z")
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let wrong = app.try_login("bori@example.com", "wrong horse 1").await;
    let unknown = app.try_login("nobody@example.com", PASSWORD).await;
    let wrong = assert_problem(wrong, 401, "INVALID_CREDENTIALS").await;
    let unknown = assert_problem(unknown, 401, "INVALID_CREDENTIALS").await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn guests_bad_and_expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;

    let guest = me(&app.guest()).await;
    assert_eq!(guest.headers()["www-authenticate"], "Bearer");
    assert_problem(guest, 401, "AUTHENTICATION_REQUIRED").await;

    let holding = |token: String| app.member_of(bori.id, &bori.email, token);
    let mut tampered = bori.token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_problem(me(&holding(tampered)).await, 401, "INVALID_TOKEN").await;

    let payload = bori.token.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_problem(me(&holding(unsigned)).await, 401, "INVALID_TOKEN").await;

    app.clock.advance(TimeDelta::minutes(15));
    assert_problem(me(&bori).await, 401, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let first = app.session("bori@example.com", PASSWORD).await;

    let response = app.try_refresh(&first.refresh_token).await;
    assert_eq!(response.status(), 200);
    let second: Tokens = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let rotated = app.member_of(first.member.id, &first.member.email, second.access_token);
    assert_eq!(me(&rotated).await.status(), 200);

    // A thief replays the first token: the whole family ends.
    let replay = app.try_refresh(&first.refresh_token).await;
    assert_problem(replay, 401, "REFRESH_TOKEN_REUSED").await;
    let legit = app.try_refresh(&second.refresh_token).await;
    assert_problem(legit, 401, "INVALID_REFRESH_TOKEN").await;
    assert_problem(me(&rotated).await, 401, "TOKEN_REVOKED").await;
    assert_problem(me(&first.member).await, 401, "TOKEN_REVOKED").await;

    // Another login is a new family and works.
    let other = app.session("bori@example.com", PASSWORD).await.member;
    assert_eq!(me(&other).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let response = app.try_refresh(&"f".repeat(64)).await;
    assert_problem(response, 401, "INVALID_REFRESH_TOKEN").await;
}

#[tokio::test]
async fn logout_refuses_the_token_at_once_and_ends_the_session_only() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let session = app.session("bori@example.com", PASSWORD).await;
    let other = app.session("bori@example.com", PASSWORD).await.member;

    let response = session
        .member
        .request(Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(me(&session.member).await, 401, "TOKEN_REVOKED").await;
    let refreshed = app.try_refresh(&session.refresh_token).await;
    assert_problem(refreshed, 401, "INVALID_REFRESH_TOKEN").await;
    assert_eq!(me(&other).await.status(), 200, "the other session lives on");
}
