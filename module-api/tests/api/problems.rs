//! Every error a client can meet is an RFC 9457 problem with a stable code.

use axum::routing::{get, post};
use serde::Deserialize;

use crate::util::{TestApp, assert_problem};

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let problem = assert_problem(
        app.get("/api/v1/no-such-thing").await,
        404,
        "ROUTE_NOT_FOUND",
    )
    .await;
    assert_eq!(problem["title"], "Not Found");
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .delete(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_problem(response, 405, "METHOD_NOT_ALLOWED").await;
    assert!(allow.is_some_and(|allow| allow.contains("GET")));
}

/// Limits written once, in the schema: the server enforces what the document says.
#[derive(Debug, Deserialize, validator::Validate, utoipa::ToSchema)]
struct Pet {
    #[schema(min_length = 1, max_length = 20)]
    name: String,
    #[schema(minimum = 0, maximum = 100)]
    weight_kg: i32,
}

async fn create_pet(
    petory_api::extract::ValidJson(pet): petory_api::extract::ValidJson<Pet>,
) -> String {
    format!("{} {}", pet.name, pet.weight_kg)
}

async fn app_with_body_route() -> TestApp {
    TestApp::builder()
        .routes(|router| {
            router
                .route("/pets", post(create_pet))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    }),
                )
                .route(
                    "/panic",
                    get(|| async {
                        #[allow(clippy::panic)]
                        if true {
                            panic!("boom: secret internals")
                        }
                    }),
                )
        })
        .spawn()
        .await
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = app_with_body_route().await;
    let response = app
        .client
        .post(app.url("/pets"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "MALFORMED_JSON").await;
}

#[tokio::test]
async fn mistyped_json_is_a_422_problem() {
    let app = app_with_body_route().await;
    let response = app
        .client
        .post(app.url("/pets"))
        .json(&serde_json::json!({"name": "Bori", "weight_kg": "heavy"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 422, "INVALID_BODY").await;
}

#[tokio::test]
async fn invalid_fields_are_listed_one_by_one() {
    let app = app_with_body_route().await;
    let response = app
        .client
        .post(app.url("/pets"))
        .json(&serde_json::json!({"name": "", "weight_kg": 500}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422, "VALIDATION_FAILED").await;
    assert_eq!(
        problem["errors"],
        serde_json::json!([
            {"field": "name", "code": "length", "message": "must be 1 to 20 characters"},
            {"field": "weight_kg", "code": "range", "message": "must be 0 to 100"},
        ])
    );
}

#[tokio::test]
async fn valid_body_reaches_the_handler() {
    let app = app_with_body_route().await;
    let response = app
        .client
        .post(app.url("/pets"))
        .json(&serde_json::json!({"name": "Bori", "weight_kg": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "Bori 7");
}

#[tokio::test]
async fn wrong_content_type_is_a_415_problem() {
    let app = app_with_body_route().await;
    let response = app
        .client
        .post(app.url("/pets"))
        .header("content-type", "text/plain")
        .body("name=Bori")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn oversized_body_is_a_413_problem() {
    let app = app_with_body_route().await;
    let huge = format!(
        "{{\"name\": \"{}\", \"weight_kg\": 1}}",
        "x".repeat(200 * 1024)
    );
    let response = app
        .client
        .post(app.url("/pets"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn a_slow_handler_times_out_as_a_problem() {
    let app = app_with_body_route().await;
    let response = app.get("/slow").await;
    assert_problem(response, 408, "REQUEST_TIMEOUT").await;
}

#[tokio::test]
async fn a_panic_is_a_500_problem_without_internals() {
    let app = app_with_body_route().await;
    let response = app.get("/panic").await;
    let problem = assert_problem(response, 500, "INTERNAL_ERROR").await;
    assert!(!problem.to_string().contains("secret internals"));
    // The server survives.
    assert_eq!(app.get("/pets").await.status(), 405);
}
