//! A running API per test: its own database (cloned from the migrated template), its own Redis
//! key prefix, a local S3 server, and the real router served on a loopback port.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use petory_api::app::AppState;
use petory_api::config::{ApiConfig, LogFormat};
use petory_core::calendar::BusinessCalendar;
use petory_core::db::{DatabaseSettings, PoolSettings};
use petory_core::platform::idempotency::Lifetimes;
use petory_core::ports::FixedClock;
use petory_core::testing::TestDatabase;
use petory_external_api::storage::local::{LocalS3, LocalS3Settings};
use petory_external_api::storage::s3::S3Settings;
use petory_redis::RedisSettings;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: FixedClock,
    _server: JoinHandle<()>,
    _s3: LocalS3,
    _s3_root: tempfile::TempDir,
    _db: TestDatabase,
}

/// Routes of a test's own in place of the production ones.
type RouteOverride = Box<dyn FnOnce(Router<AppState>) -> Router<AppState>>;

pub struct TestAppBuilder {
    redis_url: String,
    max_body_bytes: usize,
    routes: Option<RouteOverride>,
}

pub fn start_of_test_time() -> DateTime<Utc> {
    "2026-11-23T01:00:00Z".parse().expect("valid instant")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| RedisSettings::DEFAULT_URL.to_owned()),
            max_body_bytes: 64 * 1024,
            routes: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

impl TestAppBuilder {
    /// Points Redis somewhere else, e.g. at a closed port to see it down.
    pub fn redis_url(mut self, url: &str) -> Self {
        self.redis_url = url.to_owned();
        self
    }

    /// Replaces the production routes (for exercising middleware on a route of the test's own).
    pub fn routes(
        mut self,
        routes: impl FnOnce(Router<AppState>) -> Router<AppState> + 'static,
    ) -> Self {
        self.routes = Some(Box::new(routes));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let db = TestDatabase::new().await;
        let s3_root = tempfile::tempdir().expect("s3 root");
        let s3 = LocalS3::serve(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind s3"),
            &LocalS3Settings {
                root: s3_root.path().to_owned(),
                bucket: "petory-test".into(),
                access_key_id: "test-key".into(),
                secret_access_key: "test-secret".into(),
            },
        )
        .expect("local s3");
        let config = ApiConfig {
            bind: "127.0.0.1:0".parse().expect("addr"),
            database: DatabaseSettings {
                url: db.url().to_owned(),
                pool: PoolSettings {
                    max_size: 5,
                    ..PoolSettings::default()
                },
            },
            redis: RedisSettings {
                url: self.redis_url,
                max_size: 4,
                connection_timeout: Duration::from_secs(1),
                key_prefix: format!("test:{}:", db.name()),
            },
            s3: S3Settings {
                endpoint: Some(s3.endpoint()),
                bucket: "petory-test".into(),
                region: "us-east-1".into(),
                access_key_id: "test-key".into(),
                secret_access_key: "test-secret".into(),
                force_path_style: true,
                operation_timeout: Duration::from_secs(5),
            },
            timezone: BusinessCalendar::DEFAULT_ZONE,
            request_timeout: Duration::from_secs(5),
            max_body_bytes: self.max_body_bytes,
            cors_allowed_origins: vec!["https://app.petory.test".into()],
            idempotency: Lifetimes::default(),
            log_format: LogFormat::Text,
        };
        let clock = FixedClock::at(start_of_test_time());
        let state = AppState::with_clock(config, Arc::new(clock.clone())).expect("state");
        let router = match self.routes {
            Some(routes) => {
                petory_api::router::with_middleware(routes(Router::new()), state.clone())
            }
            None => petory_api::router::build(state.clone()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind api");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            petory_api::server::serve(listener, router, std::future::pending())
                .await
                .expect("serve");
        });
        TestApp {
            base_url,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            state,
            clock,
            _server: server,
            _s3: s3,
            _s3_root: s3_root,
            _db: db,
        }
    }
}

/// Asserts the response is a problem document with this status and code, and returns it.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["title"]
            .as_str()
            .is_some_and(|title| !title.is_empty())
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty())
    );
    body
}
