//! Every image served right: what members upload is never served itself. The `image-versions`
//! job writes WebP versions per size (metadata gone, turned upright) under keys no client had a
//! URL for and deletes the original; until then every size is the placeholder. Bombs are
//! refused before anything decodes them; what cannot be read ends as a failed upload; what
//! moderation hides leaves public reach (and the CDN) until it is shown again.

use std::sync::{Arc, Mutex};

use axum::http::{Method, Uri};
use image::GenericImageView as _;
use petory_core::platform::image::{Size, version_key, withheld_key};
use petory_core::ports::{ImageError, ImageProcessor as _, Shape};
use petory_external_api::image::WebpVersions;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client as _, Member};
use crate::fixtures::community::{Listing, Post};
use crate::fixtures::images::{
    HOME_LATITUDE, ImageStatus, ImageUrls, broken_png, bytes_at, has_exif, peak_memory,
    phone_photo, png_bomb, served, webp_chunks,
};
use crate::fixtures::{jpeg, stored, upload};
use crate::util::{TestApp, assert_problem};

fn leaked(bytes: Vec<u8>) -> &'static [u8] {
    Box::leak(bytes.into_boxed_slice())
}

async fn listing_with(seller: &Member, keys: &[String]) -> Listing {
    seller
        .post(
            "/api/v1/trade-boards",
            json!({"category": "GOODS", "title": "Cat tower", "content": "barely used",
                   "price": 30_000, "region": "Mapo-gu", "image_keys": keys}),
        )
        .await
}

async fn post_with(seller: &Member, keys: &[String]) -> Post {
    seller
        .post(
            "/api/v1/owner-boards",
            json!({"category": "DAILY", "title": "Walk", "content": "sunny", "image_keys": keys}),
        )
        .await
}

#[tokio::test]
async fn a_phone_photo_is_served_upright_without_its_gps_position() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let photo = phone_photo(800, 400);
    assert!(has_exif(&photo), "the upload carries where it was taken");
    let key = upload(&app, &seller.token, "TRADE", "image/jpeg", leaked(photo)).await;

    let created = listing_with(&seller, std::slice::from_ref(&key)).await;
    app.assert_placeholder(&created.image_urls[0], ImageStatus::Processing);

    let made = app.make_image_versions().await;
    assert_eq!((made.made, made.failed), (1, 0));
    let read: Listing = seller
        .get(&format!("/api/v1/trade-boards/{}", created.id))
        .await;
    let urls = &read.image_urls[0];
    assert_eq!(urls.status, ImageStatus::Ready);
    let (display, picture) = served(&urls.display).await;
    // Upright: the sensor's 800 × 400 turned a quarter clockwise, its left (red) half on top.
    assert_eq!(picture.dimensions(), (400, 800));
    let top = picture.get_pixel(200, 100);
    let bottom = picture.get_pixel(200, 700);
    assert!(top[0] > 150 && top[2] < 100, "top is red: {top:?}");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom is blue: {bottom:?}"
    );
    // Nothing but pixels: no EXIF, XMP or ICC chunk, and no trace of the position.
    assert!(!has_exif(&display));
    let chunks = webp_chunks(&display);
    assert!(
        chunks
            .iter()
            .all(|chunk| ["VP8 ", "VP8L", "VP8X", "ALPH"].contains(&chunk.as_str())),
        "{chunks:?}"
    );
    let position = HOME_LATITUDE[2].0.to_le_bytes();
    assert!(!display.windows(4).any(|window| window == position));
    assert!(!display.windows(11).any(|window| window == b"PetoryPhone"));
    // Each size is there, smaller than the one above.
    let (_, thumb) = served(&urls.thumb).await;
    let (_, medium) = served(&urls.medium).await;
    assert_eq!(thumb.dimensions(), (160, 320));
    assert_eq!(medium.dimensions(), (320, 640));
    // The original is gone: only the versions exist, under keys no client had a URL for.
    assert!(!stored(&app, &key).await);
    for size in Size::ALL {
        assert!(stored(&app, &version_key(&key, size)).await);
    }
}

