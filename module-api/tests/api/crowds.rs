//! What a crowd of free accounts cannot do: accounts that never proved their address read but
//! take no part, and reports weigh their reporters' word, so fresh accounts, and a crowd an
//! admin already overruled, hide nothing.

use reqwest::Method;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::daily::{PlaceReview, QueuedReport, add_place, item_on_sale};
use crate::fixtures::{complete_profile, image, listing, order_body};
use crate::util::{PASSWORD, TestApp, assert_problem};

/// A post of the owner board, as readers see it.
#[derive(Debug, Deserialize)]
struct Post {
    id: i64,
    like_count: i64,
    comment_count: i64,
}

#[derive(Debug, Deserialize)]
struct Room {
    id: i64,
}

/// A post on the owner board by `author`, as [`crate::fixtures::post`] writes it.
async fn post_by(author: &Member, title: &str, content: &str) -> Post {
    author
        .post(
            "/api/v1/owner-boards",
            json!({"category": "DAILY", "title": title, "content": content}),
        )
        .await
}

/// 멍카페, at City Hall.
fn cafe() -> Value {
    json!({"name": "멍카페", "category": "CAFE", "address": "서울 중구",
           "lat": 37.5663, "lng": 126.9779, "pet_sizes": ["SMALL"]})
}

#[tokio::test]
async fn an_unverified_member_reads_but_takes_no_part() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let author = app.member("author@example.com").await;
    let post = post_by(&author, "산책", "한강에서").await;
    let listing = listing(&app, &author.token, "Cat tower").await;
    let place = add_place(&admin, cafe()).await;
    let item = item_on_sale(&app, 10).await.item;

    let newcomer = app.unverified_member("newcomer@example.com").await;
    let address = complete_profile(&app, &newcomer.token).await;
    let album_image = image(&app, &newcomer.token, "ALBUM").await;
    // Reading is open, and so are one's own pets.
    let _: IgnoredAny = newcomer.get("/api/v1/owner-boards").await;
    let _: IgnoredAny = newcomer
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    let _: IgnoredAny = newcomer
        .post("/api/v1/pets", json!({"name": "보리", "species": "DOG"}))
        .await;

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/owner-boards".into(),
            Some(json!({"category": "DAILY", "title": "첫 글", "content": "안녕하세요"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/owner-boards/{}/like", post.id),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/owner-boards/{}/comments", post.id),
            Some(json!({"content": "좋아요"})),
        ),
        (
            Method::POST,
            "/api/v1/trade-boards".into(),
            Some(
                json!({"category": "GOODS", "title": "팝니다", "content": "새것",
                        "price": 1000, "region": "Mapo-gu"}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/chat/rooms".into(),
            Some(json!({"listing_id": listing})),
        ),
        (
            Method::POST,
            "/api/v1/reports".into(),
            Some(
                json!({"target_type": "POST", "target_id": post.id, "reason": "SPAM", "detail": ""}),
            ),
        ),
        (
            Method::PUT,
            format!("/api/v1/places/{}/like", place.id),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/places/{}/reviews", place.id),
            Some(json!({"stars": 5, "content": "최고"})),
        ),
        (
            Method::PUT,
            "/api/v1/users/me/albums/2026-11-23".into(),
            Some(json!({"image_key": album_image, "caption": "", "visibility": "PUBLIC"})),
        ),
        (
            Method::POST,
            "/api/v1/orders".into(),
            Some(order_body(item, 1, address)),
        ),
    ];
    for (method, path, body) in &attempts {
        assert_problem(
            newcomer.request(method.clone(), path, body.clone()).await,
            403,
            "EMAIL_NOT_VERIFIED",
        )
        .await;
    }
    // Nothing was written.
    let read: Post = app
        .guest()
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    assert_eq!((read.like_count, read.comment_count), (0, 0));

    // Once the address is proven, the same requests go through.
    app.verify_email(newcomer.id).await;
    for (method, path, body) in &attempts {
        let response = newcomer.request(method.clone(), path, body.clone()).await;
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
    }
}

async fn report(member: &Member, post: &Post) -> reqwest::Response {
    member
        .request(
            Method::POST,
            "/api/v1/reports",
            Some(
                json!({"target_type": "POST", "target_id": post.id, "reason": "SPAM", "detail": "ads"}),
            ),
        )
        .await
}

/// Whether a guest still reads the post.
async fn shown(app: &TestApp, post: &Post) -> bool {
    app.get(&format!("/api/v1/owner-boards/{}", post.id))
        .await
        .status()
        == 200
}

/// An admin's decision on every open report of the post.
async fn decide(admin: &Member, post: &Post, action: &str) {
    let _: IgnoredAny = admin
        .post(
            "/api/v1/admin/moderation-decisions",
            json!({"target_type": "POST", "target_id": post.id, "action": action,
                   "note": "reviewed"}),
        )
        .await;
}

#[tokio::test]
async fn fresh_accounts_and_an_overruled_crowd_hide_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let author = app.member("author@example.com").await;
    let victim = post_by(&author, "우리 강아지", "귀엽죠").await;

    // Five accounts made today, their addresses proven: five reports weigh nothing.
    for n in 0..5 {
        let fresh = app.member(&format!("fresh{n}@example.com")).await;
        assert_eq!(report(&fresh, &victim).await.status(), 201);
    }
    assert!(shown(&app, &victim).await);

    // Five established members hide it until an admin decides.
    let brigade = app.crowd_of(5).await;
    for member in &brigade {
        assert_eq!(report(member, &victim).await.status(), 201);
    }
    assert!(!shown(&app, &victim).await);
    decide(&admin, &victim, "DISMISS").await;
    assert!(shown(&app, &victim).await);

    // The overruled crowd reports it again: their reports reach the queue but weigh nothing.
    for member in &brigade {
        assert_eq!(report(member, &victim).await.status(), 201);
    }
    assert!(shown(&app, &victim).await);
    let queue: Page<QueuedReport> = admin
        .get(&format!(
            "/api/v1/admin/reports?status=OPEN&target_type=POST&target_id={}",
            victim.id
        ))
        .await;
    assert_eq!(queue.items.len(), 5, "the new five");

    // Dismissed elsewhere too, the same reporters weigh half each on other content: five of
    // them and two members of clean record do not reach five, a third does.
    let other = post_by(&author, "산책", "공원").await;
    for member in &brigade {
        report(member, &other).await;
    }
    let clean = app.crowd_of(3).await;
    for member in &clean[..2] {
        report(member, &other).await;
    }
    assert!(shown(&app, &other).await, "5 × ½ + 2 = 4.5");
    report(&clean[2], &other).await;
    assert!(!shown(&app, &other).await, "5 × ½ + 3 = 5.5");
}

