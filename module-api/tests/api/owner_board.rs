//! The owner board as its readers and writers use it.

use chrono::TimeDelta;
use petory_core::community::views;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Comment, Post, PostItem};
use crate::fixtures::image;
use crate::util::{ClockExt as _, TestApp, assert_problem};

fn ids(page: &Page<PostItem>) -> Vec<i64> {
    page.items.iter().map(|post| post.id).collect()
}

fn comment_ids(page: &Page<Comment>) -> Vec<i64> {
    page.items.iter().map(|comment| comment.id).collect()
}

/// A post's views as `reader` (a guest when `None`) opens it.
async fn view_count(app: &TestApp, reader: Option<&Member>, path: &str) -> i64 {
    let post: Post = match reader {
        Some(member) => member.get(path).await,
        None => app.guest().get(path).await,
    };
    post.view_count
}

#[tokio::test]
async fn authors_post_edit_and_delete_while_others_and_guests_only_read() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let photo = image(&app, &author.token, "POST").await;
    let created: Post = author
        .post(
            "/api/v1/owner-boards",
            json!({"category": "SHOW_OFF", "title": " Bori at the beach ", "content": "She loved it.", "image_keys": [photo]}),
        )
        .await;
    assert_eq!(created.title, "Bori at the beach");
    assert_eq!(created.image_urls.len(), 1);
    // Members show by their nickname (one they did not choose: `회원<id>`).
    assert_eq!(created.author_name, format!("회원{}", author.id));
    let path = format!("/api/v1/owner-boards/{}", created.id);

    // Guests read the list and the post.
    let list: Page<PostItem> = guest.get("/api/v1/owner-boards").await;
    assert_eq!(ids(&list), vec![created.id]);
    let item = &list.items[0];
    assert_eq!(item.first_image_key.as_deref(), Some(photo.as_str()));
    assert!(item.first_image_urls.is_some());
    assert!(!item.liked_by_me);
    assert_eq!(item.excerpt, "She loved it.");
    let _: Post = guest.get(&path).await;

    // Writing needs an account; changing needs to be the author.
    assert_problem(
        guest
            .request(
                Method::POST,
                "/api/v1/owner-boards",
                Some(json!({"category": "DAILY", "title": "t", "content": "c"})),
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
            other.request(method, &path, body).await,
            404,
            "POST_NOT_FOUND",
        )
        .await;
    }
    let edited: Post = author
        .patch(
            &path,
            json!({"content": "She loved the waves.", "category": "DAILY"}),
        )
        .await;
    assert_eq!(edited.content, "She loved the waves.");
    assert_eq!(edited.category, "DAILY");
    assert_eq!(edited.image_keys, [photo]);

    assert_eq!(
        author.request(Method::DELETE, &path, None).await.status(),
        204
    );
    assert_problem(
        guest.request(Method::GET, &path, None).await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    let list: Page<PostItem> = guest.get("/api/v1/owner-boards").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
}

#[tokio::test]
async fn bad_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let theirs = image(&app, &other.token, "POST").await;
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
            author
                .request(Method::POST, "/api/v1/owner-boards", Some(body))
                .await,
            status,
            code,
        )
        .await;
    }
    let list: Page<PostItem> = guest.get("/api/v1/owner-boards").await;
    assert_eq!(ids(&list), Vec::<i64>::new());
    assert_problem(
        guest
            .request(Method::GET, "/api/v1/owner-boards?cursor=nonsense", None)
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    assert_problem(
        guest
            .request(Method::GET, "/api/v1/owner-boards?q=%25%25", None)
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
}

#[tokio::test]
async fn fifty_concurrent_likes_give_the_exact_count() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let created = app.post_by(&author, "Like me", "please").await;
    let path = format!("/api/v1/owner-boards/{}", created.id);
    let like = format!("{path}/like");
    let members = app.crowd_of(50).await;

    let likes = members
        .iter()
        .map(|member| member.request(Method::PUT, &like, None));
    for response in futures_util::future::join_all(likes).await {
        assert_eq!(response.status(), 200);
    }
    let read: Post = app.guest().get(&path).await;
    assert_eq!(read.like_count, 50);

    // One member liking fifty times at once is still one like; taking it back is one less.
    let fan = &members[0];
    let again = (0..50).map(|_| fan.request(Method::PUT, &like, None));
    futures_util::future::join_all(again).await;
    let unlikes = (0..20).map(|_| fan.request(Method::DELETE, &like, None));
    futures_util::future::join_all(unlikes).await;
    // The whole answer, nothing more.
    let state: Value = fan.ok(Method::DELETE, &like, None).await;
    assert_eq!(state, json!({"liked": false, "like_count": 49}));
    let mine: Post = members[1].get(&path).await;
    assert!(mine.liked_by_me);
    assert_eq!(mine.like_count, 49);
    // The list tells each reader whether they like each post.
    for (reader, liked) in [(&members[1], true), (fan, false)] {
        let list: Page<PostItem> = reader.get("/api/v1/owner-boards").await;
        assert_eq!(list.items[0].liked_by_me, liked);
        assert_eq!(list.items[0].like_count, 49);
    }
}

