//! Account lifecycle rules, run as the batch jobs run them, seen through the API: warning mails,
//! dormancy and its undoing at login, deletion that keeps orders, suspensions ending, and the
//! notification purge.

use chrono::TimeDelta;
use petory_core::identity::lifecycle::{self, LifecycleSettings};
use petory_core::platform::upload::{self, UploadSettings};
use petory_core::shop::subscription::EndSubscriptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{complete_profile, image, item_with_images, listing, order_body, post, shop};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

fn settings() -> LifecycleSettings {
    LifecycleSettings::default()
}

/// Lifecycle mails in the file transport's directory that were sent to `to` (not the
/// sign-up's verification mail).
fn mails_to(to: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join("petory-test-mail");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
                .filter(|mail| mail.contains(&format!("To: {to}")))
                .filter(|mail| !mail.contains("verify-email"))
                .collect()
        })
        .unwrap_or_default()
}

/// Withdraws the holder of `token`, as they would from the app.
async fn withdraw(app: &TestApp, token: &str) {
    let response = app
        .send(
            Method::DELETE,
            "/api/v1/users/me",
            Some(token),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), 204);
}

/// The deletion job's day for accounts withdrawn now: warned 5 days before, deleted 90 days on.
async fn delete_when_due(app: &TestApp) -> lifecycle::Deleted {
    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(85));
    lifecycle::warn_deletion(&mut conn, app.clock.now_utc(), settings())
        .await
        .unwrap();
    app.clock.advance(TimeDelta::days(5));
    lifecycle::delete_expired(
        &mut conn,
        app.clock.now_utc(),
        settings(),
        &petory_core::shop::subscription::EndSubscriptions,
    )
    .await
    .unwrap()
}

/// Runs the upload job now and says whether each key's object is still stored.
async fn still_stored(app: &TestApp, keys: &[&String]) -> Vec<bool> {
    let mut conn = app.state.db.get().await.unwrap();
    let store = app.state.object_store.clone();
    let now = app.clock.now_utc();
    upload::prune_unattached(
        &mut conn,
        store.as_ref(),
        &UploadSettings::default(),
        100,
        now,
    )
    .await
    .unwrap();
    let mut stored = Vec::new();
    for key in keys {
        stored.push(store.head(key).await.unwrap().is_some());
    }
    stored
}

/// A pet of the holder of `token`, with an uploaded photo: the photo's key.
async fn pet_with_photo(app: &TestApp, token: &str, name: &str, species: &str) -> String {
    let photo = image(app, token, "PET").await;
    app.post_ok(
        "/api/v1/pets",
        Some(token),
        json!({"name": name, "species": species, "photo_key": photo}),
    )
    .await;
    photo
}

