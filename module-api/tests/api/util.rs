//! A running API per test: its own database (cloned from the migrated template), its own Redis
//! key prefix, a local S3 server, and the real router served on a loopback port.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use petory_api::app::AppState;
use petory_api::config::{ApiConfig, LogFormat};
use petory_core::db::{DatabaseSettings, PoolSettings};
use petory_core::identity::token::TokenSettings;
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::platform::idempotency::Lifetimes;
use petory_core::ports::FixedClock;
use petory_core::testing::TestDatabase;
use petory_external_api::oauth::google::GoogleSettings;
use petory_external_api::payment::kakaopay::KakaoPaySettings;
use petory_external_api::place::sandbox::KakaoLocalSandbox;
use petory_external_api::storage::local::{LocalS3, LocalS3Settings};
use petory_external_api::storage::s3::S3Settings;
use petory_redis::RedisSettings;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: FixedClock,
    /// What the contract check found in the answers so far (see `conformance.rs`).
    pub conformance: crate::conformance::Conformance,
    _server: JoinHandle<()>,
    _s3: LocalS3,
    _s3_root: tempfile::TempDir,
    _kakao_local: Option<KakaoLocalSandbox>,
    _db: TestDatabase,
}

pub struct Instance {
    pub base_url: String,
    _server: JoinHandle<()>,
}

/// Routes of a test's own in place of the production ones.
type RouteOverride = Box<dyn FnOnce(Router<AppState>) -> Router<AppState>>;

pub struct TestAppBuilder {
    redis_url: String,
    max_body_bytes: usize,
    rate_limit_per_minute: NonZeroU32,
    auth_rate_limit_per_minute: NonZeroU32,
    routes: Option<RouteOverride>,
    google: Option<GoogleSettings>,
    oauth_success_redirect: Option<String>,
    kakaopay: Option<KakaoPaySettings>,
    trusted_proxies: Vec<ipnet::IpNet>,
    database_proxy: Option<TcpProxy>,
    chat: petory_api::config::ChatSettings,
    board_page_cache: Duration,
    place_ranking_cache: Duration,
    place_index: Option<Duration>,
    kakao_local: Option<KakaoLocalSandbox>,
    image_base: Option<String>,
}

/// A TCP relay between the API and a server that a test can cut, as a restart or a network
/// failure would: open connections drop and new ones are refused until it is restored.
#[derive(Clone)]
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    up: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl TcpProxy {
    pub async fn to(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            up: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            connections: Arc::default(),
        };
        let accepting = proxy.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.up.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accepting.connections.lock().expect("lock").push(relay);
            }
        });
        proxy
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().expect("lock").drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
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
            rate_limit_per_minute: NonZeroU32::new(1_000_000).unwrap(),
            auth_rate_limit_per_minute: NonZeroU32::new(1_000_000).unwrap(),
            routes: None,
            google: None,
            oauth_success_redirect: None,
            kakaopay: None,
            trusted_proxies: Vec::new(),
            database_proxy: None,
            chat: petory_api::config::ChatSettings::default(),
            // Off, so that a test sees what it just wrote; one test turns it on.
            board_page_cache: Duration::ZERO,
            place_ranking_cache: Duration::ZERO,
            // Every search looks at the changes first, so that a test sees its own writes.
            place_index: Some(Duration::ZERO),
            kakao_local: None,
            image_base: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The outbox relay as the batch job `relay-events` runs it.
    pub fn relay(&self) -> petory_event::Relay {
        petory_event::product_relay(
            petory_event::RetryPolicy::default(),
            petory_event::RelayPorts {
                db: self.state.db.clone(),
                gateway: self.state.payments.clone(),
                signal: self.state.notifications.clone(),
                mailer: std::sync::Arc::new(
                    petory_external_api::mail::LettreMailer::new(
                        &petory_external_api::mail::MailSettings::directory(
                            &std::env::temp_dir().join("petory-test-mail"),
                        ),
                    )
                    .expect("mailer"),
                ),
                sessions: self.state.sessions.clone(),
                access_ttl: self.state.tokens.access_ttl,
            },
        )
    }

    /// Delivers every due outbox event, as the batch job does.
    pub async fn relay_events(&self) -> petory_event::RelayCounts {
        self.relay()
            .relay_due(&self.state.db, self.clock.now_utc(), 100)
            .await
            .expect("relay")
    }

    /// Sends the queued Web Push messages, as the batch job `send-pushes` does.
    pub async fn send_pushes(&self) -> petory_core::notification::push::delivery::SendCounts {
        let service =
            petory_external_api::push::WebPush::new(&petory_external_api::push::PushSettings {
                vapid: self.state.config.push.vapid.clone(),
                timeout: Duration::from_secs(5),
            })
            .expect("push client");
        petory_core::notification::push::delivery::send_due(
            &self.state.db,
            Arc::new(service),
            self.clock.now_utc(),
            Default::default(),
        )
        .await
        .expect("send pushes")
    }

    /// Another API instance on the same database, Redis and clock, as a second process would be.
    pub async fn sibling(&self) -> Instance {
        let state = AppState::with_clock(self.state.config.clone(), Arc::new(self.clock.clone()))
            .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind api");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = petory_api::router::build(state).layer(axum::middleware::from_fn_with_state(
            self.conformance.clone(),
            crate::conformance::check,
        ));
        let server = tokio::spawn(async move {
            petory_api::server::serve(listener, router, std::future::pending())
                .await
                .expect("serve");
        });
        Instance {
            base_url,
            _server: server,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestApp {
    /// A test whose answers broke the contract fails, unless it failed already.
    fn drop(&mut self) {
        let violations = self.conformance.take();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "{} answer(s) outside the OpenAPI document:\n{}",
                violations.len(),
                violations.join("\n")
            );
        }
    }
}

