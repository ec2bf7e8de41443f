//! The daily album: one photo a day (replaced in place, its old image gone from storage, never
//! in the future), the month view, others' public months, the public feed with moderation,
//! thumbnails made once, and "on this day". The test clock: Monday 2026-11-23, 10:00 in Seoul.

use petory_core::daily::album;
use petory_external_api::image::ImageThumbnailer;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{crowd, image, suspend_quietly, upload};
use crate::util::{ClockExt as _, TestApp, assert_problem, without_signatures};

async fn put_photo(app: &TestApp, token: &str, day: &str, body: Value) -> reqwest::Response {
    app.send(
        Method::PUT,
        &format!("/api/v1/users/me/albums/{day}"),
        Some(token),
        Some(body),
    )
    .await
}

/// A public photo of `day` with a fresh image: the response.
async fn photo(app: &TestApp, token: &str, day: &str, visibility: &str) -> Value {
    let key = image(app, token, "ALBUM").await;
    let response = put_photo(
        app,
        token,
        day,
        json!({"image_key": key, "caption": format!("{day}의 한 컷"), "visibility": visibility}),
    )
    .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn stored(app: &TestApp, key: &str) -> bool {
    app.state.object_store.head(key).await.unwrap().is_some()
}

fn dates(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| photo["date"].as_str().unwrap())
        .collect()
}

/// A JPEG of `width` × `height` that really decodes, as a phone would upload.
fn jpeg(width: u32, height: u32) -> &'static [u8] {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    Box::leak(bytes.into_boxed_slice())
}

