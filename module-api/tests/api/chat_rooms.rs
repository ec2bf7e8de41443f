//! Who may be in a chat room: strangers kept out (and bad frames refused), blocks both ways,
//! leaving, moderation of a reported message; what reaches a member away from their socket;
//! and their rooms listed by activity.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::ChatSocket;
use crate::fixtures::community::{
    Community as _, Created, Frames as _, Listing, Message, Room, Trade, body_of, room_path,
};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Blocked {
    user_id: i64,
}

/// What a chat notification links to.
#[derive(Debug, Deserialize, PartialEq)]
struct ChatData {
    room_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct QueuedReport {
    target_author_id: Option<i64>,
    target_excerpt: Option<String>,
}

#[tokio::test]
async fn strangers_cannot_open_read_or_write_a_room_and_bad_frames_keep_the_socket() {
    let app = TestApp::spawn().await;
    let Trade { buyer, room, .. } = app.trade().await;
    let stranger = app.member("stranger@example.com").await;
    let message = buyer.say(room, "hello").await;
    for response in [
        stranger.request(Method::GET, &room_path(room), None).await,
        stranger
            .request(Method::GET, &format!("{}/messages", room_path(room)), None)
            .await,
        stranger
            .send_message(
                room,
                json!({"client_id": uuid::Uuid::new_v4(), "text": "me too"}),
            )
            .await,
        stranger
            .request(
                Method::POST,
                &format!("{}/read", room_path(room)),
                Some(json!({"message_id": message.id})),
            )
            .await,
    ] {
        assert_problem(response, 404, "CHAT_ROOM_NOT_FOUND").await;
    }
    assert_problem(
        app.guest()
            .request(Method::GET, &room_path(room), None)
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, None).await.err(),
        Some(401)
    );

