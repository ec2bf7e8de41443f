//! Places as members find them near them and like them, and as admins keep them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{crowd, kakao_local, suspend_quietly};
use crate::util::{TestApp, assert_problem};

/// Seoul City Hall.
const CITY_HALL: (f64, f64) = (37.566_3, 126.977_9);
/// The sphere `earthdistance` measures on (`earth()`, metres).
const EARTH_RADIUS_M: f64 = 6_378_168.0;

fn haversine_m((lat1, lng1): (f64, f64), (lat2, lng2): (f64, f64)) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lng2 - lng1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

fn place(name: &str, category: &str, (lat, lng): (f64, f64)) -> Value {
    json!({"name": name, "category": category, "address": format!("서울 중구 {name}"),
           "lat": lat, "lng": lng, "pet_sizes": ["SMALL"]})
}

async fn add(app: &TestApp, admin: &str, body: Value) -> Value {
    app.post_ok("/api/v1/admin/places", Some(admin), body).await
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|place| place["name"].as_str().unwrap())
        .collect()
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
    let admin = app.admin_token().await;
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
        add(app, &admin, place(name, "ETC", position)).await;
    }
    let page = app
        .get_ok(&format!(
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
        names(&page),
        expected.iter().map(|(_, name)| *name).collect::<Vec<_>>()
    );
    for (item, (distance, _)) in page["items"].as_array().unwrap().iter().zip(&expected) {
        let measured = item["distance_m"].as_f64().unwrap();
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
            let page = app
                .get_ok(&format!(
                    "/api/v1/places?lat={}&lng={}&radius_m=3000&limit={limit}&cursor={cursor}",
                    CITY_HALL.0, CITY_HALL.1
                ))
                .await;
            paged.extend(names(&page).into_iter().map(str::to_owned));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
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
    let wide = app
        .get_ok(&format!(
            "/api/v1/places?lat={}&lng={}&radius_m=20000&limit=100",
            CITY_HALL.0, CITY_HALL.1
        ))
        .await;
    assert_eq!(names(&wide).len(), spots.len());
    let newest = app.get_ok("/api/v1/places?limit=100").await;
    assert_eq!(names(&newest)[0], "서대문 카페");
    assert!(newest["items"][0]["distance_m"].is_null());
    let cafes = app
        .get_ok("/api/v1/places?q=%EC%B9%B4%ED%8E%98&limit=100")
        .await;
    assert_eq!(
        names(&cafes),
        ["서대문 카페", "명동 펫샵 2층 카페", "덕수궁 카페"]
    );
}

/// Runs SQL as another writer would (an admin's tool, moderation, another instance).
async fn write(app: &TestApp, sql: &str) {
    use diesel_async::SimpleAsyncConnection as _;
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}

fn around_city_hall(query: &str) -> String {
    format!(
        "/api/v1/places?lat={}&lng={}&radius_m=3000&{query}",
        CITY_HALL.0, CITY_HALL.1
    )
}

/// 가, 나, 다 and 라: cafés about 110 m apart going north from City Hall.
async fn four_cafes_northwards(app: &TestApp, admin: &str) {
    for (name, lat) in [
        ("가", 37.567),
        ("나", 37.568),
        ("다", 37.569),
        ("라", 37.570),
    ] {
        add(app, admin, place(name, "CAFE", (lat, CITY_HALL.1))).await;
    }
}

#[tokio::test]
async fn nearest_first_follows_changes_whoever_writes_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    four_cafes_northwards(&app, &admin).await;
    assert_eq!(
        names(&app.get_ok(&around_city_hall("")).await),
        ["가", "나", "다", "라"]
    );
    // Written straight to the database: 라 moves next to City Hall, 가 is hidden (until an
    // admin shows it again, below), 나 becomes a park, 다 moves 20 km away.
    write(
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
        names(&app.get_ok(&around_city_hall("")).await),
        ["라", "나"]
    );
    assert_eq!(
        names(&app.get_ok(&around_city_hall("category=CAFE")).await),
        ["라"]
    );
    write(&app, "UPDATE places SET hidden_at = NULL WHERE name = '가'").await;
    assert_eq!(
        names(&app.get_ok(&around_city_hall("")).await),
        ["라", "가", "나"]
    );
    // A new place, 11 m from City Hall, is found by the next search.
    add(&app, &admin, place("바", "CAFE", (37.5664, CITY_HALL.1))).await;
    assert_eq!(
        names(&app.get_ok(&around_city_hall("")).await),
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
    let admin = app.admin_token().await;
    four_cafes_northwards(&app, &admin).await;
    add(&app, &admin, place("마", "CAFE", (37.571, CITY_HALL.1))).await;
    assert_eq!(
        names(&app.get_ok(&around_city_hall("limit=2")).await),
        ["가", "나"]
    );
    write(
        &app,
        "UPDATE places SET hidden_at = now() WHERE name = '가';
         UPDATE places SET deleted_at = now() WHERE name = '나';
         UPDATE places SET category = 'PARK' WHERE name = '다';
         UPDATE places SET lat = 37.75 WHERE name = '라';",
    )
    .await;
    // The hidden, the deleted, the no longer matching and the moved away (20 km north) are
    // left out, and the page is still full: the index is asked for more.
    let page = app.get_ok(&around_city_hall("limit=1&category=CAFE")).await;
    assert_eq!(names(&page), ["마"]);
    assert!(page["next_cursor"].is_null());
    assert_eq!(
        names(&app.get_ok(&around_city_hall("limit=2")).await),
        ["다", "마"]
    );
}

#[tokio::test]
async fn filters_by_category_pet_size_and_opening_hours_in_the_business_zone() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // The test clock: Monday 2026-11-23, 10:00 in Seoul.
    let mut morning = place("아침 카페", "CAFE", CITY_HALL);
    morning["hours"] = json!([{"weekday": 1, "opens": "09:00", "closes": "18:00"}]);
    morning["pet_sizes"] = json!(["SMALL", "LARGE"]);
    add(&app, &admin, morning).await;
    let mut night = place("심야 식당", "RESTAURANT", CITY_HALL);
    night["hours"] = json!([{"weekday": 1, "opens": "20:00", "closes": "02:00"}]);
    add(&app, &admin, night).await;
    let mut past_midnight = place("새벽 카페", "CAFE", CITY_HALL);
    past_midnight["hours"] = json!([{"weekday": 7, "opens": "20:00", "closes": "11:00"}]);
    add(&app, &admin, past_midnight).await;

    let open = app.get_ok("/api/v1/places?open_now=true").await;
    assert_eq!(names(&open), ["새벽 카페", "아침 카페"]);
    let cafes = app.get_ok("/api/v1/places?category=CAFE").await;
    assert_eq!(names(&cafes), ["새벽 카페", "아침 카페"]);
    let large = app.get_ok("/api/v1/places?pet_size=LARGE").await;
    assert_eq!(names(&large), ["아침 카페"]);
    let detail = app
        .get_ok(&format!("/api/v1/places/{}", large["items"][0]["id"]))
        .await;
    assert_eq!(
        detail["hours"],
        json!([{"weekday": 1, "opens": "09:00", "closes": "18:00"}])
    );
    assert_eq!(detail["pet_policy"]["sizes"], json!(["SMALL", "LARGE"]));
    assert!(detail["average_stars"].is_null());

    // An admin rewrites the place: its hours go with it, so it is no longer open now.
    let mut rewritten = place("저녁 카페", "CAFE", CITY_HALL);
    rewritten["hours"] = json!([{"weekday": 1, "opens": "17:00", "closes": "23:00"}]);
    let updated = app
        .send_ok(
            Method::PUT,
            &format!("/api/v1/admin/places/{}", detail["id"]),
            Some(&admin),
            Some(rewritten),
        )
        .await;
    assert_eq!(updated["name"], "저녁 카페");
    assert_eq!(updated["pet_policy"]["sizes"], json!(["SMALL"]));
    let open = app.get_ok("/api/v1/places?open_now=true").await;
    assert_eq!(names(&open), ["새벽 카페"]);
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
    let (_, member) = app.user("member@example.com").await;
    assert_problem(
        app.post_json(
            "/api/v1/admin/places",
            Some(&member),
            place("내 가게", "CAFE", CITY_HALL),
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    let admin = app.admin_token().await;
    for body in [
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 95.0, "lng": 127.0}),
        json!({"name": "", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0}),
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0,
               "hours": [{"weekday": 8, "opens": "09:00", "closes": "18:00"}]}),
        json!({"name": "x", "category": "CAFE", "address": "a", "lat": 37.0, "lng": 127.0,
               "hours": [{"weekday": 1, "opens": "25:00", "closes": "18:00"}]}),
    ] {
        let response = app
            .post_json("/api/v1/admin/places", Some(&admin), body)
            .await;
        assert_eq!(response.status(), 422);
    }
    assert!(
        app.get_ok("/api/v1/places").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn likes_count_once_per_member_under_a_race_and_list_as_mine() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cafe = add(&app, &admin, place("보리 카페", "CAFE", CITY_HALL)).await;
    let like = format!("/api/v1/places/{}/like", cafe["id"]);
    let members = crowd(&app, 50).await;
    let likes = members
        .iter()
        .map(|(_, token)| app.send(Method::PUT, &like, Some(token), None));
    for response in futures_util::future::join_all(likes).await {
        assert_eq!(response.status(), 200);
    }
    let (_, first) = &members[0];
    let again = (0..10).map(|_| app.send(Method::PUT, &like, Some(first), None));
    for response in futures_util::future::join_all(again).await {
        assert_eq!(response.status(), 200);
    }
    let detail = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/places/{}", cafe["id"]),
            Some(first),
            None,
        )
        .await;
    assert_eq!(detail["like_count"], 50);
    assert_eq!(detail["liked_by_me"], true);
    let mine = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/liked-places",
            Some(first),
            None,
        )
        .await;
    assert_eq!(names(&mine), ["보리 카페"]);

    let undone = app.send_ok(Method::DELETE, &like, Some(first), None).await;
    assert_eq!(undone["like_count"], 49);
    assert_eq!(undone["liked"], false);

    // A place taken down takes no likes.
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/places/{}", cafe["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        app.send(Method::PUT, &like, Some(first), None).await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(Method::PUT, &like, None, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn a_suspended_member_reads_places_but_neither_likes_nor_reviews_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cafe = add(&app, &admin, place("보리 카페", "CAFE", CITY_HALL)).await;
    let (member, token) = app.user("member@example.com").await;
    suspend_quietly(&app, member).await;

    let path = format!("/api/v1/places/{}", cafe["id"]);
    let writes = [
        (Method::PUT, format!("{path}/like"), None),
        (
            Method::POST,
            format!("{path}/reviews"),
            Some(json!({"stars": 5, "content": "좋아요"})),
        ),
    ];
    for (method, write, body) in writes {
        let response = app.send(method, &write, Some(&token), body).await;
        let problem = assert_problem(response, 403, "ACCOUNT_SUSPENDED").await;
        assert!(
            problem["context"]["suspended_until"].is_string(),
            "{problem}"
        );
    }
    let detail = app.send_ok(Method::GET, &path, Some(&token), None).await;
    assert_eq!(detail["like_count"], 0);
    assert_eq!(detail["review_count"], 0);
}

