//! What a crowd of free accounts cannot do: accounts that never proved their address read but
//! take no part, and reports weigh their reporters' word, so fresh accounts, and a crowd an
//! admin already overruled, hide nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{complete_profile, crowd, image, listing, order_body, post, shop};
use crate::util::{TestApp, assert_problem};

#[tokio::test]
async fn an_unverified_member_reads_but_takes_no_part() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, author) = app.user("author@example.com").await;
    let post = post(&app, &author, "산책", "한강에서").await;
    let listing = listing(&app, &author, "Cat tower").await;
    let place = app
        .post_ok(
            "/api/v1/admin/places",
            Some(&admin),
            json!({"name": "멍카페", "category": "CAFE", "address": "서울 중구",
                   "lat": 37.5663, "lng": 126.9779, "pet_sizes": ["SMALL"]}),
        )
        .await;
    let (item, _, _) = shop(&app, 10).await;

    let (newcomer_id, newcomer) = app.unverified_user("newcomer@example.com").await;
    let address = complete_profile(&app, &newcomer).await;
    let album_image = image(&app, &newcomer, "ALBUM").await;
    // Reading is open, and so are one's own pets.
    app.get_ok_as("/api/v1/owner-boards", &newcomer).await;
    app.get_ok_as(&format!("/api/v1/owner-boards/{}", post["id"]), &newcomer)
        .await;
    app.post_ok(
        "/api/v1/pets",
        Some(&newcomer),
        json!({"name": "보리", "species": "DOG"}),
    )
    .await;

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/owner-boards".into(),
            Some(json!({"category": "DAILY", "title": "첫 글", "content": "안녕하세요"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/owner-boards/{}/like", post["id"]),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/owner-boards/{}/comments", post["id"]),
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
                json!({"target_type": "POST", "target_id": post["id"], "reason": "SPAM", "detail": ""}),
            ),
        ),
        (
            Method::PUT,
            format!("/api/v1/places/{}/like", place["id"]),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/places/{}/reviews", place["id"]),
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
            app.send(method.clone(), path, Some(&newcomer), body.clone())
                .await,
            403,
            "EMAIL_NOT_VERIFIED",
        )
        .await;
    }
    // Nothing was written.
    let read = app
        .get_ok(&format!("/api/v1/owner-boards/{}", post["id"]))
        .await;
    assert_eq!(
        (read["like_count"].as_i64(), read["comment_count"].as_i64()),
        (Some(0), Some(0))
    );

    // Once the address is proven, the same requests go through.
    app.verify_email(newcomer_id).await;
    for (method, path, body) in &attempts {
        let response = app
            .send(method.clone(), path, Some(&newcomer), body.clone())
            .await;
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
    }
}

async fn report(app: &TestApp, token: &str, post: &Value) -> reqwest::Response {
    app.post_json(
        "/api/v1/reports",
        Some(token),
        json!({"target_type": "POST", "target_id": post["id"], "reason": "SPAM", "detail": "ads"}),
    )
    .await
}

/// Whether a guest still reads the post.
async fn shown(app: &TestApp, post: &Value) -> bool {
    app.get(&format!("/api/v1/owner-boards/{}", post["id"]))
        .await
        .status()
        == 200
}

/// An admin's decision on every open report of the post.
async fn decide(app: &TestApp, admin: &str, post: &Value, action: &str) {
    app.post_ok(
        "/api/v1/admin/moderation-decisions",
        Some(admin),
        json!({"target_type": "POST", "target_id": post["id"], "action": action,
               "note": "reviewed"}),
    )
    .await;
}