    let mut socket = ChatSocket::open(&app.base_url, &stranger.token).await;
    let refused = socket.said(room, "let me in").await;
    assert_eq!(refused.kind, "error");
    assert_eq!(refused.code.as_deref(), Some("CHAT_ROOM_NOT_FOUND"));
    socket
        .send(json!({"type": "resume", "room_id": room, "after_message_id": 0}))
        .await;
    assert_eq!(
        socket.frame().await.code.as_deref(),
        Some("CHAT_ROOM_NOT_FOUND")
    );
    for (frame, code) in [
        (json!("not an object"), "INVALID_FRAME"),
        (json!({"type": "shout"}), "INVALID_FRAME"),
        (json!({"type": "send", "room_id": room}), "INVALID_FRAME"),
        (
            json!({"type": "send", "room_id": room, "client_id": uuid::Uuid::new_v4(), "text": "x".repeat(2001)}),
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "send", "room_id": room, "client_id": uuid::Uuid::new_v4(), "text": "a", "image_key": "b"}),
            "VALIDATION_FAILED",
        ),
        (
            json!({"type": "send", "room_id": room, "client_id": uuid::Uuid::new_v4(), "text": "a\u{0}b"}),
            "VALIDATION_FAILED",
        ),
    ] {
        socket.send(frame).await;
        let error = socket.frame().await;
        assert_eq!(error.kind, "error");
        assert_eq!(error.code.as_deref(), Some(code), "{error:?}");
    }
    socket.send(json!({"type": "ping"})).await;
    assert_eq!(socket.frame().await.kind, "pong", "the socket stays open");

    // Over HTTP: the same limits, and nothing stored.
    for body in [
        json!({"client_id": uuid::Uuid::new_v4(), "text": "bad\u{0}byte"}),
        json!({"client_id": uuid::Uuid::new_v4(), "text": "   "}),
        json!({"client_id": uuid::Uuid::new_v4()}),
        json!({"client_id": uuid::Uuid::new_v4(), "text": "x".repeat(2001)}),
    ] {
        assert_problem(
            buyer.send_message(room, body).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }
    assert_problem(
        buyer
            .send_message(room, json!({"client_id": "nope", "text": "a"}))
            .await,
        422,
        "INVALID_BODY",
    )
    .await;
    assert_eq!(buyer.history(room).await.len(), 1);
    assert_problem(
        stranger.open_room(999_999_999).await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn blocking_stops_messages_and_rooms_both_ways_until_lifted() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let client_id = uuid::Uuid::new_v4();
    let before_block: Message = body_of(
        buyer
            .send_message(room, json!({"client_id": client_id, "text": "hi"}))
            .await,
        201,
    )
    .await;
    let block = format!("/api/v1/users/me/blocks/{}", buyer.id);
    for _ in 0..2 {
        let response = seller.request(Method::PUT, &block, None).await;
        assert_eq!(response.status(), 204);
    }
    let blocks: Page<Blocked> = seller.get("/api/v1/users/me/blocks").await;
    assert_eq!(blocks.items.len(), 1);
    assert_eq!(blocks.items[0].user_id, buyer.id);

    for (from, text) in [(&buyer, "hello?"), (&seller, "go away")] {
        assert_problem(
            from.send_message(
                room,
                json!({"client_id": uuid::Uuid::new_v4(), "text": text}),
            )
            .await,
            403,
            "CHAT_BLOCKED",
        )
        .await;
    }
    // A resend of what was stored before the block still gets its answer.
    let resent: Message = body_of(
        buyer
            .send_message(room, json!({"client_id": client_id, "text": "hi"}))
            .await,
        200,
    )
    .await;
    assert_eq!(resent.id, before_block.id);
    let another = app.listing_by(&seller, "Bowl").await.id;
    assert_problem(buyer.open_room(another).await, 403, "CHAT_BLOCKED").await;

    assert_problem(
        seller
            .request(
                Method::PUT,
                &format!("/api/v1/users/me/blocks/{}", seller.id),
                None,
            )
            .await,
        422,
        "CANNOT_BLOCK_SELF",
    )
    .await;
    assert_problem(
        seller
            .request(Method::PUT, "/api/v1/users/me/blocks/999999999", None)
            .await,
        404,
        "USER_NOT_FOUND",
    )
    .await;

    let response = seller.request(Method::DELETE, &block, None).await;
    assert_eq!(response.status(), 204);
    buyer.say(room, "hello again").await;
}

#[tokio::test]
async fn a_member_without_a_socket_gets_one_notification_per_room_until_reading() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    buyer.say(room, "첫 메시지").await;
    let last = buyer.say(room, "두번째").await;
    app.relay_events().await;
    let items = seller.notifications_as::<ChatData>().await;
    assert_eq!(items.len(), 1, "coalesced: {items:?}");
    assert_eq!(items[0].kind, "CHAT_MESSAGE");
    assert_eq!(items[0].data.room_id, Some(room));
    assert!(items[0].body.contains("첫 메시지"));

    // Reading lets the next message notify again.
    let _: Value = seller
        .post(
            &format!("{}/read", room_path(room)),
            json!({"message_id": last.id}),
        )
        .await;
    buyer.say(room, "세번째").await;
    app.relay_events().await;
    assert_eq!(seller.notifications().await.len(), 2);

    // Replying counts as reading: the next message notifies again.
    seller.say(room, "네").await;
    buyer.say(room, "다섯번째").await;
    app.relay_events().await;
    assert_eq!(seller.notifications().await.len(), 3);

    // With a socket open, the message arrives there instead.
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.token).await;
    buyer.say(room, "네번째").await;
    assert_eq!(
        seller_socket.heard("message").await.text.as_deref(),
        Some("네번째")
    );
    app.relay_events().await;
    assert_eq!(seller.notifications().await.len(), 3);
}