async fn admin_view(app: &TestApp, id: i64) -> Value {
    let admin = app.admin_token().await;
    let users: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/users?limit=100",
            Some(&admin),
            None,
        )
        .await;
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn inactive_users_are_warned_then_made_dormant_and_a_login_brings_them_back() {
    let app = TestApp::spawn().await;
    let email = format!("sleepy-{}@example.com", uuid::Uuid::new_v4().simple());
    let (id, token) = app.user(&email).await;
    let address = complete_profile(&app, &token).await;
    let mut conn = app.state.db.get().await.unwrap();

    // 85 days without a login: a warning, once, and nothing else yet.
    app.clock.advance(TimeDelta::days(85));
    let now = app.clock.now_utc();
    assert_eq!(
        lifecycle::warn_inactive(&mut conn, now, settings())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lifecycle::warn_inactive(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    app.relay_events().await;
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1, "one warning mail");

    // Day 90: dormant, the personal data moved out of the users table.
    app.clock.advance(TimeDelta::days(5));
    let now = app.clock.now_utc();
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    let view = admin_view(&app, id).await;
    assert_eq!(view["status"], "DORMANT");
    assert_ne!(view["email"], email.as_str());
    assert!(view["phone"].is_null());
    let addresses_left: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        petory_core::schema::user_addresses::table
            .filter(petory_core::schema::user_addresses::user_id.eq(id))
            .count()
            .get_result(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(addresses_left, 0, "addresses are kept apart too");

    // A login with the original email restores everything.
    let (token, _) = app.login(&email, PASSWORD).await;
    let me: Value = app
        .send_ok(Method::GET, "/api/v1/users/me", Some(&token), None)
        .await;
    assert_eq!(
        (me["status"].as_str(), me["email"].as_str()),
        (Some("ACTIVE"), Some(email.as_str()))
    );
    assert_eq!(me["name"], "Bori's human");
    assert_eq!(me["phone"], "010-1234-5678");
    let addresses: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/addresses",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(addresses["items"][0]["id"], address);
    assert_eq!(addresses["items"][0]["address1"], "Teheran-ro 1");
}

#[tokio::test]
async fn withdrawn_accounts_are_deleted_after_a_warning_keeping_orders_anonymously() {
    let app = TestApp::spawn().await;
    let (item, buyer_token, address) = shop(&app, 10).await;
    let order: Value = app
        .post_ok(
            "/api/v1/orders",
            Some(&buyer_token),
            order_body(item, 1, address),
        )
        .await;
    let buyer = app
        .send_ok(Method::GET, "/api/v1/users/me", Some(&buyer_token), None)
        .await["id"]
        .as_i64()
        .unwrap();
    // The buyer's pet (with its photo) and a private daily photo: personal data no order keeps.
    let pet_photo = pet_with_photo(&app, &buyer_token, "보리", "DOG").await;
    let album_image = image(&app, &buyer_token, "ALBUM").await;
    let put = app
        .send(
            Method::PUT,
            "/api/v1/users/me/albums/2026-11-20",
            Some(&buyer_token),
            Some(json!({"image_key": album_image, "caption": "산책", "visibility": "PRIVATE"})),
        )
        .await;
    assert_eq!(put.status(), 201);
    let leaver_email = format!("leaver-{}@example.com", uuid::Uuid::new_v4().simple());
    let (leaver, leaver_token) = app.user(&leaver_email).await;
    // The leaver (removed entirely) has a pet photo too, and an upload nothing used yet.
    let leaver_photo = pet_with_photo(&app, &leaver_token, "나비", "CAT").await;
    let leaver_unused = image(&app, &leaver_token, "POST").await;
    for token in [&buyer_token, &leaver_token] {
        withdraw(&app, token).await;
    }

    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(85));
    let now = app.clock.now_utc();
    assert_eq!(
        lifecycle::warn_deletion(&mut conn, now, settings())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        lifecycle::delete_expired(&mut conn, now, settings(), &EndSubscriptions)
            .await
            .unwrap()
            .removed,
        0
    );
    app.relay_events().await;
    assert_eq!(mails_to(&leaver_email).len(), 1);

    app.clock.advance(TimeDelta::days(5));
    let now = app.clock.now_utc();
    let deleted = lifecycle::delete_expired(&mut conn, now, settings(), &EndSubscriptions)
        .await
        .unwrap();
    assert_eq!((deleted.removed, deleted.anonymised), (1, 1));
    let again = lifecycle::delete_expired(&mut conn, now, settings(), &EndSubscriptions)
        .await
        .unwrap();
    assert_eq!((again.removed, again.anonymised), (0, 0));

    // The anonymous row keeps no pet and no daily photo, and their images (and every image of
    // the account removed entirely) leave storage with the upload job's next run.
    #[derive(diesel::QueryableByName)]
    struct Left {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
    }
    let left: Left = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM pets WHERE owner_id = $1)
                  + (SELECT count(*) FROM album_photos WHERE user_id = $1) AS rows",
        )
        .bind::<diesel::sql_types::BigInt, _>(buyer),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(left.rows, 0);
    assert_eq!(
        still_stored(
            &app,
            &[&pet_photo, &album_image, &leaver_photo, &leaver_unused]
        )
        .await,
        [false; 4]
    );

    assert!(admin_view(&app, leaver).await.is_null(), "removed entirely");
    let kept = admin_view(&app, buyer).await;
    assert_eq!(kept["status"], "WITHDRAWN");
    assert!(kept["email"].as_str().unwrap().ends_with("@petory.invalid"));
    assert_eq!(kept["name"], "탈퇴 회원");
    let admin = app.admin_token().await;
    let kept_order: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{}", order["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(kept_order["id"], order["id"]);
    assert_eq!(
        kept_order["delivery"],
        json!({"recipient": "탈퇴 회원", "phone": "", "zip_code": "", "address1": "", "address2": ""}),
        "the delivery snapshot holds no personal data"
    );
    assert_eq!(
        (
            kept_order["total"].as_i64(),
            kept_order["lines"].as_array().map(Vec::len)
        ),
        (order["total"].as_i64(), Some(1)),
        "amounts and items are kept"
    );
    // The old credentials are gone.
    assert_problem(
        app.post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": leaver_email, "password": PASSWORD}),
        )
        .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
}

