//! Members appear by the nickname they choose, never by the name they signed up with; their
//! public profile shows what they share.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Created, get_as};
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

/// A refusal that says when the nickname may change again.
#[derive(Debug, Deserialize)]
struct TooSoon {
    context: TooSoonContext,
}

#[derive(Debug, Deserialize)]
struct TooSoonContext {
    nickname_changeable_at: Option<String>,
}

/// Signs up `email` with a nickname (and the real name "김보리"), verified and logged in.
async fn member_named(app: &TestApp, email: &str, nickname: &str) -> Member {
    let response = app
        .guest()
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(
                json!({"email": email, "password": PASSWORD, "name": "김보리", "nickname": nickname}),
            ),
        )
        .await;
    assert_eq!(response.status(), 202);
    let id = app.user_id(email).await;
    app.verify_email(id).await;
    let (token, _) = app.login(email, PASSWORD).await;
    app.member_of(id, email, token)
}

async fn patch_me(member: &Member, body: Value) -> reqwest::Response {
    member
        .request(Method::PATCH, "/api/v1/users/me", Some(body))
        .await
}

#[tokio::test]
async fn guests_and_members_see_the_nickname_and_never_the_name_or_email() {
    let app = TestApp::spawn().await;
    let author = member_named(&app, "bori@example.com", "보리맘").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let created = app.post_by(&author, "오늘의 보리", "산책 다녀왔어요").await;
    let post_path = format!("/api/v1/owner-boards/{}", created.id);
    let _: Value = author
        .post(
            &format!("{post_path}/comments"),
            json!({"content": "사진 곧 올릴게요"}),
        )
        .await;
    app.listing_by(&author, "안 쓰는 하네스").await;

    for path in [
        "/api/v1/owner-boards".to_owned(),
        post_path.clone(),
        format!("{post_path}/comments"),
        "/api/v1/trade-boards".to_owned(),
        format!("/api/v1/users/{}/profile", author.id),
    ] {
        for reader in [None, Some(&other)] {
            let response = get_as(&app, reader, &path).await;
            assert_eq!(response.status(), 200, "{path}");
            // The raw text: no field anywhere may hold the name or the email.
            let body = response.text().await.unwrap();
            assert!(body.contains("보리맘"), "{path}: {body}");
            assert!(!body.contains("김보리"), "{path} shows the name: {body}");
            assert!(!body.contains("bori@example.com"), "{path} shows the email");
        }
    }
    // A member who chose none is `회원<id>` until they do.
    let profile: Profile = guest
        .get(&format!("/api/v1/users/{}/profile", other.id))
        .await;
    assert_eq!(profile.nickname, format!("회원{}", other.id));
}

