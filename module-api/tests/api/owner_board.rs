//! The owner board as its readers and writers use it.

use chrono::TimeDelta;
use petory_core::community::views;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{crowd, image, post};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn authors_post_edit_and_delete_while_others_and_guests_only_read() {
    let app = TestApp::spawn().await;
    let (author_id, author) = app.user("author@example.com").await;
    let (_, other) = app.user("other@example.com").await;
    let photo = image(&app, &author, "POST").await;
    let created = app
        .post_ok(
            "/api/v1/owner-boards",
            Some(&author),
            json!({"category": "SHOW_OFF", "title": " Bori at the beach ", "content": "She loved it.", "image_keys": [photo]}),
        )
        .await;
    assert_eq!(created["title"], "Bori at the beach");
    assert_eq!(created["image_urls"].as_array().unwrap().len(), 1);
    // Members show by their nickname (one they did not choose: `회원<id>`).
    assert_eq!(created["author_name"], format!("회원{author_id}"));
    let path = format!("/api/v1/owner-boards/{}", created["id"]);

    // Guests read the list and the post.
    let list = app.get_ok("/api/v1/owner-boards").await;
    assert_eq!(ids(&list), vec![created["id"].as_i64().unwrap()]);
    let item = &list["items"][0];
    assert_eq!(item["first_image_key"], photo.as_str());
    assert!(item["first_image_url"].as_str().is_some());
    assert_eq!(item["liked_by_me"], false);
    assert_eq!(item["excerpt"], "She loved it.");
    app.get_ok(&path).await;

    // Writing needs an account; changing needs to be the author.
    assert_problem(
        app.post_json(
            "/api/v1/owner-boards",
            None,
            json!({"category": "DAILY", "title": "t", "content": "c"}),
        )
        .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    for (method, body) in [
        (Method::PATCH, Some(json!({"title": "mine"}))),
        (Method::DELETE, None),
    ] {
        assert_problem(
            app.send(method, &path, Some(&other), body).await,
            404,
            "POST_NOT_FOUND",
        )
        .await;
    }
    let edited = app
        .send_ok(
            Method::PATCH,
            &path,
            Some(&author),
            Some(json!({"content": "She loved the waves.", "category": "DAILY"})),
        )
        .await;
    assert_eq!(edited["content"], "She loved the waves.");
    assert_eq!(edited["category"], "DAILY");
    assert_eq!(edited["image_keys"], json!([photo]));

    assert_eq!(
        app.send(Method::DELETE, &path, Some(&author), None)
            .await
            .status(),
        204
    );
    assert_problem(app.get(&path).await, 404, "POST_NOT_FOUND").await;
    assert_eq!(
        ids(&app.get_ok("/api/v1/owner-boards").await),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn bad_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, other) = app.user("other@example.com").await;
    let theirs = image(&app, &other, "POST").await;
    for (body, status, code) in [
        (
            json!({"category": "GOSSIP", "title": "t", "content": "c"}),
            422,
            "INVALID_BODY",
        ),
        (
            json!({"category": "DAILY", "title": "", "content": "c"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"category": "DAILY", "title": "t".repeat(101), "content": "c"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"category": "DAILY", "title": "t", "content": "c\u{0}"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"category": "DAILY", "title": "t", "content": "c", "image_keys": [theirs]}),
            422,
            "UPLOAD_NOT_FOUND",
        ),
        (
            json!({"category": "DAILY", "title": "t", "content": "c", "image_keys": vec!["k"; 11]}),
            422,
            "VALIDATION_FAILED",
        ),
    ] {
        assert_problem(
            app.post_json("/api/v1/owner-boards", Some(&author), body)
                .await,
            status,
            code,
        )
        .await;
    }
    assert_eq!(
        ids(&app.get_ok("/api/v1/owner-boards").await),
        Vec::<i64>::new()
    );
    assert_problem(
        app.get("/api/v1/owner-boards?cursor=nonsense").await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    assert_problem(
        app.get("/api/v1/owner-boards?q=%25%25").await,
        400,
        "INVALID_QUERY",
    )
    .await;
}

#[tokio::test]
async fn fifty_concurrent_likes_give_the_exact_count() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let created = post(&app, &author, "Like me", "please").await;
    let like = format!("/api/v1/owner-boards/{}/like", created["id"]);
    let members = crowd(&app, 50).await;

    let likes = members
        .iter()
        .map(|(_, token)| app.send(Method::PUT, &like, Some(token), None));
    for response in futures_util::future::join_all(likes).await {
        assert_eq!(response.status(), 200);
    }
    let read = app
        .get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
        .await;
    assert_eq!(read["like_count"], 50);

    // One member liking fifty times at once is still one like; taking it back is one less.
    let (_, fan) = &members[0];
    let again = (0..50).map(|_| app.send(Method::PUT, &like, Some(fan), None));
    futures_util::future::join_all(again).await;
    let unlikes = (0..20).map(|_| app.send(Method::DELETE, &like, Some(fan), None));
    futures_util::future::join_all(unlikes).await;
    let state = app.send_ok(Method::DELETE, &like, Some(fan), None).await;
    assert_eq!(state, json!({"liked": false, "like_count": 49}));
    let mine = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/owner-boards/{}", created["id"]),
            Some(&members[1].1),
            None,
        )
        .await;
    assert_eq!(mine["liked_by_me"], true);
    assert_eq!(mine["like_count"], 49);
    // The list tells each reader whether they like each post.
    for (token, liked) in [(&members[1].1, true), (fan, false)] {
        let list = app
            .send_ok(Method::GET, "/api/v1/owner-boards", Some(token), None)
            .await;
        assert_eq!(list["items"][0]["liked_by_me"], liked);
        assert_eq!(list["items"][0]["like_count"], 49);
    }
}