/// A member whose comment others replied to is kept as an anonymous row when deleted, so that
/// the thread keeps the replies (removing the row would take them with it).
#[tokio::test]
async fn a_deleted_member_whose_comment_has_replies_stays_anonymously_with_the_thread() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (member, member_token) = app.user("member@example.com").await;
    let post = post(&app, &author, "산책", "오늘의 산책").await["id"]
        .as_i64()
        .unwrap();
    let comments = format!("/api/v1/owner-boards/{post}/comments");
    let question = app
        .post_ok(
            &comments,
            Some(&member_token),
            json!({"content": "어디예요?"}),
        )
        .await;
    app.post_ok(
        &comments,
        Some(&author),
        json!({"content": "한강이요", "parent_id": question["id"]}),
    )
    .await;
    withdraw(&app, &member_token).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (0, 1));

    let kept = admin_view(&app, member).await;
    assert_eq!(kept["name"], "탈퇴 회원");
    let thread = app.get_ok(&comments).await;
    let contents: Vec<&str> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|comment| comment["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["어디예요?", "한강이요"]);
    let read = app.get_ok(&format!("/api/v1/owner-boards/{post}")).await;
    assert_eq!(read["comment_count"], 2);
}

/// An account removed entirely takes its likes, comments, reviews and chats with it, and what
/// others' content counted of them is counted again.
#[tokio::test]
async fn a_removed_accounts_likes_comments_reviews_and_chats_no_longer_count() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, leaver) = app.user("leaver@example.com").await;
    let post = post(&app, &author, "산책", "오늘의 산책").await["id"]
        .as_i64()
        .unwrap();
    let place = app
        .post_ok(
            "/api/v1/admin/places",
            Some(&app.admin_token().await),
            json!({"name": "보리 카페", "category": "CAFE", "address": "서울 중구 보리 카페",
                   "lat": 37.5663, "lng": 126.9779}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let for_sale = listing(&app, &author, "Cat tower").await;
    for token in [&leaver, &author] {
        for like in [
            format!("/api/v1/owner-boards/{post}/like"),
            format!("/api/v1/places/{place}/like"),
        ] {
            let response = app.send(Method::PUT, &like, Some(token), None).await;
            assert_eq!(response.status(), 200);
        }
    }
    app.post_ok(
        &format!("/api/v1/owner-boards/{post}/comments"),
        Some(&leaver),
        json!({"content": "귀여워요"}),
    )
    .await;
    for (token, stars) in [(&leaver, 5), (&author, 3)] {
        app.post_ok(
            &format!("/api/v1/places/{place}/reviews"),
            Some(token),
            json!({"stars": stars, "content": "반려견과 가기 좋아요"}),
        )
        .await;
    }
    app.post_ok(
        "/api/v1/chat/rooms",
        Some(&leaver),
        json!({"listing_id": for_sale}),
    )
    .await;

    withdraw(&app, &leaver).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (1, 0));

    // Only the author's like and review are left.
    let counted = app.get_ok(&format!("/api/v1/owner-boards/{post}")).await;
    assert_eq!(
        (
            counted["like_count"].as_i64(),
            counted["comment_count"].as_i64()
        ),
        (Some(1), Some(0))
    );
    let counted = app.get_ok(&format!("/api/v1/places/{place}")).await;
    assert_eq!(
        (
            counted["like_count"].as_i64(),
            counted["review_count"].as_i64(),
            counted["average_stars"].as_f64()
        ),
        (Some(1), Some(1), Some(3.0))
    );
    let counted = app
        .get_ok(&format!("/api/v1/trade-boards/{for_sale}"))
        .await;
    assert_eq!(counted["chat_count"], 0);
}

/// An administrator's account removed entirely leaves the shop's items their images.
#[tokio::test]
async fn an_admin_removed_entirely_leaves_the_items_their_images() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let item_image = image(&app, &admin, "ITEM").await;
    let item = item_with_images(&app, &admin, std::slice::from_ref(&item_image)).await;
    assert_eq!(item.status(), 201);
    let pet_photo = pet_with_photo(&app, &admin, "보리", "DOG").await;

    withdraw(&app, &admin).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (1, 0));
    assert_eq!(
        still_stored(&app, &[&item_image, &pet_photo]).await,
        [true, false]
    );
}