#[tokio::test]
async fn leaving_hides_the_room_for_me_and_closes_it_to_the_other_party() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        listing,
        room,
    } = app.trade().await;
    seller.say(room, "still interested?").await;
    let response = buyer
        .request(Method::POST, &format!("{}/leave", room_path(room)), None)
        .await;
    assert_eq!(response.status(), 204);
    let mine: Page<Room> = buyer.get("/api/v1/chat/rooms").await;
    assert!(mine.items.is_empty());
    assert!(seller.room(room).await.other_user.left);
    assert_problem(
        seller
            .send_message(
                room,
                json!({"client_id": uuid::Uuid::new_v4(), "text": "hello?"}),
            )
            .await,
        409,
        "CHAT_PARTY_LEFT",
    )
    .await;

    // The buyer comes back by opening the listing's chat again: the same room, history kept.
    let back = buyer.open_room(listing).await;
    assert_eq!(back.status(), 200);
    assert_eq!(buyer.history(room).await.len(), 1);
    seller.say(room, "welcome back").await;

    // A sold listing takes no new rooms, but its rooms stay.
    let _: Listing = seller
        .patch(
            &format!("/api/v1/trade-boards/{listing}/status"),
            json!({"status": "SOLD"}),
        )
        .await;
    let late = app.member("late@example.com").await;
    assert_problem(late.open_room(listing).await, 409, "LISTING_SOLD").await;
    assert_eq!(buyer.room(room).await.listing.status, "SOLD");

    // A listing taken down leaves the room without its title or photo.
    let response = seller
        .request(
            Method::DELETE,
            &format!("/api/v1/trade-boards/{listing}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let after = buyer.room(room).await;
    assert!(!after.listing.available);
    assert!(after.listing.title.is_none());
}

#[tokio::test]
async fn reported_messages_are_hidden_from_the_other_member_by_moderation() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let rude = buyer.say(room, "rude words").await;
    let stranger = app.member("nosy@example.com").await;
    let report = json!({"target_type": "CHAT_MESSAGE", "target_id": rude.id, "reason": "ABUSE"});
    assert_problem(
        stranger
            .request(Method::POST, "/api/v1/reports", Some(report.clone()))
            .await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;
    let report: Created = seller.post("/api/v1/reports", report).await;
    let admin = app.admin().await;
    let queue: Page<QueuedReport> = admin.get("/api/v1/admin/reports").await;
    assert_eq!(queue.items[0].target_author_id, Some(buyer.id));
    assert_eq!(queue.items[0].target_excerpt.as_deref(), Some("rude words"));
    let _: Value = admin
        .post(
            &format!("/api/v1/admin/reports/{}/resolve", report.id),
            json!({"action": "HIDE", "note": "abusive"}),
        )
        .await;
    let seen_by_seller = seller.history(room).await;
    assert!(seen_by_seller[0].hidden);
    assert!(seen_by_seller[0].text.is_none());
    let seen_by_sender = buyer.history(room).await;
    assert_eq!(seen_by_sender[0].text.as_deref(), Some("rude words"));
}

#[tokio::test]
async fn my_rooms_page_by_their_last_activity() {
    let app = TestApp::spawn().await;
    let first = app.trade().await;
    let buyer = &first.buyer;
    let other_seller = app.member("other-seller@example.com").await;
    let second: Room = buyer
        .post(
            "/api/v1/chat/rooms",
            json!({"listing_id": app.listing_by(&other_seller, "Harness").await.id}),
        )
        .await;
    // The older room becomes the most recent by a message.
    app.clock.advance(chrono::TimeDelta::minutes(1));
    buyer.say(first.room, "still there?").await;
    let page: Page<Room> = buyer.get("/api/v1/chat/rooms?limit=1").await;
    assert_eq!(page.items[0].id, first.room);
    let cursor = page.next_cursor.unwrap();
    let next: Page<Room> = buyer
        .get(&format!("/api/v1/chat/rooms?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next.items[0].id, second.id);
    assert!(next.next_cursor.is_none());
    for cursor in ["yesterday", "-300000000000000000_1", "1_0"] {
        assert_problem(
            buyer
                .request(
                    Method::GET,
                    &format!("/api/v1/chat/rooms?cursor={cursor}"),
                    None,
                )
                .await,
            400,
            "INVALID_CURSOR",
        )
        .await;
    }
}
