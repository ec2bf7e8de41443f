//! A member's picture: one of their `AVATAR` uploads, set, replaced or removed with
//! `PATCH /users/me {avatar_key}`, shown to them and on their public profile; its served
//! versions are squares (the middle of the picture). A replaced picture leaves storage.

use image::GenericImageView as _;
use petory_core::platform::image::{Size, version_key};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::fixtures::images::{ImageStatus, ImageUrls, served};
use crate::fixtures::{image, jpeg, stored, upload};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Me {
    avatar_key: Option<String>,
    avatar_urls: Option<ImageUrls>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    avatar_urls: Option<ImageUrls>,
}

#[tokio::test]
async fn a_picture_is_shown_to_me_and_on_my_profile_as_squares() {
    let app = TestApp::spawn().await;
    let me = app.member("bori@example.com").await;
    let key = upload(&app, &me.token, "AVATAR", "image/jpeg", jpeg(600, 400)).await;

    let set: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": key}))
        .await;
    assert_eq!(set.avatar_key.as_deref(), Some(key.as_str()));
    app.assert_placeholder(&set.avatar_urls.unwrap(), ImageStatus::Processing);
    let profile_path = format!("/api/v1/users/{}/profile", me.id);
    let profile: Profile = app.guest().get(&profile_path).await;
    app.assert_placeholder(&profile.avatar_urls.unwrap(), ImageStatus::Processing);

    assert_eq!(app.make_image_versions().await.made, 1);
    let mine: Me = me.get("/api/v1/users/me").await;
    let urls = mine.avatar_urls.unwrap();
    assert_eq!(urls.status, ImageStatus::Ready);
    let profile: Profile = app.guest().get(&profile_path).await;
    assert_eq!(profile.avatar_urls.unwrap().status, ImageStatus::Ready);

    // The middle of the picture, square, as WebP: 400 px (never enlarged), 320 for lists.
    assert_eq!(served(&urls.display).await.1.dimensions(), (400, 400));
    assert_eq!(served(&urls.thumb).await.1.dimensions(), (320, 320));
}

#[tokio::test]
async fn a_replaced_or_removed_picture_leaves_storage() {
    let app = TestApp::spawn().await;
    let me = app.member("bori@example.com").await;
    let first = image(&app, &me.token, "AVATAR").await;
    let second = image(&app, &me.token, "AVATAR").await;
    let _: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": first}))
        .await;
    app.make_image_versions().await;
    let square = version_key(&first, Size::Display);
    assert!(stored(&app, &square).await);
    assert!(
        !stored(&app, &first).await,
        "the original goes once its versions exist"
    );

    let again: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": first}))
        .await;
    assert_eq!(
        again.avatar_key.as_deref(),
        Some(first.as_str()),
        "the same one changes nothing"
    );
    assert!(stored(&app, &square).await);

    let replaced: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": second}))
        .await;
    assert_eq!(replaced.avatar_key.as_deref(), Some(second.as_str()));
    assert!(!stored(&app, &square).await, "the replaced picture is gone");

    let removed: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": null}))
        .await;
    assert_eq!((removed.avatar_key, removed.avatar_urls), (None, None));
    assert!(!stored(&app, &second).await);
    let profile: Profile = app
        .guest()
        .get(&format!("/api/v1/users/{}/profile", me.id))
        .await;
    assert_eq!(profile.avatar_urls, None);
}

#[tokio::test]
async fn only_my_own_avatar_uploads_become_my_picture() {
    let app = TestApp::spawn().await;
    let me = app.member("bori@example.com").await;
    let other = app.member("nabi@example.com").await;
    let theirs = image(&app, &other.token, "AVATAR").await;
    let a_post_image = image(&app, &me.token, "POST").await;
    for key in [
        theirs.as_str(),
        a_post_image.as_str(),
        "avatar/1/made-up.png",
    ] {
        let problem = assert_problem(
            me.request(
                Method::PATCH,
                "/api/v1/users/me",
                Some(json!({"avatar_key": key})),
            )
            .await,
            422,
            "UPLOAD_NOT_FOUND",
        )
        .await;
        assert_eq!(problem["context"]["key"], key);
    }
    // Someone else's picture, once theirs, is in use.
    let _: Me = other
        .patch("/api/v1/users/me", json!({"avatar_key": theirs}))
        .await;
    let mine: Me = me.get("/api/v1/users/me").await;
    assert_eq!(mine.avatar_key, None, "nothing refused was set");
}
