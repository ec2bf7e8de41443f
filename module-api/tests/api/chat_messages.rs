//! Chat as a buyer and a seller hold a conversation: over sockets on two API instances and over
//! HTTP, resent and resumed, in one sequence, through Redis going away, with images, and taken
//! back.

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, Page};
use crate::fixtures::community::{
    Community as _, Frames as _, Listing, Message, Room, Trade, body_of, room_path, texts,
};
use crate::fixtures::images::{ImageStatus, served};
use crate::fixtures::{ChatSocket, image};
use crate::util::{TcpProxy, TestApp, assert_problem};

#[tokio::test]
async fn a_message_sent_on_one_instance_reaches_the_other_party_on_another_with_receipts() {
    let app = TestApp::spawn().await;
    let other_instance = app.sibling().await;
    let Trade {
        seller,
        buyer,
        listing,
        room,
    } = app.trade().await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.token).await;
    let mut seller_socket = ChatSocket::open(&other_instance.base_url, &seller.token).await;

    let ack = buyer_socket.said(room, "안녕하세요, 아직 있나요?").await;
    assert_eq!(ack.kind, "ack");
    assert_eq!(ack.room_id, Some(room));
    assert_eq!(ack.seq, Some(1));
    let message = seller_socket.heard("message").await;
    assert_eq!(message.id, ack.message_id);
    assert_eq!(message.seq, Some(1));
    assert_eq!(message.sender_id, Some(buyer.id));
    assert_eq!(message.text.as_deref(), Some("안녕하세요, 아직 있나요?"));
    assert_eq!(message.client_id, ack.client_id);

    // The seller's list: the room, unread, with the listing and the buyer.
    let rooms: Page<Room> = seller.get("/api/v1/chat/rooms").await;
    let listed = &rooms.items[0];
    assert_eq!(listed.id, room);
    assert_eq!(listed.unread_count, 1);
    assert_eq!(listed.listing.id, listing);
    assert_eq!(listed.listing.status, "FOR_SALE");
    assert_eq!(listed.other_user.id, buyer.id);
    assert_eq!(
        listed
            .last_message
            .as_ref()
            .and_then(|last| last.text.as_deref()),
        Some("안녕하세요, 아직 있나요?")
    );
    assert_eq!(buyer.room(room).await.unread_count, 0);

    // Reading sends a receipt to the buyer, on the other instance.
    seller_socket
        .send(json!({"type": "read", "room_id": room, "message_id": ack.message_id}))
        .await;
    let receipt = buyer_socket.heard("read").await;
    assert_eq!(receipt.user_id, Some(seller.id));
    assert_eq!(receipt.message_id, ack.message_id);
    assert_eq!(seller.room(room).await.unread_count, 0);
    assert_eq!(buyer.room(room).await.other_user.last_read_seq, 1);

    // The seller answers over HTTP; the buyer's socket hears it.
    seller.say(room, "네, 있어요").await;
    assert_eq!(
        buyer_socket.heard("message").await.text.as_deref(),
        Some("네, 있어요")
    );
    let guest = app.guest();
    let listed: Listing = guest.get(&format!("/api/v1/trade-boards/{listing}")).await;
    assert_eq!(listed.chat_count, 1);

    // Opening again gives the same room back; the seller cannot chat with themself.
    let again: Room = body_of(buyer.open_room(listing).await, 200).await;
    assert_eq!(again.id, room);
    assert_problem(seller.open_room(listing).await, 422, "OWN_LISTING").await;
    let listed: Listing = guest.get(&format!("/api/v1/trade-boards/{listing}")).await;
    assert_eq!(listed.chat_count, 1);
}