#[tokio::test]
async fn suspensions_end_at_their_end_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, _) = app.user("naughty@example.com").await;
    let until = app.clock.now_utc() + TimeDelta::days(30);
    let suspended = app
        .post_json(
            &format!("/api/v1/admin/users/{id}/suspension"),
            Some(&admin),
            json!({"until": until, "reason": "spam"}),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(29));
    assert_eq!(
        lifecycle::lift_suspensions(&mut conn, app.clock.now_utc())
            .await
            .unwrap(),
        0
    );
    app.clock.advance(TimeDelta::days(1));
    assert_eq!(
        lifecycle::lift_suspensions(&mut conn, app.clock.now_utc())
            .await
            .unwrap(),
        1
    );
    assert_eq!(admin_view(&app, id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn notifications_older_than_thirty_days_are_purged() {
    let app = TestApp::spawn().await;
    let (id, _) = app.user("me@example.com").await;
    let mut conn = app.state.db.get().await.unwrap();
    let notify = async |conn: &mut petory_core::db::DbConn<'_>, cause: &str, now| {
        petory_core::notification::deliver(
            conn,
            &petory_core::notification::NewNotification {
                user_id: petory_core::identity::UserId(id),
                notice: petory_core::notification::Notice::DailyQuestion { question_id: 1 },
                title: "q".into(),
                body: "b".into(),
            },
            cause,
            now,
        )
        .await
        .unwrap()
    };
    notify(&mut conn, "old", app.clock.now_utc()).await;
    app.clock.advance(TimeDelta::days(20));
    notify(&mut conn, "recent", app.clock.now_utc()).await;
    app.clock.advance(TimeDelta::days(11));
    let cutoff = app.clock.now_utc() - TimeDelta::days(30);
    assert_eq!(
        petory_core::notification::purge_older_than(&mut conn, cutoff, 1)
            .await
            .unwrap(),
        1
    );
    let token = app.login("me@example.com", PASSWORD).await.0;
    let left: Value = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(&token), None)
        .await;
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
    assert_eq!(left["items"][0]["title"], "q");
}

#[tokio::test]
async fn a_dormant_accounts_tokens_are_refused_at_once() {
    use petory_core::identity::token;
    let app = TestApp::spawn().await;
    let email = format!("sleepy-{}@example.com", uuid::Uuid::new_v4().simple());
    let (id, login_token) = app.user(&email).await;
    let session = token::verify_access(&app.state.tokens, &login_token, app.clock.now_utc())
        .unwrap()
        .sid;

    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(85));
    lifecycle::warn_inactive(&mut conn, app.clock.now_utc(), settings())
        .await
        .unwrap();
    app.clock.advance(TimeDelta::days(5));
    // An access token of that session, issued just before the job runs.
    let (fresh, _) = token::issue_access(
        &app.state.tokens,
        petory_core::identity::UserId(id),
        petory_core::identity::Role::User,
        &session,
        app.clock.now_utc(),
    );
    let me = || app.send(Method::GET, "/api/v1/users/me", Some(&fresh), None);
    assert_eq!(me().await.status(), 200);

    assert_eq!(
        lifecycle::make_dormant(&mut conn, app.clock.now_utc(), settings())
            .await
            .unwrap(),
        1
    );
    drop(conn);
    app.relay_events().await;
    assert_problem(me().await, 401, "TOKEN_REVOKED").await;
}

#[tokio::test]
async fn a_user_who_stays_signed_in_by_refreshing_is_not_inactive() {
    let app = TestApp::spawn().await;
    let email = format!("steady-{}@example.com", uuid::Uuid::new_v4().simple());
    app.signup(&email).await;
    let (_, mut refresh) = app.login(&email, PASSWORD).await;
    let mut conn = app.state.db.get().await.unwrap();
    // Refreshing every ten days for three months, never typing the password again.
    for _ in 0..9 {
        app.clock.advance(TimeDelta::days(10));
        let tokens: Value = app
            .post_ok(
                "/api/v1/auth/refresh",
                None,
                json!({"refresh_token": refresh}),
            )
            .await;
        refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let now = app.clock.now_utc();
        assert_eq!(
            lifecycle::warn_inactive(&mut conn, now, settings())
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            lifecycle::make_dormant(&mut conn, now, settings())
                .await
                .unwrap(),
            0
        );
    }
}
