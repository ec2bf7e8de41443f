//! Places as members find them: near them, nearest first, whoever wrote the changes, filtered
//! by what they need; and the searches refused.

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, Page};
use crate::fixtures::daily::{
    CITY_HALL, OpeningHours, Place, add_place, around_city_hall, four_cafes_northwards, new_place,
    place_names, places_found, write_behind_the_api,
};
use crate::util::{TestApp, assert_problem};

/// The sphere `earthdistance` measures on (`earth()`, metres).
const EARTH_RADIUS_M: f64 = 6_378_168.0;

fn haversine_m((lat1, lng1): (f64, f64), (lat2, lng2): (f64, f64)) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lng2 - lng1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[tokio::test]
async fn places_near_me_come_nearest_first_within_the_radius() {
    nearest_first_within_the_radius(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn places_near_me_come_alike_from_postgresql_alone() {
    // An instance configured without the in-memory index of places answers from the database.
    let app = TestApp::builder().place_index(None).spawn().await;
    nearest_first_within_the_radius(&app).await;
}

async fn nearest_first_within_the_radius(app: &TestApp) {
    let admin = app.admin().await;
    let guest = app.guest();
    // Spread around City Hall, from a few hundred metres to 10 km; three in one building,
    // which pages must neither lose nor repeat (ties go by id).
    let spots = [
        ("덕수궁 카페", (37.565_8, 126.975_1)),
        ("시청 식당", (37.567_0, 126.979_5)),
        ("명동 펫샵", (37.563_6, 126.986_0)),
        ("명동 펫샵 2층 카페", (37.563_6, 126.986_0)),
        ("명동 펫샵 3층 식당", (37.563_6, 126.986_0)),
        ("남산 공원", (37.551_2, 126.988_2)),
        ("광화문 호텔", (37.575_9, 126.976_8)),
        ("여의도 공원", (37.525_6, 126.922_4)),
        ("강남 병원", (37.498_0, 127.027_6)),
        ("서대문 카페", (37.574_9, 126.957_0)),
    ];
    for (name, position) in spots {
        add_place(&admin, new_place(name, "ETC", position)).await;
    }
    let page: Page<Place> = guest
        .get(&format!(
            "/api/v1/places?lat={}&lng={}&radius_m=3000&limit=100",
            CITY_HALL.0, CITY_HALL.1
        ))
        .await;
    let mut expected: Vec<(f64, &str)> = spots
        .iter()
        .map(|(name, position)| (haversine_m(CITY_HALL, *position), *name))
        .filter(|(distance, _)| *distance <= 3000.0)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        place_names(&page),
        expected.iter().map(|(_, name)| *name).collect::<Vec<_>>()
    );
    for (item, (distance, _)) in page.items.iter().zip(&expected) {
        let measured = item.distance_m.unwrap();
        assert!(
            (measured - distance).abs() < 1.0,
            "{measured} m against {distance} m"
        );
    }

    // Page by page, two at a time (and one at a time), the same order.
    for limit in [2, 1] {
        let mut paged = Vec::new();
        let mut cursor = String::new();
        loop {
            let page: Page<Place> = guest
                .get(&format!(
                    "/api/v1/places?lat={}&lng={}&radius_m=3000&limit={limit}&cursor={cursor}",
                    CITY_HALL.0, CITY_HALL.1
                ))
                .await;
            paged.extend(place_names(&page).into_iter().map(str::to_owned));
            match page.next_cursor {
                Some(next) => cursor = next,
                None => break,
            }
        }
        assert_eq!(
            paged,
            expected
                .iter()
                .map(|(_, name)| (*name).to_owned())
                .collect::<Vec<_>>()
        );
    }

    // A wider radius takes in the farther ones; without a position, newest first.
    let wide: Page<Place> = guest
        .get(&format!(
            "/api/v1/places?lat={}&lng={}&radius_m=20000&limit=100",
            CITY_HALL.0, CITY_HALL.1
        ))
        .await;
    assert_eq!(place_names(&wide).len(), spots.len());
    let newest: Page<Place> = guest.get("/api/v1/places?limit=100").await;
    assert_eq!(place_names(&newest)[0], "서대문 카페");
    assert!(newest.items[0].distance_m.is_none());
    let cafes: Page<Place> = guest
        .get("/api/v1/places?q=%EC%B9%B4%ED%8E%98&limit=100")
        .await;
    assert_eq!(
        place_names(&cafes),
        ["서대문 카페", "명동 펫샵 2층 카페", "덕수궁 카페"]
    );
}

#[tokio::test]
async fn nearest_first_follows_changes_whoever_writes_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    four_cafes_northwards(&admin).await;
    assert_eq!(
        places_found(&app, &around_city_hall("")).await,
        ["가", "나", "다", "라"]
    );
    // Written straight to the database: 라 moves next to City Hall, 가 is hidden (until an
    // admin shows it again, below), 나 becomes a park, 다 moves 20 km away.
    write_behind_the_api(
        &app,
        &format!(
            "UPDATE places SET lat = {}, lng = {} WHERE name = '라';
             UPDATE places SET hidden_at = now() WHERE name = '가';
             UPDATE places SET category = 'PARK' WHERE name = '나';
             UPDATE places SET lat = 37.75 WHERE name = '다';",
            CITY_HALL.0, CITY_HALL.1
        ),
    )
    .await;
    assert_eq!(
        places_found(&app, &around_city_hall("")).await,
        ["라", "나"]
    );
    assert_eq!(
        places_found(&app, &around_city_hall("category=CAFE")).await,
        ["라"]
    );
    write_behind_the_api(&app, "UPDATE places SET hidden_at = NULL WHERE name = '가'").await;
    assert_eq!(
        places_found(&app, &around_city_hall("")).await,
        ["라", "가", "나"]
    );
    // A new place, 11 m from City Hall, is found by the next search.
    add_place(&admin, new_place("바", "CAFE", (37.5664, CITY_HALL.1))).await;
    assert_eq!(
        places_found(&app, &around_city_hall("")).await,
        ["라", "바", "가", "나"]
    );
}

