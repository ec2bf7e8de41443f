//! Members like places, once each however often they ask, and find the ones they liked; a
//! suspended member reads them but neither likes nor reviews them.

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, Page};
use crate::fixtures::daily::{
    CITY_HALL, Place, PlaceLike, add_place, new_place, place_names, write_behind_the_api,
};
use crate::fixtures::suspend_quietly;
use crate::util::{TestApp, assert_problem};

#[tokio::test]
async fn likes_count_once_per_member_under_a_race_and_list_as_mine() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cafe = add_place(&admin, new_place("보리 카페", "CAFE", CITY_HALL)).await;
    let like = format!("/api/v1/places/{}/like", cafe.id);
    let members = app.crowd_of(50).await;
    let likes = members
        .iter()
        .map(|member| member.request(Method::PUT, &like, None));
    for response in futures_util::future::join_all(likes).await {
        assert_eq!(response.status(), 200);
    }
    let first = &members[0];
    let again = (0..10).map(|_| first.request(Method::PUT, &like, None));
    for response in futures_util::future::join_all(again).await {
        assert_eq!(response.status(), 200);
    }
    let detail: Place = first.get(&format!("/api/v1/places/{}", cafe.id)).await;
    assert_eq!(detail.like_count, 50);
    assert!(detail.liked_by_me);
    let mine: Page<Place> = first.get("/api/v1/users/me/liked-places").await;
    assert_eq!(place_names(&mine), ["보리 카페"]);

    let undone: PlaceLike = first.ok(Method::DELETE, &like, None).await;
    assert_eq!(undone.like_count, 49);
    assert!(!undone.liked);

    // A place taken down takes no likes.
    let response = admin
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/places/{}", cafe.id),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        first.request(Method::PUT, &like, None).await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.guest().request(Method::PUT, &like, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn a_suspended_member_reads_places_but_neither_likes_nor_reviews_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cafe = add_place(&admin, new_place("보리 카페", "CAFE", CITY_HALL)).await;
    let member = app.member("member@example.com").await;
    suspend_quietly(&app, member.id).await;

    let path = format!("/api/v1/places/{}", cafe.id);
    let writes = [
        (Method::PUT, format!("{path}/like"), None),
        (
            Method::POST,
            format!("{path}/reviews"),
            Some(json!({"stars": 5, "content": "좋아요"})),
        ),
    ];
    for (method, write, body) in writes {
        let response = member.request(method, &write, body).await;
        let problem = assert_problem(response, 403, "ACCOUNT_SUSPENDED").await;
        assert!(
            problem["context"]["suspended_until"].is_string(),
            "{problem}"
        );
    }
    let detail: Place = member.get(&path).await;
    assert_eq!(detail.like_count, 0);
    assert_eq!(detail.review_count, 0);
}

#[tokio::test]
async fn liked_places_page_through_likes_made_in_the_same_instant() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member("member@example.com").await;
    for n in 0..5 {
        let added = add_place(&admin, new_place(&format!("카페 {n}"), "CAFE", CITY_HALL)).await;
        let _: PlaceLike = member
            .ok(
                Method::PUT,
                &format!("/api/v1/places/{}/like", added.id),
                None,
            )
            .await;
    }
    // The first like at 8, the last at 10, and three between in one microsecond, as a busy
    // server's clock may give them.
    write_behind_the_api(
        &app,
        "UPDATE place_likes l
            SET created_at = CASE p.name WHEN '카페 0' THEN timestamptz '2026-12-01 08:00Z'
                                         WHEN '카페 4' THEN timestamptz '2026-12-01 10:00Z'
                                         ELSE timestamptz '2026-12-01 09:00Z' END
           FROM places p
          WHERE p.id = l.place_id",
    )
    .await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/users/me/liked-places?limit=2".to_owned();
    loop {
        let page: Page<Place> = member.get(&path).await;
        seen.extend(place_names(&page).into_iter().map(str::to_owned));
        let Some(cursor) = page.next_cursor else {
            break;
        };
        path = format!("/api/v1/users/me/liked-places?limit=2&cursor={cursor}");
    }
    // The latest like first; the tied ones by place, each once.
    assert_eq!(seen, ["카페 4", "카페 3", "카페 2", "카페 1", "카페 0"]);

    for cursor in [
        "1",
        "x_1",
        "99999999999999999999_1",
        "253402300800000000_1",
        "1_0",
        "1_-5",
    ] {
        assert_problem(
            member
                .request(
                    Method::GET,
                    &format!("/api/v1/users/me/liked-places?cursor={cursor}"),
                    None,
                )
                .await,
            400,
            "INVALID_CURSOR",
        )
        .await;
    }
}
