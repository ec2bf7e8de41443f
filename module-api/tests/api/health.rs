use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::util::{TestApp, assert_problem};

/// A `503` of readiness: which dependency is down.
#[derive(Debug, Deserialize)]
struct Unavailable {
    detail: String,
    context: Checks,
}

#[derive(Debug, Deserialize)]
struct Checks {
    checks: BTreeMap<String, String>,
}

fn checks(postgres: &str, redis: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("postgres".to_owned(), postgres.to_owned()),
        ("redis".to_owned(), redis.to_owned()),
    ])
}

/// The problem document `response` must be, read as readiness' answer.
async fn unavailable(response: reqwest::Response) -> Unavailable {
    serde_json::from_value(assert_problem(response, 503, "DEPENDENCY_UNAVAILABLE").await).unwrap()
}

#[tokio::test]
async fn live_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/live").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    // The whole document, as probes and monitors read it.
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok", "checks": {}})
    );
}

#[tokio::test]
async fn ready_checks_postgres_and_redis() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}})
    );
}

#[tokio::test]
async fn ready_names_redis_when_it_is_down() {
    // Nothing listens on port 1: Redis is "down" while Postgres is fine.
    let app = TestApp::builder()
        .redis_url("redis://127.0.0.1:1")
        .spawn()
        .await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    let problem = unavailable(response).await;
    assert_eq!(problem.context.checks, checks("ok", "down"));
    assert!(problem.detail.contains("redis"));
    // Liveness does not depend on Redis.
    assert_eq!(app.get("/health/live").await.status(), 200);
}

#[tokio::test]
async fn ready_names_postgres_when_it_is_down() {
    let app = TestApp::spawn().await;
    // Take the database away from under the running app.
    let name = app
        .state
        .config
        .database
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    drop_database(&name).await;
    let response = app.get("/health/ready").await;
    let problem = unavailable(response).await;
    assert_eq!(problem.context.checks, checks("down", "ok"));
}

async fn drop_database(name: &str) {
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
    let maintenance =
        petory_core::testing::with_database(&petory_core::testing::server_url(), "postgres");
    let mut admin = AsyncPgConnection::establish(&maintenance).await.unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test]
async fn metrics_expose_request_latency_by_route_and_status() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live").await.status(), 200);
    assert_eq!(app.get("/no/such/route").await.status(), 404);
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.lines().any(
            |line| line.starts_with("http_request_duration_seconds_bucket{")
                && line.contains(r#"route="/health/live""#)
                && line.contains(r#"status="200""#)
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="<unmatched>""#), "{text}");
    assert!(text.contains("db_pool_connections"), "{text}");
}

#[tokio::test]
async fn metrics_tell_which_dependency_is_down_and_how_full_the_pools_may_get() {
    let app = TestApp::builder()
        .redis_url("redis://127.0.0.1:1")
        .spawn()
        .await;
    assert_eq!(app.get("/health/ready").await.status(), 503);
    let text = app.get("/metrics").await.text().await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} is exported:\n{text}"))
            .parse()
            .unwrap()
    };
    // What the readiness alerts read (deploy/prometheus/rules.yml).
    assert_eq!(value(r#"petory_dependency_up{dependency="postgres"}"#), 1.0);
    assert_eq!(value(r#"petory_dependency_up{dependency="redis"}"#), 0.0);
    // What the saturation alerts divide by: the configured pool sizes.
    assert_eq!(
        value("db_pool_max_connections"),
        f64::from(app.state.config.database.pool.max_size)
    );
    assert_eq!(
        value("redis_pool_max_connections"),
        f64::from(app.state.config.redis.max_size)
    );
    assert!(value("redis_pool_timeouts_total") >= 0.0);
    assert_eq!(value(r#"petory_live_connections{kind="chat"}"#), 0.0);
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let app = TestApp::spawn().await;
    let page = app.get("/swagger-ui/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let bundle = app.get("/swagger-ui/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(
        bundle.bytes().await.unwrap().len() > 100_000,
        "the bundled script is served locally"
    );
    let config = app.get("/swagger-ui/swagger-initializer.js").await;
    assert_eq!(config.status(), 200);
    assert!(
        config
            .text()
            .await
            .unwrap()
            .contains("/api-docs/openapi.json")
    );
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let app = TestApp::spawn().await;
    let allowed = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/health/live"))
        .header("origin", "https://app.petory.test")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.petory.test"
    );
    let other = app
        .client
        .get(app.url("/health/live"))
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn request_ids_are_kept_from_the_client() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "client-chosen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-chosen-42");
}