#[tokio::test]
async fn a_view_counts_once_per_reader_per_day_and_reaches_the_database_in_batches() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, reader) = app.user("reader@example.com").await;
    let created = post(&app, &author, "Look", "at this").await;
    let path = format!("/api/v1/owner-boards/{}", created["id"]);
    let view_as = |token: Option<String>| {
        let app = &app;
        let path = path.clone();
        async move {
            app.send_ok(Method::GET, &path, token.as_deref(), None)
                .await["view_count"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(view_as(Some(reader.clone())).await, 1);
    assert_eq!(
        view_as(Some(reader.clone())).await,
        1,
        "same reader, same day"
    );
    assert_eq!(view_as(Some(author.clone())).await, 2);
    assert_eq!(view_as(None).await, 3, "a guest counts by address");
    assert_eq!(view_as(None).await, 3);

    // The batch takes them into the database; the count reads the same.
    let mut conn = app.state.db.get().await.unwrap();
    let now = app.clock.now_utc();
    assert_eq!(
        views::flush(&mut conn, app.state.views.as_ref(), now)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        views::flush(&mut conn, app.state.views.as_ref(), now)
            .await
            .unwrap(),
        0
    );
    drop(conn);
    assert_eq!(view_as(None).await, 3);

    app.clock.advance(TimeDelta::days(1));
    let (reader, _) = app.login("reader@example.com", PASSWORD).await;
    assert_eq!(view_as(Some(reader)).await, 4, "a new day, a new view");
}

#[tokio::test]
async fn search_finds_korean_substrings_and_every_word() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let walk = post(&app, &author, "한강 산책로 추천", "보리랑 매일 걸어요").await;
    let park = post(&app, &author, "공원 나들이", "산책하기 좋은 날씨").await;
    post(&app, &author, "사료 질문", "어떤 사료가 좋을까요?").await;
    let found = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            let mut found = ids(&app
                .get_ok(&format!(
                    "/api/v1/owner-boards?{}",
                    serde_urlencoded::to_string([("q", q.as_str())]).unwrap()
                ))
                .await);
            found.sort_unstable();
            found
        }
    };
    let walk = walk["id"].as_i64().unwrap();
    let park = park["id"].as_i64().unwrap();
    assert_eq!(found("산책").await, vec![walk, park]);
    assert_eq!(found("산책로").await, vec![walk]);
    assert_eq!(found("보리 산책").await, vec![walk]);
    assert_eq!(
        found("책산").await,
        Vec::<i64>::new(),
        "pieces must be in order"
    );
    assert_eq!(found("고양이").await, Vec::<i64>::new());
}