#[tokio::test]
async fn a_view_counts_once_per_reader_per_day_and_reaches_the_database_in_batches() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let created = app.post_by(&author, "Look", "at this").await;
    let path = format!("/api/v1/owner-boards/{}", created.id);
    assert_eq!(view_count(&app, Some(&reader), &path).await, 1);
    assert_eq!(
        view_count(&app, Some(&reader), &path).await,
        1,
        "same reader, same day"
    );
    assert_eq!(view_count(&app, Some(&author), &path).await, 2);
    assert_eq!(
        view_count(&app, None, &path).await,
        3,
        "a guest counts by address"
    );
    assert_eq!(view_count(&app, None, &path).await, 3);

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
    assert_eq!(view_count(&app, None, &path).await, 3);

    app.clock.advance(TimeDelta::days(1));
    let reader = reader.logged_in_again(&app).await;
    assert_eq!(
        view_count(&app, Some(&reader), &path).await,
        4,
        "a new day, a new view"
    );
}

#[tokio::test]
async fn search_finds_korean_substrings_and_every_word() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let walk = app
        .post_by(&author, "한강 산책로 추천", "보리랑 매일 걸어요")
        .await
        .id;
    let park = app
        .post_by(&author, "공원 나들이", "산책하기 좋은 날씨")
        .await
        .id;
    app.post_by(&author, "사료 질문", "어떤 사료가 좋을까요?")
        .await;
    let found = |q: &str| {
        let guest = app.guest();
        let path = format!(
            "/api/v1/owner-boards?{}",
            serde_urlencoded::to_string([("q", q)]).unwrap()
        );
        async move {
            let page: Page<PostItem> = guest.get(&path).await;
            let mut found = ids(&page);
            found.sort_unstable();
            found
        }
    };
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
    let author = app.member("author@example.com").await;
    let guest = app.guest();
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(app.post_by(&author, &format!("post {n}"), "text").await.id);
    }
    let question: Post = author
        .post(
            "/api/v1/owner-boards",
            json!({"category": "QUESTION", "title": "why?", "content": "because"}),
        )
        .await;
    let questions: Page<PostItem> = guest.get("/api/v1/owner-boards?category=QUESTION").await;
    assert_eq!(ids(&questions), vec![question.id]);

    let first: Page<PostItem> = guest
        .get("/api/v1/owner-boards?category=DAILY&limit=2")
        .await;
    assert_eq!(ids(&first), vec![made[4], made[3]]);
    let cursor = first.next_cursor.unwrap();
    let second: Page<PostItem> = guest
        .get(&format!(
            "/api/v1/owner-boards?category=DAILY&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&second), vec![made[2], made[1]]);

    // Popular: likes of the last seven days only.
    let like = |post: i64, member: &Member| {
        let member = member.clone();
        async move {
            let _: Value = member
                .ok(
                    Method::PUT,
                    &format!("/api/v1/owner-boards/{post}/like"),
                    None,
                )
                .await;
        }
    };
    let early = app.crowd_of(1).await;
    like(made[0], &early[0]).await;
    app.clock.advance(TimeDelta::days(8));
    let members = app.crowd_of(3).await;
    for member in &members {
        like(made[1], member).await;
    }
    like(made[2], &members[0]).await;
    like(made[3], &members[1]).await;
    let popular: Page<PostItem> = guest.get("/api/v1/owner-boards?sort=popular&limit=2").await;
    assert_eq!(ids(&popular), vec![made[1], made[3]]);
    let cursor = popular.next_cursor.unwrap();
    let rest: Page<PostItem> = guest
        .get(&format!(
            "/api/v1/owner-boards?sort=popular&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&rest), vec![made[2]], "the old like no longer counts");
    // Popular and a search together: the search narrows the popular order.
    let searched: Page<PostItem> = guest
        .get("/api/v1/owner-boards?sort=popular&q=post%203")
        .await;
    assert_eq!(ids(&searched), vec![made[3]]);
}

#[tokio::test]
async fn comments_thread_one_level_deep_and_keep_their_place_when_deleted() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let created = app.post_by(&author, "Question", "how?").await;
    let post_path = format!("/api/v1/owner-boards/{}", created.id);
    let comments = format!("{post_path}/comments");
    let say = |member: &Member, content: &str, parent: Option<i64>| {
        let body = json!({"content": content, "parent_id": parent});
        let (member, comments) = (member.clone(), comments.clone());
        async move { member.request(Method::POST, &comments, Some(body)).await }
    };
    let first: Comment = say(&other, "like this", None).await.json().await.unwrap();
    let second: Comment = say(&author, "or that", None).await.json().await.unwrap();
    let reply: Comment = say(&author, "thanks!", Some(first.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reply.parent_id, Some(first.id));
    assert_problem(
        say(&other, "deeper", Some(reply.id)).await,
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

    let thread: Page<Comment> = guest.get(&comments).await;
    assert_eq!(comment_ids(&thread), vec![first.id, reply.id, second.id]);
    let read: Post = guest.get(&post_path).await;
    assert_eq!(read.comment_count, 3);

    // Only the author edits or deletes a comment; a deleted one keeps its place.
    let first_path = format!("{comments}/{}", first.id);
    assert_problem(
        author.request(Method::DELETE, &first_path, None).await,
        404,
        "COMMENT_NOT_FOUND",
    )
    .await;
    let edited: Comment = other
        .patch(&first_path, json!({"content": "like this, really"}))
        .await;
    assert_eq!(edited.content, "like this, really");
    assert_eq!(
        other
            .request(Method::DELETE, &first_path, None)
            .await
            .status(),
        204
    );
    let thread: Page<Comment> = guest.get(&comments).await;
    assert!(thread.items[0].deleted);
    assert_eq!(thread.items[0].content, "");
    assert_eq!(thread.items[1].content, "thanks!");
    let read: Post = guest.get(&post_path).await;
    assert_eq!(read.comment_count, 2);

    // Paging walks the threads in order.
    let page: Page<Comment> = guest.get(&format!("{comments}?limit=2")).await;
    let cursor = page.next_cursor.unwrap();
    let rest: Page<Comment> = guest
        .get(&format!("{comments}?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(comment_ids(&rest), vec![second.id]);
}

/// A search looks at the newest posts word by word, then asks the index for the rest: a page
/// that spans both, and the pages after it, hold every match once, newest first.
#[tokio::test]
async fn searches_find_matches_beyond_the_newest_posts_in_order() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
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
    .bind::<diesel::sql_types::BigInt, _>(author.id)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let guest = app.guest();
    let mut found = Vec::new();
    // A word without case and one with it, in another case than the post's.
    let search = "q=%EC%82%B0%EC%B1%85%20tRAIL&limit=4";
    let mut path = format!("/api/v1/owner-boards?{search}");
    loop {
        let page: Page<PostItem> = guest.get(&path).await;
        found.extend(page.items.into_iter().map(|post| post.title));
        match page.next_cursor {
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
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let guest = app.guest();
    let first = app.post_by(&author, "산책", "공원 산책").await;
    let page: Page<PostItem> = reader.get("/api/v1/owner-boards").await;
    assert_eq!(ids(&page), [first.id]);
    assert!(!page.items[0].liked_by_me);

    // My like shows on the kept page at once; another reader's page shows theirs.
    let like = reader
        .request(
            Method::PUT,
            &format!("/api/v1/owner-boards/{}/like", first.id),
            None,
        )
        .await;
    assert!(like.status().is_success());
    let mine: Page<PostItem> = reader.get("/api/v1/owner-boards").await;
    assert!(mine.items[0].liked_by_me);
    let theirs: Page<PostItem> = author.get("/api/v1/owner-boards").await;
    assert!(!theirs.items[0].liked_by_me);
    let guests: Page<PostItem> = guest.get("/api/v1/owner-boards").await;
    assert!(!guests.items[0].liked_by_me);

    // A new post: a search finds it at once; the first page shows it once its moment passed.
    let second = app.post_by(&author, "산책로", "새 산책로").await;
    let found: Page<PostItem> = guest
        .get("/api/v1/owner-boards?q=%EC%82%B0%EC%B1%85%EB%A1%9C")
        .await;
    assert_eq!(ids(&found), [second.id]);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let fresh: Page<PostItem> = guest.get("/api/v1/owner-boards").await;
    assert_eq!(ids(&fresh), [second.id, first.id]);
    assert_eq!(fresh.items[1].like_count, 1);
}