impl TestAppBuilder {
    /// Imports places from this Kakao Local sandbox, which lives as long as the app.
    pub fn kakao_local(mut self, sandbox: KakaoLocalSandbox) -> Self {
        self.kakao_local = Some(sandbox);
        self
    }

    /// Keeps the owner board's first pages this long.
    pub fn board_page_cache(mut self, ttl: Duration) -> Self {
        self.board_page_cache = ttl;
        self
    }

    /// Links images under this public (CDN) base instead of presigned URLs.
    pub fn image_base(mut self, base: &str) -> Self {
        self.image_base = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// Searches near a position through PostgreSQL only (`None`), or an in-memory index
    /// whose look at the changes may be this old.
    pub fn place_index(mut self, age: Option<Duration>) -> Self {
        self.place_index = age;
        self
    }

    /// Takes bodies up to this size (the tests' default is 64 KiB, production's 1 MiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Keeps place rankings this long.
    pub fn place_ranking_cache(mut self, ttl: Duration) -> Self {
        self.place_ranking_cache = ttl;
        self
    }

    /// Chat sockets' limits and timings.
    pub fn chat(mut self, chat: petory_api::config::ChatSettings) -> Self {
        self.chat = chat;
        self
    }

    /// Points Redis somewhere else, e.g. at a closed port to see it down.
    pub fn redis_url(mut self, url: &str) -> Self {
        self.redis_url = url.to_owned();
        self
    }

    pub fn rate_limits(mut self, per_minute: u32, auth_per_minute: u32) -> Self {
        self.rate_limit_per_minute = NonZeroU32::new(per_minute).unwrap();
        self.auth_rate_limit_per_minute = NonZeroU32::new(auth_per_minute).unwrap();
        self
    }

    /// Google's endpoints, e.g. those of a `FakeGoogle`.
    pub fn google(mut self, settings: GoogleSettings) -> Self {
        self.google = Some(settings);
        self
    }

    /// Proxies whose `X-Forwarded-For` the API believes.
    pub fn trusted_proxies(mut self, proxies: &[&str]) -> Self {
        self.trusted_proxies = proxies.iter().map(|p| p.parse().expect("CIDR")).collect();
        self
    }

    pub fn kakaopay(mut self, settings: KakaoPaySettings) -> Self {
        self.kakaopay = Some(settings);
        self
    }

    /// Reaches PostgreSQL through `proxy` (which `TcpProxy::to` the server's address), with a
    /// short pool wait, so that a test can take the database away.
    pub fn database_proxy(mut self, proxy: TcpProxy) -> Self {
        self.database_proxy = Some(proxy);
        self
    }

    pub fn oauth_success_redirect(mut self, url: &str) -> Self {
        self.oauth_success_redirect = Some(url.to_owned());
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
            database: match &self.database_proxy {
                Some(proxy) => DatabaseSettings {
                    url: through(db.url(), proxy.addr),
                    pool: PoolSettings {
                        max_size: 4,
                        connection_timeout: Duration::from_secs(2),
                        ..PoolSettings::default()
                    },
                },
                None => DatabaseSettings {
                    url: db.url().to_owned(),
                    // A generous wait: the race tests queue many requests on a busy CI machine.
                    pool: PoolSettings {
                        max_size: 8,
                        connection_timeout: Duration::from_secs(30),
                        ..PoolSettings::default()
                    },
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
            tokens: TokenSettings::new(
                b"test-secret-test-secret-test-secret!",
                Duration::from_secs(900),
                Duration::from_secs(14 * 86_400),
            ),
            google: self.google.unwrap_or_else(|| GoogleSettings {
                client_id: "petory-test".into(),
                client_secret: "secret".into(),
                redirect_uri: "http://127.0.0.1/callback".into(),
                authorization_endpoint: "http://127.0.0.1:1/auth".into(),
                token_endpoint: "http://127.0.0.1:1/token".into(),
                jwks_uri: "http://127.0.0.1:1/jwks".into(),
                issuers: vec!["https://accounts.google.com".into()],
                timeout: Duration::from_secs(2),
            }),
            oauth_success_redirect: self.oauth_success_redirect,
            order_payment_window: Duration::from_secs(30 * 60),
            kakaopay: self.kakaopay.unwrap_or_else(|| KakaoPaySettings {
                base_url: "http://127.0.0.1:1".into(),
                secret_key: "none".into(),
                cid: "TC0ONETIME".into(),
                subscription_cid: "TCSUBSCRIP".into(),
                timeout: Duration::from_secs(2),
            }),
            public_url: "http://petory.test".into(),
            app_url: Some("https://app.petory.test".into()),
            rate_limit_per_minute: self.rate_limit_per_minute,
            auth_rate_limit_per_minute: self.auth_rate_limit_per_minute,
            trusted_proxies: self.trusted_proxies,
            password_hashing: Default::default(),
            uploads: Default::default(),
            moderation: Default::default(),
            chat: self.chat,
            board_page_cache: self.board_page_cache,
            place_ranking_cache: self.place_ranking_cache,
            place_index: self.place_index,
            kakao_local: petory_external_api::place::KakaoLocalSettings {
                base_url: self.kakao_local.as_ref().map_or_else(
                    || "http://127.0.0.1:9".to_owned(),
                    KakaoLocalSandbox::base_url,
                ),
                rest_api_key: "test-rest-key".to_owned(),
                timeout: Duration::from_secs(5),
            },
            image_links: petory_core::platform::image::ImageLinks {
                serving: self.image_base.clone().map_or(
                    petory_core::platform::image::Serving::Presigned {
                        ttl: Duration::from_secs(3600),
                    },
                    petory_core::platform::image::Serving::PublicBase,
                ),
                placeholder: petory_api::config::placeholder_url("http://petory.test"),
            },
            image_purge: self.image_base.is_some(),
            // The development VAPID pair; the local push service's `http://127.0.0.1` endpoints
            // are taken, as under `PETORY_DEV_MODE`.
            push: petory_api::config::PushConfig {
                vapid: petory_external_api::push::VapidSettings::new(
                    petory_external_api::push::DEV_PRIVATE_KEY,
                    petory_external_api::push::DEV_SUBJECT,
                )
                .expect("the development VAPID key"),
                endpoints: petory_core::notification::push::EndpointRules {
                    allowed_hosts: petory_core::notification::push::EndpointRules::DEFAULT_HOSTS
                        .map(str::to_owned)
                        .to_vec(),
                    allow_local_http: true,
                },
            },
        };
        let clock = FixedClock::at(start_of_test_time());
        let state = AppState::with_clock(config, Arc::new(clock.clone())).expect("state");
        let router = match self.routes {
            Some(routes) => {
                petory_api::router::with_middleware(routes(Router::new()), state.clone())
            }
            None => petory_api::router::build(state.clone()),
        };
        let conformance = crate::conformance::Conformance::default();
        let router = router.layer(axum::middleware::from_fn_with_state(
            conformance.clone(),
            crate::conformance::check,
        ));
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
            conformance,
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
            _kakao_local: self.kakao_local,
            _db: db,
        }
    }
}

/// `url` with its host and port replaced by `addr`.
fn through(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    let at = if credentials.is_empty() { "" } else { "@" };
    format!("{scheme}://{credentials}{at}{addr}{path}")
}

/// The address of the PostgreSQL server the tests use.
/// Where the tests' Redis listens (`REDIS_URL`, or the default).
pub fn redis_addr() -> std::net::SocketAddr {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| RedisSettings::DEFAULT_URL.to_owned());
    let host_port = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .replace("localhost", "127.0.0.1");
    host_port.parse().expect("a host:port address")
}

