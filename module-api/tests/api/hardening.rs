//! Regression tests for what an API fuzzer found: input that reached PostgreSQL and answered
//! 500. Each is refused (or stored) with a clear problem now, and a database that goes away is a
//! 503 with `Retry-After`, not a 500. `contract.rs` drives the whole document the same way.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::util::{TcpProxy, TestApp, assert_problem, database_addr};

/// A refusal's reasons, field by field.
#[derive(Debug, Deserialize)]
struct Refused {
    errors: Vec<FieldError>,
}

#[derive(Debug, Deserialize)]
struct FieldError {
    field: String,
    code: String,
}

/// The problem document `response` must be, with its reasons.
async fn refused(response: reqwest::Response, status: u16, code: &str) -> Refused {
    serde_json::from_value(assert_problem(response, status, code).await).unwrap()
}

#[tokio::test]
async fn a_nul_character_anywhere_is_refused_with_its_field_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let guest = app.guest();

    let problem = refused(app.get("/api/v1/items?q=%00").await, 400, "INVALID_QUERY").await;
    assert_eq!(problem.errors[0].field, "q");
    assert_eq!(problem.errors[0].code, "nul_character");
    assert_problem(app.get("/api/v1/items/1%00").await, 400, "INVALID_PATH").await;

    let signup = guest
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "nul@example.com", "password": "correct horse 1", "name": "bo\u{0}ri"})),
        )
        .await;
    let problem = refused(signup, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem.errors[0].field, "name");
    assert_eq!(problem.errors[0].code, "nul_character");

    let login = guest
        .request(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "a\u{0}@example.com", "password": "whatever"})),
        )
        .await;
    assert_problem(login, 422, "VALIDATION_FAILED").await;

    let search = admin
        .request(Method::GET, "/api/v1/admin/users?q=x%00y", None)
        .await;
    assert_problem(search, 400, "INVALID_QUERY").await;

    // Text that merely looks like an escape is text.
    let literal = admin
        .request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(json!({"name": "C:\\u0000"})),
        )
        .await;
    assert_eq!(literal.status(), 201);
}

#[tokio::test]
async fn out_of_range_numbers_and_dates_are_refused() {
    let app = TestApp::spawn().await;
    let member = app.member("numbers@example.com").await;
    let admin = app.admin().await;
    for path in [
        "/api/v1/users/me/answers?year=-14003",
        "/api/v1/users/me/answers?year=10000",
        "/api/v1/users/me/answers?year=99999999999",
    ] {
        assert_problem(
            member.request(Method::GET, path, None).await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
    for path in [
        "/api/v1/admin/subscriptions?billing_from=-5000-01-01",
        "/api/v1/admin/orders?from=-5000-01-01T00:00:00Z",
        "/api/v1/admin/daily-questions?month=13",
        "/api/v1/admin/users?limit=101",
    ] {
        assert_problem(
            admin.request(Method::GET, path, None).await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
    let item = admin
        .request(
            Method::POST,
            "/api/v1/admin/items",
            Some(json!({"category_id": 1, "name": "x", "price": 9_223_372_036_854_775_807_i64, "stock": 1})),
        )
        .await;
    let problem = refused(item, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem.errors[0].field, "price");
}

#[tokio::test]
async fn a_name_of_only_blank_characters_is_refused_before_the_database() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // A form feed is one character, but no name: the schema says so (`NOT_BLANK`), and the
    // server refuses it by that rule, not by the table's CHECK (`error.rs` maps those).
    let response = admin
        .request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(json!({"name": "\u{c}"})),
        )
        .await;
    let problem = refused(response, 422, "VALIDATION_FAILED").await;
    assert_eq!(
        (
            problem.errors[0].field.as_str(),
            problem.errors[0].code.as_str()
        ),
        ("name", "pattern"),
        "refused by the documented rule"
    );
    let categories: Page<Value> = app.guest().get("/api/v1/categories").await;
    assert!(categories.items.is_empty(), "nothing stored");
}

#[tokio::test]
async fn while_the_database_is_away_requests_answer_503_and_recover() {
    let proxy = TcpProxy::to(database_addr()).await;
    let app = TestApp::builder()
        .database_proxy(proxy.clone())
        .spawn()
        .await;
    assert_eq!(app.get("/api/v1/categories").await.status(), 200);

    proxy.cut();
    for _ in 0..3 {
        let response = app.get("/api/v1/categories").await;
        let retry_after = response.headers().get("retry-after").cloned();
        assert_problem(response, 503, "DATABASE_UNAVAILABLE").await;
        assert!(retry_after.is_some(), "tells when to retry");
    }
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 503);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if app.get("/api/v1/categories").await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(recovered, "answers again once the database is back");
}