#[tokio::test]
async fn a_nickname_is_one_members_and_changes_at_most_once_a_month() {
    let app = TestApp::spawn().await;
    let bori = member_named(&app, "bori@example.com", "Bori").await;
    // Taken whatever the case, at sign-up and later.
    let response = app
        .guest()
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(
                json!({"email": "copy@example.com", "password": PASSWORD, "name": "Copy",
                   "nickname": "bori"}),
            ),
        )
        .await;
    assert_problem(response, 409, "NICKNAME_TAKEN").await;
    let other = app.member("other@example.com").await;
    assert_problem(
        patch_me(&other, json!({"nickname": "BORI"})).await,
        409,
        "NICKNAME_TAKEN",
    )
    .await;
    // Bad ones, and the generated ones, are refused and change nothing.
    for bad in ["b", "보리 맘", "bori!", "회원12", "\u{0}ab"] {
        assert_problem(
            patch_me(&other, json!({"nickname": bad})).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }
    let before: Me = other.get("/api/v1/users/me").await;
    assert_eq!(before.nickname, Some(format!("회원{}", before.id)));
    assert_eq!(
        before.nickname_changeable_at, None,
        "the first choice is free"
    );

    // A first change, then none for 30 days (the same one again changes nothing).
    let response = patch_me(
        &other,
        json!({"nickname": "초코아빠", "bio": "푸들 키워요"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let changed: Me = other.get("/api/v1/users/me").await;
    assert_eq!(changed.nickname.as_deref(), Some("초코아빠"));
    assert_eq!(changed.bio, "푸들 키워요");
    let next = changed.nickname_changeable_at.expect("a next change");
    assert_eq!(
        patch_me(&other, json!({"nickname": "초코아빠"}))
            .await
            .status(),
        200
    );
    let problem = assert_problem(
        patch_me(&other, json!({"nickname": "초코맘"})).await,
        409,
        "NICKNAME_RECENTLY_CHANGED",
    )
    .await;
    let too_soon: TooSoon = serde_json::from_value(problem).unwrap();
    assert_eq!(
        too_soon.context.nickname_changeable_at,
        Some(next.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    );
    app.clock.advance(chrono::TimeDelta::days(31));
    // (A month on, the sessions are signed in again.)
    let other = other.logged_in_again(&app).await;
    let bori = bori.logged_in_again(&app).await;
    assert_eq!(
        patch_me(&other, json!({"nickname": "초코맘"}))
            .await
            .status(),
        200
    );
    let now: Me = other.get("/api/v1/users/me").await;
    assert_eq!(now.nickname.as_deref(), Some("초코맘"));
    // The freed nickname is anyone's again.
    assert_eq!(
        patch_me(&bori, json!({"nickname": "초코아빠"}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_profile_shows_pets_and_what_a_member_shares() {
    let app = TestApp::spawn().await;
    let seller = member_named(&app, "seller@example.com", "중고왕").await;
    let guest = app.guest();
    let _: Value = seller
        .post("/api/v1/pets", json!({"name": "보리", "species": "DOG"}))
        .await;
    app.post_by(&seller, "첫 글", "안녕하세요").await;
    let sold = app.listing_by(&seller, "켄넬").await.id;
    app.listing_by(&seller, "사료").await;
    let _: Value = seller
        .patch(
            &format!("/api/v1/trade-boards/{sold}/status"),
            json!({"status": "SOLD"}),
        )
        .await;
    patch_me(&seller, json!({"bio": "정리 중이에요"})).await;

    let profile: Profile = guest
        .get(&format!("/api/v1/users/{}/profile", seller.id))
        .await;
    assert_eq!(profile.user_id, seller.id);
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
        guest
            .request(Method::GET, "/api/v1/users/999999/profile", None)
            .await,
        404,
        "USER_NOT_FOUND",
    )
    .await;
}

/// A post or a listing, with whom it is by.
#[derive(Debug, Deserialize)]
struct Authored {
    id: i64,
    #[serde(alias = "seller_id")]
    author_id: i64,
}

#[tokio::test]
async fn a_members_posts_and_listings_are_listed_on_their_own() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let mine = me.id;
    let mut my_posts = Vec::new();
    for n in 0..3 {
        my_posts.push(app.post_by(&me, &format!("산책 {n}"), "한강").await.id);
        app.post_by(&other, &format!("간식 {n}"), "산책 후 간식")
            .await;
    }
    let my_listing = app.listing_by(&me, "켄넬").await.id;
    app.listing_by(&other, "사료").await;

    // Newest first, paged, for guests too.
    let first: Page<Authored> = guest
        .get(&format!("/api/v1/owner-boards?author_id={mine}&limit=2"))
        .await;
    assert_eq!(
        first.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [my_posts[2], my_posts[1]]
    );
    let cursor = first.next_cursor.expect("a second page");
    let second: Page<Authored> = guest
        .get(&format!(
            "/api/v1/owner-boards?author_id={mine}&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(
        second.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [my_posts[0]]
    );
    // With a search, and by recent likes, still only theirs.
    let searched: Page<Authored> = guest
        .get(&format!("/api/v1/owner-boards?author_id={mine}&q=산책"))
        .await;
    assert_eq!(searched.items.len(), 3);
    assert!(searched.items.iter().all(|p| p.author_id == mine));

    let listings: Page<Authored> = guest
        .get(&format!("/api/v1/trade-boards?seller_id={mine}"))
        .await;
    assert_eq!(
        listings
            .items
            .iter()
            .map(|l| (l.id, l.author_id))
            .collect::<Vec<_>>(),
        [(my_listing, mine)]
    );
    // Someone with nothing shared lists nothing; a bad id is refused.
    let none: Page<Authored> = guest.get("/api/v1/owner-boards?author_id=999999").await;
    assert!(none.items.is_empty());
    let refused = guest
        .request(Method::GET, "/api/v1/trade-boards?seller_id=abc", None)
        .await;
    assert_eq!(refused.status(), 400);
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
    let me = member_named(&app, "me@example.com", "댓글러").await;
    let other = app.member("other@example.com").await;
    let walk = app.post_by(&other, "산책 코스", "어디?").await.id;
    let gone = app.post_by(&other, "지울 글", "곧 지워요").await.id;
    let comment = |post: i64, text: &str| {
        let me = me.clone();
        let body = json!({"content": text});
        async move {
            let created: Created = me
                .post(&format!("/api/v1/owner-boards/{post}/comments"), body)
                .await;
            created.id
        }
    };
    let first = comment(walk, "한강이요").await;
    let withdrawn = comment(walk, "취소").await;
    comment(gone, "안녕").await;
    let last = comment(walk, "남산도요").await;
    me.request(
        Method::DELETE,
        &format!("/api/v1/owner-boards/{walk}/comments/{withdrawn}"),
        None,
    )
    .await;
    other
        .request(
            Method::DELETE,
            &format!("/api/v1/owner-boards/{gone}"),
            None,
        )
        .await;

    let page: Page<MyComment> = me.get("/api/v1/users/me/comments?limit=1").await;
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
    let rest: Page<MyComment> = me
        .get(&format!("/api/v1/users/me/comments?cursor={cursor}"))
        .await;
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
    let theirs: Page<MyComment> = other.get("/api/v1/users/me/comments").await;
    assert!(theirs.items.is_empty());
}
