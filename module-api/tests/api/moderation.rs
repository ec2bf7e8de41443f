//! Reports by readers, hiding by enough of them, and the admins' decisions and log.

use futures_util::future::join_all;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Comment, Listing, Post, PostItem, body_of};
use crate::fixtures::suspend_quietly;
use crate::util::{TestApp, assert_problem};

/// A report as its reporter filed it.
#[derive(Debug, Deserialize)]
struct Report {
    id: i64,
    status: String,
    reason: String,
}

/// A report as the admins' queue shows it.
#[derive(Debug, Deserialize)]
struct QueuedReport {
    id: i64,
    status: String,
    resolution: Option<String>,
    open_reports: i64,
    target_author_id: Option<i64>,
    target_excerpt: Option<String>,
    target_hidden: bool,
    target_deleted: bool,
}

/// An entry of the moderation log.
#[derive(Debug, Deserialize)]
struct Entry {
    id: i64,
    action: String,
    target_type: String,
    target_id: i64,
    admin_id: Option<i64>,
    admin_name: Option<String>,
    note: String,
    report_id: Option<i64>,
}

fn report_of(target_type: &str, id: impl Serialize) -> Value {
    json!({"target_type": target_type, "target_id": id, "reason": "SPAM", "detail": "ads"})
}

async fn report(by: &impl Client, target_type: &str, id: impl Serialize) -> reqwest::Response {
    by.request(
        Method::POST,
        "/api/v1/reports",
        Some(report_of(target_type, id)),
    )
    .await
}

async fn resolve(admin: &Member, report: i64, action: &str) -> reqwest::Response {
    admin
        .request(
            Method::POST,
            &format!("/api/v1/admin/reports/{report}/resolve"),
            Some(json!({"action": action, "note": format!("{action} after review")})),
        )
        .await
}

/// The moderation log of one post, newest first.
async fn post_log(admin: &Member, post: i64) -> Page<Entry> {
    admin
        .get(&format!(
            "/api/v1/admin/moderation-log?target_type=POST&target_id={post}"
        ))
        .await
}

/// `(action, target_type)` of each entry of a page of the moderation log.
fn decisions(log: &Page<Entry>) -> Vec<(&str, &str)> {
    log.items
        .iter()
        .map(|entry| (entry.action.as_str(), entry.target_type.as_str()))
        .collect()
}

/// The posts on the owner board's first page, as a guest reads it.
async fn board(app: &TestApp) -> Vec<PostItem> {
    let page: Page<PostItem> = app.guest().get("/api/v1/owner-boards").await;
    page.items
}

