//! Withdrawn accounts deleted, as the batch jobs run it, seen through the API: a warning mail,
//! then removal, or an anonymous row where orders or others' replies must stay; what the account
//! counted of others' content, and its images, go with it.

use chrono::TimeDelta;
use petory_core::identity::lifecycle::{self, LifecycleSettings};
use petory_core::platform::upload::{self, UploadSettings};
use petory_core::shop::subscription::EndSubscriptions;
use reqwest::Method;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::client::{Client as _, Member, Page};
use crate::fixtures::shop::{Order, lifecycle_mails_to as mails_to};
use crate::fixtures::{image, item_with_images, listing, post};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

/// Anything just created: its id.
#[derive(Debug, Deserialize)]
struct Created {
    id: i64,
}

/// An order as an admin reads it after its buyer's account was deleted.
#[derive(Debug, Deserialize)]
struct KeptOrder {
    id: i64,
    total: i64,
    lines: Vec<IgnoredAny>,
    /// Compared whole: no field of it may hold personal data.
    delivery: Value,
}

#[derive(Debug, Deserialize)]
struct PostCounts {
    like_count: i64,
    comment_count: i64,
}

#[derive(Debug, Deserialize)]
struct PlaceCounts {
    like_count: i64,
    review_count: i64,
    average_stars: f64,
}

#[derive(Debug, Deserialize)]
struct ListingCounts {
    chat_count: i64,
}

#[derive(Debug, Deserialize)]
struct Comment {
    content: String,
}

fn settings() -> LifecycleSettings {
    LifecycleSettings::default()
}

