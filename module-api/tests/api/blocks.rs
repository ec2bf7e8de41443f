//! A block hides the blocked member's content from the blocker everywhere they read it: posts
//! (lists, search, one member's posts, detail, bookmarks), listings (lists, search, detail,
//! wishes) and album photos (the feed, their months). Comments show as placeholders and do not
//! cross (`owner_board.rs`, `answers.rs`); chat stops both ways (`chat_rooms.rs`). Others and
//! guests read as before; lifting the block shows it all again.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Member, Page};
use crate::fixtures::image;
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Titled {
    title: String,
}

#[derive(Debug, Deserialize)]
struct FeedPhoto {
    caption: String,
}

#[derive(Debug, Deserialize)]
struct Month {
    items: Vec<FeedPhoto>,
}

fn titles(page: &Page<Titled>) -> Vec<&str> {
    page.items.iter().map(|item| item.title.as_str()).collect()
}

async fn block(blocker: &Member, blocked: &Member) {
    let response = blocker
        .request(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", blocked.id),
            None,
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

async fn unblock(blocker: &Member, blocked: &Member) {
    let response = blocker
        .request(
            Method::DELETE,
            &format!("/api/v1/users/me/blocks/{}", blocked.id),
            None,
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// `reader`'s view of a list of titled things.
async fn read(reader: &impl Client, path: &str) -> Vec<String> {
    let page: Page<Titled> = reader.get(path).await;
    titles(&page).into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_blocked_members_posts_are_gone_for_the_blocker_alone() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let pest = app.member("pest@example.com").await;
    let friend = app.member("friend@example.com").await;
    let theirs = app.post_by(&pest, "산책 사진 보세요", "한강 산책").await;
    app.post_by(&friend, "산책 모임", "토요일 한강").await;
    let _: serde_json::Value = me
        .put(
            &format!("/api/v1/owner-boards/{}/bookmark", theirs.id),
            json!({}),
        )
        .await;
    let _: serde_json::Value = me
        .put(
            &format!("/api/v1/owner-boards/{}/like", theirs.id),
            json!({}),
        )
        .await;
    block(&me, &pest).await;

    let board = "/api/v1/owner-boards";
    assert_eq!(read(&me, board).await, ["산책 모임"]);
    assert_eq!(read(&me, &format!("{board}?q=산책")).await, ["산책 모임"]);
    assert_eq!(
        read(&me, &format!("{board}?sort=popular")).await,
        Vec::<String>::new()
    );
    assert!(
        read(&me, &format!("{board}?author_id={}", pest.id))
            .await
            .is_empty()
    );
    assert!(read(&me, "/api/v1/users/me/bookmarks").await.is_empty());
    assert!(read(&me, "/api/v1/users/me/liked-posts").await.is_empty());
    assert_problem(
        me.request(Method::GET, &format!("{board}/{}", theirs.id), None)
            .await,
        404,
        "POST_NOT_FOUND",
    )
    .await;

    // Others, and guests, read as before.
    assert_eq!(
        read(&friend, board).await,
        ["산책 모임", "산책 사진 보세요"]
    );
    assert_eq!(
        read(&app.guest(), board).await,
        ["산책 모임", "산책 사진 보세요"]
    );
    assert_eq!(
        read(&friend, &format!("{board}?sort=popular")).await,
        ["산책 사진 보세요"]
    );

    unblock(&me, &pest).await;
    assert_eq!(read(&me, board).await, ["산책 모임", "산책 사진 보세요"]);
    assert_eq!(
        read(&me, "/api/v1/users/me/bookmarks").await,
        ["산책 사진 보세요"]
    );
}

#[tokio::test]
async fn the_cached_first_page_is_read_again_for_a_reader_who_blocks_an_author_on_it() {
    let app = TestApp::builder()
        .board_page_cache(Duration::from_secs(60))
        .spawn()
        .await;
    let me = app.member("me@example.com").await;
    let pest = app.member("pest@example.com").await;
    let friend = app.member("friend@example.com").await;
    app.post_by(&pest, "광고", "...").await;
    app.post_by(&friend, "산책 모임", "토요일").await;
    // The page is cached as everyone reads it.
    let board = "/api/v1/owner-boards";
    assert_eq!(read(&app.guest(), board).await, ["산책 모임", "광고"]);
    block(&me, &pest).await;

    assert_eq!(read(&me, board).await, ["산책 모임"]);
    assert_eq!(read(&friend, board).await, ["산책 모임", "광고"]);
}

#[tokio::test]
async fn a_blocked_members_listings_are_gone_for_the_blocker() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let pest = app.member("pest@example.com").await;
    let friend = app.member("friend@example.com").await;
    let theirs = app.listing_by(&pest, "캣타워 급처").await;
    app.listing_by(&friend, "캣타워 새것").await;
    let _: serde_json::Value = me
        .put(
            &format!("/api/v1/trade-boards/{}/wish", theirs.id),
            json!({}),
        )
        .await;
    block(&me, &pest).await;

    let board = "/api/v1/trade-boards";
    assert_eq!(read(&me, board).await, ["캣타워 새것"]);
    assert_eq!(
        read(&me, &format!("{board}?q=캣타워")).await,
        ["캣타워 새것"]
    );
    assert!(
        read(&me, &format!("{board}?seller_id={}", pest.id))
            .await
            .is_empty()
    );
    assert!(read(&me, "/api/v1/users/me/wishes").await.is_empty());
    assert_problem(
        me.request(Method::GET, &format!("{board}/{}", theirs.id), None)
            .await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    assert_eq!(read(&friend, board).await, ["캣타워 새것", "캣타워 급처"]);
    assert_eq!(
        read(&app.guest(), board).await,
        ["캣타워 새것", "캣타워 급처"]
    );

    unblock(&me, &pest).await;
    assert_eq!(read(&me, "/api/v1/users/me/wishes").await, ["캣타워 급처"]);
}

#[tokio::test]
async fn a_blocked_members_album_photos_are_gone_for_the_blocker() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let pest = app.member("pest@example.com").await;
    let friend = app.member("friend@example.com").await;
    for (member, caption) in [(&pest, "보리의 하루"), (&friend, "나비의 하루")] {
        let key = image(&app, &member.token, "ALBUM").await;
        let response = member
            .request(
                Method::PUT,
                "/api/v1/users/me/albums/2026-11-20",
                Some(json!({"image_key": key, "caption": caption, "visibility": "PUBLIC"})),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    block(&me, &pest).await;

    let captions = |page: Page<FeedPhoto>| -> Vec<String> {
        page.items.into_iter().map(|photo| photo.caption).collect()
    };
    let feed = "/api/v1/albums/feed";
    assert_eq!(captions(me.get(feed).await), ["나비의 하루"]);
    assert_eq!(
        captions(friend.get(feed).await),
        ["나비의 하루", "보리의 하루"]
    );
    assert_eq!(
        captions(app.guest().get(feed).await),
        ["나비의 하루", "보리의 하루"]
    );
    let month = format!("/api/v1/users/{}/albums?month=2026-11", pest.id);
    let blocked: Month = me.get(&month).await;
    assert!(blocked.items.is_empty());
    let seen: Month = friend.get(&month).await;
    assert_eq!(seen.items.len(), 1);
}
