//! Admins find content without waiting for a report: posts, comments and listings (hidden and
//! deleted ones too) by words, author and hiddenness, and a member's whole record.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Community, body_of};
use crate::util::{TestApp, assert_problem};

/// Who wrote an item, as admins see them.
#[derive(Debug, Deserialize)]
struct Author {
    id: i64,
    nickname: String,
    status: String,
}

/// A post in an admin's list.
#[derive(Debug, Deserialize)]
struct AdminPost {
    id: i64,
    title: String,
    excerpt: String,
    author: Author,
    hidden: bool,
    hidden_at: Option<String>,
    deleted: bool,
    deleted_at: Option<String>,
}

/// A comment in an admin's list.
#[derive(Debug, Deserialize)]
struct AdminComment {
    id: i64,
    post_id: i64,
    post_title: String,
    parent_id: Option<i64>,
    content: String,
    author: Author,
    hidden: bool,
    deleted: bool,
}

/// A listing in an admin's list.
#[derive(Debug, Deserialize)]
struct AdminListing {
    id: i64,
    title: String,
    price: i64,
    status: String,
    author: Author,
    hidden: bool,
    deleted: bool,
}

#[derive(Debug, Deserialize)]
struct Counts {
    total: i64,
    hidden: i64,
    deleted: i64,
}

#[derive(Debug, Deserialize)]
struct RecordCounts {
    posts: Counts,
    comments: Counts,
    listings: Counts,
    chat_messages: Counts,
    reports_made: i64,
    reports_received: i64,
}

#[derive(Debug, Deserialize)]
struct Account {
    id: i64,
    email: String,
    status: String,
    role: String,
    suspended_until: Option<String>,
    suspension_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RecordReport {
    id: i64,
    reporter_id: i64,
    target_type: String,
    target_id: i64,
    reason: String,
    status: String,
}

/// A member's record.
#[derive(Debug, Deserialize)]
struct Record {
    account: Account,
    counts: RecordCounts,
    reports_made: Vec<RecordReport>,
    reports_received: Vec<RecordReport>,
    posts: Vec<AdminPost>,
    comments: Vec<AdminComment>,
    listings: Vec<AdminListing>,
}

/// An admin's decision (`HIDE`, `DELETE`, `DISMISS`) about some content.
async fn decide(admin: &Member, target_type: &str, id: i64, action: &str) {
    let _: serde_json::Value = admin
        .post(
            "/api/v1/admin/moderation-decisions",
            json!({"target_type": target_type, "target_id": id, "action": action,
                   "note": "seen in the admin lists"}),
        )
        .await;
}

/// A report of some content by `reporter` (201).
async fn report(reporter: &Member, target_type: &str, id: i64) -> i64 {
    let response = reporter
        .request(
            Method::POST,
            "/api/v1/reports",
            Some(json!({"target_type": target_type, "target_id": id, "reason": "ABUSE"})),
        )
        .await;
    body_of::<RecordReportId>(response, 201).await.id
}

#[derive(Debug, Deserialize)]
struct RecordReportId {
    id: i64,
}

fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> i64) -> Vec<i64> {
    page.items.iter().map(id).collect()
}