#[tokio::test]
async fn a_resend_is_stored_once_and_resume_replays_exactly_what_was_missed() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.token).await;
    let client_id = uuid::Uuid::new_v4();
    let frame =
        json!({"type": "send", "room_id": room, "client_id": client_id, "text": "3만원에 될까요?"});
    buyer_socket.send(frame.clone()).await;
    let first = buyer_socket.heard("ack").await;
    buyer_socket.send(frame).await;
    let second = buyer_socket.heard("ack").await;
    assert_eq!(first.message_id, second.message_id);
    let over_http = buyer
        .send_message(
            room,
            json!({"client_id": client_id, "text": "3만원에 될까요?"}),
        )
        .await;
    assert_eq!(
        over_http.status(),
        200,
        "a resend returns the stored message"
    );
    let stored: Message = over_http.json().await.unwrap();
    assert_eq!(Some(stored.id), first.message_id);
    assert_eq!(seller.history(room).await.len(), 1);

    // The seller was away for three messages; resuming after the last one seen replays them.
    let last_seen = first.message_id.unwrap();
    for text in ["하나", "둘", "셋"] {
        buyer.say(room, text).await;
    }
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.token).await;
    seller_socket
        .send(json!({"type": "resume", "room_id": room, "after_message_id": last_seen}))
        .await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(seller_socket.heard("message").await);
    }
    let replayed_texts: Vec<&str> = replayed
        .iter()
        .map(|message| message.text.as_deref().unwrap_or("-"))
        .collect();
    assert_eq!(replayed_texts, ["하나", "둘", "셋"]);
    let seqs: Vec<i64> = replayed
        .iter()
        .map(|message| message.seq.unwrap())
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    seller_socket.assert_quiet().await;

    // The same client id in another room is refused, not taken as a resend.
    let other = app.trade().await;
    let reused = other
        .buyer
        .send_message(
            other.room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": "hi"}),
        )
        .await;
    let reused_id = body_of::<Message>(reused, 201).await.client_id;
    let seller_room: Room = other
        .buyer
        .post(
            "/api/v1/chat/rooms",
            json!({"listing_id": app.listing_by(&seller, "Leash").await.id}),
        )
        .await;
    assert_problem(
        other
            .buyer
            .send_message(
                seller_room.id,
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
    } = app.trade().await;
    let sends = (0..20).map(|n| {
        let from = if n % 2 == 0 { &buyer } else { &seller };
        from.send_message(
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": format!("message {n}")}),
        )
    });
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), 201);
    }
    let client_id = uuid::Uuid::new_v4();
    let resends =
        (0..10).map(|_| buyer.send_message(room, json!({"client_id": client_id, "text": "once"})));
    let statuses: Vec<u16> = futures_util::future::join_all(resends)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|status| **status == 200).count(), 9);
    let mut seqs: Vec<i64> = seller
        .history(room)
        .await
        .iter()
        .map(|message| message.seq)
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
    } = app.trade().await;
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.token).await;
    let mut buyer_socket = ChatSocket::open(&app.base_url, &buyer.token).await;
    buyer_socket.said(room, "before").await;
    assert_eq!(
        seller_socket.heard("message").await.text.as_deref(),
        Some("before")
    );

    // With Redis away, an open socket still sends (and is acknowledged from PostgreSQL); the
    // wake-ups are lost.
    redis.cut();
    for text in ["during 1", "during 2"] {
        assert_eq!(buyer_socket.said(room, text).await.kind, "ack");
    }
    redis.restore();

    // Back on Redis, the socket reads what it missed from the database, in order.
    let first = seller_socket.heard("message").await;
    let second = seller_socket.heard("message").await;
    assert_eq!(
        [first.text.as_deref(), second.text.as_deref()],
        [Some("during 1"), Some("during 2")]
    );
    buyer.say(room, "after").await;
    assert_eq!(
        seller_socket.heard("message").await.text.as_deref(),
        Some("after")
    );
}

#[tokio::test]
async fn image_messages_need_my_own_verified_upload() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let key = image(&app, &buyer.token, "CHAT").await;
    let sent: Message = body_of(
        buyer
            .send_message(
                room,
                json!({"client_id": uuid::Uuid::new_v4(), "image_key": key}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(sent.image_key.as_deref(), Some(key.as_str()));
    assert!(sent.text.is_none());
    let urls = sent.image_urls.as_ref().unwrap();
    app.assert_placeholder(urls, ImageStatus::Processing);
    app.make_image_versions().await;
    let read = buyer.history(room).await;
    let urls = read[0].image_urls.as_ref().unwrap();
    assert_eq!(urls.status, ImageStatus::Ready);
    served(&urls.display).await;

    // The seller cannot send the buyer's upload as their own.
    assert_problem(
        seller
            .send_message(
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
async fn a_sender_takes_a_message_back_within_five_minutes_and_both_read_the_placeholder() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let mut seller_socket = ChatSocket::open(&app.base_url, &seller.token).await;
    let sent = buyer.say(room, "잘못 보냈어요").await;
    assert_eq!(
        seller_socket.heard("message").await.text.as_deref(),
        Some("잘못 보냈어요")
    );
    let path = format!("{}/messages/{}", room_path(room), sent.id);

    // Only its sender takes it back.
    assert_problem(
        seller.request(Method::DELETE, &path, None).await,
        404,
        "CHAT_MESSAGE_NOT_FOUND",
    )
    .await;
    let unsent: Message = buyer.ok(Method::DELETE, &path, None).await;
    assert!(unsent.deleted);
    assert_eq!(unsent.text.as_deref(), Some("메시지가 삭제되었습니다"));
    assert_eq!(unsent.seq, sent.seq);
    let heard = seller_socket.heard("unsent").await;
    assert_eq!(
        (heard.message_id, heard.seq),
        (Some(sent.id), Some(sent.seq))
    );
    for member in [&buyer, &seller] {
        let messages = member.history(room).await;
        assert_eq!(messages.len(), 1, "its place stays");
        assert_eq!(messages[0].text.as_deref(), Some("메시지가 삭제되었습니다"));
        assert_eq!(messages[0].image_urls, None);
    }
    // Again is harmless.
    let again: Message = buyer.ok(Method::DELETE, &path, None).await;
    assert_eq!(again.id, sent.id);

    // Five minutes on, a message stays.
    let kept = buyer.say(room, "이건 남아요").await;
    app.clock.advance(chrono::TimeDelta::minutes(6));
    assert_problem(
        buyer
            .request(
                Method::DELETE,
                &format!("{}/messages/{}", room_path(room), kept.id),
                None,
            )
            .await,
        409,
        "UNSEND_WINDOW_PASSED",
    )
    .await;
    assert_eq!(
        texts(&buyer.history(room).await),
        ["이건 남아요", "메시지가 삭제되었습니다"],
        "newest first"
    );
}