#[tokio::test]
async fn five_reports_from_different_people_hide_a_post_until_an_admin_dismisses_them() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let admin = app.admin().await;
    let guest = app.guest();
    let created = app.post_by(&author, "Buy cheap followers", "words").await;
    let path = format!("/api/v1/owner-boards/{}", created.id);
    let people = app.crowd_of(6).await;

    for person in &people[..4] {
        let body: Report = body_of(report(person, "POST", created.id).await, 201).await;
        assert_eq!(body.status, "OPEN");
        assert_eq!(body.reason, "SPAM");
    }
    // One open report per person; four are not enough.
    assert_problem(
        report(&people[0], "POST", created.id).await,
        409,
        "ALREADY_REPORTED",
    )
    .await;
    assert_eq!(board(&app).await.len(), 1);

    // The fifth hides it from everyone but its author and admins.
    assert_eq!(report(&people[4], "POST", created.id).await.status(), 201);
    assert!(board(&app).await.is_empty());
    assert_problem(
        guest.request(Method::GET, &path, None).await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    assert_problem(
        people[5].request(Method::GET, &path, None).await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    let seen_by_author: Post = author.get(&path).await;
    assert!(seen_by_author.hidden);
    assert!(admin.get::<Post>(&path).await.hidden);
    // What nobody else can see cannot be reported any more.
    assert_problem(
        report(&people[5], "POST", created.id).await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;

    // The queue shows who wrote it, so that the admin can act on the author too.
    let queue: Page<QueuedReport> = admin
        .get("/api/v1/admin/reports?status=OPEN&target_type=POST")
        .await;
    let items = &queue.items;
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|item| item.open_reports == 5
        && item.target_author_id == Some(author.id)
        && item.target_excerpt.as_deref() == Some("Buy cheap followers")
        && item.target_hidden));
    let log: Page<Entry> = admin.get("/api/v1/admin/moderation-log").await;
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].action, "AUTO_HIDE");
    assert_eq!(log.items[0].admin_id, None);
    assert_eq!(log.items[0].target_id, created.id);

    // Dismissing shows it again and closes every open report of it.
    let resolved: QueuedReport = body_of(resolve(&admin, items[0].id, "DISMISS").await, 200).await;
    assert_eq!(resolved.status, "RESOLVED");
    assert_eq!(resolved.resolution.as_deref(), Some("DISMISS"));
    assert!(!resolved.target_hidden);
    assert_eq!(resolved.open_reports, 0);
    assert!(!guest.get::<Post>(&path).await.hidden);
    let open: Page<QueuedReport> = admin.get("/api/v1/admin/reports?status=OPEN").await;
    assert!(open.items.is_empty());
    assert_problem(
        resolve(&admin, items[1].id, "DELETE").await,
        409,
        "REPORT_ALREADY_RESOLVED",
    )
    .await;
    let log = post_log(&admin, created.id).await;
    let newest = &log.items[0];
    assert_eq!(newest.action, "DISMISS");
    assert_eq!(newest.admin_name.as_deref(), Some("Admin"));
    assert_eq!(newest.note, "DISMISS after review");
    assert_eq!(newest.report_id, Some(items[0].id));

    // A resolved report leaves room for a new one.
    assert_eq!(report(&people[0], "POST", created.id).await.status(), 201);
}