#[tokio::test]
async fn an_index_a_moment_behind_never_shows_what_is_gone_nor_cuts_a_page_short() {
    // An index that looks at the changes once an hour: it has not seen the writes below.
    let app = TestApp::builder()
        .place_index(Some(std::time::Duration::from_secs(3600)))
        .spawn()
        .await;
    let admin = app.admin().await;
    four_cafes_northwards(&admin).await;
    add_place(&admin, new_place("마", "CAFE", (37.571, CITY_HALL.1))).await;
    assert_eq!(
        places_found(&app, &around_city_hall("limit=2")).await,
        ["가", "나"]
    );
    write_behind_the_api(
        &app,
        "UPDATE places SET hidden_at = now() WHERE name = '가';
         UPDATE places SET deleted_at = now() WHERE name = '나';
         UPDATE places SET category = 'PARK' WHERE name = '다';
         UPDATE places SET lat = 37.75 WHERE name = '라';",
    )
    .await;
    // The hidden, the deleted, the no longer matching and the moved away (20 km north) are
    // left out, and the page is still full: the index is asked for more.
    let page: Page<Place> = app
        .guest()
        .get(&around_city_hall("limit=1&category=CAFE"))
        .await;
    assert_eq!(place_names(&page), ["마"]);
    assert!(page.next_cursor.is_none());
    assert_eq!(
        places_found(&app, &around_city_hall("limit=2")).await,
        ["다", "마"]
    );
}

