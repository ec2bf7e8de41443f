//! Members appear by the nickname they choose, never by the name they signed up with; their
//! public profile shows what they share.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::fixtures::{listing, post};
use crate::util::{PASSWORD, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Me {
    id: i64,
    nickname: Option<String>,
    nickname_changeable_at: Option<chrono::DateTime<chrono::Utc>>,
    bio: String,
}

#[derive(Debug, Deserialize)]
struct Profile {
    user_id: i64,
    nickname: String,
    bio: String,
    pets: Vec<ProfilePet>,
    post_count: i64,
    listing_count: i64,
    sold_count: i64,
}

#[derive(Debug, Deserialize)]
struct ProfilePet {
    name: String,
    species: String,
}

/// Signs up `email` with a nickname (and the real name "김보리"), verified and logged in.
async fn member_named(app: &TestApp, email: &str, nickname: &str) -> (i64, String) {
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            None,
            json!({"email": email, "password": PASSWORD, "name": "김보리", "nickname": nickname}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let id = app.user_id(email).await;
    app.verify_email(id).await;
    let (token, _) = app.login(email, PASSWORD).await;
    (id, token)
}

async fn me(app: &TestApp, token: &str) -> Me {
    serde_json::from_value(app.get_ok_as("/api/v1/users/me", token).await).unwrap()
}

async fn patch_me(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    app.send(Method::PATCH, "/api/v1/users/me", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn guests_and_members_see_the_nickname_and_never_the_name_or_email() {
    let app = TestApp::spawn().await;
    let (id, author) = member_named(&app, "bori@example.com", "보리맘").await;
    let (_, other) = app.user("other@example.com").await;
    let created = post(&app, &author, "오늘의 보리", "산책 다녀왔어요").await;
    let post_path = format!("/api/v1/owner-boards/{}", created["id"]);
    app.post_ok(
        &format!("{post_path}/comments"),
        Some(&author),
        json!({"content": "사진 곧 올릴게요"}),
    )
    .await;
    listing(&app, &author, "안 쓰는 하네스").await;

    for path in [
        "/api/v1/owner-boards".to_owned(),
        post_path.clone(),
        format!("{post_path}/comments"),
        "/api/v1/trade-boards".to_owned(),
        format!("/api/v1/users/{id}/profile"),
    ] {
        for token in [None, Some(other.as_str())] {
            let response = app.send(Method::GET, &path, token, None).await;
            assert_eq!(response.status(), 200, "{path}");
            let body = response.text().await.unwrap();
            assert!(body.contains("보리맘"), "{path}: {body}");
            assert!(!body.contains("김보리"), "{path} shows the name: {body}");
            assert!(!body.contains("bori@example.com"), "{path} shows the email");
        }
    }
    // A member who chose none is `회원<id>` until they do.
    let (other_id, _) = (app.user_id("other@example.com").await, ());
    let profile: Profile = serde_json::from_value(
        app.get_ok(&format!("/api/v1/users/{other_id}/profile"))
            .await,
    )
    .unwrap();
    assert_eq!(profile.nickname, format!("회원{other_id}"));
}

#[tokio::test]
async fn a_nickname_is_one_members_and_changes_at_most_once_a_month() {
    let app = TestApp::spawn().await;
    member_named(&app, "bori@example.com", "Bori").await;
    // Taken whatever the case, at sign-up and later.
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            None,
            json!({"email": "copy@example.com", "password": PASSWORD, "name": "Copy",
                   "nickname": "bori"}),
        )
        .await;
    assert_problem(response, 409, "NICKNAME_TAKEN").await;
    let (_, other) = app.user("other@example.com").await;
    assert_problem(
        patch_me(&app, &other, json!({"nickname": "BORI"})).await,
        409,
        "NICKNAME_TAKEN",
    )
    .await;
    // Bad ones, and the generated ones, are refused and change nothing.
    for bad in ["b", "보리 맘", "bori!", "회원12", "\u{0}ab"] {
        assert_problem(
            patch_me(&app, &other, json!({"nickname": bad})).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }
    let before = me(&app, &other).await;
    assert_eq!(before.nickname, Some(format!("회원{}", before.id)));
    assert_eq!(
        before.nickname_changeable_at, None,
        "the first choice is free"
    );

    // A first change, then none for 30 days (the same one again changes nothing).
    let response = patch_me(
        &app,
        &other,
        json!({"nickname": "초코아빠", "bio": "푸들 키워요"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let changed = me(&app, &other).await;
    assert_eq!(changed.nickname.as_deref(), Some("초코아빠"));
    assert_eq!(changed.bio, "푸들 키워요");
    let next = changed.nickname_changeable_at.expect("a next change");
    assert_eq!(
        patch_me(&app, &other, json!({"nickname": "초코아빠"}))
            .await
            .status(),
        200
    );
    let problem = assert_problem(
        patch_me(&app, &other, json!({"nickname": "초코맘"})).await,
        409,
        "NICKNAME_RECENTLY_CHANGED",
    )
    .await;
    assert_eq!(
        problem["context"]["nickname_changeable_at"]
            .as_str()
            .map(str::to_owned),
        Some(next.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    );
    app.clock.advance(chrono::TimeDelta::days(31));
    // (A month on, the sessions are signed in again.)
    let (other, _) = app.login("other@example.com", PASSWORD).await;
    let (bori, _) = app.login("bori@example.com", PASSWORD).await;
    assert_eq!(
        patch_me(&app, &other, json!({"nickname": "초코맘"}))
            .await
            .status(),
        200
    );
    assert_eq!(me(&app, &other).await.nickname.as_deref(), Some("초코맘"));
    // The freed nickname is anyone's again.
    assert_eq!(
        patch_me(&app, &bori, json!({"nickname": "초코아빠"}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_profile_shows_pets_and_what_a_member_shares() {
    let app = TestApp::spawn().await;
    let (id, seller) = member_named(&app, "seller@example.com", "중고왕").await;
    app.post_ok(
        "/api/v1/pets",
        Some(&seller),
        json!({"name": "보리", "species": "DOG"}),
    )
    .await;
    post(&app, &seller, "첫 글", "안녕하세요").await;
    let sold = listing(&app, &seller, "켄넬").await;
    listing(&app, &seller, "사료").await;
    app.send_ok(
        Method::PATCH,
        &format!("/api/v1/trade-boards/{sold}/status"),
        Some(&seller),
        Some(json!({"status": "SOLD"})),
    )
    .await;
    patch_me(&app, &seller, json!({"bio": "정리 중이에요"})).await;

    let profile: Profile =
        serde_json::from_value(app.get_ok(&format!("/api/v1/users/{id}/profile")).await).unwrap();
    assert_eq!(profile.user_id, id);
    assert_eq!(profile.nickname, "중고왕");
    assert_eq!(profile.bio, "정리 중이에요");
    assert_eq!(profile.pets.len(), 1);
    assert_eq!(
        (
            profile.pets[0].name.as_str(),
            profile.pets[0].species.as_str()
        ),
        ("보리", "DOG")
    );
    assert_eq!(
        (
            profile.post_count,
            profile.listing_count,
            profile.sold_count
        ),
        (1, 2, 1)
    );
    assert_problem(
        app.send(Method::GET, "/api/v1/users/999999/profile", None, None)
            .await,
        404,
        "USER_NOT_FOUND",
    )
    .await;
}

#[derive(Debug, Deserialize)]
struct Listed {
    items: Vec<Authored>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Authored {
    id: i64,
    #[serde(alias = "seller_id")]
    author_id: i64,
}

#[tokio::test]
async fn a_members_posts_and_listings_are_listed_on_their_own() {
    let app = TestApp::spawn().await;
    let (mine, me) = app.user("me@example.com").await;
    let (_, other) = app.user("other@example.com").await;
    let mut my_posts = Vec::new();
    for n in 0..3 {
        my_posts.push(
            post(&app, &me, &format!("산책 {n}"), "한강").await["id"]
                .as_i64()
                .unwrap(),
        );
        post(&app, &other, &format!("간식 {n}"), "산책 후 간식").await;
    }
    let my_listing = listing(&app, &me, "켄넬").await;
    listing(&app, &other, "사료").await;

    // Newest first, paged, for guests too.
    let first: Listed = serde_json::from_value(
        app.get_ok(&format!("/api/v1/owner-boards?author_id={mine}&limit=2"))
            .await,
    )
    .unwrap();
    assert_eq!(
        first.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [my_posts[2], my_posts[1]]
    );
    let cursor = first.next_cursor.expect("a second page");
    let second: Listed = serde_json::from_value(
        app.get_ok(&format!(
            "/api/v1/owner-boards?author_id={mine}&limit=2&cursor={cursor}"
        ))
        .await,
    )
    .unwrap();
    assert_eq!(
        second.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [my_posts[0]]
    );
    // With a search, and by recent likes, still only theirs.
    let searched: Listed = serde_json::from_value(
        app.get_ok(&format!("/api/v1/owner-boards?author_id={mine}&q=산책"))
            .await,
    )
    .unwrap();
    assert_eq!(searched.items.len(), 3);
    assert!(searched.items.iter().all(|p| p.author_id == mine));

    let listings: Listed = serde_json::from_value(
        app.get_ok(&format!("/api/v1/trade-boards?seller_id={mine}"))
            .await,
    )
    .unwrap();
    assert_eq!(
        listings
            .items
            .iter()
            .map(|l| (l.id, l.author_id))
            .collect::<Vec<_>>(),
        [(my_listing, mine)]
    );
    // Someone with nothing shared lists nothing; a bad id is refused.
    let none: Listed =
        serde_json::from_value(app.get_ok("/api/v1/owner-boards?author_id=999999").await).unwrap();
    assert!(none.items.is_empty());
    let refused = app
        .send(
            Method::GET,
            "/api/v1/trade-boards?seller_id=abc",
            None,
            None,
        )
        .await;
    assert_eq!(refused.status(), 400);
}

#[derive(Debug, Deserialize)]
struct MyComments {
    items: Vec<MyComment>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MyComment {
    id: i64,
    post_id: i64,
    post_title: String,
    content: String,
    author_name: String,
}

#[tokio::test]
async fn my_comments_are_listed_newest_first_with_their_posts() {
    let app = TestApp::spawn().await;
    let (_, me) = member_named(&app, "me@example.com", "댓글러").await;
    let (_, other) = app.user("other@example.com").await;
    let walk = post(&app, &other, "산책 코스", "어디?").await["id"]
        .as_i64()
        .unwrap();
    let gone = post(&app, &other, "지울 글", "곧 지워요").await["id"]
        .as_i64()
        .unwrap();
    let comment = |post: i64, text: &str| {
        let (app, me) = (&app, &me);
        let text = text.to_owned();
        async move {
            app.post_ok(
                &format!("/api/v1/owner-boards/{post}/comments"),
                Some(me),
                json!({"content": text}),
            )
            .await["id"]
                .as_i64()
                .unwrap()
        }
    };
    let first = comment(walk, "한강이요").await;
    let withdrawn = comment(walk, "취소").await;
    comment(gone, "안녕").await;
    let last = comment(walk, "남산도요").await;
    app.send(
        Method::DELETE,
        &format!("/api/v1/owner-boards/{walk}/comments/{withdrawn}"),
        Some(&me),
        None,
    )
    .await;
    app.send(
        Method::DELETE,
        &format!("/api/v1/owner-boards/{gone}"),
        Some(&other),
        None,
    )
    .await;

    let page: MyComments = serde_json::from_value(
        app.get_ok_as("/api/v1/users/me/comments?limit=1", &me)
            .await,
    )
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        (
            page.items[0].id,
            page.items[0].post_id,
            page.items[0].post_title.as_str()
        ),
        (last, walk, "산책 코스")
    );
    assert_eq!(page.items[0].author_name, "댓글러");
    let cursor = page.next_cursor.expect("more");
    let rest: MyComments = serde_json::from_value(
        app.get_ok_as(&format!("/api/v1/users/me/comments?cursor={cursor}"), &me)
            .await,
    )
    .unwrap();
    assert_eq!(
        rest.items
            .iter()
            .map(|c| (c.id, c.content.as_str()))
            .collect::<Vec<_>>(),
        [(first, "한강이요")],
        "deleted comments and comments on deleted posts are left out"
    );
    assert!(rest.next_cursor.is_none());
    // Someone else's list holds none of mine.
    let theirs: MyComments =
        serde_json::from_value(app.get_ok_as("/api/v1/users/me/comments", &other).await).unwrap();
    assert!(theirs.items.is_empty());
}