#[tokio::test]
async fn lists_filter_by_category_page_by_cursor_and_rank_by_recent_likes() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(
            post(&app, &author, &format!("post {n}"), "text").await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let question = app
        .post_ok(
            "/api/v1/owner-boards",
            Some(&author),
            json!({"category": "QUESTION", "title": "why?", "content": "because"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        ids(&app.get_ok("/api/v1/owner-boards?category=QUESTION").await),
        vec![question]
    );

    let first = app
        .get_ok("/api/v1/owner-boards?category=DAILY&limit=2")
        .await;
    assert_eq!(ids(&first), vec![made[4], made[3]]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_ok(&format!(
            "/api/v1/owner-boards?category=DAILY&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&second), vec![made[2], made[1]]);

    // Popular: likes of the last seven days only.
    let early = crowd(&app, 1).await;
    let like = |post: i64, token: String| {
        let app = &app;
        async move {
            app.send_ok(
                Method::PUT,
                &format!("/api/v1/owner-boards/{post}/like"),
                Some(&token),
                None,
            )
            .await;
        }
    };
    like(made[0], early[0].1.clone()).await;
    app.clock.advance(TimeDelta::days(8));
    let members = crowd(&app, 3).await;
    for (_, token) in &members {
        like(made[1], token.clone()).await;
    }
    like(made[2], members[0].1.clone()).await;
    like(made[3], members[1].1.clone()).await;
    let popular = app
        .get_ok("/api/v1/owner-boards?sort=popular&limit=2")
        .await;
    assert_eq!(ids(&popular), vec![made[1], made[3]]);
    let cursor = popular["next_cursor"].as_str().unwrap();
    let rest = app
        .get_ok(&format!(
            "/api/v1/owner-boards?sort=popular&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&rest), vec![made[2]], "the old like no longer counts");
    // Popular and a search together: the search narrows the popular order.
    let searched = app
        .get_ok("/api/v1/owner-boards?sort=popular&q=post%203")
        .await;
    assert_eq!(ids(&searched), vec![made[3]]);
}

#[tokio::test]
async fn comments_thread_one_level_deep_and_keep_their_place_when_deleted() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, other) = app.user("other@example.com").await;
    let created = post(&app, &author, "Question", "how?").await;
    let comments = format!("/api/v1/owner-boards/{}/comments", created["id"]);
    let say = |token: &str, content: &str, parent: Option<i64>| {
        let body = json!({"content": content, "parent_id": parent});
        let token = token.to_owned();
        let (app, comments) = (&app, &comments);
        async move { app.post_json(comments, Some(&token), body).await }
    };
    let first: Value = say(&other, "like this", None).await.json().await.unwrap();
    let second: Value = say(&author, "or that", None).await.json().await.unwrap();
    let reply: Value = say(&author, "thanks!", first["id"].as_i64())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reply["parent_id"], first["id"]);
    assert_problem(
        say(&other, "deeper", reply["id"].as_i64()).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        say(&other, "elsewhere", Some(999_999)).await,
        404,
        "COMMENT_NOT_FOUND",
    )
    .await;

    let thread = app.get_ok(&comments).await;
    let order: Vec<i64> = ids(&thread);
    assert_eq!(
        order,
        vec![
            first["id"].as_i64().unwrap(),
            reply["id"].as_i64().unwrap(),
            second["id"].as_i64().unwrap()
        ]
    );
    let read = app
        .get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
        .await;
    assert_eq!(read["comment_count"], 3);

    // Only the author edits or deletes a comment; a deleted one keeps its place.
    let first_path = format!("{comments}/{}", first["id"]);
    assert_problem(
        app.send(Method::DELETE, &first_path, Some(&author), None)
            .await,
        404,
        "COMMENT_NOT_FOUND",
    )
    .await;
    let edited = app
        .send_ok(
            Method::PATCH,
            &first_path,
            Some(&other),
            Some(json!({"content": "like this, really"})),
        )
        .await;
    assert_eq!(edited["content"], "like this, really");
    assert_eq!(
        app.send(Method::DELETE, &first_path, Some(&other), None)
            .await
            .status(),
        204
    );
    let thread = app.get_ok(&comments).await;
    assert_eq!(thread["items"][0]["deleted"], true);
    assert_eq!(thread["items"][0]["content"], "");
    assert_eq!(thread["items"][1]["content"], "thanks!");
    let read = app
        .get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
        .await;
    assert_eq!(read["comment_count"], 2);

    // Paging walks the threads in order.
    let page = app.get_ok(&format!("{comments}?limit=2")).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get_ok(&format!("{comments}?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest), vec![second["id"].as_i64().unwrap()]);
}

/// A search looks at the newest posts word by word, then asks the index for the rest: a page
/// that spans both, and the pages after it, hold every match once, newest first.
#[tokio::test]
async fn searches_find_matches_beyond_the_newest_posts_in_order() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    let (author_id, _) = app.user("author@example.com").await;
    // 6,000 posts; every 1,000th (and the very oldest) mentions a trail ("산책로 Trail"): the
    // first page is found word by word among the newest posts, the rest through the index.
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO posts (author_id, category, title, content, created_at, updated_at)
         SELECT $1, 'DAILY', '오늘 ' || n,
                CASE WHEN n % 1000 = 0 OR n = 1 THEN '새로 생긴 산책로 Trail ' || n ELSE '낮잠 ' || n END,
                now(), now()
           FROM generate_series(1, 6000) AS n",
    )
    .bind::<diesel::sql_types::BigInt, _>(author_id)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let mut found = Vec::new();
    // A word without case and one with it, in another case than the post's.
    let search = "q=%EC%82%B0%EC%B1%85%20tRAIL&limit=4";
    let mut path = format!("/api/v1/owner-boards?{search}");
    loop {
        let page = app.get_ok(&path).await;
        found.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|post| post["title"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/owner-boards?{search}&cursor={cursor}");
            }
            None => break,
        }
    }
    let expected: Vec<String> = [6000, 5000, 4000, 3000, 2000, 1000, 1]
        .iter()
        .map(|n| format!("오늘 {n}"))
        .collect();
    assert_eq!(found, expected);
}

/// A search's newest-rows bound is a subquery, unknown when planned: the API's connections
/// keep PostgreSQL from answering it with parallel workers (milliseconds to start).
#[tokio::test]
async fn request_connections_plan_without_parallel_workers() {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        max_parallel_workers_per_gather: String,
    }
    let app = TestApp::spawn().await;
    let mut conn = app.state.db.get().await.unwrap();
    let setting: Setting = diesel::sql_query("SHOW max_parallel_workers_per_gather")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(setting.max_parallel_workers_per_gather, "0");
}

#[tokio::test]
async fn a_cached_first_page_keeps_each_readers_likes_and_lasts_only_its_moment() {
    let app = TestApp::builder()
        .board_page_cache(std::time::Duration::from_millis(500))
        .spawn()
        .await;
    let (_, author) = app.user("author@example.com").await;
    let (_, reader) = app.user("reader@example.com").await;
    let first = post(&app, &author, "산책", "공원 산책").await;
    let page = app
        .send_ok(Method::GET, "/api/v1/owner-boards", Some(&reader), None)
        .await;
    assert_eq!(ids(&page), [first["id"].as_i64().unwrap()]);
    assert_eq!(page["items"][0]["liked_by_me"], false);

    // My like shows on the kept page at once; another reader's page shows theirs.
    let like = app
        .send(
            Method::PUT,
            &format!("/api/v1/owner-boards/{}/like", first["id"]),
            Some(&reader),
            None,
        )
        .await;
    assert!(like.status().is_success());
    let mine = app
        .send_ok(Method::GET, "/api/v1/owner-boards", Some(&reader), None)
        .await;
    assert_eq!(mine["items"][0]["liked_by_me"], true);
    let theirs = app
        .send_ok(Method::GET, "/api/v1/owner-boards", Some(&author), None)
        .await;
    assert_eq!(theirs["items"][0]["liked_by_me"], false);
    let guest = app.get_ok("/api/v1/owner-boards").await;
    assert_eq!(guest["items"][0]["liked_by_me"], false);

    // A new post: a search finds it at once; the first page shows it once its moment passed.
    let second = post(&app, &author, "산책로", "새 산책로").await;
    let found = app
        .get_ok("/api/v1/owner-boards?q=%EC%82%B0%EC%B1%85%EB%A1%9C")
        .await;
    assert_eq!(ids(&found), [second["id"].as_i64().unwrap()]);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let fresh = app.get_ok("/api/v1/owner-boards").await;
    assert_eq!(
        ids(&fresh),
        [
            second["id"].as_i64().unwrap(),
            first["id"].as_i64().unwrap()
        ]
    );
    assert_eq!(fresh["items"][1]["like_count"], 1);
}
