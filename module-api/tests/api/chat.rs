//! Chat as a buyer and a seller use it: over sockets on two API instances, over HTTP, through
//! Redis going away, and against strangers, blocks and bad frames.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{ChatSocket, Trade, image, listing, trade};
use crate::util::{ClockExt as _, TcpProxy, TestApp, assert_problem};

fn room_path(room: i64) -> String {
    format!("/api/v1/chat/rooms/{room}")
}

async fn post_message(app: &TestApp, token: &str, room: i64, body: Value) -> reqwest::Response {
    app.post_json(&format!("{}/messages", room_path(room)), Some(token), body)
        .await
}

async fn say(app: &TestApp, token: &str, room: i64, text: &str) -> Value {
    let response = post_message(
        app,
        token,
        room,
        json!({"client_id": uuid::Uuid::new_v4(), "text": text}),
    )
    .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn open_room(app: &TestApp, token: &str, listing: i64) -> reqwest::Response {
    app.post_json(
        "/api/v1/chat/rooms",
        Some(token),
        json!({"listing_id": listing}),
    )
    .await
}

async fn history(app: &TestApp, token: &str, room: i64) -> Vec<Value> {
    app.send_ok(
        Method::GET,
        &format!("{}/messages?limit=100", room_path(room)),
        Some(token),
        None,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn room_of(app: &TestApp, token: &str, room: i64) -> Value {
    app.send_ok(Method::GET, &room_path(room), Some(token), None)
        .await
}

fn texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|message| message["text"].as_str().unwrap_or("-"))
        .collect()
}

#[tokio::test]
async fn a_message_sent_on_one_instance_reaches_the_other_party_on_another_with_receipts() {
    let app = TestApp::spawn().await;
    let other_instance = app.sibling().await;
    let Trade {
        seller,
        buyer,
        listing,
        room,
    } = trade(&app).await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.1).await;
    let mut seller_socket = ChatSocket::open(&other_instance.base_url, &seller.1).await;

    let ack = buyer_socket.say(room, "안녕하세요, 아직 있나요?").await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["room_id"], room);
    assert_eq!(ack["seq"], 1);
    let message = seller_socket.next_of("message").await;
    assert_eq!(message["id"], ack["message_id"]);
    assert_eq!(message["seq"], 1);
    assert_eq!(message["sender_id"], buyer.0);
    assert_eq!(message["text"], "안녕하세요, 아직 있나요?");
    assert_eq!(message["client_id"], ack["client_id"]);

    // The seller's list: the room, unread, with the listing and the buyer.
    let rooms = app
        .send_ok(Method::GET, "/api/v1/chat/rooms", Some(&seller.1), None)
        .await;
    let listed = &rooms["items"][0];
    assert_eq!(listed["id"], room);
    assert_eq!(listed["unread_count"], 1);
    assert_eq!(listed["listing"]["id"], listing);
    assert_eq!(listed["listing"]["status"], "FOR_SALE");
    assert_eq!(listed["other_user"]["id"], buyer.0);
    assert_eq!(listed["last_message"]["text"], "안녕하세요, 아직 있나요?");
    assert_eq!(room_of(&app, &buyer.1, room).await["unread_count"], 0);

    // Reading sends a receipt to the buyer, on the other instance.
    seller_socket
        .send(json!({"type": "read", "room_id": room, "message_id": ack["message_id"]}))
        .await;
    let receipt = buyer_socket.next_of("read").await;
    assert_eq!(receipt["user_id"], seller.0);
    assert_eq!(receipt["message_id"], ack["message_id"]);
    assert_eq!(room_of(&app, &seller.1, room).await["unread_count"], 0);
    assert_eq!(
        room_of(&app, &buyer.1, room).await["other_user"]["last_read_seq"],
        1
    );

    // The seller answers over HTTP; the buyer's socket hears it.
    say(&app, &seller.1, room, "네, 있어요").await;
    assert_eq!(buyer_socket.next_of("message").await["text"], "네, 있어요");
    let listed = app.get_ok(&format!("/api/v1/trade-boards/{listing}")).await;
    assert_eq!(listed["chat_count"], 1);

    // Opening again gives the same room back; the seller cannot chat with themself.
    let again = open_room(&app, &buyer.1, listing).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], room);
    assert_problem(
        open_room(&app, &seller.1, listing).await,
        422,
        "OWN_LISTING",
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("/api/v1/trade-boards/{listing}")).await["chat_count"],
        1
    );
}

