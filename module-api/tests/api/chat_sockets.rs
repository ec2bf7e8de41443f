//! Chat sockets' lifetimes and limits: closed when idle, when their session ends and on
//! oversized frames; opened by one-time tickets; capped per member and rate limited across
//! instances; told "going away" when the server stops.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::fixtures::ChatSocket;
use crate::fixtures::community::{Community as _, Frames as _, Trade};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Ticket {
    ticket: String,
}

#[tokio::test]
async fn sockets_close_when_idle_when_their_session_ends_and_on_oversized_frames() {
    let app = TestApp::builder()
        .chat(petory_api::config::ChatSettings {
            heartbeat: Duration::from_millis(300),
            idle_timeout: Duration::from_secs(1),
            ..Default::default()
        })
        .spawn()
        .await;
    let Trade { buyer, seller, .. } = app.trade().await;
    let mut silent = ChatSocket::open(&app.base_url, &buyer.token).await;
    // Not reading, the client answers no pings.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(silent.close_code(Duration::from_secs(5)).await, Some(4009));

    // Logging out ends the session's sockets at the next heartbeat.
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.token).await;
    let response = seller
        .request(Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        seller_socket.close_code(Duration::from_secs(5)).await,
        Some(4001)
    );

    // The socket ends when the access token that opened it expires (here, a second after).
    let (token, _) = petory_core::identity::token::issue_access(
        &app.state.tokens,
        petory_core::identity::UserId(buyer.id),
        petory_core::identity::Role::User,
        "expiring-session",
        app.clock.now_utc() - chrono::TimeDelta::seconds(899),
    );
    let mut expiring = ChatSocket::open(&app.base_url, &token).await;
    assert_eq!(
        expiring.close_code(Duration::from_secs(5)).await,
        Some(4001)
    );

    // A frame over the size limit (16 KiB) ends the socket instead of filling memory.
    let other = app.member("big@example.com").await;
    let mut socket = ChatSocket::open(&app.base_url, &other.token).await;
    socket
        .send(json!({"type": "ping", "padding": "x".repeat(20 * 1024)}))
        .await;
    assert_eq!(socket.close_code(Duration::from_secs(5)).await, Some(1009));
}

#[tokio::test]
async fn tickets_socket_caps_and_rate_limits_hold_and_stopping_says_going_away() {
    let app = TestApp::builder()
        .chat(petory_api::config::ChatSettings {
            messages_per_second: std::num::NonZeroU32::new(1).unwrap(),
            message_burst: std::num::NonZeroU32::new(3).unwrap(),
            max_sockets_per_user: 2,
            ..Default::default()
        })
        .spawn()
        .await;
    let Trade { buyer, room, .. } = app.trade().await;

    // Tickets open a socket once.
    let ticket: Ticket = buyer.post("/api/v1/chat/tickets", json!({})).await;
    let mut by_ticket = ChatSocket::try_open(&app.base_url, None, Some(&ticket.ticket))
        .await
        .unwrap();
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, Some(&ticket.ticket))
            .await
            .err(),
        Some(401)
    );

    // A user's sockets per instance are capped.
    let mut second = ChatSocket::open(&app.base_url, &buyer.token).await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, Some(&buyer.token), None)
            .await
            .err(),
        Some(429)
    );

    // Messages are rate limited per user (1 a second, bursts of 3 here).
    let mut refused = 0;
    for n in 0..5 {
        let answer = second.said(room, &format!("spam {n}")).await;
        if answer.kind == "error" {
            assert_eq!(answer.code.as_deref(), Some("CHAT_RATE_LIMITED"));
            refused += 1;
        }
    }
    assert!(refused >= 1, "a burst over the limit is refused");
    assert_problem(
        buyer
            .send_message(
                room,
                json!({"client_id": uuid::Uuid::new_v4(), "text": "more"}),
            )
            .await,
        429,
        "CHAT_RATE_LIMITED",
    )
    .await;

    // Stopping the server says "going away" to every socket.
    app.state.begin_shutdown();
    assert_eq!(
        by_ticket.close_code(Duration::from_secs(5)).await,
        Some(1001)
    );
    assert_eq!(second.close_code(Duration::from_secs(5)).await, Some(1001));
}

