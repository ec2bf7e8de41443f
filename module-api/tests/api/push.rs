//! Web Push: a member's devices receive what they switched on, from the outbox relay, through
//! a local push service that checks VAPID and decrypts each push as the browser would.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel_async::RunQueryDsl as _;
use petory_external_api::push::sandbox::{
    BrowserSubscription, PushSandbox, PushSandboxSettings, Received,
};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Community, Notification};
use crate::util::{PASSWORD, TestApp, assert_problem};

const SUBSCRIPTIONS: &str = "/api/v1/users/me/push-subscriptions";

#[derive(Debug, Deserialize)]
struct VapidKey {
    public_key: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Device {
    id: i64,
    endpoint: String,
    user_agent: Option<String>,
}

/// What a service worker reads from a push (`event.data.json()`).
#[derive(Debug, Deserialize, PartialEq)]
struct Shown {
    id: Option<i64>,
    kind: String,
    title: String,
    body: String,
    data: Value,
}

async fn push_service() -> PushSandbox {
    PushSandbox::serve(
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind push service"),
        PushSandboxSettings::default(),
    )
    .expect("push service")
}

/// A browser of `member` subscribing with the server's key, and telling the API.
async fn subscribe(member: &Member, service: &PushSandbox, agent: &str) -> BrowserSubscription {
    let key: VapidKey = member.get("/api/v1/push/vapid-public-key").await;
    let browser = service.subscribe(&key.public_key);
    let _: Device = member
        .post(
            SUBSCRIPTIONS,
            json!({"endpoint": browser.endpoint, "keys": browser.keys, "user_agent": agent}),
        )
        .await;
    browser
}

/// The same account signed in on another device.
async fn another_device(app: &TestApp, member: &Member) -> Member {
    let (token, _) = app.login(&member.email, PASSWORD).await;
    app.member_of(member.id, &member.email, token)
}

fn shown(pushes: &[Received]) -> Vec<Shown> {
    pushes
        .iter()
        .map(|push| serde_json::from_value(push.payload.clone()).expect("a notification"))
        .collect()
}

async fn devices(member: &Member) -> Vec<Device> {
    let page: Page<Device> = member.get(SUBSCRIPTIONS).await;
    page.items
}

#[tokio::test]
async fn a_chat_message_reaches_both_devices_of_a_member_who_is_away() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let trade = app.trade().await;
    let phone = another_device(&app, &trade.seller).await;
    let laptop = subscribe(&trade.seller, &service, "Firefox on a laptop").await;
    let mobile = subscribe(&phone, &service, "Chrome on Android").await;

    trade.buyer.say(trade.room, "아직 판매 중인가요?").await;
    // Nothing goes out in the request: the relay queues, the sender sends.
    assert!(service.received(&laptop.endpoint).is_empty());
    app.relay_events().await;
    let counts = app.send_pushes().await;

    assert_eq!(counts.sent, 2);
    let in_app: Vec<Notification> = trade.seller.notifications().await;
    assert_eq!(in_app.len(), 1);
    let ids: Page<Value> = trade.seller.get("/api/v1/notifications").await;
    for device in [&laptop, &mobile] {
        let pushes = service.received(&device.endpoint);
        assert_eq!(pushes.len(), 1, "one push to {}", device.endpoint);
        // Exactly what the app shows, no more.
        assert_eq!(
            shown(&pushes),
            vec![Shown {
                id: ids.items[0]["id"].as_i64(),
                kind: "CHAT_MESSAGE".into(),
                title: in_app[0].title.clone(),
                body: in_app[0].body.clone(),
                data: in_app[0].data.clone(),
            }]
        );
        let push = &pushes[0];
        assert_eq!(push.urgency.as_deref(), Some("high"));
        assert_eq!(push.topic, Some(format!("chat-{}", trade.room)));
        assert_eq!(push.ttl, 86_400);
        assert_eq!(push.subject, petory_external_api::push::DEV_SUBJECT);
        assert!(push.encrypted_bytes <= 3072);
    }
}