#[tokio::test]
async fn a_resend_is_stored_once_and_resume_replays_exactly_what_was_missed() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.1).await;
    let client_id = uuid::Uuid::new_v4();
    let frame =
        json!({"type": "send", "room_id": room, "client_id": client_id, "text": "3만원에 될까요?"});
    buyer_socket.send(frame.clone()).await;
    let first = buyer_socket.next_of("ack").await;
    buyer_socket.send(frame).await;
    let second = buyer_socket.next_of("ack").await;
    assert_eq!(first["message_id"], second["message_id"]);
    let over_http = post_message(
        &app,
        &buyer.1,
        room,
        json!({"client_id": client_id, "text": "3만원에 될까요?"}),
    )
    .await;
    assert_eq!(
        over_http.status(),
        200,
        "a resend returns the stored message"
    );
    assert_eq!(
        over_http.json::<Value>().await.unwrap()["id"],
        first["message_id"]
    );
    assert_eq!(history(&app, &seller.1, room).await.len(), 1);

    // The seller was away for three messages; resuming after the last one seen replays them.
    let last_seen = first["message_id"].as_i64().unwrap();
    for text in ["하나", "둘", "셋"] {
        say(&app, &buyer.1, room, text).await;
    }
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.1).await;
    seller_socket
        .send(json!({"type": "resume", "room_id": room, "after_message_id": last_seen}))
        .await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(seller_socket.next_of("message").await);
    }
    assert_eq!(texts(&replayed), ["하나", "둘", "셋"]);
    let seqs: Vec<i64> = replayed
        .iter()
        .map(|message| message["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    seller_socket.assert_quiet().await;

    // The same client id in another room is refused, not taken as a resend.
    let other = trade(&app).await;
    let reused = post_message(
        &app,
        &other.buyer.1,
        other.room,
        json!({"client_id": uuid::Uuid::new_v4(), "text": "hi"}),
    )
    .await;
    assert_eq!(reused.status(), 201);
    let reused_id = reused.json::<Value>().await.unwrap()["client_id"].clone();
    let seller_room = app
        .post_ok(
            "/api/v1/chat/rooms",
            Some(&other.buyer.1),
            json!({"listing_id": listing(&app, &seller.1, "Leash").await}),
        )
        .await;
    assert_problem(
        post_message(
            &app,
            &other.buyer.1,
            seller_room["id"].as_i64().unwrap(),
            json!({"client_id": reused_id, "text": "hi"}),
        )
        .await,
        409,
        "CLIENT_ID_REUSED",
    )
    .await;
}

#[tokio::test]
async fn concurrent_messages_get_one_gap_free_sequence_and_concurrent_resends_one_row() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let sends = (0..20).map(|n| {
        let token = if n % 2 == 0 { &buyer.1 } else { &seller.1 };
        post_message(
            &app,
            token,
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": format!("message {n}")}),
        )
    });
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), 201);
    }
    let client_id = uuid::Uuid::new_v4();
    let resends = (0..10).map(|_| {
        post_message(
            &app,
            &buyer.1,
            room,
            json!({"client_id": client_id, "text": "once"}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(resends)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|status| **status == 200).count(), 9);
    let mut seqs: Vec<i64> = history(&app, &seller.1, room)
        .await
        .iter()
        .map(|message| message["seq"].as_i64().unwrap())
        .collect();
    seqs.reverse();
    assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
}

#[tokio::test]
async fn redis_restarted_mid_conversation_loses_nothing() {
    let redis = TcpProxy::to(crate::util::redis_addr()).await;
    let app = TestApp::builder()
        .redis_url(&format!("redis://{}", redis.addr))
        .spawn()
        .await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.1).await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.1).await;
    buyer_socket.say(room, "before").await;
    assert_eq!(seller_socket.next_of("message").await["text"], "before");

    // With Redis away, an open socket still sends (and is acknowledged from PostgreSQL); the
    // wake-ups are lost.
    redis.cut();
    for text in ["during 1", "during 2"] {
        assert_eq!(buyer_socket.say(room, text).await["type"], "ack");
    }
    redis.restore();

    // Back on Redis, the socket reads what it missed from the database, in order.
    let first = seller_socket.next_of("message").await;
    let second = seller_socket.next_of("message").await;
    assert_eq!(texts(&[first, second]), ["during 1", "during 2"]);
    say(&app, &buyer.1, room, "after").await;
    assert_eq!(seller_socket.next_of("message").await["text"], "after");
}

