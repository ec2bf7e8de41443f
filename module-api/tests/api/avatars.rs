//! A member's picture: one of their `AVATAR` uploads, set, replaced or removed with
//! `PATCH /users/me {avatar_key}`, shown to them and on their public profile; the
//! `avatar-thumbnails` job makes its 256 px square, shown from then on. A replaced picture
//! leaves storage.

use petory_core::identity::avatar;
use petory_external_api::image::ImageThumbnailer;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::fixtures::{image, jpeg, stored, upload};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Me {
    avatar_key: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    avatar_url: Option<String>,
}

async fn make_squares(app: &TestApp) -> avatar::AvatarCounts {
    let mut conn = app.state.db.get().await.unwrap();
    avatar::make_squares(
        &mut conn,
        app.state.object_store.as_ref(),
        &ImageThumbnailer,
        10,
        app.clock.now_utc(),
    )
    .await
    .unwrap()
}

/// Path and file name of a URL, without its query (presigned URLs differ each time).
fn file_of(url: &str) -> &str {
    url.split('?').next().unwrap().rsplit('/').next().unwrap()
}

#[tokio::test]
async fn a_picture_is_shown_to_me_and_on_my_profile_then_as_its_square() {
    let app = TestApp::spawn().await;
    let me = app.member("bori@example.com").await;
    let key = upload(&app, &me.token, "AVATAR", "image/jpeg", jpeg(600, 400)).await;

    let set: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": key}))
        .await;
    assert_eq!(set.avatar_key.as_deref(), Some(key.as_str()));
    let picture = set
        .avatar_url
        .expect("the picture, until its square is made");
    assert_eq!(file_of(&picture), file_of(&key));
    let profile: Profile = app
        .guest()
        .get(&format!("/api/v1/users/{}/profile", me.id))
        .await;
    assert_eq!(
        profile.avatar_url.as_deref().map(file_of),
        Some(file_of(&key))
    );

    assert_eq!(
        make_squares(&app).await,
        avatar::AvatarCounts { made: 1, failed: 0 }
    );
    assert_eq!(
        make_squares(&app).await,
        avatar::AvatarCounts::default(),
        "made once"
    );
    let mine: Me = me.get("/api/v1/users/me").await;
    let square_url = mine.avatar_url.unwrap();
    assert!(
        file_of(&square_url).ends_with(".256sq.webp"),
        "{square_url}"
    );
    let profile: Profile = app
        .guest()
        .get(&format!("/api/v1/users/{}/profile", me.id))
        .await;
    assert_eq!(
        profile.avatar_url.as_deref().map(file_of),
        Some(file_of(&square_url))
    );

    // The square is the middle of the picture, 256 px a side, as WebP.
    let square_key = petory_core::platform::upload::derived_key(&key, "256sq.webp");
    let bytes = app
        .state
        .object_store
        .read(&square_key)
        .await
        .unwrap()
        .unwrap();
    let square = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).unwrap();
    assert_eq!((square.width(), square.height()), (256, 256));
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
    make_squares(&app).await;
    let square = petory_core::platform::upload::derived_key(&first, "256sq.webp");
    assert!(stored(&app, &first).await && stored(&app, &square).await);

    let again: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": first}))
        .await;
    assert_eq!(
        again.avatar_key.as_deref(),
        Some(first.as_str()),
        "the same one changes nothing"
    );
    assert!(stored(&app, &first).await);

    let replaced: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": second}))
        .await;
    assert_eq!(replaced.avatar_key.as_deref(), Some(second.as_str()));
    assert!(!stored(&app, &first).await, "the replaced picture is gone");
    assert!(!stored(&app, &square).await, "with its square");

    let removed: Me = me
        .patch("/api/v1/users/me", json!({"avatar_key": null}))
        .await;
    assert_eq!((removed.avatar_key, removed.avatar_url), (None, None));
    assert!(!stored(&app, &second).await);
    let profile: Profile = app
        .guest()
        .get(&format!("/api/v1/users/{}/profile", me.id))
        .await;
    assert_eq!(profile.avatar_url, None);
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