pub fn database_addr() -> std::net::SocketAddr {
    let url = std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap_or("127.0.0.1:5432");
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port.parse().expect("a host:port address")
}

/// The document with every presigned URL's signature (its query) dropped: a signature carries
/// the wall-clock second it was made, so two reads of the same data differ only there.
pub fn without_signatures(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::String(text) if text.starts_with("http") => {
            if let Some(query) = text.find('?') {
                text.truncate(query);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                *item = without_signatures(item.take());
            }
        }
        serde_json::Value::Object(fields) => {
            for field in fields.values_mut() {
                *field = without_signatures(field.take());
            }
        }
        _ => {}
    }
    value
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

pub const PASSWORD: &str = "correct horse 1";

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Any request, with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Any request that must succeed: its JSON body.
    pub async fn send_ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let response = self.send(method.clone(), path, token, body).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}: {text}"))
    }

    /// A POST that must succeed: its JSON body.
    pub async fn post_ok(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> serde_json::Value {
        self.send_ok(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// A public GET that must succeed: its JSON body.
    pub async fn get_ok(&self, path: &str) -> serde_json::Value {
        self.send_ok(reqwest::Method::GET, path, None, None).await
    }

    /// Signs up `email` (the answer is the same whether or not it has an account).
    pub async fn signup(&self, email: &str) {
        let response = self
            .post_json(
                "/api/v1/auth/signup",
                None,
                serde_json::json!({"email": email, "password": PASSWORD, "name": "Bori's human"}),
            )
            .await;
        assert_eq!(response.status(), 202, "signup of {email}");
    }

    /// Logs in and returns `(access_token, refresh_token)`.
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "login of {email}");
        let tokens: serde_json::Value = response.json().await.expect("tokens");
        (
            tokens["access_token"].as_str().unwrap().to_owned(),
            tokens["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// The id of the account with this email.
    pub async fn user_id(&self, email: &str) -> i64 {
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        use diesel_async::RunQueryDsl as _;
        use petory_core::schema::users;
        let mut conn = self.state.db.get().await.expect("a connection");
        users::table
            .filter(users::email.eq(email.to_lowercase()))
            .select(users::id)
            .first(&mut conn)
            .await
            .expect("the account")
    }

    /// A new member who followed the mailed verification link (as
    /// `a_mailed_link_verifies_an_email_address_once` shows), logged in: `(user id, access
    /// token)`.
    pub async fn user(&self, email: &str) -> (i64, String) {
        let (id, token) = self.unverified_user(email).await;
        self.verify_email(id).await;
        (id, token)
    }

    /// A new member who has not followed the mailed link yet, logged in: reads, but takes no
    /// part.
    pub async fn unverified_user(&self, email: &str) -> (i64, String) {
        self.signup(email).await;
        let (access, _) = self.login(email, PASSWORD).await;
        (self.user_id(email).await, access)
    }

    /// Mails sent to `to` so far (through the relay and the file transport), oldest first,
    /// each as its decoded subject and text body.
    pub async fn mails_to(&self, to: &str) -> Vec<String> {
        self.relay_events().await;
        let dir = std::env::temp_dir().join("petory-test-mail");
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| {
                        let path = entry.ok()?.path();
                        let at = std::fs::metadata(&path).ok()?.modified().ok()?;
                        let raw = std::fs::read(path).ok()?;
                        let mail = mail_parser::MessageParser::default().parse(&raw)?;
                        let addressed = mail
                            .to()?
                            .iter()
                            .any(|address| address.address() == Some(to));
                        addressed.then(|| {
                            let subject = mail.subject().unwrap_or_default();
                            let body = mail.body_text(0).unwrap_or_default();
                            (at, format!("{subject}\n\n{body}"))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        mails.into_iter().map(|(_, mail)| mail).collect()
    }

    /// The token of the last link to `path` (`/api/v1/auth/verify-email`, `/reset-password`)
    /// mailed to `to`.
    pub async fn mailed_token(&self, to: &str, path: &str) -> String {
        let marker = format!("{path}?token=");
        let mail = self
            .mails_to(to)
            .await
            .into_iter()
            .rev()
            .find(|mail| mail.contains(&marker))
            .unwrap_or_else(|| panic!("a mail to {to} with a link to {path}"));
        let start = mail.find(&marker).unwrap() + marker.len();
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
            .collect()
    }

    /// Marks the account's address verified, as following the mailed link does.
    pub async fn verify_email(&self, user: i64) {
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        use diesel_async::RunQueryDsl as _;
        use petory_core::schema::users;
        let mut conn = self.state.db.get().await.expect("a connection");
        diesel::update(users::table.find(user))
            .set(users::email_verified_at.eq(Some(self.clock.now_utc())))
            .execute(&mut conn)
            .await
            .expect("verified");
    }

    /// A new administrator, logged in: its access token.
    pub async fn admin_token(&self) -> String {
        petory_core::identity::account::ensure_admin(
            &self.state.db,
            "admin@petory.test",
            PASSWORD.to_owned(),
            "Admin",
            self.clock.now_utc(),
        )
        .await
        .expect("admin");
        self.login("admin@petory.test", PASSWORD).await.0
    }
}

pub trait ClockExt {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl ClockExt for FixedClock {
    fn now_utc(&self) -> DateTime<Utc> {
        petory_core::ports::Clock::now(self)
    }
}
