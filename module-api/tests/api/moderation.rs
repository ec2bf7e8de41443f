//! Reports by readers, hiding by enough of them, and the admins' decisions and log.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{crowd, post, suspend_quietly};
use crate::util::{TestApp, assert_problem};

fn report_of(target_type: &str, id: &Value) -> Value {
    json!({"target_type": target_type, "target_id": id, "reason": "SPAM", "detail": "ads"})
}

async fn report(app: &TestApp, token: &str, target_type: &str, id: &Value) -> reqwest::Response {
    app.post_json("/api/v1/reports", Some(token), report_of(target_type, id))
        .await
}

async fn admin_get(app: &TestApp, admin: &str, path: &str) -> Value {
    app.send_ok(Method::GET, path, Some(admin), None).await
}

async fn resolve(app: &TestApp, admin: &str, report: &Value, action: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/reports/{}/resolve", report["id"]),
        Some(admin),
        json!({"action": action, "note": format!("{action} after review")}),
    )
    .await
}

/// The moderation log of one post, newest first.
async fn post_log(app: &TestApp, admin: &str, post: &Value) -> Value {
    let path = format!("/api/v1/admin/moderation-log?target_type=POST&target_id={post}");
    admin_get(app, admin, &path).await
}

/// `(action, target_type)` of each entry of a page of the moderation log.
fn decisions(log: &Value) -> Vec<(Value, Value)> {
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["action"].clone(), entry["target_type"].clone()))
        .collect()
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn five_reports_from_different_people_hide_a_post_until_an_admin_dismisses_them() {
    let app = TestApp::spawn().await;
    let (author_id, author) = app.user("author@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Buy cheap followers", "words").await;
    let path = format!("/api/v1/owner-boards/{}", created["id"]);
    let people = crowd(&app, 6).await;

    for (_, token) in &people[..4] {
        let response = report(&app, token, "POST", &created["id"]).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "OPEN");
        assert_eq!(body["reason"], "SPAM");
    }
    // One open report per person; four are not enough.
    assert_problem(
        report(&app, &people[0].1, "POST", &created["id"]).await,
        409,
        "ALREADY_REPORTED",
    )
    .await;
    assert_eq!(titles(&app.get_ok("/api/v1/owner-boards").await).len(), 1);

    // The fifth hides it from everyone but its author and admins.
    assert_eq!(
        report(&app, &people[4].1, "POST", &created["id"])
            .await
            .status(),
        201
    );
    assert!(titles(&app.get_ok("/api/v1/owner-boards").await).is_empty());
    assert_problem(app.get(&path).await, 404, "POST_NOT_FOUND").await;
    assert_problem(
        app.send(Method::GET, &path, Some(&people[5].1), None).await,
        404,
        "POST_NOT_FOUND",
    )
    .await;
    let seen_by_author = app.send_ok(Method::GET, &path, Some(&author), None).await;
    assert_eq!(seen_by_author["hidden"], true);
    assert_eq!(admin_get(&app, &admin, &path).await["hidden"], true);
    // What nobody else can see cannot be reported any more.
    assert_problem(
        report(&app, &people[5].1, "POST", &created["id"]).await,
        404,
        "REPORT_TARGET_NOT_FOUND",
    )
    .await;

    // The queue shows who wrote it, so that the admin can act on the author too.
    let queue = admin_get(
        &app,
        &admin,
        "/api/v1/admin/reports?status=OPEN&target_type=POST",
    )
    .await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|item| item["open_reports"] == 5
        && item["target_author_id"] == author_id
        && item["target_excerpt"] == "Buy cheap followers"
        && item["target_hidden"] == true));
    let log = admin_get(&app, &admin, "/api/v1/admin/moderation-log").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["action"], "AUTO_HIDE");
    assert_eq!(log["items"][0]["admin_id"], Value::Null);
    assert_eq!(log["items"][0]["target_id"], created["id"]);

    // Dismissing shows it again and closes every open report of it.
    let resolved = resolve(&app, &admin, &items[0], "DISMISS").await;
    assert_eq!(resolved.status(), 200);
    let resolved: Value = resolved.json().await.unwrap();
    assert_eq!(resolved["status"], "RESOLVED");
    assert_eq!(resolved["resolution"], "DISMISS");
    assert_eq!(resolved["target_hidden"], false);
    assert_eq!(resolved["open_reports"], 0);
    assert_eq!(app.get_ok(&path).await["hidden"], false);
    let open = admin_get(&app, &admin, "/api/v1/admin/reports?status=OPEN").await;
    assert!(open["items"].as_array().unwrap().is_empty());
    assert_problem(
        resolve(&app, &admin, &items[1], "DELETE").await,
        409,
        "REPORT_ALREADY_RESOLVED",
    )
    .await;
    let log = post_log(&app, &admin, &created["id"]).await;
    let newest = &log["items"][0];
    assert_eq!(newest["action"], "DISMISS");
    assert_eq!(newest["admin_name"], "Admin");
    assert_eq!(newest["note"], "DISMISS after review");
    assert_eq!(newest["report_id"], items[0]["id"]);

    // A resolved report leaves room for a new one.
    assert_eq!(
        report(&app, &people[0].1, "POST", &created["id"])
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn admins_hide_comments_delete_listings_and_suspend_the_author_from_the_queue() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, reader) = app.user("reader@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Walk report", "words").await;
    let comments = format!("/api/v1/owner-boards/{}/comments", created["id"]);
    let comment = app
        .post_ok(&comments, Some(&reader), json!({"content": "rude words"}))
        .await;
    let listing = app
        .post_ok(
            "/api/v1/trade-boards",
            Some(&author),
            json!({"category": "ETC", "title": "Fake designer collar", "content": "real, trust me",
                   "price": 500_000, "region": "Seoul"}),
        )
        .await;

    let comment_report: Value = report(&app, &author, "COMMENT", &comment["id"])
        .await
        .json()
        .await
        .unwrap();
    let listing_report: Value = report(&app, &reader, "LISTING", &listing["id"])
        .await
        .json()
        .await
        .unwrap();

    // A hidden comment keeps its place without its words, except for its author.
    assert_eq!(
        resolve(&app, &admin, &comment_report, "HIDE")
            .await
            .status(),
        200
    );
    let thread = app.get_ok(&comments).await;
    assert_eq!(thread["items"][0]["hidden"], true);
    assert_eq!(thread["items"][0]["content"], "");
    let own = app
        .send_ok(Method::GET, &comments, Some(&reader), None)
        .await;
    assert_eq!(own["items"][0]["content"], "rude words");

    // A hidden listing leaves the board; its seller and admins still read it, marked hidden.
    let doubtful = app
        .post_ok(
            "/api/v1/trade-boards",
            Some(&author),
            json!({"category": "FOOD", "title": "Homemade treats", "content": "no label",
                   "price": 3_000, "region": "Seoul"}),
        )
        .await;
    let doubtful_path = format!("/api/v1/trade-boards/{}", doubtful["id"]);
    let doubtful_report: Value = report(&app, &reader, "LISTING", &doubtful["id"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        resolve(&app, &admin, &doubtful_report, "HIDE")
            .await
            .status(),
        200
    );
    assert_problem(app.get(&doubtful_path).await, 404, "LISTING_NOT_FOUND").await;
    assert_problem(
        app.send(Method::GET, &doubtful_path, Some(&reader), None)
            .await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    for token in [&author, &admin] {
        let seen = app
            .send_ok(Method::GET, &doubtful_path, Some(token), None)
            .await;
        assert_eq!(seen["hidden"], true);
    }
    let board = app.get_ok("/api/v1/trade-boards").await;
    assert!(
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|listing| listing["id"] != doubtful["id"])
    );

    // A deleted listing is gone; the queue names its seller, whom the admin suspends.
    let resolved: Value = resolve(&app, &admin, &listing_report, "DELETE")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved["target_deleted"], true);
    assert_problem(
        app.get(&format!("/api/v1/trade-boards/{}", listing["id"]))
            .await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    let suspension = app
        .post_json(
            &format!(
                "/api/v1/admin/users/{}/suspension",
                resolved["target_author_id"]
            ),
            Some(&admin),
            json!({"until": "2099-01-01T00:00:00Z", "reason": "selling fakes"}),
        )
        .await;
    assert_eq!(suspension.status(), 200);

    // Deleting a comment by moderation keeps the post's count exact.
    let second = app
        .post_ok(
            &comments,
            Some(&reader),
            json!({"content": "more rude words"}),
        )
        .await;
    let (_, witness) = app.user("witness@example.com").await;
    let second_report: Value = report(&app, &witness, "COMMENT", &second["id"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
            .await["comment_count"],
        2
    );
    assert_eq!(
        resolve(&app, &admin, &second_report, "DELETE")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
            .await["comment_count"],
        1
    );

    let log = admin_get(&app, &admin, "/api/v1/admin/moderation-log?limit=2").await;
    assert_eq!(
        decisions(&log),
        [
            (json!("DELETE"), json!("COMMENT")),
            (json!("DELETE"), json!("LISTING"))
        ]
    );
    let rest = admin_get(
        &app,
        &admin,
        &format!(
            "/api/v1/admin/moderation-log?limit=2&cursor={}",
            log["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        decisions(&rest),
        [
            (json!("HIDE"), json!("LISTING")),
            (json!("HIDE"), json!("COMMENT"))
        ]
    );
}

#[tokio::test]
async fn concurrent_reports_hide_once_and_one_person_reports_once() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Popular target", "words").await;
    let people = crowd(&app, 10).await;
    let statuses = join_all(
        people
            .iter()
            .map(|(_, token)| report(&app, token, "POST", &created["id"])),
    )
    .await
    .into_iter()
    .map(|response| response.status().as_u16())
    .collect::<Vec<_>>();
    // Each report sees the ones before it: the fifth hides the post, later ones find nothing.
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 5);
    assert_eq!(statuses.iter().filter(|status| **status == 404).count(), 5);
    let log = admin_get(&app, &admin, "/api/v1/admin/moderation-log").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);

    let other = post(&app, &author, "Another", "words").await;
    let statuses = join_all((0..5).map(|_| report(&app, &people[0].1, "POST", &other["id"])))
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
    let (author_id, author) = app.user("author@example.com").await;
    let (reader_id, reader) = app.user("reader@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Mine", "words").await;
    let gone = post(&app, &author, "Gone", "words").await;
    app.send(
        Method::DELETE,
        &format!("/api/v1/owner-boards/{}", gone["id"]),
        Some(&author),
        None,
    )
    .await;

    assert_problem(
        report(&app, &author, "POST", &created["id"]).await,
        422,
        "CANNOT_REPORT_OWN_CONTENT",
    )
    .await;
    for (target_type, id, status, code) in [
        ("POST", json!(gone["id"]), 404, "REPORT_TARGET_NOT_FOUND"),
        (
            "LISTING",
            json!(created["id"]),
            404,
            "REPORT_TARGET_NOT_FOUND",
        ),
        ("POST", json!(i64::MAX), 404, "REPORT_TARGET_NOT_FOUND"),
        ("POST", json!(0), 422, "VALIDATION_FAILED"),
        ("POST", json!(1e40), 422, "INVALID_BODY"),
        ("USER", json!(author_id), 422, "INVALID_BODY"),
    ] {
        assert_problem(report(&app, &reader, target_type, &id).await, status, code).await;
    }
    for body in [
        json!({"target_type": "POST", "target_id": created["id"], "reason": "BORING"}),
        json!({"target_type": "POST", "target_id": created["id"], "reason": "OTHER", "detail": "x".repeat(1001)}),
        json!({"target_type": "POST", "target_id": created["id"], "reason": "OTHER", "detail": "a\u{0}"}),
    ] {
        assert_eq!(
            app.post_json("/api/v1/reports", Some(&reader), body)
                .await
                .status(),
            422
        );
    }
    assert_problem(
        app.post_json("/api/v1/reports", None, report_of("POST", &created["id"]))
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    let empty = admin_get(&app, &admin, "/api/v1/admin/reports").await;
    assert!(empty["items"].as_array().unwrap().is_empty());

    // Only admins see the queue and decide.
    let filed: Value = report(&app, &reader, "POST", &created["id"])
        .await
        .json()
        .await
        .unwrap();
    for (method, path, body) in [
        (Method::GET, "/api/v1/admin/reports".to_owned(), None),
        (Method::GET, "/api/v1/admin/moderation-log".to_owned(), None),
        (
            Method::POST,
            format!("/api/v1/admin/reports/{}/resolve", filed["id"]),
            Some(json!({"action": "DELETE", "note": "mine now"})),
        ),
    ] {
        assert_problem(
            app.send(method, &path, Some(&reader), body).await,
            403,
            "ADMIN_ONLY",
        )
        .await;
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
            app.post_json(
                &format!("/api/v1/admin/reports/{}/resolve", filed["id"]),
                Some(&admin),
                body,
            )
            .await,
            status,
            code,
        )
        .await;
    }
    assert_problem(
        app.post_json(
            "/api/v1/admin/reports/999999/resolve",
            Some(&admin),
            json!({"action": "HIDE", "note": "x"}),
        )
        .await,
        404,
        "REPORT_NOT_FOUND",
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("/api/v1/owner-boards/{}", created["id"]))
            .await["hidden"],
        false
    );
    let queue = admin_get(&app, &admin, "/api/v1/admin/reports").await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["status"], "OPEN");

    // A suspended account cannot report.
    suspend_quietly(&app, reader_id).await;
    let other = post(&app, &author, "Other", "words").await;
    assert_problem(
        report(&app, &reader, "POST", &other["id"]).await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
}