async fn like_as(app: &TestApp, place: &Value, token: &str) -> reqwest::Response {
    app.send(
        Method::PUT,
        &format!("/api/v1/places/{place}/like"),
        Some(token),
        None,
    )
    .await
}

async fn ranking(app: &TestApp, query: &str) -> (String, Vec<(String, i64)>) {
    let response = app.get(&format!("/api/v1/places/ranking?{query}")).await;
    assert_eq!(response.status(), 200);
    let source = response.headers()["x-ranking-source"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    let entries = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(at, entry)| {
            assert_eq!(entry["rank"], at + 1);
            (
                entry["place"]["name"].as_str().unwrap().to_owned(),
                entry["like_count"].as_i64().unwrap(),
            )
        })
        .collect();
    (source, entries)
}

fn ranked(entries: &[(&str, i64)]) -> Vec<(String, i64)> {
    entries
        .iter()
        .map(|(name, likes)| ((*name).to_owned(), *likes))
        .collect()
}

#[tokio::test]
async fn the_ranking_comes_from_redis_equals_the_database_and_outlives_redis() {
    use crate::util::{ClockExt as _, TcpProxy};
    use petory_core::place::ranking;
    let redis = TcpProxy::to(crate::util::redis_addr()).await;
    let app = TestApp::builder()
        .redis_url(&format!("redis://{}", redis.addr))
        .spawn()
        .await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for (name, category) in [
        ("가 카페", "CAFE"),
        ("나 공원", "PARK"),
        ("다 카페", "CAFE"),
    ] {
        ids.push(add(&app, &admin, place(name, category, CITY_HALL)).await["id"].clone());
    }
    let members = crowd(&app, 50).await;
    let like = |n: usize, member: usize| like_as(&app, &ids[n], &members[member].1);
    // Before any ranking is built, the database answers.
    like(1, 0).await;
    assert_eq!(
        ranking(&app, "").await,
        ("database".to_owned(), ranked(&[("나 공원", 1)]))
    );
    let mut conn = app.state.db.get().await.unwrap();
    assert!(
        ranking::rebuild_if_missing(
            &mut conn,
            app.state.place_ranking.as_ref(),
            app.clock.now_utc()
        )
        .await
        .unwrap()
    );

    // 50 members like 가 at once, two like 다: Redis counts exactly what the database holds.
    for response in futures_util::future::join_all((0..50).map(|member| like(0, member))).await {
        assert_eq!(response.status(), 200);
    }
    like(2, 1).await;
    like(2, 2).await;
    let expected = ranked(&[("가 카페", 50), ("다 카페", 2), ("나 공원", 1)]);
    assert_eq!(
        ranking(&app, "").await,
        ("redis".to_owned(), expected.clone())
    );
    assert_eq!(
        ranking(&app, "category=CAFE&limit=1").await.1,
        ranked(&[("가 카페", 50)])
    );
    let detail = app.get_ok(&format!("/api/v1/places/{}", ids[0])).await;
    assert_eq!(detail["like_count"], 50);

    // Redis away: the same order from the database.
    redis.cut();
    assert_eq!(
        ranking(&app, "").await,
        ("database".to_owned(), expected.clone())
    );
    redis.restore();

    // Redis's data lost: the database answers until the ranking is rebuilt.
    drop(conn);
    let client = redis::Client::open(format!("redis://{}", crate::util::redis_addr())).unwrap();
    let mut direct = client.get_multiplexed_async_connection().await.unwrap();
    let prefix = app.state.config.redis.key_prefix.clone();
    let _: () = redis::cmd("DEL")
        .arg(format!("{prefix}place-rank:all:built"))
        .query_async(&mut direct)
        .await
        .unwrap();
    assert_eq!(ranking(&app, "").await.0, "database");
    let mut conn = app.state.db.get().await.unwrap();
    ranking::rebuild(
        &mut conn,
        app.state.place_ranking.as_ref(),
        app.clock.now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(ranking(&app, "").await, ("redis".to_owned(), expected));

    // The weekly ranking forgets likes older than a week (at the next rebuild); the database
    // answers it, while Redis is away, as of the same rebuild.
    let week = ranking(&app, "period=week").await.1;
    assert_eq!(week.len(), 3);
    redis.cut();
    assert_eq!(
        ranking(&app, "period=week").await,
        ("database".to_owned(), week)
    );
    redis.restore();
    app.clock.advance(chrono::TimeDelta::days(8));
    ranking::rebuild(
        &mut conn,
        app.state.place_ranking.as_ref(),
        app.clock.now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(
        ranking(&app, "period=week").await,
        ("redis".to_owned(), Vec::new())
    );
    redis.cut();
    assert_eq!(
        ranking(&app, "period=week").await,
        ("database".to_owned(), Vec::new())
    );
    redis.restore();
    assert_eq!(ranking(&app, "").await.1.len(), 3);
}

#[tokio::test]
async fn a_kept_ranking_answers_alike_and_catches_up_after_its_moment() {
    use crate::util::ClockExt as _;
    const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(1);
    let app = TestApp::builder()
        .place_ranking_cache(KEPT_FOR)
        .spawn()
        .await;
    let admin = app.admin_token().await;
    let cafe = add(&app, &admin, place("가 카페", "CAFE", CITY_HALL)).await["id"].clone();
    let park = add(&app, &admin, place("나 공원", "PARK", CITY_HALL)).await["id"].clone();
    let mut conn = app.state.db.get().await.unwrap();
    petory_core::place::ranking::rebuild(
        &mut conn,
        app.state.place_ranking.as_ref(),
        app.clock.now_utc(),
    )
    .await
    .unwrap();
    drop(conn);
    let members = crowd(&app, 2).await;
    like_as(&app, &cafe, &members[0].1).await;
    let kept_since = std::time::Instant::now();
    let first = ranking(&app, "").await;
    assert_eq!(first, ("redis".to_owned(), ranked(&[("가 카페", 1)])));
    // Two likes of the park: the kept ranking answers as before for its moment, then has them.
    like_as(&app, &park, &members[0].1).await;
    like_as(&app, &park, &members[1].1).await;
    let again = ranking(&app, "").await;
    // Only a machine too busy to do the above within the moment sees it pass already.
    if kept_since.elapsed() < KEPT_FOR {
        assert_eq!(again, first);
    }
    // Another length or period is its own read.
    assert_eq!(ranking(&app, "limit=1").await.1, ranked(&[("나 공원", 2)]));
    tokio::time::sleep(KEPT_FOR).await;
    assert_eq!(
        ranking(&app, "").await,
        (
            "redis".to_owned(),
            ranked(&[("나 공원", 2), ("가 카페", 1)])
        )
    );
}

#[tokio::test]
async fn reviews_are_one_per_member_and_keep_an_exact_rating_under_concurrency() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cafe = add(&app, &admin, place("별점 카페", "CAFE", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", cafe["id"]);
    let members = crowd(&app, 20).await;
    // Twenty members review at once: stars 1, 2, 3, 4, 5, 1, 2, …
    let writes = members.iter().enumerate().map(|(n, (_, token))| {
        app.post_json(
            &reviews,
            Some(token),
            json!({"stars": n % 5 + 1, "content": format!("리뷰 {n}")}),
        )
    });
    for response in futures_util::future::join_all(writes).await {
        assert_eq!(response.status(), 201);
    }
    let detail = app.get_ok(&format!("/api/v1/places/{}", cafe["id"])).await;
    assert_eq!(detail["review_count"], 20);
    assert_eq!(detail["average_stars"], 3.0);

    // Once per member; my own review I edit and delete, others' I cannot touch.
    let (_, mine) = &members[0];
    assert_problem(
        app.post_json(
            &reviews,
            Some(mine),
            json!({"stars": 5, "content": "again"}),
        )
        .await,
        409,
        "ALREADY_REVIEWED",
    )
    .await;
    let page = app.get_ok(&format!("{reviews}?limit=100")).await;
    let my_review = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|review| review["content"] == "리뷰 0")
        .unwrap()["id"]
        .clone();
    let edited = app
        .send_ok(
            Method::PUT,
            &format!("/api/v1/place-reviews/{my_review}"),
            Some(mine),
            Some(json!({"stars": 5, "content": "다시 가 보니 최고"})),
        )
        .await;
    assert_eq!(edited["stars"], 5);
    let detail = app.get_ok(&format!("/api/v1/places/{}", cafe["id"])).await;
    assert_eq!(detail["average_stars"], 3.2);
    let (_, other) = &members[1];
    assert_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/place-reviews/{my_review}"),
            Some(other),
            None,
        )
        .await,
        404,
        "PLACE_REVIEW_NOT_FOUND",
    )
    .await;
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/place-reviews/{my_review}"),
            Some(mine),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let detail = app.get_ok(&format!("/api/v1/places/{}", cafe["id"])).await;
    assert_eq!(detail["review_count"], 19);
    // 60 stars, one review moved from 1 to 5 and then deleted: 59 stars in 19 reviews.
    assert!((detail["average_stars"].as_f64().unwrap() - 59.0 / 19.0).abs() < 1e-9);

    // Highest first, page by page, each page in order.
    let mut stars = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_ok(&format!("{reviews}?sort=stars&limit=7&cursor={cursor}"))
            .await;
        stars.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|review| review["stars"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(stars.len(), 19);
    assert!(stars.windows(2).all(|pair| pair[0] >= pair[1]));

    // Bad reviews change nothing; a place taken down takes none.
    for body in [
        json!({"stars": 0, "content": "x"}),
        json!({"stars": 6, "content": "x"}),
        json!({"stars": 3, "content": ""}),
        json!({"stars": 3, "content": "a\u{0}b"}),
    ] {
        assert_eq!(
            app.post_json(&reviews, Some(mine), body).await.status(),
            422
        );
    }
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/places/{}", cafe["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        app.post_json(
            &reviews,
            Some(mine),
            json!({"stars": 4, "content": "closed?"}),
        )
        .await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_reported_review_deleted_by_moderation_leaves_the_rating() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let park = add(&app, &admin, place("한강 공원", "PARK", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", park["id"]);
    let (_, troll) = app.user("troll@example.com").await;
    let (_, fair) = app.user("fair@example.com").await;
    let (_, reader) = app.user("reader@example.com").await;
    let rude = app
        .post_ok(
            &reviews,
            Some(&troll),
            json!({"stars": 1, "content": "욕설"}),
        )
        .await;
    app.post_ok(
        &reviews,
        Some(&fair),
        json!({"stars": 5, "content": "넓고 좋아요"}),
    )
    .await;
    assert_problem(
        app.post_json(
            "/api/v1/reports",
            Some(&troll),
            json!({"target_type": "PLACE_REVIEW", "target_id": rude["id"], "reason": "ABUSE"}),
        )
        .await,
        422,
        "CANNOT_REPORT_OWN_CONTENT",
    )
    .await;
    let report = app
        .post_ok(
            "/api/v1/reports",
            Some(&reader),
            json!({"target_type": "PLACE_REVIEW", "target_id": rude["id"], "reason": "ABUSE"}),
        )
        .await;
    let queue = app
        .send_ok(Method::GET, "/api/v1/admin/reports", Some(&admin), None)
        .await;
    assert_eq!(queue["items"][0]["target_excerpt"], "욕설");
    app.post_ok(
        &format!("/api/v1/admin/reports/{}/resolve", report["id"]),
        Some(&admin),
        json!({"action": "DELETE", "note": "abusive"}),
    )
    .await;
    let detail = app.get_ok(&format!("/api/v1/places/{}", park["id"])).await;
    assert_eq!(detail["review_count"], 1);
    assert_eq!(detail["average_stars"], 5.0);
    let left = app.get_ok(&reviews).await;
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admins_list_places_hidden_ones_too_and_only_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    four_cafes_northwards(&app, &admin).await;
    // 나 hidden by moderation, 다 taken down.
    write(
        &app,
        "UPDATE places SET hidden_at = now() WHERE name = '나'",
    )
    .await;
    let shown = app.get_ok(&around_city_hall("")).await;
    assert_eq!(names(&shown), ["가", "다", "라"]);
    let taken_down = shown["items"][1]["id"].clone();
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/places/{taken_down}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let list = async |query: &str| {
        app.send_ok(
            Method::GET,
            &format!("/api/v1/admin/places?{query}"),
            Some(&admin),
            None,
        )
        .await
    };
    let all = list("").await;
    assert_eq!(names(&all), ["라", "나", "가"]);
    assert_eq!(all["items"][1]["hidden"], true);
    assert_eq!(names(&list("hidden=true").await), ["나"]);
    assert_eq!(names(&list("hidden=false").await), ["라", "가"]);
    assert_eq!(names(&list("q=%EB%9D%BC").await), ["라"]);
    // Two at a time: the next page continues after the cursor.
    let first = list("limit=2").await;
    assert_eq!(names(&first), ["라", "나"]);
    let next = list(&format!(
        "limit=2&cursor={}",
        first["next_cursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(names(&next), ["가"]);
    assert!(next["next_cursor"].is_null());

    // Found again, the hidden place is shown again by an admin's decision: near me at once.
    let hidden = list("hidden=true").await["items"][0]["id"].clone();
    app.post_ok(
        "/api/v1/admin/moderation-decisions",
        Some(&admin),
        json!({"target_type": "PLACE", "target_id": hidden, "action": "DISMISS", "note": "checked"}),
    )
    .await;
    assert_eq!(
        names(&app.get_ok(&around_city_hall("")).await),
        ["가", "나", "라"]
    );
    assert!(
        list("hidden=true").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (_, member) = app.user("member@example.com").await;
    assert_problem(
        app.send(Method::GET, "/api/v1/admin/places", Some(&member), None)
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
            app.send(
                Method::GET,
                &format!("/api/v1/admin/places?{query}"),
                Some(&admin),
                None,
            )
            .await,
            400,
            code,
        )
        .await;
    }
}

/// The place's `(review_count, average_stars)`, as readers see it.
async fn rating(app: &TestApp, place: &Value) -> (i64, Option<f64>) {
    let detail = app.get_ok(&format!("/api/v1/places/{}", place["id"])).await;
    (
        detail["review_count"].as_i64().unwrap(),
        detail["average_stars"].as_f64(),
    )
}

/// Five members report a review (the default threshold: it is hidden); their report ids.
async fn report_by_five(app: &TestApp, review: &Value) -> Vec<i64> {
    let mut reports = Vec::new();
    for (_, token) in crowd(app, 5).await {
        let report = app
            .post_ok(
                "/api/v1/reports",
                Some(&token),
                json!({"target_type": "PLACE_REVIEW", "target_id": review["id"], "reason": "SPAM"}),
            )
            .await;
        reports.push(report["id"].as_i64().unwrap());
    }
    reports
}

#[tokio::test]
async fn the_rating_counts_only_the_reviews_readers_see() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let park = add(&app, &admin, place("한강 공원", "PARK", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", park["id"]);
    let review = async |email: &str, stars: i64| {
        let (_, token) = app.user(email).await;
        let review = app
            .post_ok(
                &reviews,
                Some(&token),
                json!({"stars": stars, "content": "후기"}),
            )
            .await;
        (review, token)
    };
    let (troll, troll_token) = review("troll@example.com", 1).await;
    let (spam, spam_token) = review("spam@example.com", 2).await;
    let (fair, _) = review("fair@example.com", 5).await;
    assert_eq!(rating(&app, &park).await, (3, Some(8.0 / 3.0)));

    // Hidden by reports, two reviews leave the rating; their authors' edits and deletions
    // while hidden do not move it.
    let troll_reports = report_by_five(&app, &troll).await;
    report_by_five(&app, &spam).await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
    app.send_ok(
        Method::PUT,
        &format!("/api/v1/place-reviews/{}", troll["id"]),
        Some(&troll_token),
        Some(json!({"stars": 3, "content": "다시 씀"})),
    )
    .await;
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/place-reviews/{}", spam["id"]),
            Some(&spam_token),
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));

    // An admin dismisses the reports: the review is shown, and counted, again (as edited).
    let resolve = async |report: i64, action: &str| {
        app.post_ok(
            &format!("/api/v1/admin/reports/{report}/resolve"),
            Some(&admin),
            json!({"action": action, "note": "checked"}),
        )
        .await
    };
    resolve(troll_reports[0], "DISMISS").await;
    assert_eq!(rating(&app, &park).await, (2, Some(4.0)));

    // Hidden again, then deleted by an admin: it leaves the rating once.
    let again = report_by_five(&app, &troll).await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
    resolve(again[0], "DELETE").await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));

    // An admin's own decisions, without reports, move it alike.
    let decide = async |action: &str| {
        app.post_ok(
            "/api/v1/admin/moderation-decisions",
            Some(&admin),
            json!({"target_type": "PLACE_REVIEW", "target_id": fair["id"], "action": action, "note": "checked"}),
        )
        .await
    };
    decide("HIDE").await;
    assert_eq!(rating(&app, &park).await, (0, None));
    decide("DISMISS").await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
}

#[tokio::test]
async fn kakao_imports_read_every_page_once_and_a_refused_key_is_a_clear_error() {
    let kakao = kakao_local(20, "test-rest-key").await;
    let app = TestApp::builder().kakao_local(kakao).spawn().await;
    let admin = app.admin_token().await;
    let import = json!({"query": "애견카페", "x": 126.9779, "y": 37.5663, "radius": 2000});
    let first = app
        .post_ok("/api/v1/admin/places/import", Some(&admin), import.clone())
        .await;
    assert_eq!(first, json!({"pages": 2, "created": 20, "updated": 0}));
    let again = app
        .post_ok("/api/v1/admin/places/import", Some(&admin), import.clone())
        .await;
    assert_eq!(again, json!({"pages": 2, "created": 0, "updated": 20}));
    // A keyword of only spaces is the client's mistake (Kakao would refuse it), not an outage.
    assert_problem(
        app.post_json(
            "/api/v1/admin/places/import",
            Some(&admin),
            json!({"query": " \u{c} ", "x": 126.9779, "y": 37.5663, "radius": 2000}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    // Nearest first, as Kakao had them.
    let all = app
        .get_ok("/api/v1/places?lat=37.5663&lng=126.9779&radius_m=2000&limit=100")
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 20);
    assert_eq!(all["items"][0]["category"], "CAFE");
    assert_eq!(all["items"][0]["name"], "애견카페 1호점");
    assert_eq!(all["items"][0]["road_address"], "서울 중구 세종대로 110");

    // Kakao refusing the key is a 502 that says so; nothing is imported.
    let refusing = kakao_local(5, "another-key").await;
    let app = TestApp::builder().kakao_local(refusing).spawn().await;
    let admin = app.admin_token().await;
    assert_problem(
        app.post_json("/api/v1/admin/places/import", Some(&admin), import.clone())
            .await,
        502,
        "PLACE_DIRECTORY_REFUSED",
    )
    .await;
    // Kakao out of reach is a 503.
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    assert_problem(
        app.post_json("/api/v1/admin/places/import", Some(&admin), import)
            .await,
        503,
        "PLACES_UNAVAILABLE",
    )
    .await;
}

#[tokio::test]
async fn places_reported_by_enough_members_are_hidden_until_an_admin_decides() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let fake = add(&app, &admin, place("반려견 금지 카페", "CAFE", CITY_HALL)).await;
    let members = crowd(&app, 5).await;
    for (_, token) in &members {
        app.post_ok(
            "/api/v1/reports",
            Some(token),
            json!({"target_type": "PLACE", "target_id": fake["id"], "reason": "FRAUD",
                   "detail": "개를 데려가면 안 된대요"}),
        )
        .await;
    }
    // Five open reports hide it from members (the default threshold); admins still see it.
    assert_problem(
        app.get(&format!("/api/v1/places/{}", fake["id"])).await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
    assert!(
        app.get_ok("/api/v1/places").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let queue = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/reports?target_type=PLACE",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(queue["items"][0]["target_excerpt"], "반려견 금지 카페");
    assert_eq!(queue["items"][0]["target_hidden"], true);
    let seen = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/places/{}", fake["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(seen["hidden"], true);
}

#[tokio::test]
async fn liked_places_page_through_likes_made_in_the_same_instant() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, member) = app.user("member@example.com").await;
    let mut liked = Vec::new();
    for n in 0..5 {
        let added = add(&app, &admin, place(&format!("카페 {n}"), "CAFE", CITY_HALL)).await;
        app.send_ok(
            Method::PUT,
            &format!("/api/v1/places/{}/like", added["id"]),
            Some(&member),
            None,
        )
        .await;
        liked.push(added["name"].as_str().unwrap().to_owned());
    }
    // The first like at 8, the last at 10, and three between in one microsecond, as a busy
    // server's clock may give them.
    let mut conn = app.state.db.get().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE place_likes l
                SET created_at = CASE p.name WHEN '카페 0' THEN timestamptz '2026-12-01 08:00Z'
                                             WHEN '카페 4' THEN timestamptz '2026-12-01 10:00Z'
                                             ELSE timestamptz '2026-12-01 09:00Z' END
               FROM places p
              WHERE p.id = l.place_id",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    drop(conn);

    let mut seen = Vec::new();
    let mut path = "/api/v1/users/me/liked-places?limit=2".to_owned();
    loop {
        let page = app.send_ok(Method::GET, &path, Some(&member), None).await;
        seen.extend(names(&page).into_iter().map(str::to_owned));
        let Some(cursor) = page["next_cursor"].as_str() else {
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
            app.send(
                Method::GET,
                &format!("/api/v1/users/me/liked-places?cursor={cursor}"),
                Some(&member),
                None,
            )
            .await,
            400,
            "INVALID_CURSOR",
        )
        .await;
    }
}
