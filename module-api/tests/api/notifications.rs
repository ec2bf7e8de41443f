//! Notifications: order status changes reach the buyer through the outbox, the list and its
//! read state, and the live stream fanned out across instances.

use std::time::Duration;

use petory_core::notification::{self, NewNotification, Notice};
use petory_core::ports::Audience;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Member, Page};
use crate::fixtures::daily::{Notification, buyer};
use crate::fixtures::{app_with_kakaopay, order_body, pay, place, shop};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Count {
    count: i64,
}

#[derive(Debug, Deserialize)]
struct Updated {
    updated: i64,
}

#[derive(Debug, Deserialize)]
struct Order {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct Ticket {
    ticket: String,
    expires_in_seconds: i64,
}

/// A notification as the live stream sends it.
#[derive(Debug, Deserialize)]
struct Streamed {
    id: i64,
}

async fn notifications(member: &Member, query: &str) -> Page<Notification> {
    let response = member
        .request(Method::GET, &format!("/api/v1/notifications{query}"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn unread(member: &Member) -> i64 {
    let count: Count = member.get("/api/v1/notifications/unread-count").await;
    count.count
}

/// Stores a notification for `user` as the relay would, and wakes the user's streams.
async fn notify(app: &TestApp, user: i64, cause: &str) -> i64 {
    let user = petory_core::identity::UserId(user);
    let mut conn = app.state.db.get().await.unwrap();
    let id = notification::deliver(
        &mut conn,
        &NewNotification {
            user_id: user,
            notice: Notice::DailyQuestion { question_id: 1 },
            title: format!("question {cause}"),
            body: "What made your pet happy today?".into(),
            once_per: None,
        },
        cause,
        app.clock.now_utc(),
    )
    .await
    .unwrap()
    .expect("a new notification");
    app.state
        .notifications
        .wake(Audience::User(user))
        .await
        .unwrap();
    id.into()
}

#[tokio::test]
async fn order_status_changes_notify_the_buyer_once_each() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let me = buyer(&app, token).await;
    let admin = app.admin().await;
    app.relay_events().await; // the sign-up mails
    let order = place(&app, &me.token, item, address).await;
    let approve = pay(&app, &me.token, order).await;
    assert_eq!(app.get(&approve).await.status(), 200);
    let shipped = admin
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/orders/{order}/status"),
            Some(json!({"status": "SHIPPING"})),
        )
        .await;
    assert_eq!(shipped.status(), 200);

    // Nothing shows before the relay delivers; delivering twice adds nothing.
    assert_eq!(unread(&me).await, 0);
    assert_eq!(app.relay_events().await.delivered, 2);
    assert_eq!(app.relay_events().await.delivered, 0);

    let page = notifications(&me, "").await;
    let items = &page.items;
    assert_eq!(items.len(), 2, "{page:?}");
    assert_eq!(items[0].kind, "ORDER_STATUS");
    assert_eq!(
        items[0].data,
        json!({"order_id": order, "status": "SHIPPING"})
    );
    assert_eq!(items[1].data, json!({"order_id": order, "status": "PAID"}));
    assert!(!items[0].read);
    assert!(!items[0].title.is_empty());
    assert_eq!(unread(&me).await, 2);
}

#[tokio::test]
async fn notifications_are_read_paged_and_deleted_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let other = app.member("other@example.com").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(notify(&app, me.id, &format!("test:{n}")).await);
    }

    let first = notifications(&me, "?limit=2").await;
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0].id, ids[2]);
    let cursor = first.next_cursor.unwrap();
    let second = notifications(&me, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second.items[0].id, ids[0]);
    assert!(second.next_cursor.is_none());

    // Another user sees none of mine and cannot touch them.
    assert!(notifications(&other, "").await.items.is_empty());
    let path = format!("/api/v1/notifications/{}/read", ids[0]);
    assert_problem(
        other.request(Method::PATCH, &path, None).await,
        404,
        "NOTIFICATION_NOT_FOUND",
    )
    .await;

    let read: Notification = me.ok(Method::PATCH, &path, None).await;
    assert!(read.read);
    assert_eq!(unread(&me).await, 2);
    let unread_only = notifications(&me, "?unread_only=true").await;
    assert_eq!(unread_only.items.len(), 2);

    let all: Updated = me
        .ok(Method::POST, "/api/v1/notifications/read-all", None)
        .await;
    assert_eq!(all.updated, 2);
    assert_eq!(unread(&me).await, 0);

    let delete = format!("/api/v1/notifications/{}", ids[1]);
    assert_problem(
        other.request(Method::DELETE, &delete, None).await,
        404,
        "NOTIFICATION_NOT_FOUND",
    )
    .await;
    assert_eq!(
        me.request(Method::DELETE, &delete, None).await.status(),
        204
    );
    assert_eq!(notifications(&me, "").await.items.len(), 2);
    assert_problem(
        me.request(Method::GET, "/api/v1/notifications?cursor=x", None)
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
}

