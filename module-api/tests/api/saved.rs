//! What a member keeps for themself: posts bookmarked to read later, the posts they liked, and
//! listings they wish for (찜), each listed newest first. A seller learns that someone wished
//! for their listing (once per member, never who); wishers learn when the price drops.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Community, Listing};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Bookmark {
    bookmarked: bool,
}

#[derive(Debug, Deserialize)]
struct SavedPost {
    id: i64,
    title: String,
    liked_by_me: bool,
    saved_at: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Wish {
    wished: bool,
    wish_count: i64,
}

#[derive(Debug, Deserialize)]
struct WishedListing {
    id: i64,
    title: String,
    wish_count: i64,
    wished_at: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Wished {
    listing_id: i64,
    wish_count: i64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct PriceDropped {
    listing_id: i64,
    old_price: i64,
    new_price: i64,
}

fn titles<T>(page: &Page<T>, title: impl Fn(&T) -> &str) -> Vec<&str> {
    page.items.iter().map(title).collect()
}

async fn wish(member: &Member, listing: i64) -> Wish {
    member
        .put(&format!("/api/v1/trade-boards/{listing}/wish"), json!({}))
        .await
}

async fn block(blocker: &Member, blocked: &Member) {
    let path = format!("/api/v1/users/me/blocks/{}", blocked.id);
    let response = blocker.request(Method::PUT, &path, None).await;
    assert!(response.status().is_success());
}

async fn notices_of<D: serde::de::DeserializeOwned>(member: &Member, kind: &str) -> Vec<D> {
    let all = member.notifications_as::<serde_json::Value>().await;
    all.into_iter()
        .filter(|notification| notification.kind == kind)
        .map(|notification| serde_json::from_value(notification.data).unwrap())
        .collect()
}

#[tokio::test]
async fn bookmarks_are_mine_alone_newest_first_and_drop_deleted_posts() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let walk = app.post_by(&author, "산책 코스", "한강").await;
    let treats = app.post_by(&author, "간식 추천", "고구마").await;
    let gone = app.post_by(&author, "곧 지울 글", "...").await;

    for post in [walk.id, treats.id, gone.id, walk.id] {
        let saved: Bookmark = reader
            .put(&format!("/api/v1/owner-boards/{post}/bookmark"), json!({}))
            .await;
        assert!(saved.bookmarked);
    }
    // Deleted by its author, it drops out of the list.
    let () = author
        .delete(&format!("/api/v1/owner-boards/{}", gone.id))
        .await;

    let page: Page<SavedPost> = reader.get("/api/v1/users/me/bookmarks").await;
    assert_eq!(
        titles(&page, |post| &post.title),
        ["간식 추천", "산책 코스"],
        "the latest bookmark first; bookmarking again moves nothing"
    );
    assert!(page.items.iter().all(|post| !post.saved_at.is_empty()));
    let nobody: Page<SavedPost> = author.get("/api/v1/users/me/bookmarks").await;
    assert!(nobody.items.is_empty(), "bookmarks are each member's own");

    // Paged by the bookmark.
    let first: Page<SavedPost> = reader.get("/api/v1/users/me/bookmarks?limit=1").await;
    let cursor = first.next_cursor.expect("a second page");
    let second: Page<SavedPost> = reader
        .get(&format!(
            "/api/v1/users/me/bookmarks?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(second.items[0].id, walk.id);
    assert_eq!(second.next_cursor, None);

    let removed: Bookmark = reader
        .delete(&format!("/api/v1/owner-boards/{}/bookmark", treats.id))
        .await;
    assert!(!removed.bookmarked);
    let again: Bookmark = reader
        .delete(&format!("/api/v1/owner-boards/{}/bookmark", treats.id))
        .await;
    assert!(
        !again.bookmarked,
        "taking a bookmark away twice is harmless"
    );
    let page: Page<SavedPost> = reader.get("/api/v1/users/me/bookmarks").await;
    assert_eq!(titles(&page, |post| &post.title), ["산책 코스"]);
}

#[tokio::test]
async fn what_cannot_be_bookmarked_is_refused() {
    let app = TestApp::spawn().await;
    let reader = app.member("reader@example.com").await;
    let guest = app.guest();
    assert_problem(
        reader
            .request(Method::PUT, "/api/v1/owner-boards/999999/bookmark", None)
            .await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    assert_problem(
        guest
            .request(Method::GET, "/api/v1/users/me/bookmarks", None)
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_problem(
        reader
            .request(Method::GET, "/api/v1/users/me/bookmarks?cursor=abc", None)
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
}

#[tokio::test]
async fn the_posts_i_like_are_listed_by_the_latest_like() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let walk = app.post_by(&author, "산책 코스", "한강").await;
    let treats = app.post_by(&author, "간식 추천", "고구마").await;
    for post in [treats.id, walk.id] {
        let _: serde_json::Value = reader
            .put(&format!("/api/v1/owner-boards/{post}/like"), json!({}))
            .await;
    }

    let page: Page<SavedPost> = reader.get("/api/v1/users/me/liked-posts").await;
    assert_eq!(
        titles(&page, |post| &post.title),
        ["산책 코스", "간식 추천"]
    );
    assert!(page.items.iter().all(|post| post.liked_by_me));

    let _: serde_json::Value = reader
        .delete(&format!("/api/v1/owner-boards/{}/like", walk.id))
        .await;
    let page: Page<SavedPost> = reader.get("/api/v1/users/me/liked-posts").await;
    assert_eq!(titles(&page, |post| &post.title), ["간식 추천"]);
}

#[tokio::test]
async fn a_wish_is_counted_on_the_listing_and_its_seller_is_told_once_never_who() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let buyer = app.member("buyer@example.com").await;
    let other = app.member("other@example.com").await;
    let tower = app.listing_by(&seller, "캣타워").await;

    let wished = wish(&buyer, tower.id).await;
    assert_eq!(
        wished,
        Wish {
            wished: true,
            wish_count: 1
        }
    );
    assert_eq!(wish(&buyer, tower.id).await.wish_count, 1, "idempotent");
    // Taken back and wished again: counted once, and the seller is not told twice.
    let unwished: Wish = buyer
        .delete(&format!("/api/v1/trade-boards/{}/wish", tower.id))
        .await;
    assert_eq!(
        unwished,
        Wish {
            wished: false,
            wish_count: 0
        }
    );
    wish(&buyer, tower.id).await;
    assert_eq!(wish(&other, tower.id).await.wish_count, 2);

    let listing: Listing = app
        .guest()
        .get(&format!("/api/v1/trade-boards/{}", tower.id))
        .await;
    assert_eq!(listing.wish_count, 2, "everyone reads the count");

    app.relay_events().await;
    let told: Vec<Wished> = notices_of(&seller, "LISTING_WISHED").await;
    assert_eq!(
        told,
        [
            Wished {
                listing_id: tower.id,
                wish_count: 2
            },
            Wished {
                listing_id: tower.id,
                wish_count: 1
            },
        ],
        "one notice per member who wished, newest first"
    );
    let raw = seller.notifications().await;
    let wished_notice = raw
        .iter()
        .find(|notification| notification.kind == "LISTING_WISHED")
        .unwrap();
    assert_eq!(wished_notice.title, "누군가 내 상품을 찜했어요");
    let buyer_name = format!("회원{}", buyer.id);
    assert!(
        !wished_notice.body.contains(&buyer_name),
        "never who: {wished_notice:?}"
    );

    let mine: Page<WishedListing> = buyer.get("/api/v1/users/me/wishes").await;
    assert_eq!(titles(&mine, |listing| &listing.title), ["캣타워"]);
    assert_eq!(mine.items[0].id, tower.id);
    assert_eq!(mine.items[0].wish_count, 2);
    assert!(!mine.items[0].wished_at.is_empty());
}

#[tokio::test]
async fn a_seller_does_not_wish_for_their_own_nor_anyone_for_a_sold_listing() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let buyer = app.member("buyer@example.com").await;
    let tower = app.listing_by(&seller, "캣타워").await;
    let path = format!("/api/v1/trade-boards/{}/wish", tower.id);

    assert_problem(
        seller.request(Method::PUT, &path, None).await,
        422,
        "OWN_LISTING",
    )
    .await;
    let _: Listing = seller
        .patch(
            &format!("/api/v1/trade-boards/{}/status", tower.id),
            json!({"status": "SOLD"}),
        )
        .await;
    assert_problem(
        buyer.request(Method::PUT, &path, None).await,
        409,
        "LISTING_SOLD",
    )
    .await;
    assert_problem(
        buyer
            .request(Method::PUT, "/api/v1/trade-boards/999999/wish", None)
            .await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    let listing: Listing = app
        .guest()
        .get(&format!("/api/v1/trade-boards/{}", tower.id))
        .await;
    assert_eq!(listing.wish_count, 0, "nothing refused was counted");
}

#[tokio::test]
async fn wishers_are_told_when_the_price_drops_but_not_across_a_block() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let fan = app.member("fan@example.com").await;
    let blocked = app.member("blocked@example.com").await;
    let tower = app.listing_by(&seller, "캣타워").await;
    wish(&fan, tower.id).await;
    wish(&blocked, tower.id).await;
    block(&seller, &blocked).await;

    let path = format!("/api/v1/trade-boards/{}", tower.id);
    // The seller was told of the wish made before the block, and hears of none across it.
    let late = app.member("late@example.com").await;
    block(&seller, &late).await;
    wish(&late, tower.id).await;
    app.relay_events().await;
    let wished: Vec<Wished> = notices_of(&seller, "LISTING_WISHED").await;
    assert_eq!(
        wished.len(),
        2,
        "the fan's and the blocked member's, not the late one's"
    );
    let _: Listing = seller.patch(&path, json!({"price": 35_000})).await;
    let _: Listing = seller.patch(&path, json!({"price": 25_000})).await;
    app.relay_events().await;

    let told: Vec<PriceDropped> = notices_of(&fan, "WISHED_PRICE_DROPPED").await;
    assert_eq!(
        told,
        [PriceDropped {
            listing_id: tower.id,
            old_price: 35_000,
            new_price: 25_000
        }],
        "a raise tells nobody; the drop tells each wisher once"
    );
    let across_a_block: Vec<PriceDropped> = notices_of(&blocked, "WISHED_PRICE_DROPPED").await;
    assert!(across_a_block.is_empty());
}

#[tokio::test]
async fn concurrent_wishes_are_all_counted() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let tower = app.listing_by(&seller, "캣타워").await;
    let crowd = app.crowd_of(12).await;
    let wishes = crowd.iter().map(|member| wish(member, tower.id));
    futures_util::future::join_all(wishes).await;

    let listing: Listing = app
        .guest()
        .get(&format!("/api/v1/trade-boards/{}", tower.id))
        .await;
    assert_eq!(listing.wish_count, 12);
    let path = format!("/api/v1/trade-boards/{}/wish", tower.id);
    let _: Vec<Wish> =
        futures_util::future::join_all(crowd.iter().map(|member| member.delete(&path))).await;
    let listing: Listing = app
        .guest()
        .get(&format!("/api/v1/trade-boards/{}", tower.id))
        .await;
    assert_eq!(listing.wish_count, 0);
}