#[tokio::test]
async fn strangers_cannot_open_read_or_write_a_room_and_bad_frames_keep_the_socket() {
    let app = TestApp::spawn().await;
    let Trade { buyer, room, .. } = trade(&app).await;
    let (_, stranger) = app.user("stranger@example.com").await;
    let message = say(&app, &buyer.1, room, "hello").await;
    for response in [
        app.send(Method::GET, &room_path(room), Some(&stranger), None)
            .await,
        app.send(
            Method::GET,
            &format!("{}/messages", room_path(room)),
            Some(&stranger),
            None,
        )
        .await,
        post_message(
            &app,
            &stranger,
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": "me too"}),
        )
        .await,
        app.post_json(
            &format!("{}/read", room_path(room)),
            Some(&stranger),
            json!({"message_id": message["id"]}),
        )
        .await,
    ] {
        assert_problem(response, 404, "CHAT_ROOM_NOT_FOUND").await;
    }
    assert_problem(
        app.send(Method::GET, &room_path(room), None, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, None).await.err(),
        Some(401)
    );

    let mut socket = ChatSocket::open(&app.base_url, &stranger).await;
    let refused = socket.say(room, "let me in").await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "CHAT_ROOM_NOT_FOUND");
    socket
        .send(json!({"type": "resume", "room_id": room, "after_message_id": 0}))
        .await;
    assert_eq!(socket.next().await["code"], "CHAT_ROOM_NOT_FOUND");
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
        let error = socket.next().await;
        assert_eq!(error["type"], "error");
        assert_eq!(error["code"], code, "{error}");
    }
    socket.send(json!({"type": "ping"})).await;
    assert_eq!(socket.next().await["type"], "pong", "the socket stays open");

    // Over HTTP: the same limits, and nothing stored.
    for body in [
        json!({"client_id": uuid::Uuid::new_v4(), "text": "bad\u{0}byte"}),
        json!({"client_id": uuid::Uuid::new_v4(), "text": "   "}),
        json!({"client_id": uuid::Uuid::new_v4()}),
        json!({"client_id": uuid::Uuid::new_v4(), "text": "x".repeat(2001)}),
    ] {
        assert_problem(
            post_message(&app, &buyer.1, room, body).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }
    assert_problem(
        post_message(
            &app,
            &buyer.1,
            room,
            json!({"client_id": "nope", "text": "a"}),
        )
        .await,
        422,
        "INVALID_BODY",
    )
    .await;
    assert_eq!(history(&app, &buyer.1, room).await.len(), 1);
    assert_problem(
        open_room(&app, &stranger, 999_999_999).await,
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
    } = trade(&app).await;
    let client_id = uuid::Uuid::new_v4();
    let before_block = post_message(
        &app,
        &buyer.1,
        room,
        json!({"client_id": client_id, "text": "hi"}),
    )
    .await;
    assert_eq!(before_block.status(), 201);
    let before_block: Value = before_block.json().await.unwrap();
    let block = format!("/api/v1/users/me/blocks/{}", buyer.0);
    for _ in 0..2 {
        let response = app.send(Method::PUT, &block, Some(&seller.1), None).await;
        assert_eq!(response.status(), 204);
    }
    let blocks = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/blocks",
            Some(&seller.1),
            None,
        )
        .await;
    assert_eq!(blocks["items"].as_array().unwrap().len(), 1);
    assert_eq!(blocks["items"][0]["user_id"], buyer.0);

    for (token, text) in [(&buyer.1, "hello?"), (&seller.1, "go away")] {
        assert_problem(
            post_message(
                &app,
                token,
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
    let resent = post_message(
        &app,
        &buyer.1,
        room,
        json!({"client_id": client_id, "text": "hi"}),
    )
    .await;
    assert_eq!(resent.status(), 200);
    assert_eq!(
        resent.json::<Value>().await.unwrap()["id"],
        before_block["id"]
    );
    let another = listing(&app, &seller.1, "Bowl").await;
    assert_problem(
        open_room(&app, &buyer.1, another).await,
        403,
        "CHAT_BLOCKED",
    )
    .await;

    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", seller.0),
            Some(&seller.1),
            None,
        )
        .await,
        422,
        "CANNOT_BLOCK_SELF",
    )
    .await;
    assert_problem(
        app.send(
            Method::PUT,
            "/api/v1/users/me/blocks/999999999",
            Some(&seller.1),
            None,
        )
        .await,
        404,
        "USER_NOT_FOUND",
    )
    .await;

    let response = app
        .send(Method::DELETE, &block, Some(&seller.1), None)
        .await;
    assert_eq!(response.status(), 204);
    say(&app, &buyer.1, room, "hello again").await;
}

