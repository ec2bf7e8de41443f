//! What a client receives, whole: problem documents and list pages as snapshots (`insta`,
//! under `snapshots/`), so that a changed field, code or shape shows in review as a diff.
//! Ids, times and cursors are redacted; everything else is compared as served.
//!
//! A changed snapshot fails the test; `cargo insta review` (or `INSTA_UPDATE=always`) takes the
//! new one after a look.

use insta::assert_json_snapshot;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::Client;
use crate::fixtures::community::Trade;
use crate::util::TestApp;

/// Ids, times and cursors differ between runs; the rest of an answer does not. A `null` stays
/// `null`, so that a snapshot still tells a last page or an unread notification.
fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    let ids = [
        "id",
        "author_id",
        "seller_id",
        "sender_id",
        "post_id",
        "listing_id",
        "room_id",
        "comment_id",
        "parent_id",
        "user_id",
        "message_id",
    ];
    let times = [
        "created_at",
        "updated_at",
        "read_at",
        "edited_at",
        "sent_at",
    ];
    for (keys, label) in [(&ids[..], "[id]"), (&times[..], "[time]")] {
        for key in keys {
            settings.add_redaction(&format!(".**.{key}"), unless_null(label));
        }
    }
    settings.add_redaction(".**.next_cursor", unless_null("[cursor]"));
    settings
}

/// Replaces a value by `label`, unless it is `null`.
fn unless_null(label: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(
        move |value, _| {
            if value.is_nil() { value } else { label.into() }
        },
    )
}

async fn problem(response: reqwest::Response) -> Value {
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/problem+json")
    );
    response.json().await.expect("a problem document")
}

#[tokio::test]
async fn problem_documents_as_clients_receive_them() {
    let app = TestApp::spawn().await;
    let member = app.member("bori@example.com").await;
    let guest = app.guest();

    let invalid = guest
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "not an email", "password": "short", "name": ""})),
        )
        .await;
    let unauthenticated = guest.request(Method::GET, "/api/v1/users/me", None).await;
    let missing = guest
        .request(Method::GET, "/api/v1/owner-boards/999999", None)
        .await;
    let bad_cursor = guest
        .request(Method::GET, "/api/v1/owner-boards?cursor=garbage", None)
        .await;
    let unknown_field = member
        .request(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"nickname": "보리맘", "shoe_size": 270})),
        )
        .await;
    let wrong_type = app
        .client
        .post(app.url("/api/v1/owner-boards"))
        .bearer_auth(&member.token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("request");

    let documents = json!({
        "invalid_signup": problem(invalid).await,
        "unauthenticated": problem(unauthenticated).await,
        "missing_post": problem(missing).await,
        "bad_cursor": problem(bad_cursor).await,
        "unknown_field": problem(unknown_field).await,
        "wrong_content_type": problem(wrong_type).await,
    });
    redacted().bind(|| assert_json_snapshot!(documents));
}

#[tokio::test]
async fn a_conflict_with_context_names_when_to_try_again() {
    let app = TestApp::spawn().await;
    let member = app.member("bori@example.com").await;
    let _: Value = member
        .patch("/api/v1/users/me", json!({"nickname": "보리맘"}))
        .await;
    let again = member
        .request(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"nickname": "보리아빠"})),
        )
        .await;
    assert_eq!(again.status(), 409);
    let document = problem(again).await;
    // The time is part of the answer here: the test clock makes it stable.
    assert_json_snapshot!(document);
}

/// Two posts, one with a comment, as a guest reads the board's first page.
#[tokio::test]
async fn the_owner_boards_first_page() {
    let app = TestApp::spawn().await;
    let author = app.member("bori@example.com").await;
    let reader = app.member("nabi@example.com").await;
    app.post_by(&author, "산책 다녀왔어요", "한강 공원 한 바퀴")
        .await;
    let second = app
        .post_by(&author, "간식 추천해 주세요", "닭가슴살 말고요")
        .await;
    let _: Value = reader
        .post(
            &format!("/api/v1/owner-boards/{}/comments", second.id),
            json!({"content": "고구마 말랭이요"}),
        )
        .await;

    let page: Value = app.guest().get("/api/v1/owner-boards").await;
    redacted().bind(|| assert_json_snapshot!(page));
}

#[tokio::test]
async fn the_trade_boards_first_page() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    app.listing_by(&seller, "캣타워").await;
    app.listing_by(&seller, "이동장").await;

    let page: Value = app.guest().get("/api/v1/trade-boards").await;
    redacted().bind(|| assert_json_snapshot!(page));
}

/// What the author of a post reads after someone comments on it.
#[tokio::test]
async fn a_members_notifications_page() {
    let app = TestApp::spawn().await;
    let author = app.member("bori@example.com").await;
    let reader = app.member("nabi@example.com").await;
    let created = app
        .post_by(&author, "산책 다녀왔어요", "한강 공원 한 바퀴")
        .await;
    let _: Value = reader
        .post(
            &format!("/api/v1/owner-boards/{}/comments", created.id),
            json!({"content": "부러워요"}),
        )
        .await;
    app.relay_events().await;

    let page: Value = author.get("/api/v1/notifications").await;
    redacted().bind(|| assert_json_snapshot!(page));
}

/// A buyer's chat room and its history, newest first.
#[tokio::test]
async fn a_chat_rooms_history_page() {
    let app = TestApp::spawn().await;
    let Trade {
        buyer,
        seller,
        room,
        ..
    } = app.trade().await;
    let room = format!("/api/v1/chat/rooms/{room}/messages");
    for (n, from, text) in [(1, &buyer, "아직 있나요?"), (2, &seller, "네 있어요")] {
        let client_id = format!("00000000-0000-4000-8000-00000000000{n}");
        let _: Value = from
            .post(&room, json!({"client_id": client_id, "text": text}))
            .await;
    }

    let history: Value = buyer.get(&room).await;
    let rooms: Value = buyer.get("/api/v1/chat/rooms").await;
    redacted().bind(|| assert_json_snapshot!(json!({"history": history, "rooms": rooms})));
}
