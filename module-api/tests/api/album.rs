//! The daily album: one photo a day (replaced in place, its old image gone from storage, never
//! in the future), the month view, others' public months, the public feed with moderation,
//! served versions made once, and "on this day". The test clock: Monday 2026-11-23, 10:00 in Seoul.

use image::GenericImageView as _;
use petory_core::platform::image::{Size, version_key};
use reqwest::Method;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::daily::{QueuedReport, report};
use crate::fixtures::images::{ImageStatus, ImageUrls, broken_png, served};
use crate::fixtures::{image, jpeg, stored, suspend_quietly, upload};
use crate::util::{TestApp, assert_problem, without_signatures};

/// A photo of a day, as its owner (and, public, anyone) reads it.
#[derive(Debug, Deserialize)]
struct Photo {
    id: i64,
    date: String,
    image_urls: ImageUrls,
    caption: String,
    hidden: bool,
}

/// A month of someone's album.
#[derive(Debug, Deserialize)]
struct Month {
    month: String,
    items: Vec<Photo>,
}

/// A photo of the public feed, with whose it is.
#[derive(Debug, Deserialize)]
struct FeedPhoto {
    #[serde(flatten)]
    photo: Photo,
    owner: Owner,
}

#[derive(Debug, Deserialize)]
struct Owner {
    id: i64,
    name: String,
}

#[derive(Debug, Deserialize)]
struct OnThisDay {
    date: String,
    items: Vec<Photo>,
}

async fn put_photo(member: &Member, day: &str, body: Value) -> reqwest::Response {
    member
        .request(
            Method::PUT,
            &format!("/api/v1/users/me/albums/{day}"),
            Some(body),
        )
        .await
}