#[derive(Debug, Deserialize)]
struct Pet {
    photo_urls: Option<ImageUrls>,
}

#[derive(Debug, Deserialize)]
struct Me {
    avatar_urls: Option<ImageUrls>,
}

#[tokio::test]
async fn every_kind_answers_the_placeholder_until_its_versions_exist_then_each_size() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let post_photo = upload(&app, &owner.token, "POST", "image/jpeg", jpeg(1200, 900)).await;
    let pet_photo = upload(&app, &owner.token, "PET", "image/jpeg", jpeg(1000, 1000)).await;
    let avatar = upload(&app, &owner.token, "AVATAR", "image/jpeg", jpeg(900, 600)).await;

    let post = post_with(&owner, std::slice::from_ref(&post_photo)).await;
    let pet: Pet = owner
        .post(
            "/api/v1/pets",
            json!({"name": "Bori", "species": "DOG", "breed": "Jindo", "sex": "FEMALE",
                   "neutered": true, "photo_key": pet_photo}),
        )
        .await;
    let me: Me = owner
        .patch("/api/v1/users/me", json!({"avatar_key": avatar}))
        .await;
    app.assert_placeholder(&post.image_urls[0], ImageStatus::Processing);
    app.assert_placeholder(pet.photo_urls.as_ref().unwrap(), ImageStatus::Processing);
    app.assert_placeholder(me.avatar_urls.as_ref().unwrap(), ImageStatus::Processing);
    let placeholder = app
        .guest()
        .request(Method::GET, "/api/v1/images/placeholder", None)
        .await;
    assert_eq!(placeholder.headers()["content-type"], "image/webp");
    image::load_from_memory(&placeholder.bytes().await.unwrap()).expect("a picture");

    assert_eq!(app.make_image_versions().await.made, 3);
    let post: Post = owner
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    let (_, display) = served(&post.image_urls[0].display).await;
    assert_eq!(display.dimensions(), (1200, 900), "never enlarged");
    let (_, thumb) = served(&post.image_urls[0].thumb).await;
    assert_eq!(thumb.dimensions(), (320, 240));
    let me: Me = owner.get("/api/v1/users/me").await;
    let avatar = me.avatar_urls.unwrap();
    assert_eq!(avatar.status, ImageStatus::Ready);
    // An avatar's versions are its middle square.
    assert_eq!(served(&avatar.display).await.1.dimensions(), (600, 600));
    assert_eq!(served(&avatar.thumb).await.1.dimensions(), (320, 320));
    // A second run finds nothing to do.
    assert_eq!(app.make_image_versions().await.made, 0);
}

#[tokio::test]
async fn a_png_bomb_is_refused_before_anything_decodes_it() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let bomb = png_bomb(20_000);
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    let before = peak_memory();
    let key = upload(
        &app,
        &author.token,
        "POST",
        "image/png",
        leaked(bomb.clone()),
    )
    .await;
    let refused = author
        .request(
            Method::POST,
            "/api/v1/owner-boards",
            Some(json!({"category": "DAILY", "title": "t", "content": "c", "image_keys": [key]})),
        )
        .await;
    let problem = assert_problem(refused, 422, "UPLOAD_TOO_LARGE_IMAGE").await;
    assert_eq!(problem["context"]["width"], 20_000);
    // A processor handed the bomb anyway refuses it from its header.
    let refused = WebpVersions::new(1).versions(bomb, Shape::Fit).await;
    assert!(
        matches!(refused, Err(ImageError::TooLarge(_))),
        "{refused:?}"
    );
    // Decoded, the bomb would take 400 MB; refusing it grows the process by a few buffers.
    let grown = peak_memory().saturating_sub(before);
    assert!(grown < 64 * 1024 * 1024, "grew by {grown} bytes");
}