async fn decide(app: &TestApp, admin: &str, target: (&str, &Value), action: &str) -> Value {
    let response = app
        .post_json(
            "/api/v1/admin/moderation-decisions",
            Some(admin),
            json!({"target_type": target.0, "target_id": target.1, "action": action,
                   "note": format!("{action} on second thought")}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn admins_reverse_a_hiding_and_act_on_content_nobody_reported() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let (_, reader) = app.user("reader@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Misread joke", "words").await;
    let path = format!("/api/v1/owner-boards/{}", created["id"]);

    // Hidden by a decision on a report, which leaves no open report to dismiss.
    let filed: Value = report(&app, &reader, "POST", &created["id"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolve(&app, &admin, &filed, "HIDE").await.status(), 200);
    assert_problem(app.get(&path).await, 404, "POST_NOT_FOUND").await;
    assert_problem(
        resolve(&app, &admin, &filed, "DISMISS").await,
        409,
        "REPORT_ALREADY_RESOLVED",
    )
    .await;

    // The admin shows it again on their own, and the log says who, why and on no report.
    let shown = decide(&app, &admin, ("POST", &created["id"]), "DISMISS").await;
    assert_eq!(shown["action"], "DISMISS");
    assert_eq!(shown["admin_name"], "Admin");
    assert_eq!(shown["report_id"], Value::Null);
    assert_eq!(shown["note"], "DISMISS on second thought");
    assert_eq!(app.get_ok(&path).await["hidden"], false);
    let log = post_log(&app, &admin, &created["id"]).await;
    assert_eq!(
        decisions(&log),
        [
            (json!("DISMISS"), json!("POST")),
            (json!("HIDE"), json!("POST"))
        ]
    );
    assert_eq!(log["items"][0]["id"], shown["id"]);

    // Acting before enough reports: hiding resolves the open report with the decision.
    let listing = crate::fixtures::listing(&app, &author, "Too good a deal").await;
    let pending: Value = report(&app, &reader, "LISTING", &json!(listing))
        .await
        .json()
        .await
        .unwrap();
    decide(&app, &admin, ("LISTING", &json!(listing)), "HIDE").await;
    let closed = admin_get(
        &app,
        &admin,
        &format!("/api/v1/admin/reports?target_type=LISTING&target_id={listing}"),
    )
    .await;
    assert_eq!(closed["items"][0]["id"], pending["id"]);
    assert_eq!(closed["items"][0]["status"], "RESOLVED");
    assert_eq!(closed["items"][0]["resolution"], "HIDE");
    assert_eq!(closed["items"][0]["target_hidden"], true);
    let listing_path = format!("/api/v1/trade-boards/{listing}");
    assert_problem(app.get(&listing_path).await, 404, "LISTING_NOT_FOUND").await;

    // Deleted content takes no more decisions.
    decide(&app, &admin, ("LISTING", &json!(listing)), "DELETE").await;
    let again = app
        .post_json(
            "/api/v1/admin/moderation-decisions",
            Some(&admin),
            json!({"target_type": "LISTING", "target_id": listing, "action": "DISMISS", "note": "undo"}),
        )
        .await;
    assert_problem(again, 404, "CONTENT_NOT_FOUND").await;
    let seller_view = app
        .send(Method::GET, &listing_path, Some(&author), None)
        .await;
    assert_eq!(seller_view.status(), 404);
}

#[tokio::test]
async fn decisions_without_a_report_are_for_admins_and_refuse_bad_input() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user("author@example.com").await;
    let admin = app.admin_token().await;
    let created = post(&app, &author, "Fine post", "words").await;
    let decision = json!({"target_type": "POST", "target_id": created["id"], "action": "HIDE", "note": "mine"});
    assert_problem(
        app.post_json(
            "/api/v1/admin/moderation-decisions",
            Some(&author),
            decision.clone(),
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        app.post_json("/api/v1/admin/moderation-decisions", None, decision)
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    let id = &created["id"];
    // The valid decision with one field changed.
    let with = |field: &str, value: Value| {
        let mut body =
            json!({"target_type": "POST", "target_id": id, "action": "HIDE", "note": "x"});
        body[field] = value;
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
            app.post_json("/api/v1/admin/moderation-decisions", Some(&admin), body)
                .await,
            status,
            code,
        )
        .await;
    }
    // Nothing of it changed the post or the log.
    assert_eq!(
        app.get_ok(&format!("/api/v1/owner-boards/{id}")).await["hidden"],
        false
    );
    let log = admin_get(&app, &admin, "/api/v1/admin/moderation-log").await;
    assert!(log["items"].as_array().unwrap().is_empty());
}