#[tokio::test]
async fn a_member_without_a_socket_gets_one_notification_per_room_until_reading() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    say(&app, &buyer.1, room, "첫 메시지").await;
    let last = say(&app, &buyer.1, room, "두번째").await;
    app.relay_events().await;
    let notifications = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(&seller.1), None)
        .await;
    let items = notifications["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "coalesced: {items:?}");
    assert_eq!(items[0]["kind"], "CHAT_MESSAGE");
    assert_eq!(items[0]["data"]["room_id"], room);
    assert!(items[0]["body"].as_str().unwrap().contains("첫 메시지"));

    // Reading lets the next message notify again.
    app.post_ok(
        &format!("{}/read", room_path(room)),
        Some(&seller.1),
        json!({"message_id": last["id"]}),
    )
    .await;
    say(&app, &buyer.1, room, "세번째").await;
    app.relay_events().await;
    let notifications = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(&seller.1), None)
        .await;
    assert_eq!(notifications["items"].as_array().unwrap().len(), 2);

    // Replying counts as reading: the next message notifies again.
    say(&app, &seller.1, room, "네").await;
    say(&app, &buyer.1, room, "다섯번째").await;
    app.relay_events().await;
    let notifications = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(&seller.1), None)
        .await;
    assert_eq!(notifications["items"].as_array().unwrap().len(), 3);

    // With a socket open, the message arrives there instead.
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.1).await;
    say(&app, &buyer.1, room, "네번째").await;
    assert_eq!(seller_socket.next_of("message").await["text"], "네번째");
    app.relay_events().await;
    let notifications = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(&seller.1), None)
        .await;
    assert_eq!(notifications["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn leaving_hides_the_room_for_me_and_closes_it_to_the_other_party() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        listing,
        room,
    } = trade(&app).await;
    say(&app, &seller.1, room, "still interested?").await;
    let response = app
        .send(
            Method::POST,
            &format!("{}/leave", room_path(room)),
            Some(&buyer.1),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let mine = app
        .send_ok(Method::GET, "/api/v1/chat/rooms", Some(&buyer.1), None)
        .await;
    assert!(mine["items"].as_array().unwrap().is_empty());
    assert_eq!(
        room_of(&app, &seller.1, room).await["other_user"]["left"],
        true
    );
    assert_problem(
        post_message(
            &app,
            &seller.1,
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": "hello?"}),
        )
        .await,
        409,
        "CHAT_PARTY_LEFT",
    )
    .await;

    // The buyer comes back by opening the listing's chat again: the same room, history kept.
    let back = open_room(&app, &buyer.1, listing).await;
    assert_eq!(back.status(), 200);
    assert_eq!(history(&app, &buyer.1, room).await.len(), 1);
    say(&app, &seller.1, room, "welcome back").await;

    // A sold listing takes no new rooms, but its rooms stay.
    app.send_ok(
        Method::PATCH,
        &format!("/api/v1/trade-boards/{listing}/status"),
        Some(&seller.1),
        Some(json!({"status": "SOLD"})),
    )
    .await;
    let (_, late) = app.user("late@example.com").await;
    assert_problem(open_room(&app, &late, listing).await, 409, "LISTING_SOLD").await;
    assert_eq!(
        room_of(&app, &buyer.1, room).await["listing"]["status"],
        "SOLD"
    );

    // A listing taken down leaves the room without its title or photo.
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/trade-boards/{listing}"),
            Some(&seller.1),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let after = room_of(&app, &buyer.1, room).await;
    assert_eq!(after["listing"]["available"], false);
    assert!(after["listing"]["title"].is_null());
}

#[tokio::test]
async fn image_messages_need_my_own_verified_upload() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let key = image(&app, &buyer.1, "CHAT").await;
    let response = post_message(
        &app,
        &buyer.1,
        room,
        json!({"client_id": uuid::Uuid::new_v4(), "image_key": key}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let sent: Value = response.json().await.unwrap();
    assert_eq!(sent["image_key"], key);
    assert!(sent["text"].is_null());
    let url = sent["image_url"].as_str().unwrap();
    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.status(), 200);

    // The seller cannot send the buyer's upload as their own.
    assert_problem(
        post_message(
            &app,
            &seller.1,
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "image_key": key}),
        )
        .await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn reported_messages_are_hidden_from_the_other_member_by_moderation() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let rude = say(&app, &buyer.1, room, "rude words").await;
    let (_, stranger) = app.user("nosy@example.com").await;
    assert_problem(
        app.post_json(
            "/api/v1/reports",
            Some(&stranger),
            json!({"target_type": "CHAT_MESSAGE", "target_id": rude["id"], "reason": "ABUSE"}),
        )
        .await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;
    let report = app
        .post_ok(
            "/api/v1/reports",
            Some(&seller.1),
            json!({"target_type": "CHAT_MESSAGE", "target_id": rude["id"], "reason": "ABUSE"}),
        )
        .await;
    let admin = app.admin_token().await;
    let queue = app
        .send_ok(Method::GET, "/api/v1/admin/reports", Some(&admin), None)
        .await;
    assert_eq!(queue["items"][0]["target_author_id"], buyer.0);
    assert_eq!(queue["items"][0]["target_excerpt"], "rude words");
    app.post_ok(
        &format!("/api/v1/admin/reports/{}/resolve", report["id"]),
        Some(&admin),
        json!({"action": "HIDE", "note": "abusive"}),
    )
    .await;
    let seen_by_seller = history(&app, &seller.1, room).await;
    assert_eq!(seen_by_seller[0]["hidden"], true);
    assert!(seen_by_seller[0]["text"].is_null());
    let seen_by_sender = history(&app, &buyer.1, room).await;
    assert_eq!(seen_by_sender[0]["text"], "rude words");
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
    let Trade { buyer, seller, .. } = trade(&app).await;
    let mut silent = ChatSocket::open(&app.base_url, &buyer.1).await;
    // Not reading, the client answers no pings.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(silent.close_code(Duration::from_secs(5)).await, Some(4009));

    // Logging out ends the session's sockets at the next heartbeat.
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.1).await;
    let response = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&seller.1), None)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        seller_socket.close_code(Duration::from_secs(5)).await,
        Some(4001)
    );

    // The socket ends when the access token that opened it expires (here, a second after).
    let (token, _) = petory_core::identity::token::issue_access(
        &app.state.tokens,
        petory_core::identity::UserId(buyer.0),
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
    let (_, other) = app.user("big@example.com").await;
    let mut socket = ChatSocket::open(&app.base_url, &other).await;
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
    let Trade { buyer, room, .. } = trade(&app).await;

    // Tickets open a socket once.
    let ticket = app
        .post_ok("/api/v1/chat/tickets", Some(&buyer.1), json!({}))
        .await;
    let ticket = ticket["ticket"].as_str().unwrap();
    let mut by_ticket = ChatSocket::try_open(&app.base_url, None, Some(ticket))
        .await
        .unwrap();
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, Some(ticket))
            .await
            .err(),
        Some(401)
    );

    // A user's sockets per instance are capped.
    let mut second = ChatSocket::open(&app.base_url, &buyer.1).await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, Some(&buyer.1), None)
            .await
            .err(),
        Some(429)
    );

    // Messages are rate limited per user (1 a second, bursts of 3 here).
    let mut refused = 0;
    for n in 0..5 {
        let answer = second.say(room, &format!("spam {n}")).await;
        if answer["type"] == "error" {
            assert_eq!(answer["code"], "CHAT_RATE_LIMITED");
            refused += 1;
        }
    }
    assert!(refused >= 1, "a burst over the limit is refused");
    assert_problem(
        post_message(
            &app,
            &buyer.1,
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
async fn my_rooms_page_by_their_last_activity() {
    let app = TestApp::spawn().await;
    let first = trade(&app).await;
    let buyer = &first.buyer.1;
    let (_, other_seller) = app.user("other-seller@example.com").await;
    let second = app
        .post_ok(
            "/api/v1/chat/rooms",
            Some(buyer),
            json!({"listing_id": listing(&app, &other_seller, "Harness").await}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    // The older room becomes the most recent by a message.
    app.clock.advance(chrono::TimeDelta::minutes(1));
    say(&app, buyer, first.room, "still there?").await;
    let page = app
        .send_ok(Method::GET, "/api/v1/chat/rooms?limit=1", Some(buyer), None)
        .await;
    assert_eq!(page["items"][0]["id"], first.room);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/chat/rooms?limit=1&cursor={cursor}"),
            Some(buyer),
            None,
        )
        .await;
    assert_eq!(next["items"][0]["id"], second);
    assert!(next["next_cursor"].is_null());
    for cursor in ["yesterday", "-300000000000000000_1", "1_0"] {
        assert_problem(
            app.send(
                Method::GET,
                &format!("/api/v1/chat/rooms?cursor={cursor}"),
                Some(buyer),
                None,
            )
            .await,
            400,
            "INVALID_CURSOR",
        )
        .await;
    }
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
    let Trade { buyer, room, .. } = trade(&app).await;

    // Two sockets on one instance fill the account's places on every instance.
    let _first = ChatSocket::open(&app.base_url, &buyer.1).await;
    let _second = ChatSocket::open(&app.base_url, &buyer.1).await;
    assert_eq!(
        ChatSocket::try_open(&sibling.base_url, Some(&buyer.1), None)
            .await
            .err(),
        Some(429)
    );

    // A burst spent on one instance is spent on the other too.
    let send = |base: &str| {
        app.client
            .post(format!("{base}/api/v1/chat/rooms/{room}/messages"))
            .bearer_auth(&buyer.1)
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
    let (_, token) = app.user("holder@example.com").await;
    // Bought, then the session logs out: the ticket opens nothing.
    let ticket = app
        .post_ok("/api/v1/chat/tickets", Some(&token), json!({}))
        .await;
    app.send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(
        ChatSocket::try_open(&app.base_url, None, ticket["ticket"].as_str())
            .await
            .err(),
        Some(401)
    );

    // A socket opened by ticket lives no longer than the token that bought it.
    let (token, _) = app.login("holder@example.com", crate::util::PASSWORD).await;
    let ticket = app
        .post_ok("/api/v1/chat/tickets", Some(&token), json!({}))
        .await;
    app.clock.advance(chrono::TimeDelta::seconds(15 * 60 - 2));
    let mut socket = ChatSocket::try_open(&app.base_url, None, ticket["ticket"].as_str())
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
    } = trade(&app).await;
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
    .bind::<diesel::sql_types::BigInt, _>(seller.0)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let mut socket = ChatSocket::open(&app.base_url, &buyer.1).await;
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
            let frame = socket.next().await;
            if frame["type"] != "message" {
                break frame;
            }
            this_time += 1;
            if this_time == 1000 {
                break frame;
            }
        };
        replayed += this_time;
        if answer["type"] == "error" {
            break answer;
        }
    };
    assert_eq!(refused["code"], "CHAT_RATE_LIMITED");
    assert!(
        replayed >= 5000,
        "a burst of five resumes passes: {replayed}"
    );
}

#[tokio::test]
async fn a_sender_takes_a_message_back_within_five_minutes_and_both_read_the_placeholder() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.1).await;
    let sent = say(&app, &buyer.1, room, "잘못 보냈어요").await;
    assert_eq!(
        seller_socket.next_of("message").await["text"],
        "잘못 보냈어요"
    );
    let path = format!("{}/messages/{}", room_path(room), sent["id"]);

    // Only its sender takes it back.
    assert_problem(
        app.send(Method::DELETE, &path, Some(&seller.1), None).await,
        404,
        "CHAT_MESSAGE_NOT_FOUND",
    )
    .await;
    let unsent = app
        .send_ok(Method::DELETE, &path, Some(&buyer.1), None)
        .await;
    assert_eq!(unsent["deleted"], true);
    assert_eq!(unsent["text"], "메시지가 삭제되었습니다");
    assert_eq!(unsent["seq"], sent["seq"]);
    let heard = seller_socket.next_of("unsent").await;
    assert_eq!(
        (&heard["message_id"], &heard["seq"]),
        (&sent["id"], &sent["seq"])
    );
    for token in [&buyer.1, &seller.1] {
        let messages = history(&app, token, room).await;
        assert_eq!(messages.len(), 1, "its place stays");
        assert_eq!(messages[0]["text"], "메시지가 삭제되었습니다");
        assert_eq!(messages[0]["image_url"], Value::Null);
    }
    // Again is harmless.
    let again = app
        .send_ok(Method::DELETE, &path, Some(&buyer.1), None)
        .await;
    assert_eq!(again["id"], sent["id"]);

    // Five minutes on, a message stays.
    let kept = say(&app, &buyer.1, room, "이건 남아요").await;
    app.clock.advance(chrono::TimeDelta::minutes(6));
    assert_problem(
        app.send(
            Method::DELETE,
            &format!("{}/messages/{}", room_path(room), kept["id"]),
            Some(&buyer.1),
            None,
        )
        .await,
        409,
        "UNSEND_WINDOW_PASSED",
    )
    .await;
    assert_eq!(
        texts(&history(&app, &buyer.1, room).await),
        ["이건 남아요", "메시지가 삭제되었습니다"],
        "newest first"
    );
}