#[tokio::test]
async fn socket_caps_and_send_rates_hold_across_instances() {
    let app = TestApp::builder()
        .chat(petory_api::config::ChatSettings {
            messages_per_second: std::num::NonZeroU32::new(1).unwrap(),
            message_burst: std::num::NonZeroU32::new(3).unwrap(),
            max_sockets_per_user: 2,
            ..Default::default()
        })
        .spawn()
        .await;
    let sibling = app.sibling().await;
    let Trade { buyer, room, .. } = app.trade().await;

    // Two sockets on one instance fill the account's places on every instance.
    let _first = ChatSocket::open(&app.base_url, &buyer.token).await;
    let _second = ChatSocket::open(&app.base_url, &buyer.token).await;
    assert_eq!(
        ChatSocket::try_open(&sibling.base_url, Some(&buyer.token), None)
            .await
            .err(),
        Some(429)
    );

    // A burst spent on one instance is spent on the other too.
    let send = |base: &str| {
        app.client
            .post(format!("{base}/api/v1/chat/rooms/{room}/messages"))
            .bearer_auth(&buyer.token)
            .json(&json!({"client_id": uuid::Uuid::new_v4(), "text": "hi"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(send(&app.base_url).await.unwrap().status(), 201);
    }
    assert_problem(
        send(&sibling.base_url).await.unwrap(),
        429,
        "CHAT_RATE_LIMITED",
    )
    .await;
}

#[tokio::test]
async fn a_ticket_opens_nothing_after_logout_and_its_socket_ends_with_the_token() {
    let app = TestApp::spawn().await;
    let holder = app.member("holder@example.com").await;
    // Bought, then the session logs out: the ticket opens nothing.
    let ticket: Ticket = holder.post("/api/v1/chat/tickets", json!({})).await;
    holder
        .request(Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, Some(&ticket.ticket))
            .await
            .err(),
        Some(401)
    );

    // A socket opened by ticket lives no longer than the token that bought it.
    let holder = holder.logged_in_again(&app).await;
    let ticket: Ticket = holder.post("/api/v1/chat/tickets", json!({})).await;
    app.clock.advance(chrono::TimeDelta::seconds(15 * 60 - 2));
    let mut socket = ChatSocket::try_open(&app.base_url, None, Some(&ticket.ticket))
        .await
        .unwrap();
    assert_eq!(
        socket.close_code(Duration::from_secs(10)).await,
        Some(4001),
        "SESSION_ENDED when the token expires"
    );
}

#[tokio::test]
async fn a_socket_replays_a_bounded_number_of_messages_a_second() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    let Trade {
        buyer,
        seller,
        room,
        ..
    } = app.trade().await;
    // A thousand messages, made at once.
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(
        "WITH made AS (
           INSERT INTO chat_messages (room_id, seq, sender_id, client_id, text, created_at)
           SELECT $1, n, $2, gen_random_uuid(), 'message ' || n, now()
             FROM generate_series(1, 1000) AS n RETURNING seq)
         UPDATE chat_rooms SET last_seq = (SELECT max(seq) FROM made) WHERE id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(room)
    .bind::<diesel::sql_types::BigInt, _>(seller.id)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let mut socket = ChatSocket::open(&app.base_url, &buyer.token).await;
    let mut replayed = 0;
    let mut resumes = 0;
    let refused = loop {
        resumes += 1;
        assert!(resumes <= 20, "never refused after {replayed} messages");
        socket
            .send(json!({"type": "resume", "room_id": room, "after_message_id": 0}))
            .await;
        let mut this_time = 0;
        let answer = loop {
            let frame = socket.frame().await;
            if frame.kind != "message" {
                break frame;
            }
            this_time += 1;
            if this_time == 1000 {
                break frame;
            }
        };
        replayed += this_time;
        if answer.kind == "error" {
            break answer;
        }
    };
    assert_eq!(refused.code.as_deref(), Some("CHAT_RATE_LIMITED"));
    assert!(
        replayed >= 5000,
        "a burst of five resumes passes: {replayed}"
    );
}