#[tokio::test]
async fn admins_hide_comments_delete_listings_and_suspend_the_author_from_the_queue() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let admin = app.admin().await;
    let guest = app.guest();
    let created = app.post_by(&author, "Walk report", "words").await;
    let post_path = format!("/api/v1/owner-boards/{}", created.id);
    let comments = format!("{post_path}/comments");
    let comment: Comment = reader
        .post(&comments, json!({"content": "rude words"}))
        .await;
    let listing: Listing = author
        .post(
            "/api/v1/trade-boards",
            json!({"category": "ETC", "title": "Fake designer collar", "content": "real, trust me",
                   "price": 500_000, "region": "Seoul"}),
        )
        .await;

    let comment_report: Report = report(&author, "COMMENT", comment.id)
        .await
        .json()
        .await
        .unwrap();
    let listing_report: Report = report(&reader, "LISTING", listing.id)
        .await
        .json()
        .await
        .unwrap();

    // A hidden comment keeps its place without its words, except for its author.
    assert_eq!(
        resolve(&admin, comment_report.id, "HIDE").await.status(),
        200
    );
    let thread: Page<Comment> = guest.get(&comments).await;
    assert!(thread.items[0].hidden);
    assert_eq!(thread.items[0].content, "");
    let own: Page<Comment> = reader.get(&comments).await;
    assert_eq!(own.items[0].content, "rude words");

    // A hidden listing leaves the board; its seller and admins still read it, marked hidden.
    let doubtful: Listing = author
        .post(
            "/api/v1/trade-boards",
            json!({"category": "FOOD", "title": "Homemade treats", "content": "no label",
                   "price": 3_000, "region": "Seoul"}),
        )
        .await;
    let doubtful_path = format!("/api/v1/trade-boards/{}", doubtful.id);
    let doubtful_report: Report = report(&reader, "LISTING", doubtful.id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        resolve(&admin, doubtful_report.id, "HIDE").await.status(),
        200
    );
    assert_problem(
        guest.request(Method::GET, &doubtful_path, None).await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    assert_problem(
        reader.request(Method::GET, &doubtful_path, None).await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    for member in [&author, &admin] {
        let seen: Listing = member.get(&doubtful_path).await;
        assert!(seen.hidden);
    }
    let listings: Page<Listing> = guest.get("/api/v1/trade-boards").await;
    assert!(
        listings
            .items
            .iter()
            .all(|listing| listing.id != doubtful.id)
    );

    // A deleted listing is gone; the queue names its seller, whom the admin suspends.
    let resolved: QueuedReport = resolve(&admin, listing_report.id, "DELETE")
        .await
        .json()
        .await
        .unwrap();
    assert!(resolved.target_deleted);
    assert_problem(
        guest
            .request(
                Method::GET,
                &format!("/api/v1/trade-boards/{}", listing.id),
                None,
            )
            .await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    let suspension = admin
        .request(
            Method::POST,
            &format!(
                "/api/v1/admin/users/{}/suspension",
                resolved.target_author_id.expect("the seller")
            ),
            Some(json!({"until": "2099-01-01T00:00:00Z", "reason": "selling fakes"})),
        )
        .await;
    assert_eq!(suspension.status(), 200);

    // Deleting a comment by moderation keeps the post's count exact.
    let second: Comment = reader
        .post(&comments, json!({"content": "more rude words"}))
        .await;
    let witness = app.member("witness@example.com").await;
    let second_report: Report = report(&witness, "COMMENT", second.id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(guest.get::<Post>(&post_path).await.comment_count, 2);
    assert_eq!(
        resolve(&admin, second_report.id, "DELETE").await.status(),
        200
    );
    assert_eq!(guest.get::<Post>(&post_path).await.comment_count, 1);

    let log: Page<Entry> = admin.get("/api/v1/admin/moderation-log?limit=2").await;
    assert_eq!(
        decisions(&log),
        [("DELETE", "COMMENT"), ("DELETE", "LISTING")]
    );
    let rest: Page<Entry> = admin
        .get(&format!(
            "/api/v1/admin/moderation-log?limit=2&cursor={}",
            log.next_cursor.as_deref().unwrap()
        ))
        .await;
    assert_eq!(decisions(&rest), [("HIDE", "LISTING"), ("HIDE", "COMMENT")]);
}

#[tokio::test]
async fn concurrent_reports_hide_once_and_one_person_reports_once() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let admin = app.admin().await;
    let created = app.post_by(&author, "Popular target", "words").await;
    let people = app.crowd_of(10).await;
    let statuses = join_all(
        people
            .iter()
            .map(|person| report(person, "POST", created.id)),
    )
    .await
    .into_iter()
    .map(|response| response.status().as_u16())
    .collect::<Vec<_>>();
    // Each report sees the ones before it: the fifth hides the post, later ones find nothing.
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 5);
    assert_eq!(statuses.iter().filter(|status| **status == 404).count(), 5);
    let log: Page<Entry> = admin.get("/api/v1/admin/moderation-log").await;
    assert_eq!(log.items.len(), 1);

    let other = app.post_by(&author, "Another", "words").await;
    let statuses = join_all((0..5).map(|_| report(&people[0], "POST", other.id)))
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect::<Vec<_>>();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|status| **status == 409).count(), 4);
}