#[tokio::test]
async fn filters_by_category_pet_size_and_opening_hours_in_the_business_zone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let guest = app.guest();
    // The test clock: Monday 2026-11-23, 10:00 in Seoul.
    let mut morning = new_place("아침 카페", "CAFE", CITY_HALL);
    morning["hours"] = json!([{"weekday": 1, "opens": "09:00", "closes": "18:00"}]);
    morning["pet_sizes"] = json!(["SMALL", "LARGE"]);
    add_place(&admin, morning).await;
    let mut night = new_place("심야 식당", "RESTAURANT", CITY_HALL);
    night["hours"] = json!([{"weekday": 1, "opens": "20:00", "closes": "02:00"}]);
    add_place(&admin, night).await;
    let mut past_midnight = new_place("새벽 카페", "CAFE", CITY_HALL);
    past_midnight["hours"] = json!([{"weekday": 7, "opens": "20:00", "closes": "11:00"}]);
    add_place(&admin, past_midnight).await;

    assert_eq!(
        places_found(&app, "/api/v1/places?open_now=true").await,
        ["새벽 카페", "아침 카페"]
    );
    assert_eq!(
        places_found(&app, "/api/v1/places?category=CAFE").await,
        ["새벽 카페", "아침 카페"]
    );
    let large: Page<Place> = guest.get("/api/v1/places?pet_size=LARGE").await;
    assert_eq!(place_names(&large), ["아침 카페"]);
    let detail: Place = guest
        .get(&format!("/api/v1/places/{}", large.items[0].id))
        .await;
    assert_eq!(
        detail.hours,
        Some(vec![OpeningHours::on(1, "09:00", "18:00")])
    );
    assert_eq!(detail.pet_policy.sizes, ["SMALL", "LARGE"]);
    assert!(detail.average_stars.is_none());

    // An admin rewrites the place: its hours go with it, so it is no longer open now.
    let mut rewritten = new_place("저녁 카페", "CAFE", CITY_HALL);
    rewritten["hours"] = json!([{"weekday": 1, "opens": "17:00", "closes": "23:00"}]);
    let updated: Place = admin
        .put(&format!("/api/v1/admin/places/{}", detail.id), rewritten)
        .await;
    assert_eq!(updated.name, "저녁 카페");
    assert_eq!(updated.pet_policy.sizes, ["SMALL"]);
    assert_eq!(
        places_found(&app, "/api/v1/places?open_now=true").await,
        ["새벽 카페"]
    );
}

#[tokio::test]
async fn bad_positions_radii_categories_and_cursors_are_refused() {
    let app = TestApp::spawn().await;
    for (query, code) in [
        ("lat=91&lng=127", "INVALID_QUERY"),
        ("lat=37&lng=-181", "INVALID_QUERY"),
        ("lat=37&lng=127&radius_m=20001", "INVALID_QUERY"),
        ("lat=37&lng=127&radius_m=0", "INVALID_QUERY"),
        ("lat=37", "INVALID_QUERY"),
        ("radius_m=100", "INVALID_QUERY"),
        ("category=ZOO", "INVALID_QUERY"),
        ("lat=NaN&lng=127", "INVALID_QUERY"),
        ("cursor=nope", "INVALID_CURSOR"),
        ("lat=37&lng=127&cursor=12", "INVALID_CURSOR"),
        ("q=%20%20", "INVALID_QUERY"),
    ] {
        assert_problem(app.get(&format!("/api/v1/places?{query}")).await, 400, code).await;
    }
    assert_problem(
        app.get("/api/v1/places/999999999").await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;

    // Only admins keep places, and their limits hold.
    let member = app.member("member@example.com").await;
    assert_problem(
        member
            .request(
                Method::POST,
                "/api/v1/admin/places",
                Some(new_place("내 가게", "CAFE", CITY_HALL)),
            )
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    let admin = app.admin().await;
    for body in [
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 95.0, "lng": 127.0}),
        json!({"name": "", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0}),
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0,
               "hours": [{"weekday": 8, "opens": "09:00", "closes": "18:00"}]}),
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0,
               "hours": [{"weekday": 1, "opens": "25:00", "closes": "18:00"}]}),
    ] {
        let response = admin
            .request(Method::POST, "/api/v1/admin/places", Some(body))
            .await;
        assert_eq!(response.status(), 422);
    }
    assert!(places_found(&app, "/api/v1/places").await.is_empty());
}