#[tokio::test]
async fn a_device_its_push_service_calls_gone_is_removed() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let trade = app.trade().await;
    let phone = another_device(&app, &trade.seller).await;
    let old = subscribe(&trade.seller, &service, "an old browser").await;
    let current = subscribe(&phone, &service, "a current browser").await;
    service.answer(&old.endpoint, 410, 1);

    trade.buyer.say(trade.room, "hello?").await;
    app.relay_events().await;
    let counts = app.send_pushes().await;

    assert_eq!((counts.sent, counts.gone), (1, 1));
    let left: Vec<String> = devices(&phone)
        .await
        .into_iter()
        .map(|device| device.endpoint)
        .collect();
    assert_eq!(left, vec![current.endpoint.clone()]);
    assert_eq!(service.received(&current.endpoint).len(), 1);
    assert!(service.received(&old.endpoint).is_empty());
}

#[tokio::test]
async fn a_kind_switched_off_for_push_sends_nothing_but_still_shows_in_the_app() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let trade = app.trade().await;
    let device = subscribe(&trade.seller, &service, "Firefox").await;
    let _: Value = trade
        .seller
        .patch(
            "/api/v1/users/me/notification-settings",
            json!({"kinds": {"CHAT_MESSAGE": {"push": false}}}),
        )
        .await;

    trade.buyer.say(trade.room, "hello?").await;
    app.relay_events().await;
    let counts = app.send_pushes().await;

    assert_eq!(counts.sent, 0);
    assert!(service.received(&device.endpoint).is_empty());
    assert_eq!(trade.seller.notifications().await.len(), 1);
}

#[tokio::test]
async fn a_relay_that_runs_an_event_again_sends_its_push_once() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let trade = app.trade().await;
    let device = subscribe(&trade.seller, &service, "Firefox").await;
    trade.buyer.say(trade.room, "hello?").await;
    app.relay_events().await;
    // The relay died after handling the event and before recording it: the next one runs it
    // again.
    let mut conn = app.state.db.get().await.expect("connection");
    let again = diesel::sql_query(
        "UPDATE outbox_events
            SET status = 'PENDING', delivered_at = NULL, next_attempt_at = created_at
          WHERE kind = 'NOTIFICATION_REQUESTED'",
    )
    .execute(&mut conn)
    .await
    .expect("reset");
    drop(conn);
    assert_eq!(again, 1);
    assert_eq!(app.relay_events().await.delivered, 1);
    app.send_pushes().await;
    app.send_pushes().await;

    assert_eq!(service.received(&device.endpoint).len(), 1);
}

#[tokio::test]
async fn a_busy_push_service_is_tried_again_after_a_backoff_and_given_up_after_a_day() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let trade = app.trade().await;
    let device = subscribe(&trade.seller, &service, "Firefox").await;
    service.answer(&device.endpoint, 429, 1);
    let first = trade.buyer.say(trade.room, "first").await;
    app.relay_events().await;

    assert_eq!(app.send_pushes().await.retried, 1);
    // Not before its backoff.
    assert_eq!(app.send_pushes().await.sent, 0);
    app.clock.advance(chrono::TimeDelta::seconds(31));
    assert_eq!(app.send_pushes().await.sent, 1);
    assert_eq!(service.received(&device.endpoint).len(), 1);

    // A service that keeps failing: retried with longer waits, then given up after a day.
    let _: Value = trade
        .seller
        .post(
            &format!("/api/v1/chat/rooms/{}/read", trade.room),
            json!({"message_id": first.id}),
        )
        .await;
    service.answer(&device.endpoint, 503, 1000);
    trade.buyer.say(trade.room, "second").await;
    app.relay_events().await;
    let mut retried = 0;
    let mut gave_up = 0;
    for _ in 0..40 {
        let counts = app.send_pushes().await;
        retried += counts.retried;
        gave_up += counts.gave_up;
        app.clock.advance(chrono::TimeDelta::hours(1));
    }
    assert!(retried >= 20, "{retried} retries in a day");
    assert_eq!(gave_up, 1);
    assert_eq!(service.received(&device.endpoint).len(), 1);
}