#[tokio::test]
async fn admins_find_posts_hidden_and_deleted_by_words_author_and_hiddenness() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bori = app.member("bori@example.com").await;
    let choco = app.member("choco@example.com").await;
    let walk = app
        .post_by(&bori, "한강 산책로 후기", "bori walked by the river")
        .await;
    let spam = app
        .post_by(&bori, "Cheap followers", "buy followers here")
        .await;
    let gone = app.post_by(&bori, "Old news", "nothing to see").await;
    let meetup = app.post_by(&choco, "산책 모임", "Saturday walk").await;
    decide(&admin, "POST", spam.id, "HIDE").await;
    let () = bori
        .delete(&format!("/api/v1/owner-boards/{}", gone.id))
        .await;

    // Everything, newest first, each saying whether readers still see it.
    let all: Page<AdminPost> = admin.get("/api/v1/admin/posts").await;
    assert_eq!(
        ids(&all, |post| post.id),
        [meetup.id, gone.id, spam.id, walk.id]
    );
    let hidden = &all.items[2];
    assert!(hidden.hidden && hidden.hidden_at.is_some());
    assert!(!hidden.deleted && hidden.deleted_at.is_none());
    assert_eq!(hidden.title, "Cheap followers");
    assert_eq!(hidden.excerpt, "buy followers here");
    let deleted = &all.items[1];
    assert!(deleted.deleted && deleted.deleted_at.is_some());
    assert!(!deleted.hidden && deleted.hidden_at.is_none());
    assert_eq!(hidden.author.id, bori.id);
    assert_eq!(hidden.author.nickname, walk.author_name);
    assert_eq!(hidden.author.status, "ACTIVE");
    assert_eq!(all.items[0].author.id, choco.id);

    // Words as the boards search them (Korean substrings too), hidden content included.
    let walks: Page<AdminPost> = admin.get("/api/v1/admin/posts?q=산책").await;
    assert_eq!(ids(&walks, |post| post.id), [meetup.id, walk.id]);
    let followers: Page<AdminPost> = admin.get("/api/v1/admin/posts?q=FOLLOWERS").await;
    assert_eq!(ids(&followers, |post| post.id), [spam.id]);
    let news: Page<AdminPost> = admin.get("/api/v1/admin/posts?q=old%20news").await;
    assert_eq!(ids(&news, |post| post.id), [gone.id]);
    let none: Page<AdminPost> = admin.get("/api/v1/admin/posts?q=고양이").await;
    assert!(none.items.is_empty());

    // One author; hidden or not (deleted content either way); all at once.
    let chocos: Page<AdminPost> = admin
        .get(&format!("/api/v1/admin/posts?author_id={}", choco.id))
        .await;
    assert_eq!(ids(&chocos, |post| post.id), [meetup.id]);
    let hidden: Page<AdminPost> = admin.get("/api/v1/admin/posts?hidden=true").await;
    assert_eq!(ids(&hidden, |post| post.id), [spam.id]);
    let shown: Page<AdminPost> = admin.get("/api/v1/admin/posts?hidden=false").await;
    assert_eq!(ids(&shown, |post| post.id), [meetup.id, gone.id, walk.id]);
    let boris_walks: Page<AdminPost> = admin
        .get(&format!(
            "/api/v1/admin/posts?author_id={}&hidden=false&q=walked",
            bori.id
        ))
        .await;
    assert_eq!(ids(&boris_walks, |post| post.id), [walk.id]);

    // Keyset pages, with and without words.
    let first: Page<AdminPost> = admin.get("/api/v1/admin/posts?limit=3").await;
    assert_eq!(ids(&first, |post| post.id), [meetup.id, gone.id, spam.id]);
    let cursor = first.next_cursor.expect("a next page");
    let second: Page<AdminPost> = admin
        .get(&format!("/api/v1/admin/posts?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second, |post| post.id), [walk.id]);
    assert!(second.next_cursor.is_none());
    let first: Page<AdminPost> = admin.get("/api/v1/admin/posts?q=산책&limit=1").await;
    assert_eq!(ids(&first, |post| post.id), [meetup.id]);
    let cursor = first.next_cursor.expect("a next page");
    let second: Page<AdminPost> = admin
        .get(&format!(
            "/api/v1/admin/posts?q=산책&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&second, |post| post.id), [walk.id]);
}

#[tokio::test]
async fn admins_find_comments_with_their_post_and_listings_hidden_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let bori = app.member("bori@example.com").await;
    let choco = app.member("choco@example.com").await;
    let post = app.post_by(&bori, "Vet in Mapo", "which one?").await;
    let kind = choco
        .comment(post.id, "Try the clinic by the park", None)
        .await;
    let rude = choco.comment(post.id, "What a stupid question", None).await;
    let reply = bori
        .comment(post.id, "Thanks, the park one", Some(kind.id))
        .await;
    let regret = choco.comment(post.id, "Never mind", None).await;
    decide(&admin, "COMMENT", rude.id, "HIDE").await;
    let () = choco
        .delete(&format!(
            "/api/v1/owner-boards/{}/comments/{}",
            post.id, regret.id
        ))
        .await;

    let all: Page<AdminComment> = admin.get("/api/v1/admin/comments").await;
    assert_eq!(
        ids(&all, |comment| comment.id),
        [regret.id, reply.id, rude.id, kind.id]
    );
    for comment in &all.items {
        assert_eq!(comment.post_id, post.id);
        assert_eq!(comment.post_title, "Vet in Mapo");
    }
    assert_eq!(all.items[1].parent_id, Some(kind.id));
    assert_eq!(all.items[1].author.id, bori.id);
    assert!(all.items[0].deleted && !all.items[0].hidden);
    assert!(all.items[2].hidden && !all.items[2].deleted);
    assert_eq!(all.items[2].content, "What a stupid question");

    let park: Page<AdminComment> = admin.get("/api/v1/admin/comments?q=park").await;
    assert_eq!(ids(&park, |comment| comment.id), [reply.id, kind.id]);
    let stupid: Page<AdminComment> = admin.get("/api/v1/admin/comments?q=stupid").await;
    assert_eq!(ids(&stupid, |comment| comment.id), [rude.id]);
    let hidden: Page<AdminComment> = admin.get("/api/v1/admin/comments?hidden=true").await;
    assert_eq!(ids(&hidden, |comment| comment.id), [rude.id]);
    let chocos: Page<AdminComment> = admin
        .get(&format!(
            "/api/v1/admin/comments?author_id={}&hidden=false",
            choco.id
        ))
        .await;
    assert_eq!(ids(&chocos, |comment| comment.id), [regret.id, kind.id]);

    let tower = app.listing_by(&bori, "Cat tower").await;
    let fake = app.listing_by(&choco, "Designer collar replica").await;
    let sold = app.listing_by(&choco, "Dog bed").await;
    decide(&admin, "LISTING", fake.id, "DELETE").await;
    let all: Page<AdminListing> = admin.get("/api/v1/admin/listings").await;
    assert_eq!(
        ids(&all, |listing| listing.id),
        [sold.id, fake.id, tower.id]
    );
    let deleted = &all.items[1];
    assert!(deleted.deleted && !deleted.hidden);
    assert_eq!(deleted.title, "Designer collar replica");
    assert_eq!(deleted.price, 30_000);
    assert_eq!(deleted.status, "FOR_SALE");
    assert_eq!(deleted.author.id, choco.id);
    let collars: Page<AdminListing> = admin.get("/api/v1/admin/listings?q=collar").await;
    assert_eq!(ids(&collars, |listing| listing.id), [fake.id]);
    let boris: Page<AdminListing> = admin
        .get(&format!("/api/v1/admin/listings?author_id={}", bori.id))
        .await;
    assert_eq!(ids(&boris, |listing| listing.id), [tower.id]);
    let hidden: Page<AdminListing> = admin.get("/api/v1/admin/listings?hidden=true").await;
    assert!(hidden.items.is_empty());
}

#[tokio::test]
async fn a_members_record_shows_their_account_counts_reports_and_latest_content() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let trade = app.trade().await;
    let (bori, seller) = (&trade.buyer, &trade.seller);
    let first = app.post_by(bori, "Puppy pics", "so cute").await;
    let spam = app.post_by(bori, "Cheap followers", "buy here").await;
    let gone = app.post_by(bori, "Typo", "oops").await;
    let () = bori
        .delete(&format!("/api/v1/owner-boards/{}", gone.id))
        .await;
    let theirs = app.post_by(seller, "Seller's post", "hello").await;
    let comment = bori.comment(theirs.id, "Nice post", None).await;
    let message = bori.say(trade.room, "Is it still for sale?").await;
    let listing = app.listing_by(bori, "Old leash").await;

    // What others reported of bori's content, and what bori reported.
    let of_spam = report(seller, "POST", spam.id).await;
    let of_message = report(seller, "CHAT_MESSAGE", message.id).await;
    let by_bori = report(bori, "POST", theirs.id).await;
    decide(&admin, "POST", spam.id, "HIDE").await;

    let record: Record = admin.get(&format!("/api/v1/admin/users/{}", bori.id)).await;
    assert_eq!(record.account.id, bori.id);
    assert_eq!(record.account.email, bori.email);
    assert_eq!(record.account.status, "ACTIVE");
    assert_eq!(record.account.role, "USER");
    assert!(record.account.suspended_until.is_none());
    let counts = &record.counts;
    assert_eq!(
        (
            counts.posts.total,
            counts.posts.hidden,
            counts.posts.deleted
        ),
        (3, 1, 1)
    );
    assert_eq!(
        (
            counts.comments.total,
            counts.comments.hidden,
            counts.comments.deleted
        ),
        (1, 0, 0)
    );
    assert_eq!(counts.listings.total, 1);
    assert_eq!(counts.chat_messages.total, 1);
    assert_eq!((counts.reports_made, counts.reports_received), (1, 2));

    let made: Vec<_> = record.reports_made.iter().map(|r| r.id).collect();
    assert_eq!(made, [by_bori]);
    assert_eq!(record.reports_made[0].target_id, theirs.id);
    assert_eq!(record.reports_made[0].status, "OPEN");
    let received: Vec<_> = record
        .reports_received
        .iter()
        .map(|r| (r.id, r.target_type.as_str(), r.target_id, r.reporter_id))
        .collect();
    assert_eq!(
        received,
        [
            (of_message, "CHAT_MESSAGE", message.id, seller.id),
            (of_spam, "POST", spam.id, seller.id)
        ]
    );
    // The admin's decision resolved the report of the post.
    assert_eq!(record.reports_received[1].status, "RESOLVED");
    assert_eq!(record.reports_received[1].reason, "ABUSE");

    let posts: Vec<_> = record.posts.iter().map(|post| post.id).collect();
    assert_eq!(posts, [gone.id, spam.id, first.id]);
    assert!(record.posts[0].deleted && record.posts[1].hidden);
    assert_eq!(record.comments.len(), 1);
    assert_eq!(record.comments[0].id, comment.id);
    assert_eq!(record.comments[0].post_title, "Seller's post");
    assert_eq!(record.listings[0].id, listing.id);

    // A suspension shows in the record, and on the author of each item.
    let _: serde_json::Value = admin
        .post(
            &format!("/api/v1/admin/users/{}/suspension", bori.id),
            json!({"until": "2099-01-01T00:00:00Z", "reason": "spam"}),
        )
        .await;
    let record: Record = admin.get(&format!("/api/v1/admin/users/{}", bori.id)).await;
    assert_eq!(record.account.status, "SUSPENDED");
    assert_eq!(record.account.suspension_reason.as_deref(), Some("spam"));
    assert!(record.account.suspended_until.is_some());
    assert_eq!(record.posts[0].author.status, "SUSPENDED");

    // Someone who wrote nothing has an empty record.
    let quiet = app.member("quiet@example.com").await;
    let record: Record = admin
        .get(&format!("/api/v1/admin/users/{}", quiet.id))
        .await;
    assert_eq!(record.counts.posts.total, 0);
    assert_eq!(record.counts.reports_received, 0);
    assert!(record.reports_made.is_empty() && record.posts.is_empty());

    for unknown in ["999999999", "0", "-1", "9223372036854775807"] {
        assert_problem(
            admin
                .request(Method::GET, &format!("/api/v1/admin/users/{unknown}"), None)
                .await,
            404,
            "USER_NOT_FOUND",
        )
        .await;
    }
}

#[tokio::test]
async fn only_admins_read_the_lists_and_records() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    let paths = [
        "/api/v1/admin/posts".to_owned(),
        "/api/v1/admin/comments".to_owned(),
        "/api/v1/admin/listings".to_owned(),
        format!("/api/v1/admin/users/{}", bori.id),
    ];
    for path in &paths {
        assert_problem(
            bori.request(Method::GET, path, None).await,
            403,
            "ADMIN_ONLY",
        )
        .await;
        assert_problem(
            app.guest().request(Method::GET, path, None).await,
            401,
            "AUTHENTICATION_REQUIRED",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_filters_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for list in ["posts", "comments", "listings"] {
        for (query, code) in [
            ("q=%25%25", "INVALID_QUERY"),
            ("q=%00", "INVALID_QUERY"),
            ("q=", "INVALID_QUERY"),
            ("author_id=-1", "INVALID_QUERY"),
            ("author_id=0", "INVALID_QUERY"),
            ("author_id=abc", "INVALID_QUERY"),
            ("author_id=99999999999999999999", "INVALID_QUERY"),
            ("hidden=maybe", "INVALID_QUERY"),
            ("limit=0", "INVALID_QUERY"),
            ("limit=101", "INVALID_QUERY"),
            ("cursor=abc", "INVALID_CURSOR"),
            ("cursor=-5", "INVALID_CURSOR"),
        ] {
            let path = format!("/api/v1/admin/{list}?{query}");
            let response = admin.request(Method::GET, &path, None).await;
            assert_problem(response, 400, code).await;
        }
        let long = "a".repeat(101);
        let response = admin
            .request(Method::GET, &format!("/api/v1/admin/{list}?q={long}"), None)
            .await;
        assert_problem(response, 400, "INVALID_QUERY").await;
        // A NUL byte is named as the field's fault; an unknown author has nothing.
        let response = admin
            .request(Method::GET, &format!("/api/v1/admin/{list}?q=a%00b"), None)
            .await;
        let problem = assert_problem(response, 400, "INVALID_QUERY").await;
        assert_eq!(problem["errors"][0]["field"], "q");
        let found: Page<serde_json::Value> = admin
            .get(&format!("/api/v1/admin/{list}?author_id=123456789"))
            .await;
        assert!(found.items.is_empty());
    }
}
