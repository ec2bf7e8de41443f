//! Uploads: presigned PUTs to the local S3 server, and keys accepted only after the server has
//! looked at the object.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use petory_core::platform::upload::{self, UploadSettings};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::images::{ImageStatus, ImageUrls, served};
use crate::fixtures::{PNG, image, item_with_images, upload};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Item {
    id: i64,
    image_keys: Vec<String>,
    image_urls: Vec<ImageUrls>,
}

/// Where and how to send an upload.
#[derive(Debug, Deserialize)]
struct Ticket {
    key: String,
    url: String,
    headers: BTreeMap<String, String>,
}

/// A problem about an upload, naming its key.
#[derive(Debug, Deserialize)]
struct Refused {
    context: UploadKey,
}

#[derive(Debug, Deserialize)]
struct UploadKey {
    key: String,
}

#[derive(Debug, Deserialize)]
struct Post {
    id: i64,
    image_urls: Vec<ImageUrls>,
}

#[tokio::test]
async fn a_real_png_round_trips_from_upload_to_the_items_image_url() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let key = image(&app, &admin.token, "ITEM").await;
    assert!(key.starts_with("item/"), "server-made key: {key}");

    let response = item_with_images(&app, &admin.token, std::slice::from_ref(&key)).await;
    assert_eq!(response.status(), 201);
    let item: Item = response.json().await.unwrap();
    assert_eq!(item.image_keys, std::slice::from_ref(&key));
    app.assert_placeholder(&item.image_urls[0], ImageStatus::Processing);
    app.make_image_versions().await;

    // The public item page links its served versions.
    let public: Item = app.guest().get(&format!("/api/v1/items/{}", item.id)).await;
    assert_eq!(public.image_keys, [key]);
    let (_, picture) = served(&public.image_urls[0].display).await;
    assert_eq!((picture.width(), picture.height()), (1, 1));
}

#[tokio::test]
async fn text_declared_as_png_is_refused_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let fake = upload(
        &app,
        &admin.token,
        "ITEM",
        "image/png",
        b"this is not a picture at all",
    )
    .await;
    let problem: Refused = serde_json::from_value(
        assert_problem(
            item_with_images(&app, &admin.token, std::slice::from_ref(&fake)).await,
            422,
            "UPLOAD_NOT_AN_IMAGE",
        )
        .await,
    )
    .unwrap();
    assert_eq!(problem.context.key, fake);
    let items: Page<Value> = app.guest().get("/api/v1/items").await;
    assert!(items.items.is_empty());
}

#[tokio::test]
async fn keys_are_accepted_only_from_their_owner_for_their_purpose_once_uploaded() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.member("someone@example.com").await;

    // Someone else's key, as good as unknown.
    let theirs = image(&app, &user.token, "ITEM_REVIEW").await;
    assert_problem(
        item_with_images(&app, &admin.token, std::slice::from_ref(&theirs)).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    // A key made by the client.
    assert_problem(
        item_with_images(&app, &admin.token, &["item/1/made-up.png".to_owned()]).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    // My key, for another purpose.
    let for_a_post = image(&app, &admin.token, "POST").await;
    assert_problem(
        item_with_images(&app, &admin.token, std::slice::from_ref(&for_a_post)).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    // Asked for, never sent.
    let ticket: Ticket = admin
        .post(
            "/api/v1/uploads",
            json!({"purpose": "ITEM", "content_type": "image/png", "content_length": 67}),
        )
        .await;
    let never_sent = ticket.key;
    assert_problem(
        item_with_images(&app, &admin.token, std::slice::from_ref(&never_sent)).await,
        422,
        "UPLOAD_NOT_UPLOADED",
    )
    .await;
}

#[tokio::test]
async fn only_images_within_the_limit_and_item_images_only_for_admins() {
    let app = TestApp::spawn().await;
    let user = app.member("someone@example.com").await;
    let ask = |body: Value| user.request(Method::POST, "/api/v1/uploads", Some(body));
    assert_problem(
        ask(json!({"purpose": "ITEM", "content_type": "image/png", "content_length": 10})).await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        ask(json!({"purpose": "POST", "content_type": "image/png", "content_length": 10 * 1024 * 1024 + 1})).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        ask(json!({"purpose": "POST", "content_type": "image/png", "content_length": 0})).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        ask(json!({"purpose": "POST", "content_type": "application/pdf", "content_length": 10}))
            .await,
        422,
        "INVALID_BODY",
    )
    .await;
    assert_problem(
        app.guest()
            .request(
                Method::POST,
                "/api/v1/uploads",
                Some(json!({"purpose": "POST", "content_type": "image/png", "content_length": 10})),
            )
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn uploads_nothing_used_are_removed_after_a_day_and_used_ones_stay() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let used = image(&app, &admin.token, "ITEM").await;
    let unused = image(&app, &admin.token, "ITEM").await;
    assert_eq!(
        item_with_images(&app, &admin.token, std::slice::from_ref(&used))
            .await
            .status(),
        201
    );
    let store = app.state.object_store.clone();
    let settings = UploadSettings::default();
    let mut conn = app.state.db.get().await.unwrap();

    let now = app.clock.now_utc();
    let removed = upload::prune_unattached(&mut conn, store.as_ref(), &settings, 100, now)
        .await
        .unwrap();
    assert_eq!(removed, 0, "nothing is a day old yet");

    app.clock.advance(TimeDelta::hours(25));
    let now = app.clock.now_utc();
    let removed = upload::prune_unattached(&mut conn, store.as_ref(), &settings, 1, now)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(store.head(&unused).await.unwrap().is_none());
    assert!(store.head(&used).await.unwrap().is_some());
}

#[tokio::test]
async fn an_attached_image_cannot_be_swapped_nor_taken_by_other_content() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    // Asked for by hand, to keep the presigned PUT at hand.
    let ticket: Ticket = me
        .post(
            "/api/v1/uploads",
            json!({"purpose": "POST", "content_type": "image/png", "content_length": PNG.len()}),
        )
        .await;
    let put = |bytes: Vec<u8>| {
        let mut request = reqwest::Client::new().put(&ticket.url).body(bytes);
        for (name, value) in &ticket.headers {
            request = request.header(name, value);
        }
        request.send()
    };
    assert!(put(PNG.to_vec()).await.unwrap().status().is_success());
    let key = &ticket.key;
    let post: Post = me
        .post(
            "/api/v1/owner-boards",
            json!({"category": "DAILY", "title": "산책", "content": "한강", "image_keys": [key]}),
        )
        .await;

    // The presigned PUT still works, but what it puts is never served.
    app.make_image_versions().await;
    let mut swapped = PNG.to_vec();
    swapped
        .iter_mut()
        .rev()
        .take(8)
        .for_each(|byte| *byte = b'!');
    assert!(put(swapped).await.unwrap().status().is_success());
    let read: Post = app
        .guest()
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    let (_, shown) = served(&read.image_urls[0].display).await;
    assert_eq!(
        (shown.width(), shown.height()),
        (1, 1),
        "the versions of what was checked"
    );

    // The upload is this post's alone: another post cannot take it, so deleting this one
    // cannot take another's image with it.
    assert_problem(
        me.request(
            Method::POST,
            "/api/v1/owner-boards",
            Some(json!({"category": "DAILY", "title": "또", "content": "또", "image_keys": [key]})),
        )
        .await,
        409,
        "UPLOAD_IN_USE",
    )
    .await;
    // Editing the post keeps its own image.
    let _: Value = me
        .patch(
            &format!("/api/v1/owner-boards/{}", post.id),
            json!({"title": "산책 (수정)", "image_keys": [key]}),
        )
        .await;
}