#[tokio::test]
async fn a_corrupt_image_ends_as_a_failed_upload_with_a_reason() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    // A real PNG's header (its type and size check out) before broken pixels.
    let key = upload(&app, &author.token, "POST", "image/png", broken_png()).await;
    let post = post_with(&author, std::slice::from_ref(&key)).await;

    let made = app.make_image_versions().await;
    assert_eq!((made.made, made.failed), (0, 1));
    let post: Post = author
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    app.assert_placeholder(&post.image_urls[0], ImageStatus::Failed);
    let reason = failure_of(&app, &key).await;
    assert!(reason.contains("cannot be read"), "{reason}");
    // Not tried again.
    assert_eq!(app.make_image_versions().await.failed, 0);
}

async fn failure_of(app: &TestApp, key: &str) -> String {
    use diesel::{ExpressionMethods as _, QueryDsl as _};
    use diesel_async::RunQueryDsl as _;
    use petory_core::schema::uploads;
    let mut conn = app.state.db.get().await.unwrap();
    uploads::table
        .filter(uploads::key.eq(key))
        .select(uploads::failure)
        .first::<Option<String>>(&mut conn)
        .await
        .unwrap()
        .unwrap()
}

async fn decide(admin: &Member, post: i64, action: &str) {
    let response = admin
        .request(
            Method::POST,
            "/api/v1/admin/moderation-decisions",
            Some(json!({"target_type": "POST", "target_id": post, "action": action, "note": "images"})),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn moderation_takes_the_served_versions_out_of_reach_until_it_shows_the_post_again() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let admin = app.admin().await;
    let key = upload(&app, &author.token, "POST", "image/jpeg", jpeg(800, 600)).await;
    let post = post_with(&author, std::slice::from_ref(&key)).await;
    app.make_image_versions().await;
    let path = format!("/api/v1/owner-boards/{}", post.id);
    let before: Post = author.get(&path).await;
    let url = before.image_urls[0].display.clone();
    assert!(bytes_at(&url).await.is_some());

    decide(&admin, post.id, "HIDE").await;
    // The URL handed out before is dead at once; the author reads the placeholder.
    assert_eq!(bytes_at(&url).await, None);
    let hidden: Post = author.get(&path).await;
    app.assert_placeholder(&hidden.image_urls[0], ImageStatus::Withheld);
    let display = version_key(&key, Size::Display);
    assert!(stored(&app, &withheld_key(&display)).await);

    decide(&admin, post.id, "DISMISS").await;
    let shown: Post = author.get(&path).await;
    assert_eq!(shown.image_urls[0].status, ImageStatus::Ready);
    assert!(bytes_at(&shown.image_urls[0].display).await.is_some());
    assert!(!stored(&app, &withheld_key(&display)).await);
}

#[tokio::test]
async fn a_cdn_in_front_of_the_images_is_purged_by_key_of_what_moderation_hides() {
    let purged = Arc::new(Mutex::new(Vec::<(Method, Uri)>::new()));
    let recorder = purged.clone();
    let cdn = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let recorder = recorder.clone();
        async move {
            recorder.lock().unwrap().push((method, uri));
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/images", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, cdn).await.unwrap() });
    let app = TestApp::builder().image_base(&base).spawn().await;
    let author = app.member("author@example.com").await;
    let admin = app.admin().await;
    let key = upload(&app, &author.token, "POST", "image/jpeg", jpeg(800, 600)).await;
    let post = post_with(&author, std::slice::from_ref(&key)).await;
    app.make_image_versions().await;
    let read: Post = author
        .get(&format!("/api/v1/owner-boards/{}", post.id))
        .await;
    assert_eq!(
        read.image_urls[0].thumb,
        format!("{base}/{}", version_key(&key, Size::Thumb))
    );
    assert!(purged.lock().unwrap().is_empty());

    decide(&admin, post.id, "HIDE").await;
    let mut seen: Vec<(String, String)> = purged
        .lock()
        .unwrap()
        .iter()
        .map(|(method, uri)| (method.to_string(), uri.path().to_owned()))
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String)> = Size::ALL
        .into_iter()
        .map(|size| {
            (
                "PURGE".to_owned(),
                format!("/images/{}", version_key(&key, size)),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}