/// Reads a server-sent event stream until `count` notification events arrived; returns their ids.
pub(crate) async fn next_events(response: &mut reqwest::Response, count: usize) -> Vec<i64> {
    let mut buffer = String::new();
    let mut ids = Vec::new();
    while ids.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.contains("event: notification") {
                let id = event
                    .lines()
                    .find_map(|line| line.strip_prefix("id: "))
                    .expect("an id line");
                let data = event
                    .lines()
                    .find_map(|line| line.strip_prefix("data: "))
                    .expect("a data line");
                let data: Streamed = serde_json::from_str(data).unwrap();
                assert_eq!(data.id.to_string(), id);
                ids.push(id.parse().unwrap());
            }
        }
    }
    ids
}

pub(crate) async fn open_stream(
    base_url: &str,
    token: &str,
    last_event_id: Option<i64>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{base_url}/api/v1/notifications/stream"))
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

#[tokio::test]
async fn the_live_stream_delivers_across_instances_and_resumes_after_a_reconnect() {
    let app = TestApp::spawn().await;
    let other_instance = app.sibling().await;
    let me = app.member("me@example.com").await;
    let someone_else = app.member("other@example.com").await;
    let before = notify(&app, me.id, "test:before").await;

    // A new stream starts with what comes next, on whichever instance it is served.
    let mut stream = open_stream(&other_instance.base_url, &me.token, None).await;
    notify(&app, someone_else.id, "test:not-mine").await;
    let first = notify(&app, me.id, "test:first").await;
    assert_eq!(next_events(&mut stream, 1).await, vec![first]);
    drop(stream);

    // Missed while disconnected: sent on reconnect with Last-Event-ID.
    let missed = notify(&app, me.id, "test:missed").await;
    let mut resumed = open_stream(&app.base_url, &me.token, Some(first)).await;
    assert_eq!(next_events(&mut resumed, 1).await, vec![missed]);
    let mut from_start = open_stream(&app.base_url, &me.token, Some(0)).await;
    assert_eq!(
        next_events(&mut from_start, 3).await,
        vec![before, first, missed]
    );
}

#[tokio::test]
async fn the_stream_needs_a_valid_resume_point_and_a_session() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let response = app
        .client
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(&me.token)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "INVALID_CURSOR").await;
    assert_problem(
        app.get("/api/v1/notifications/stream").await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn cancelling_an_unpaid_order_notifies_the_buyer() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let me = buyer(&app, token).await;
    let order: Order = me
        .post("/api/v1/orders", order_body(item, 1, address))
        .await;
    let cancel = format!("/api/v1/orders/{}/cancel", order.id);
    assert_eq!(me.request(Method::POST, &cancel, None).await.status(), 200);
    app.relay_events().await;
    let page = notifications(&me, "").await;
    assert_eq!(
        page.items[0].data,
        json!({"order_id": order.id, "status": "CANCELED"})
    );
}

#[tokio::test]
async fn the_stream_ends_when_its_access_token_expires() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    // Two seconds of the token's 15 minutes are left when the stream opens.
    app.clock.advance(chrono::TimeDelta::seconds(15 * 60 - 2));
    let mut stream = open_stream(&app.base_url, &me.token, None).await;
    let first = notify(&app, me.id, "test:in-time").await;
    assert_eq!(next_events(&mut stream, 1).await, vec![first]);
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream closed once the token expired");
}

#[tokio::test]
async fn a_browser_opens_the_stream_with_a_single_use_ticket() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let issued = me
        .request(Method::POST, "/api/v1/notifications/stream-tickets", None)
        .await;
    assert_eq!(issued.status(), 201);
    let issued: Ticket = issued.json().await.unwrap();
    assert_eq!(issued.expires_in_seconds, 60);
    let ticket = issued.ticket;
    let path = format!("/api/v1/notifications/stream?ticket={ticket}");

    // No Authorization header, as EventSource sends it.
    let mut stream = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let id = notify(&app, me.id, "test:ticket").await;
    assert_eq!(next_events(&mut stream, 1).await, vec![id]);

    // A ticket works once; a made-up one never.
    assert_problem(app.get(&path).await, 401, "INVALID_TICKET").await;
    assert_problem(
        app.get("/api/v1/notifications/stream?ticket=abc123").await,
        401,
        "INVALID_TICKET",
    )
    .await;
    assert_problem(
        app.guest()
            .request(
                Method::POST,
                "/api/v1/notifications/stream-tickets",
                Some(json!({})),
            )
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}