#[tokio::test]
async fn nobody_else_reads_a_members_real_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let guest = app.guest();
    let email = "real-name@example.com";
    let signed_up = guest
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": email, "password": PASSWORD, "name": "김보리사랑"})),
        )
        .await;
    assert_eq!(signed_up.status(), 202);
    let id = app.user_id(email).await;
    app.verify_email(id).await;
    let (token, _) = app.login(email, PASSWORD).await;
    let me = app.member_of(id, email, token);
    let post = post_by(&me, "산책", "한강").await;
    let _: IgnoredAny = me
        .post(
            &format!("/api/v1/owner-boards/{}/comments", post.id),
            json!({"content": "좋아요"}),
        )
        .await;
    let listing = listing(&app, &me.token, "Cat tower").await;
    let place = add_place(&admin, cafe()).await;
    let _: PlaceReview = me
        .post(
            &format!("/api/v1/places/{}/reviews", place.id),
            json!({"stars": 5, "content": "최고"}),
        )
        .await;
    let buyer = app.member("buyer@example.com").await;
    let room: Room = buyer
        .post("/api/v1/chat/rooms", json!({"listing_id": listing}))
        .await;

    let reads = [
        (None, "/api/v1/owner-boards".to_owned()),
        (None, format!("/api/v1/owner-boards/{}", post.id)),
        (None, format!("/api/v1/owner-boards/{}/comments", post.id)),
        (None, "/api/v1/trade-boards".to_owned()),
        (None, format!("/api/v1/trade-boards/{listing}")),
        (None, format!("/api/v1/places/{}/reviews", place.id)),
        (Some(&buyer), "/api/v1/chat/rooms".to_owned()),
        (Some(&buyer), format!("/api/v1/chat/rooms/{}", room.id)),
    ];
    for (reader, path) in reads {
        // Read as text: neither the name nor the email may appear anywhere in the answer.
        let response = match reader {
            Some(member) => member.request(Method::GET, &path, None).await,
            None => guest.request(Method::GET, &path, None).await,
        };
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("보리사랑"),
            "{path} shows the real name: {text}"
        );
        assert!(!text.contains(email), "{path} shows the email: {text}");
        // Who chose no nickname shows as `회원<id>`.
        assert!(
            text.contains(&format!("회원{id}")),
            "{path} shows the nickname"
        );
    }
}