#[tokio::test]
async fn fresh_accounts_and_an_overruled_crowd_hide_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, author) = app.user("author@example.com").await;
    let victim = post(&app, &author, "우리 강아지", "귀엽죠").await;

    // Five accounts made today, their addresses proven: five reports weigh nothing.
    for n in 0..5 {
        let (_, fresh) = app.user(&format!("fresh{n}@example.com")).await;
        assert_eq!(report(&app, &fresh, &victim).await.status(), 201);
    }
    assert!(shown(&app, &victim).await);

    // Five established members hide it until an admin decides.
    let brigade = crowd(&app, 5).await;
    for (_, member) in &brigade {
        assert_eq!(report(&app, member, &victim).await.status(), 201);
    }
    assert!(!shown(&app, &victim).await);
    decide(&app, &admin, &victim, "DISMISS").await;
    assert!(shown(&app, &victim).await);

    // The overruled crowd reports it again: their reports reach the queue but weigh nothing.
    for (_, member) in &brigade {
        assert_eq!(report(&app, member, &victim).await.status(), 201);
    }
    assert!(shown(&app, &victim).await);
    let queue = app
        .get_ok_as(
            &format!(
                "/api/v1/admin/reports?status=OPEN&target_type=POST&target_id={}",
                victim["id"]
            ),
            &admin,
        )
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 5, "the new five");

    // Dismissed elsewhere too, the same reporters weigh half each on other content: five of
    // them and two members of clean record do not reach five, a third does.
    let other = post(&app, &author, "산책", "공원").await;
    for (_, member) in &brigade {
        report(&app, member, &other).await;
    }
    let clean = crowd(&app, 3).await;
    for (_, member) in &clean[..2] {
        report(&app, member, &other).await;
    }
    assert!(shown(&app, &other).await, "5 × ½ + 2 = 4.5");
    report(&app, &clean[2].1, &other).await;
    assert!(!shown(&app, &other).await, "5 × ½ + 3 = 5.5");
}

#[tokio::test]
async fn nobody_else_reads_a_members_real_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "real-name@example.com";
    let signed_up = app
        .post_json(
            "/api/v1/auth/signup",
            None,
            json!({"email": email, "password": crate::util::PASSWORD, "name": "김보리사랑"}),
        )
        .await;
    assert_eq!(signed_up.status(), 202);
    let id = app.user_id(email).await;
    app.verify_email(id).await;
    let (me, _) = app.login(email, crate::util::PASSWORD).await;
    let post = post(&app, &me, "산책", "한강").await;
    app.post_ok(
        &format!("/api/v1/owner-boards/{}/comments", post["id"]),
        Some(&me),
        json!({"content": "좋아요"}),
    )
    .await;
    let listing = listing(&app, &me, "Cat tower").await;
    let place = app
        .post_ok(
            "/api/v1/admin/places",
            Some(&admin),
            json!({"name": "멍카페", "category": "CAFE", "address": "서울 중구",
                   "lat": 37.5663, "lng": 126.9779, "pet_sizes": ["SMALL"]}),
        )
        .await;
    app.post_ok(
        &format!("/api/v1/places/{}/reviews", place["id"]),
        Some(&me),
        json!({"stars": 5, "content": "최고"}),
    )
    .await;
    let (_, buyer) = app.user("buyer@example.com").await;
    let room = app
        .post_ok(
            "/api/v1/chat/rooms",
            Some(&buyer),
            json!({"listing_id": listing}),
        )
        .await;

    let reads = [
        (None, "/api/v1/owner-boards".to_owned()),
        (None, format!("/api/v1/owner-boards/{}", post["id"])),
        (
            None,
            format!("/api/v1/owner-boards/{}/comments", post["id"]),
        ),
        (None, "/api/v1/trade-boards".to_owned()),
        (None, format!("/api/v1/trade-boards/{listing}")),
        (None, format!("/api/v1/places/{}/reviews", place["id"])),
        (Some(buyer.as_str()), "/api/v1/chat/rooms".to_owned()),
        (
            Some(buyer.as_str()),
            format!("/api/v1/chat/rooms/{}", room["id"]),
        ),
    ];
    for (reader, path) in reads {
        let response = app.send(Method::GET, &path, reader, None).await;
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