#[tokio::test]
async fn bad_reports_and_decisions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let admin = app.admin().await;
    let guest = app.guest();
    let created = app.post_by(&author, "Mine", "words").await;
    let gone = app.post_by(&author, "Gone", "words").await;
    author
        .request(
            Method::DELETE,
            &format!("/api/v1/owner-boards/{}", gone.id),
            None,
        )
        .await;

    assert_problem(
        report(&author, "POST", created.id).await,
        422,
        "CANNOT_REPORT_OWN_CONTENT",
    )
    .await;
    for (target_type, id, status, code) in [
        ("POST", json!(gone.id), 404, "REPORT_TARGET_NOT_FOUND"),
        ("LISTING", json!(created.id), 404, "REPORT_TARGET_NOT_FOUND"),
        ("POST", json!(i64::MAX), 404, "REPORT_TARGET_NOT_FOUND"),
        ("POST", json!(0), 422, "VALIDATION_FAILED"),
        ("POST", json!(1e40), 422, "INVALID_BODY"),
        ("USER", json!(author.id), 422, "INVALID_BODY"),
    ] {
        assert_problem(report(&reader, target_type, &id).await, status, code).await;
    }
    for body in [
        json!({"target_type": "POST", "target_id": created.id, "reason": "BORING"}),
        json!({"target_type": "POST", "target_id": created.id, "reason": "OTHER", "detail": "x".repeat(1001)}),
        json!({"target_type": "POST", "target_id": created.id, "reason": "OTHER", "detail": "a\u{0}"}),
    ] {
        assert_eq!(
            reader
                .request(Method::POST, "/api/v1/reports", Some(body))
                .await
                .status(),
            422
        );
    }
    assert_problem(
        report(&guest, "POST", created.id).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    let empty: Page<QueuedReport> = admin.get("/api/v1/admin/reports").await;
    assert!(empty.items.is_empty());

    // Only admins see the queue and decide.
    let filed: Report = report(&reader, "POST", created.id)
        .await
        .json()
        .await
        .unwrap();
    let resolve_filed = format!("/api/v1/admin/reports/{}/resolve", filed.id);
    for (method, path, body) in [
        (Method::GET, "/api/v1/admin/reports", None),
        (Method::GET, "/api/v1/admin/moderation-log", None),
        (
            Method::POST,
            resolve_filed.as_str(),
            Some(json!({"action": "DELETE", "note": "mine now"})),
        ),
    ] {
        assert_problem(reader.request(method, path, body).await, 403, "ADMIN_ONLY").await;
    }
    for (body, status, code) in [
        (
            json!({"action": "DELETE", "note": ""}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"action": "DELETE", "note": "  "}),
            422,
            "VALIDATION_FAILED",
        ),
        (json!({"action": "BAN", "note": "x"}), 422, "INVALID_BODY"),
    ] {
        assert_problem(
            admin
                .request(Method::POST, &resolve_filed, Some(body))
                .await,
            status,
            code,
        )
        .await;
    }
    assert_problem(
        admin
            .request(
                Method::POST,
                "/api/v1/admin/reports/999999/resolve",
                Some(json!({"action": "HIDE", "note": "x"})),
            )
            .await,
        404,
        "REPORT_NOT_FOUND",
    )
    .await;
    let post: Post = guest
        .get(&format!("/api/v1/owner-boards/{}", created.id))
        .await;
    assert!(!post.hidden);
    let queue: Page<QueuedReport> = admin.get("/api/v1/admin/reports").await;
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].status, "OPEN");

    // A suspended account cannot report.
    suspend_quietly(&app, reader.id).await;
    let other = app.post_by(&author, "Other", "words").await;
    assert_problem(
        report(&reader, "POST", other.id).await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
}

async fn decide(admin: &Member, target: (&str, i64), action: &str) -> Entry {
    let response = admin
        .request(
            Method::POST,
            "/api/v1/admin/moderation-decisions",
            Some(
                json!({"target_type": target.0, "target_id": target.1, "action": action,
                       "note": format!("{action} on second thought")}),
            ),
        )
        .await;
    body_of(response, 201).await
}