/// A photo of `day` with a fresh image, newly added.
async fn photo(app: &TestApp, member: &Member, day: &str, visibility: &str) -> Photo {
    let key = image(app, &member.token, "ALBUM").await;
    let response = put_photo(
        member,
        day,
        json!({"image_key": key, "caption": format!("{day}의 한 컷"), "visibility": visibility}),
    )
    .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn dates(photos: &[Photo]) -> Vec<&str> {
    photos.iter().map(|photo| photo.date.as_str()).collect()
}

fn feed_dates(page: &Page<FeedPhoto>) -> Vec<&str> {
    page.items
        .iter()
        .map(|feed| feed.photo.date.as_str())
        .collect()
}

#[tokio::test]
async fn one_photo_a_day_replaced_in_place_its_old_image_gone_and_never_in_the_future() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let first_key = image(&app, &me.token, "ALBUM").await;
    let body = |key: &str, caption: &str| json!({"image_key": key, "caption": caption, "visibility": "PUBLIC"});
    let created = put_photo(&me, "2026-11-23", body(&first_key, "산책")).await;
    assert_eq!(created.status(), 201);
    let created: Photo = created.json().await.unwrap();
    assert_eq!(created.date, "2026-11-23");
    assert_eq!(created.caption, "산책");
    assert!(!created.hidden);
    app.assert_placeholder(&created.image_urls, ImageStatus::Processing);

    // The same image with a new caption: the same photo.
    let recaptioned = put_photo(&me, "2026-11-23", body(&first_key, "공원 산책")).await;
    assert_eq!(recaptioned.status(), 200);
    let recaptioned: Photo = recaptioned.json().await.unwrap();
    assert_eq!(recaptioned.id, created.id);
    assert_eq!(recaptioned.caption, "공원 산책");
    assert!(stored(&app, &first_key).await);

    // A new image: still the same photo of the day; the old object is gone from storage.
    let second_key = image(&app, &me.token, "ALBUM").await;
    let replaced = put_photo(&me, "2026-11-23", body(&second_key, "다시")).await;
    assert_eq!(replaced.status(), 200);
    let replaced: Photo = replaced.json().await.unwrap();
    assert_eq!(replaced.id, created.id);
    assert!(
        !stored(&app, &first_key).await,
        "the replaced image is deleted"
    );
    assert!(stored(&app, &second_key).await);

    // The future, an image of another day, a discarded image, someone else's image and an
    // image of another purpose are refused, and change nothing (the month, compared whole).
    let month = async || {
        without_signatures(
            me.get::<Value>("/api/v1/users/me/albums?month=2026-11")
                .await,
        )
    };
    let before = month().await;
    assert_problem(
        put_photo(&me, "2026-11-24", body(&second_key, "내일")).await,
        422,
        "ALBUM_DAY_IN_FUTURE",
    )
    .await;
    assert_problem(
        put_photo(&me, "2026-11-20", body(&second_key, "또")).await,
        409,
        "UPLOAD_IN_USE",
    )
    .await;
    assert_problem(
        put_photo(&me, "2026-11-20", body(&first_key, "지운 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    let other = app.member("other@example.com").await;
    let theirs = image(&app, &other.token, "ALBUM").await;
    assert_problem(
        put_photo(&me, "2026-11-20", body(&theirs, "남의 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    let post_image = image(&app, &me.token, "POST").await;
    assert_problem(
        put_photo(&me, "2026-11-20", body(&post_image, "게시글 사진")).await,
        422,
        "UPLOAD_NOT_FOUND",
    )
    .await;
    assert_problem(
        put_photo(&me, "2026-13-01", body(&second_key, "없는 날")).await,
        400,
        "INVALID_PATH",
    )
    .await;
    assert_problem(
        put_photo(
            &me,
            "2026-11-20",
            json!({"image_key": second_key, "caption": "가".repeat(301), "visibility": "PUBLIC"}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(month().await, before);

    // Removing the day removes its image; a day without a photo is a 404.
    let removed = me
        .request(Method::DELETE, "/api/v1/users/me/albums/2026-11-23", None)
        .await;
    assert_eq!(removed.status(), 204);
    assert!(!stored(&app, &second_key).await);
    assert_problem(
        me.request(Method::DELETE, "/api/v1/users/me/albums/2026-11-23", None)
            .await,
        404,
        "ALBUM_PHOTO_NOT_FOUND",
    )
    .await;

    // A suspended member keeps their album but adds nothing.
    let suspended = app.member("suspended@example.com").await;
    let key = image(&app, &suspended.token, "ALBUM").await;
    suspend_quietly(&app, suspended.id).await;
    assert_problem(
        put_photo(&suspended, "2026-11-23", body(&key, "정지")).await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
}

#[tokio::test]
async fn months_feed_and_moderation_show_each_reader_what_they_may_see() {
    let app = TestApp::spawn().await;
    let guest = app.guest();
    let alice = app.member("alice@example.com").await;
    let bob = app.member("bob@example.com").await;
    let public_key = image(&app, &alice.token, "ALBUM").await;
    let public: Photo = put_photo(
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

    // My month: every day of mine, in order; this month by default (the two compared whole).
    let mine_whole: Value = alice.get("/api/v1/users/me/albums?month=2026-11").await;
    let mine: Month = serde_json::from_value(mine_whole.clone()).unwrap();
    assert_eq!(mine.month, "2026-11");
    assert_eq!(dates(&mine.items), ["2026-11-01", "2026-11-15"]);
    assert_eq!(
        without_signatures(alice.get("/api/v1/users/me/albums").await),
        without_signatures(mine_whole)
    );
    // Another's month: their public days only, for members and guests alike.
    let alices = format!("/api/v1/users/{}/albums?month=2026-11", alice.id);
    assert_eq!(
        dates(&bob.get::<Month>(&alices).await.items),
        ["2026-11-01"]
    );
    assert_eq!(
        dates(&guest.get::<Month>(&alices).await.items),
        ["2026-11-01"]
    );
    assert_problem(
        app.get("/api/v1/users/999999999/albums").await,
        404,
        "USER_NOT_FOUND",
    )
    .await;
    for month in ["2026-13", "2026-1", "november", "2026-11-01"] {
        assert_problem(
            app.get(&format!("/api/v1/users/{}/albums?month={month}", alice.id))
                .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }

    // The feed: public photos, newest first, with their owner, page by page.
    let feed: Page<FeedPhoto> = guest.get("/api/v1/albums/feed").await;
    assert_eq!(
        feed_dates(&feed),
        ["2026-11-22", "2026-10-31", "2026-11-01"]
    );
    // Others read the owner's nickname (one they did not choose: `회원<id>`), never the name.
    let owner = &feed.items[0].owner;
    assert_eq!(owner.name, format!("회원{}", owner.id));
    let first: Page<FeedPhoto> = guest.get("/api/v1/albums/feed?limit=2").await;
    assert_eq!(feed_dates(&first), ["2026-11-22", "2026-10-31"]);
    let rest: Page<FeedPhoto> = guest
        .get(&format!(
            "/api/v1/albums/feed?limit=2&cursor={}",
            first.next_cursor.unwrap()
        ))
        .await;
    assert_eq!(feed_dates(&rest), ["2026-11-01"]);

    // A private photo cannot be reported by those who cannot see it.
    assert_problem(
        bob.request(
            Method::POST,
            "/api/v1/reports",
            Some(json!({"target_type": "ALBUM_PHOTO", "target_id": private.id, "reason": "SPAM"})),
        )
        .await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;
    // Five reports hide a public one: gone from the feed and others' months, marked for alice.
    for member in app.crowd_of(5).await {
        report(&member, "ALBUM_PHOTO", public.id, "ADULT").await;
    }
    assert_eq!(
        feed_dates(&guest.get("/api/v1/albums/feed").await),
        ["2026-11-22", "2026-10-31"]
    );
    assert!(dates(&bob.get::<Month>(&alices).await.items).is_empty());
    let mine: Month = alice.get("/api/v1/users/me/albums?month=2026-11").await;
    assert!(mine.items[0].hidden);
    // The admin's queue shows what it is.
    let admin = app.admin().await;
    let queue: Page<QueuedReport> = admin
        .get("/api/v1/admin/reports?target_type=ALBUM_PHOTO")
        .await;
    assert_eq!(queue.items.len(), 5);
    assert!(queue.items[0].target_hidden);

    // Taken down: the day is free again, but its image is that photo's for good.
    let _: IgnoredAny = admin
        .post(
            &format!("/api/v1/admin/reports/{}/resolve", queue.items[0].id),
            json!({"action": "DELETE", "note": "not a pet"}),
        )
        .await;
    assert_problem(
        put_photo(
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
    assert_ne!(again.id, public.id);
}

#[tokio::test]
async fn versions_are_made_once_lists_use_them_and_they_go_with_their_photo() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let key = upload(&app, &me.token, "ALBUM", "image/jpeg", jpeg(1280, 960)).await;
    let put = put_photo(
        &me,
        "2026-11-23",
        json!({"image_key": key, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(put.status(), 201);
    let put: Photo = put.json().await.unwrap();
    // Until the versions are made, every size is the placeholder, never the photo itself.
    app.assert_placeholder(&put.image_urls, ImageStatus::Processing);

    let made = app.make_image_versions().await;
    assert_eq!((made.made, made.failed), (1, 0));
    assert_eq!(app.make_image_versions().await.made, 0);
    let month: Month = me.get("/api/v1/users/me/albums").await;
    let thumb = &month.items[0].image_urls.thumb;
    assert!(thumb.contains(".320.webp"), "{thumb}");
    assert_eq!(served(thumb).await.1.dimensions(), (320, 240));

    // A new caption keeps the versions.
    let recaptioned: Photo = put_photo(
        &me,
        "2026-11-23",
        json!({"image_key": key, "caption": "낮잠", "visibility": "PRIVATE"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(recaptioned.caption, "낮잠");
    assert_eq!(recaptioned.image_urls.status, ImageStatus::Ready);

    // A PNG whose pixels are broken passes the upload check but is no picture: it is marked
    // once, and lists show the placeholder.
    let broken_key = upload(&app, &me.token, "ALBUM", "image/png", broken_png()).await;
    let put = put_photo(
        &me,
        "2026-11-22",
        json!({"image_key": broken_key, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(put.status(), 201);
    let made = app.make_image_versions().await;
    assert_eq!((made.made, made.failed), (0, 1));
    assert_eq!(app.make_image_versions().await.failed, 0);

    // Replacing a photo takes its versions with it.
    let thumb_key = version_key(&key, Size::Thumb);
    assert!(stored(&app, &thumb_key).await);
    let next = image(&app, &me.token, "ALBUM").await;
    let replaced = put_photo(
        &me,
        "2026-11-23",
        json!({"image_key": next, "visibility": "PRIVATE"}),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let replaced: Photo = replaced.json().await.unwrap();
    assert_eq!(replaced.image_urls.status, ImageStatus::Processing);
    assert!(!stored(&app, &key).await);
    assert!(!stored(&app, &thumb_key).await);
}

#[tokio::test]
async fn on_this_day_shows_my_photos_of_today_in_earlier_years() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    for day in ["2024-11-23", "2025-11-23", "2025-11-22", "2026-11-23"] {
        photo(&app, &me, day, "PRIVATE").await;
    }
    let other = app.member("other@example.com").await;
    photo(&app, &other, "2025-11-23", "PUBLIC").await;
    let memories: OnThisDay = me.get("/api/v1/users/me/albums/on-this-day").await;
    assert_eq!(memories.date, "2026-11-23");
    assert_eq!(dates(&memories.items), ["2025-11-23", "2024-11-23"]);
}
