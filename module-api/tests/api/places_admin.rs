//! Admins keep places: they list them, the hidden ones too, import them from Kakao's
//! directory, and decide on the ones members report.

use reqwest::Method;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::daily::{
    CITY_HALL, Place, QueuedReport, Report, add_place, around_city_hall, four_cafes_northwards,
    new_place, place_names, places_found, write_behind_the_api,
};
use crate::fixtures::kakao_local;
use crate::util::{TestApp, assert_problem};

#[tokio::test]
async fn admins_list_places_hidden_ones_too_and_only_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    four_cafes_northwards(&admin).await;
    // 나 hidden by moderation, 다 taken down.
    write_behind_the_api(
        &app,
        "UPDATE places SET hidden_at = now() WHERE name = '나'",
    )
    .await;
    let shown: Page<Place> = app.guest().get(&around_city_hall("")).await;
    assert_eq!(place_names(&shown), ["가", "다", "라"]);
    let taken_down = shown.items[1].id;
    let response = admin
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/places/{taken_down}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let list = async |query: &str| {
        admin
            .get::<Page<Place>>(&format!("/api/v1/admin/places?{query}"))
            .await
    };
    let all = list("").await;
    assert_eq!(place_names(&all), ["라", "나", "가"]);
    assert!(all.items[1].hidden);
    assert_eq!(place_names(&list("hidden=true").await), ["나"]);
    assert_eq!(place_names(&list("hidden=false").await), ["라", "가"]);
    assert_eq!(place_names(&list("q=%EB%9D%BC").await), ["라"]);
    // Two at a time: the next page continues after the cursor.
    let first = list("limit=2").await;
    assert_eq!(place_names(&first), ["라", "나"]);
    let next = list(&format!("limit=2&cursor={}", first.next_cursor.unwrap())).await;
    assert_eq!(place_names(&next), ["가"]);
    assert!(next.next_cursor.is_none());

    // Found again, the hidden place is shown again by an admin's decision: near me at once.
    let hidden = list("hidden=true").await.items[0].id;
    let _: IgnoredAny = admin
        .post(
            "/api/v1/admin/moderation-decisions",
            json!({"target_type": "PLACE", "target_id": hidden, "action": "DISMISS", "note": "checked"}),
        )
        .await;
    assert_eq!(
        places_found(&app, &around_city_hall("")).await,
        ["가", "나", "라"]
    );
    assert!(list("hidden=true").await.items.is_empty());

    let member = app.member("member@example.com").await;
    assert_problem(
        member
            .request(Method::GET, "/api/v1/admin/places", None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        app.get("/api/v1/admin/places").await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    for (query, code) in [
        ("cursor=nope", "INVALID_CURSOR"),
        ("hidden=maybe", "INVALID_QUERY"),
        ("q=%20", "INVALID_QUERY"),
    ] {
        assert_problem(
            admin
                .request(Method::GET, &format!("/api/v1/admin/places?{query}"), None)
                .await,
            400,
            code,
        )
        .await;
    }
}

#[tokio::test]
async fn kakao_imports_read_every_page_once_and_a_refused_key_is_a_clear_error() {
    let kakao = kakao_local(20, "test-rest-key").await;
    let app = TestApp::builder().kakao_local(kakao).spawn().await;
    let admin = app.admin().await;
    let import = json!({"query": "애견카페", "x": 126.9779, "y": 37.5663, "radius": 2000});
    // The whole answer, compared as JSON: these three counts and nothing else.
    let first: Value = admin
        .post("/api/v1/admin/places/import", import.clone())
        .await;
    assert_eq!(first, json!({"pages": 2, "created": 20, "updated": 0}));
    let again: Value = admin
        .post("/api/v1/admin/places/import", import.clone())
        .await;
    assert_eq!(again, json!({"pages": 2, "created": 0, "updated": 20}));
    // A keyword of only spaces is the client's mistake (Kakao would refuse it), not an outage.
    assert_problem(
        admin
            .request(
                Method::POST,
                "/api/v1/admin/places/import",
                Some(json!({"query": " \u{c} ", "x": 126.9779, "y": 37.5663, "radius": 2000})),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    // Nearest first, as Kakao had them.
    let all: Page<Place> = app
        .guest()
        .get("/api/v1/places?lat=37.5663&lng=126.9779&radius_m=2000&limit=100")
        .await;
    assert_eq!(all.items.len(), 20);
    assert_eq!(all.items[0].category, "CAFE");
    assert_eq!(all.items[0].name, "애견카페 1호점");
    assert_eq!(all.items[0].road_address, "서울 중구 세종대로 110");

    // Kakao refusing the key is a 502 that says so; nothing is imported.
    let refusing = kakao_local(5, "another-key").await;
    let app = TestApp::builder().kakao_local(refusing).spawn().await;
    let admin = app.admin().await;
    assert_problem(
        admin
            .request(
                Method::POST,
                "/api/v1/admin/places/import",
                Some(import.clone()),
            )
            .await,
        502,
        "PLACE_DIRECTORY_REFUSED",
    )
    .await;
    // Kakao out of reach is a 503.
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_problem(
        admin
            .request(Method::POST, "/api/v1/admin/places/import", Some(import))
            .await,
        503,
        "PLACES_UNAVAILABLE",
    )
    .await;
}

#[tokio::test]
async fn places_reported_by_enough_members_are_hidden_until_an_admin_decides() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let fake = add_place(&admin, new_place("반려견 금지 카페", "CAFE", CITY_HALL)).await;
    for member in app.crowd_of(5).await {
        let _: Report = member
            .post(
                "/api/v1/reports",
                json!({"target_type": "PLACE", "target_id": fake.id, "reason": "FRAUD",
                       "detail": "개를 데려가면 안 된대요"}),
            )
            .await;
    }
    // Five open reports hide it from members (the default threshold); admins still see it.
    assert_problem(
        app.get(&format!("/api/v1/places/{}", fake.id)).await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
    assert!(places_found(&app, "/api/v1/places").await.is_empty());
    let queue: Page<QueuedReport> = admin.get("/api/v1/admin/reports?target_type=PLACE").await;
    assert_eq!(
        queue.items[0].target_excerpt.as_deref(),
        Some("반려견 금지 카페")
    );
    assert!(queue.items[0].target_hidden);
    let seen: Place = admin.get(&format!("/api/v1/places/{}", fake.id)).await;
    assert!(seen.hidden);
}