async fn make_thumbnails(app: &TestApp) -> album::ThumbnailCounts {
    let mut conn = app.state.db.get().await.unwrap();
    album::make_thumbnails(
        &mut conn,
        app.state.object_store.as_ref(),
        &ImageThumbnailer,
        10,
        app.clock.now_utc(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn one_photo_a_day_replaced_in_place_its_old_image_gone_and_never_in_the_future() {
    let app = TestApp::spawn().await;
    let (_, me) = app.user("me@example.com").await;
    let first_key = image(&app, &me, "ALBUM").await;
    let body = |key: &str, caption: &str| json!({"image_key": key, "caption": caption, "visibility": "PUBLIC"});
    let created = put_photo(&app, &me, "2026-11-23", body(&first_key, "산책")).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["date"], "2026-11-23");
    assert_eq!(created["caption"], "산책");
    assert_eq!(created["hidden"], false);
    assert!(created["image_url"].as_str().unwrap().contains(&first_key));

    // The same image with a new caption: the same photo.
    let recaptioned = put_photo(&app, &me, "2026-11-23", body(&first_key, "공원 산책")).await;
    assert_eq!(recaptioned.status(), 200);
    let recaptioned: Value = recaptioned.json().await.unwrap();
    assert_eq!(recaptioned["id"], created["id"]);
    assert_eq!(recaptioned["caption"], "공원 산책");
    assert!(stored(&app, &first_key).await);

    // A new image: still the same photo of the day; the old object is gone from storage.
    let second_key = image(&app, &me, "ALBUM").await;
    let replaced = put_photo(&app, &me, "2026-11-23", body(&second_key, "다시")).await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["id"], created["id"]);
    assert!(
        !stored(&app, &first_key).await,
        "the replaced image is deleted"
    );
    assert!(stored(&app, &second_key).await);

    // The future, an image of another day, a discarded image, someone else's image and an
    // image of another purpose are refused, and change nothing.
    let before = without_signatures(
        app.get_ok_as("/api/v1/users/me/albums?month=2026-11", &me)
            .await,
    );
    assert_problem(
        put_photo(&app, &me, "2026-11-24", body(&second_key, "내일")).await,
        422,
        "ALBUM_DAY_IN_FUTURE",
    )
    .await;
    assert_problem(
        put_photo(&app, &me, "2026-11-20", body(&second_key, "또")).await,
        409,
        "UPLOAD_IN_USE",
    )
    .await;
    assert_problem(
        put_photo(&app, &me, "2026-11-20", body(&first_key, "지운 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    let (_, other) = app.user("other@example.com").await;
    let theirs = image(&app, &other, "ALBUM").await;
    assert_problem(
        put_photo(&app, &me, "2026-11-20", body(&theirs, "남의 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    let post_image = image(&app, &me, "POST").await;
    assert_problem(
        put_photo(&app, &me, "2026-11-20", body(&post_image, "게시글 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    assert_problem(
        put_photo(&app, &me, "2026-13-01", body(&second_key, "없는 날")).await,
        400,
        "INVALID_PATH",
    )
    .await;
    assert_problem(
        put_photo(
            &app,
            &me,
            "2026-11-20",
            json!({"image_key": second_key, "caption": "가".repeat(301), "visibility": "PUBLIC"}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        without_signatures(
            app.get_ok_as("/api/v1/users/me/albums?month=2026-11", &me)
                .await
        ),
        before
    );

    // Removing the day removes its image; a day without a photo is a 404.
    let removed = app
        .send(
            Method::DELETE,
            "/api/v1/users/me/albums/2026-11-23",
            Some(&me),
            None,
        )
        .await;
    assert_eq!(removed.status(), 204);
    assert!(!stored(&app, &second_key).await);
    assert_problem(
        app.send(
            Method::DELETE,
            "/api/v1/users/me/albums/2026-11-23",
            Some(&me),
            None,
        )
        .await,
        404,
        "ALBUM_PHOTO_NOT_FOUND",
    )
    .await;

    // A suspended member keeps their album but adds nothing.
    let (suspended_id, suspended) = app.user("suspended@example.com").await;
    let key = image(&app, &suspended, "ALBUM").await;
    suspend_quietly(&app, suspended_id).await;
    assert_problem(
        put_photo(&app, &suspended, "2026-11-23", body(&key, "정지")).await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
}

#[tokio::test]
async fn months_feed_and_moderation_show_each_reader_what_they_may_see() {
    let app = TestApp::spawn().await;
    let (alice_id, alice) = app.user("alice@example.com").await;
    let (_, bob) = app.user("bob@example.com").await;
    let public_key = image(&app, &alice, "ALBUM").await;
    let public: Value = put_photo(
        &app,
        &alice,
        "2026-11-01",
        json!({"image_key": public_key, "visibility": "PUBLIC"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let private = photo(&app, &alice, "2026-11-15", "PRIVATE").await;
    photo(&app, &alice, "2026-10-31", "PUBLIC").await;
    photo(&app, &bob, "2026-11-22", "PUBLIC").await;

    // My month: every day of mine, in order; this month by default.
    let mine = app
        .get_ok_as("/api/v1/users/me/albums?month=2026-11", &alice)
        .await;
    assert_eq!(mine["month"], "2026-11");
    assert_eq!(dates(&mine), ["2026-11-01", "2026-11-15"]);
    assert_eq!(
        without_signatures(app.get_ok_as("/api/v1/users/me/albums", &alice).await),
        without_signatures(mine.clone())
    );
    // Another's month: their public days only, for members and guests alike.
    let alices = format!("/api/v1/users/{alice_id}/albums?month=2026-11");
    assert_eq!(dates(&app.get_ok_as(&alices, &bob).await), ["2026-11-01"]);
    assert_eq!(dates(&app.get_ok(&alices).await), ["2026-11-01"]);
    assert_problem(
        app.get("/api/v1/users/999999999/albums").await,
        404,
        "USER_NOT_FOUND",
    )
    .await;
    for month in ["2026-13", "2026-1", "november", "2026-11-01"] {
        assert_problem(
            app.get(&format!("/api/v1/users/{alice_id}/albums?month={month}"))
                .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }

    // The feed: public photos, newest first, with their owner, page by page.
    let feed = app.get_ok("/api/v1/albums/feed").await;
    assert_eq!(dates(&feed), ["2026-11-22", "2026-10-31", "2026-11-01"]);
    // Others read the owner's nickname (one they did not choose: `회원<id>`), never the name.
    let owner = &feed["items"][0]["owner"];
    assert_eq!(owner["name"], format!("회원{}", owner["id"]));
    let first = app.get_ok("/api/v1/albums/feed?limit=2").await;
    assert_eq!(dates(&first), ["2026-11-22", "2026-10-31"]);
    let rest = app
        .get_ok(&format!(
            "/api/v1/albums/feed?limit=2&cursor={}",
            first["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(dates(&rest), ["2026-11-01"]);

    // A private photo cannot be reported by those who cannot see it.
    assert_problem(
        app.post_json(
            "/api/v1/reports",
            Some(&bob),
            json!({"target_type": "ALBUM_PHOTO", "target_id": private["id"], "reason": "SPAM"}),
        )
        .await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;
    // Five reports hide a public one: gone from the feed and others' months, marked for alice.
    for (_, member) in crowd(&app, 5).await {
        app.post_ok(
            "/api/v1/reports",
            Some(&member),
            json!({"target_type": "ALBUM_PHOTO", "target_id": public["id"], "reason": "ADULT"}),
        )
        .await;
    }
    assert_eq!(
        dates(&app.get_ok("/api/v1/albums/feed").await),
        ["2026-11-22", "2026-10-31"]
    );
    assert!(dates(&app.get_ok_as(&alices, &bob).await).is_empty());
    let mine = app
        .get_ok_as("/api/v1/users/me/albums?month=2026-11", &alice)
        .await;
    assert_eq!(mine["items"][0]["hidden"], true);
    // The admin's queue shows what it is.
    let admin = app.admin_token().await;
    let queue = app
        .get_ok_as("/api/v1/admin/reports?target_type=ALBUM_PHOTO", &admin)
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 5);
    assert_eq!(queue["items"][0]["target_hidden"], true);

    // Taken down: the day is free again, but its image is that photo's for good.
    app.post_ok(
        &format!("/api/v1/admin/reports/{}/resolve", queue["items"][0]["id"]),
        Some(&admin),
        json!({"action": "DELETE", "note": "not a pet"}),
    )
    .await;
    assert_problem(
        put_photo(
            &app,
            &alice,
            "2026-11-01",
            json!({"image_key": public_key, "visibility": "PUBLIC"}),
        )
        .await,
        409,
        "UPLOAD_IN_USE",
    )
    .await;
    let again = photo(&app, &alice, "2026-11-01", "PRIVATE").await;
    assert_ne!(again["id"], public["id"]);
}

#[tokio::test]
async fn thumbnails_are_made_once_lists_use_them_and_they_go_with_their_photo() {
    let app = TestApp::spawn().await;
    let (_, me) = app.user("me@example.com").await;
    let key = upload(&app, &me, "ALBUM", "image/jpeg", jpeg(1280, 960)).await;
    let put = put_photo(
        &app,
        &me,
        "2026-11-23",
        json!({"image_key": key, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(put.status(), 201);
    let put: Value = put.json().await.unwrap();
    // Until the thumbnail is made, lists show the photo itself.
    assert_eq!(put["thumbnail_url"], put["image_url"]);

    assert_eq!(
        make_thumbnails(&app).await,
        album::ThumbnailCounts { made: 1, failed: 0 }
    );
    assert_eq!(
        make_thumbnails(&app).await,
        album::ThumbnailCounts::default()
    );
    let month = app.get_ok_as("/api/v1/users/me/albums", &me).await;
    let thumbnail_url = month["items"][0]["thumbnail_url"].as_str().unwrap();
    assert!(thumbnail_url.contains(".320.webp"), "{thumbnail_url}");
    let bytes = reqwest::get(thumbnail_url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let thumbnail = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (320, 240));

    // A new caption keeps the thumbnail.
    let recaptioned: Value = put_photo(
        &app,
        &me,
        "2026-11-23",
        json!({"image_key": key, "caption": "낮잠", "visibility": "PRIVATE"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(recaptioned["caption"], "낮잠");
    assert!(
        recaptioned["thumbnail_url"]
            .as_str()
            .unwrap()
            .contains(".320.webp")
    );

    // A file that only starts like a PNG passes the upload check but is no picture: it is
    // marked once and lists keep showing the original.
    let fake: &'static [u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR this is not really an image at all";
    let fake_key = upload(&app, &me, "ALBUM", "image/png", fake).await;
    let put = put_photo(
        &app,
        &me,
        "2026-11-22",
        json!({"image_key": fake_key, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(put.status(), 201);
    assert_eq!(
        make_thumbnails(&app).await,
        album::ThumbnailCounts { made: 0, failed: 1 }
    );
    assert_eq!(
        make_thumbnails(&app).await,
        album::ThumbnailCounts::default()
    );

    // Replacing a photo takes its thumbnail with it.
    let thumbnail_key = album::thumbnail_key_of(&key);
    assert!(stored(&app, &thumbnail_key).await);
    let next = image(&app, &me, "ALBUM").await;
    let replaced = put_photo(
        &app,
        &me,
        "2026-11-23",
        json!({"image_key": next, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["thumbnail_url"], replaced["image_url"]);
    assert!(!stored(&app, &key).await);
    assert!(!stored(&app, &thumbnail_key).await);
}

#[tokio::test]
async fn on_this_day_shows_my_photos_of_today_in_earlier_years() {
    let app = TestApp::spawn().await;
    let (_, me) = app.user("me@example.com").await;
    for day in ["2024-11-23", "2025-11-23", "2025-11-22", "2026-11-23"] {
        photo(&app, &me, day, "PRIVATE").await;
    }
    let (_, other) = app.user("other@example.com").await;
    photo(&app, &other, "2025-11-23", "PUBLIC").await;
    let memories = app
        .get_ok_as("/api/v1/users/me/albums/on-this-day", &me)
        .await;
    assert_eq!(memories["date"], "2026-11-23");
    assert_eq!(dates(&memories), ["2025-11-23", "2024-11-23"]);
}
