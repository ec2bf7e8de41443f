//! The ranking of the most liked places: counted in Redis exactly as the database holds the
//! likes, answered by the database when Redis is away or lost, and kept for a moment.

use reqwest::Method;
use serde::Deserialize;

use crate::client::{Client, Member};
use crate::fixtures::daily::{CITY_HALL, Place, add_place, new_place};
use crate::util::{ClockExt as _, TestApp};

#[derive(Debug, Deserialize)]
struct Ranking {
    items: Vec<RankingEntry>,
}

#[derive(Debug, Deserialize)]
struct RankingEntry {
    rank: usize,
    like_count: i64,
    place: RankedPlace,
}

#[derive(Debug, Deserialize)]
struct RankedPlace {
    name: String,
}

async fn like_as(member: &Member, place: i64) -> reqwest::Response {
    member
        .request(Method::PUT, &format!("/api/v1/places/{place}/like"), None)
        .await
}

/// The ranking a guest reads: where it came from (`x-ranking-source`) and its places with
/// their likes, each entry's rank checked against its position.
async fn ranking(app: &TestApp, query: &str) -> (String, Vec<(String, i64)>) {
    let response = app.get(&format!("/api/v1/places/ranking?{query}")).await;
    assert_eq!(response.status(), 200);
    let source = response.headers()["x-ranking-source"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Ranking = response.json().await.unwrap();
    let entries = body
        .items
        .into_iter()
        .enumerate()
        .map(|(at, entry)| {
            assert_eq!(entry.rank, at + 1);
            (entry.place.name, entry.like_count)
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
    use crate::util::TcpProxy;
    use petory_core::place::ranking;
    let redis = TcpProxy::to(crate::util::redis_addr()).await;
    let app = TestApp::builder()
        .redis_url(&format!("redis://{}", redis.addr))
        .spawn()
        .await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (name, category) in [
        ("가 카페", "CAFE"),
        ("나 공원", "PARK"),
        ("다 카페", "CAFE"),
    ] {
        ids.push(
            add_place(&admin, new_place(name, category, CITY_HALL))
                .await
                .id,
        );
    }
    let members = app.crowd_of(50).await;
    let like = |n: usize, member: usize| like_as(&members[member], ids[n]);
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
    let detail: Place = app.guest().get(&format!("/api/v1/places/{}", ids[0])).await;
    assert_eq!(detail.like_count, 50);

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
    const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(1);
    let app = TestApp::builder()
        .place_ranking_cache(KEPT_FOR)
        .spawn()
        .await;
    let admin = app.admin().await;
    let cafe = add_place(&admin, new_place("가 카페", "CAFE", CITY_HALL))
        .await
        .id;
    let park = add_place(&admin, new_place("나 공원", "PARK", CITY_HALL))
        .await
        .id;
    let mut conn = app.state.db.get().await.unwrap();
    petory_core::place::ranking::rebuild(
        &mut conn,
        app.state.place_ranking.as_ref(),
        app.clock.now_utc(),
    )
    .await
    .unwrap();
    drop(conn);
    let members = app.crowd_of(2).await;
    like_as(&members[0], cafe).await;
    let kept_since = std::time::Instant::now();
    let first = ranking(&app, "").await;
    assert_eq!(first, ("redis".to_owned(), ranked(&[("가 카페", 1)])));
    // Two likes of the park: the kept ranking answers as before for its moment, then has them.
    like_as(&members[0], park).await;
    like_as(&members[1], park).await;
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