#[tokio::test]
async fn admins_reverse_a_hiding_and_act_on_content_nobody_reported() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let admin = app.admin().await;
    let guest = app.guest();
    let created = app.post_by(&author, "Misread joke", "words").await;
    let path = format!("/api/v1/owner-boards/{}", created.id);

    // Hidden by a decision on a report, which leaves no open report to dismiss.
    let filed: Report = report(&reader, "POST", created.id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolve(&admin, filed.id, "HIDE").await.status(), 200);
    assert_problem(
        guest.request(Method::GET, &path, None).await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    assert_problem(
        resolve(&admin, filed.id, "DISMISS").await,
        409,
        "REPORT_ALREADY_RESOLVED",
    )
    .await;

    // The admin shows it again on their own, and the log says who, why and on no report.
    let shown = decide(&admin, ("POST", created.id), "DISMISS").await;
    assert_eq!(shown.action, "DISMISS");
    assert_eq!(shown.admin_name.as_deref(), Some("Admin"));
    assert_eq!(shown.report_id, None);
    assert_eq!(shown.note, "DISMISS on second thought");
    assert!(!guest.get::<Post>(&path).await.hidden);
    let log = post_log(&admin, created.id).await;
    assert_eq!(decisions(&log), [("DISMISS", "POST"), ("HIDE", "POST")]);
    assert_eq!(log.items[0].id, shown.id);

    // Acting before enough reports: hiding resolves the open report with the decision.
    let listing = app.listing_by(&author, "Too good a deal").await.id;
    let pending: Report = report(&reader, "LISTING", listing)
        .await
        .json()
        .await
        .unwrap();
    decide(&admin, ("LISTING", listing), "HIDE").await;
    let closed: Page<QueuedReport> = admin
        .get(&format!(
            "/api/v1/admin/reports?target_type=LISTING&target_id={listing}"
        ))
        .await;
    assert_eq!(closed.items[0].id, pending.id);
    assert_eq!(closed.items[0].status, "RESOLVED");
    assert_eq!(closed.items[0].resolution.as_deref(), Some("HIDE"));
    assert!(closed.items[0].target_hidden);
    let listing_path = format!("/api/v1/trade-boards/{listing}");
    assert_problem(
        guest.request(Method::GET, &listing_path, None).await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;

    // Deleted content takes no more decisions.
    decide(&admin, ("LISTING", listing), "DELETE").await;
    let again = admin
        .request(
            Method::POST,
            "/api/v1/admin/moderation-decisions",
            Some(
                json!({"target_type": "LISTING", "target_id": listing, "action": "DISMISS", "note": "undo"}),
            ),
        )
        .await;
    assert_problem(again, 404, "CONTENT_NOT_FOUND").await;
    let seller_view = author.request(Method::GET, &listing_path, None).await;
    assert_eq!(seller_view.status(), 404);
}

#[tokio::test]
async fn decisions_without_a_report_are_for_admins_and_refuse_bad_input() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let admin = app.admin().await;
    let guest = app.guest();
    let created = app.post_by(&author, "Fine post", "words").await;
    let decisions_path = "/api/v1/admin/moderation-decisions";
    let decision =
        json!({"target_type": "POST", "target_id": created.id, "action": "HIDE", "note": "mine"});
    assert_problem(
        author
            .request(Method::POST, decisions_path, Some(decision.clone()))
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        guest
            .request(Method::POST, decisions_path, Some(decision))
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    let id = created.id;
    // The valid decision with one field changed.
    let with = |field: &str, value: Value| {
        let mut body =
            json!({"target_type": "POST", "target_id": id, "action": "HIDE", "note": "x"});
        body.as_object_mut()
            .expect("an object")
            .insert(field.to_owned(), value);
        body
    };
    for (body, status, code) in [
        (with("target_id", json!(999_999)), 404, "CONTENT_NOT_FOUND"),
        (
            with("target_type", json!("PLACE")),
            404,
            "CONTENT_NOT_FOUND",
        ),
        (with("target_id", json!(0)), 422, "VALIDATION_FAILED"),
        (with("target_id", json!(1e30)), 422, "INVALID_BODY"),
        (with("target_type", json!("USER")), 422, "INVALID_BODY"),
        (with("action", json!("BAN")), 422, "INVALID_BODY"),
        (with("note", json!("")), 422, "VALIDATION_FAILED"),
        (with("note", json!(" \n ")), 422, "VALIDATION_FAILED"),
        (with("note", json!("a\u{0}b")), 422, "VALIDATION_FAILED"),
        (
            with("note", json!("x".repeat(1001))),
            422,
            "VALIDATION_FAILED",
        ),
    ] {
        assert_problem(
            admin
                .request(Method::POST, decisions_path, Some(body))
                .await,
            status,
            code,
        )
        .await;
    }
    // Nothing of it changed the post or the log.
    let post: Post = guest.get(&format!("/api/v1/owner-boards/{id}")).await;
    assert!(!post.hidden);
    let log: Page<Entry> = admin.get("/api/v1/admin/moderation-log").await;
    assert!(log.items.is_empty());
}