#[tokio::test]
async fn subscribing_takes_push_service_urls_and_browser_keys_only() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let member = app.member("pushy@example.com").await;
    let key: VapidKey = app.guest().get("/api/v1/push/vapid-public-key").await;
    assert_eq!(key.public_key, app.state.config.push.vapid.public_key());
    let browser = service.subscribe(&key.public_key);
    let keys = serde_json::to_value(&browser.keys).unwrap();
    let subscribe = |endpoint: &str, keys: Value| {
        member.request(
            Method::POST,
            SUBSCRIPTIONS,
            Some(json!({"endpoint": endpoint, "keys": keys})),
        )
    };

    for endpoint in [
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://push.evil.example/fcm/send/abc",
        "https://fcm.googleapis.com.evil.example/x",
        "https://169.254.169.254/latest/meta-data",
        "ftp://127.0.0.1/x",
        "not a url",
    ] {
        assert_problem(
            subscribe(endpoint, keys.clone()).await,
            422,
            "PUSH_ENDPOINT_NOT_ALLOWED",
        )
        .await;
    }
    let mut off_curve = vec![4_u8];
    off_curve.extend([1_u8; 64]);
    for bad in [
        json!({"p256dh": "not base64!", "auth": browser.keys.auth}),
        json!({"p256dh": URL_SAFE_NO_PAD.encode([4_u8; 33]), "auth": browser.keys.auth}),
        json!({"p256dh": URL_SAFE_NO_PAD.encode(&off_curve), "auth": browser.keys.auth}),
        json!({"p256dh": browser.keys.p256dh, "auth": URL_SAFE_NO_PAD.encode([7_u8; 8])}),
    ] {
        assert_problem(
            subscribe(&browser.endpoint, bad).await,
            422,
            "PUSH_KEYS_INVALID",
        )
        .await;
    }
    assert_problem(
        subscribe(&"x".repeat(2049), keys.clone()).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;

    // The same endpoint twice is one device.
    let first = subscribe(&browser.endpoint, keys.clone()).await;
    assert_eq!(first.status(), 201);
    let again = subscribe(&browser.endpoint, keys.clone()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(devices(&member).await.len(), 1);

    // At most ten.
    for _ in 1..10 {
        let other = service.subscribe(&key.public_key);
        let created = subscribe(&other.endpoint, serde_json::to_value(&other.keys).unwrap()).await;
        assert_eq!(created.status(), 201);
    }
    let eleventh = service.subscribe(&key.public_key);
    assert_problem(
        subscribe(
            &eleventh.endpoint,
            serde_json::to_value(&eleventh.keys).unwrap(),
        )
        .await,
        409,
        "TOO_MANY_PUSH_SUBSCRIPTIONS",
    )
    .await;

    // Removing one: only mine.
    let mine = devices(&member).await;
    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        stranger
            .request(
                Method::DELETE,
                &format!("{SUBSCRIPTIONS}/{}", mine[0].id),
                None,
            )
            .await,
        404,
        "PUSH_SUBSCRIPTION_NOT_FOUND",
    )
    .await;
    let () = member
        .delete(&format!("{SUBSCRIPTIONS}/{}", mine[0].id))
        .await;
    assert_eq!(devices(&member).await.len(), 9);
}

#[tokio::test]
async fn logging_out_removes_that_devices_subscription_and_withdrawing_removes_all() {
    let app = TestApp::spawn().await;
    let service = push_service().await;
    let laptop = app.member("two-devices@example.com").await;
    let phone = another_device(&app, &laptop).await;
    let on_laptop = subscribe(&laptop, &service, "laptop").await;
    let on_phone = subscribe(&phone, &service, "phone").await;

    let () = phone.post("/api/v1/auth/logout", json!({})).await;

    let left: Vec<String> = devices(&laptop)
        .await
        .into_iter()
        .map(|device| device.endpoint)
        .collect();
    assert_eq!(left, vec![on_laptop.endpoint.clone()]);
    assert_ne!(on_phone.endpoint, on_laptop.endpoint);

    let withdrawn = laptop
        .request(
            Method::DELETE,
            "/api/v1/users/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(withdrawn.status(), 204);
    let mut conn = app.state.db.get().await.expect("connection");
    let remaining: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::QueryDsl::count(petory_core::schema::push_subscriptions::table),
        &mut conn,
    )
    .await
    .expect("count");
    assert_eq!(remaining, 0);
}