/// `member` withdraws, as they would from the app.
async fn withdraw(member: &Member) {
    let response = member
        .request(
            Method::DELETE,
            "/api/v1/users/me",
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

/// A pet of `member`'s, with an uploaded photo: the photo's key.
async fn pet_with_photo(app: &TestApp, member: &Member, name: &str, species: &str) -> String {
    let photo = image(app, &member.token, "PET").await;
    let _: Value = member
        .post(
            "/api/v1/pets",
            json!({"name": name, "species": species, "photo_key": photo}),
        )
        .await;
    photo
}

/// A post on the owner board by `member`: its id.
async fn post_by(app: &TestApp, member: &Member, title: &str, content: &str) -> i64 {
    serde_json::from_value::<Created>(post(app, &member.token, title, content).await)
        .unwrap()
        .id
}

#[tokio::test]
async fn withdrawn_accounts_are_deleted_after_a_warning_keeping_orders_anonymously() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let buyer = &shop.buyer;
    let order: Order = buyer
        .post(
            "/api/v1/orders",
            crate::fixtures::order_body(shop.item, 1, shop.address),
        )
        .await;
    // The buyer's pet (with its photo) and a private daily photo: personal data no order keeps.
    let pet_photo = pet_with_photo(&app, buyer, "보리", "DOG").await;
    let album_image = image(&app, &buyer.token, "ALBUM").await;
    let put = buyer
        .request(
            Method::PUT,
            "/api/v1/users/me/albums/2026-11-20",
            Some(json!({"image_key": album_image, "caption": "산책", "visibility": "PRIVATE"})),
        )
        .await;
    assert_eq!(put.status(), 201);
    let leaver_email = format!("leaver-{}@example.com", uuid::Uuid::new_v4().simple());
    let leaver = app.member(&leaver_email).await;
    // The leaver (removed entirely) has a pet photo too, and an upload nothing used yet.
    let leaver_photo = pet_with_photo(&app, &leaver, "나비", "CAT").await;
    let leaver_unused = image(&app, &leaver.token, "POST").await;
    for member in [buyer, &leaver] {
        withdraw(member).await;
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
        .bind::<diesel::sql_types::BigInt, _>(buyer.id),
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

    assert!(
        app.admin_view_of(leaver.id).await.is_none(),
        "removed entirely"
    );
    let kept = app.admin_view_of(buyer.id).await.unwrap();
    assert_eq!(kept.status, "WITHDRAWN");
    assert!(kept.email.ends_with("@petory.invalid"));
    assert_eq!(kept.name, "탈퇴 회원");
    let admin = app.admin().await;
    let kept_order: KeptOrder = admin.get(&format!("/api/v1/orders/{}", order.id)).await;
    assert_eq!(kept_order.id, order.id);
    assert_eq!(
        kept_order.delivery,
        json!({"recipient": "탈퇴 회원", "phone": "", "zip_code": "", "address1": "", "address2": ""}),
        "the delivery snapshot holds no personal data"
    );
    assert_eq!(
        (kept_order.total, kept_order.lines.len()),
        (order.total, 1),
        "amounts and items are kept"
    );
    // The old credentials are gone.
    assert_problem(
        app.try_login(&leaver_email, PASSWORD).await,
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
    let author = app.member("author@example.com").await;
    let member = app.member("member@example.com").await;
    let post = post_by(&app, &author, "산책", "오늘의 산책").await;
    let comments = format!("/api/v1/owner-boards/{post}/comments");
    let question: Created = member
        .post(&comments, json!({"content": "어디예요?"}))
        .await;
    let _: Value = author
        .post(
            &comments,
            json!({"content": "한강이요", "parent_id": question.id}),
        )
        .await;
    withdraw(&member).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (0, 1));

    let kept = app.admin_view_of(member.id).await.unwrap();
    assert_eq!(kept.name, "탈퇴 회원");
    let thread: Page<Comment> = app.guest().get(&comments).await;
    let contents: Vec<&str> = thread
        .items
        .iter()
        .map(|comment| comment.content.as_str())
        .collect();
    assert_eq!(contents, ["어디예요?", "한강이요"]);
    let read: PostCounts = app
        .guest()
        .get(&format!("/api/v1/owner-boards/{post}"))
        .await;
    assert_eq!(read.comment_count, 2);
}

/// An account removed entirely takes its likes, comments, reviews and chats with it, and what
/// others' content counted of them is counted again.
#[tokio::test]
async fn a_removed_accounts_likes_comments_reviews_and_chats_no_longer_count() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let leaver = app.member("leaver@example.com").await;
    let post = post_by(&app, &author, "산책", "오늘의 산책").await;
    let place: Created = app
        .admin()
        .await
        .post(
            "/api/v1/admin/places",
            json!({"name": "보리 카페", "category": "CAFE", "address": "서울 중구 보리 카페",
                   "lat": 37.5663, "lng": 126.9779}),
        )
        .await;
    let place = place.id;
    let for_sale = listing(&app, &author.token, "Cat tower").await;
    for member in [&leaver, &author] {
        for like in [
            format!("/api/v1/owner-boards/{post}/like"),
            format!("/api/v1/places/{place}/like"),
        ] {
            let response = member.request(Method::PUT, &like, None).await;
            assert_eq!(response.status(), 200);
        }
    }
    let _: Value = leaver
        .post(
            &format!("/api/v1/owner-boards/{post}/comments"),
            json!({"content": "귀여워요"}),
        )
        .await;
    for (member, stars) in [(&leaver, 5), (&author, 3)] {
        let _: Value = member
            .post(
                &format!("/api/v1/places/{place}/reviews"),
                json!({"stars": stars, "content": "반려견과 가기 좋아요"}),
            )
            .await;
    }
    let _: Value = leaver
        .post("/api/v1/chat/rooms", json!({"listing_id": for_sale}))
        .await;

    withdraw(&leaver).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (1, 0));

    // Only the author's like and review are left.
    let counted: PostCounts = app
        .guest()
        .get(&format!("/api/v1/owner-boards/{post}"))
        .await;
    assert_eq!((counted.like_count, counted.comment_count), (1, 0));
    let counted: PlaceCounts = app.guest().get(&format!("/api/v1/places/{place}")).await;
    assert_eq!(
        (
            counted.like_count,
            counted.review_count,
            counted.average_stars
        ),
        (1, 1, 3.0)
    );
    let counted: ListingCounts = app
        .guest()
        .get(&format!("/api/v1/trade-boards/{for_sale}"))
        .await;
    assert_eq!(counted.chat_count, 0);
}

/// An administrator's account removed entirely leaves the shop's items their images.
#[tokio::test]
async fn an_admin_removed_entirely_leaves_the_items_their_images() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let item_image = image(&app, &admin.token, "ITEM").await;
    let item = item_with_images(&app, &admin.token, std::slice::from_ref(&item_image)).await;
    assert_eq!(item.status(), 201);
    let pet_photo = pet_with_photo(&app, &admin, "보리", "DOG").await;

    withdraw(&admin).await;
    let deleted = delete_when_due(&app).await;
    assert_eq!((deleted.removed, deleted.anonymised), (1, 0));
    assert_eq!(
        still_stored(&app, &[&item_image, &pet_photo]).await,
        [true, false]
    );
}
