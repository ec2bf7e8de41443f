//! A local push service, for tests, `scripts/dev` and the benchmark: it hands out browser-like
//! subscriptions (`POST /subscribe`, keeping each device's private key), and on a push to
//! `/push/{device}` checks what a real push service and browser would: the VAPID JWT (ES256
//! signature against the `k=` key, `aud` the endpoint's origin, `exp` within 24 hours, a
//! `sub`), and decrypts the aes128gcm body with the device's keys. It records what the browser
//! would show; it can answer `404`/`410`/`429`/`5xx` on demand and take its time (latency).
//!
//! `/push/{device}.{anything}` reaches the same device: the benchmark gives 100,000 members
//! endpoints of one device.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Default)]
pub struct PushSandboxSettings {
    /// Added to every push, like the network and a real push service would.
    pub latency: Duration,
    /// Keep only counts, not each push (the benchmark's 100,000).
    pub count_only: bool,
}

/// What `pushManager.subscribe()` gives a web app (`PushSubscription.toJSON()`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BrowserSubscription {
    pub endpoint: String,
    pub keys: BrowserKeys,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BrowserKeys {
    pub p256dh: String,
    pub auth: String,
}

/// One push as the device received it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Received {
    /// The endpoint's last path segment.
    pub endpoint_id: String,
    /// The decrypted payload: what the service worker reads with `event.data.json()`.
    pub payload: serde_json::Value,
    /// The encrypted body's size.
    pub encrypted_bytes: usize,
    pub ttl: u64,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The VAPID JWT's `sub`.
    pub subject: String,
}

struct Device {
    secret: p256::SecretKey,
    auth: [u8; 16],
    /// The `applicationServerKey` it subscribed with: only that key's pushes are taken.
    server_key: Option<String>,
}

#[derive(Default)]
struct Books {
    devices: HashMap<String, Device>,
    received: Vec<Received>,
    /// Answers to give instead of taking the push, per device, in order.
    scripted: HashMap<String, VecDeque<u16>>,
    /// VAPID headers already verified, with their `exp` (a push service caches them too).
    verified: HashMap<String, (u64, String)>,
}

#[derive(Clone)]
struct Sandbox {
    settings: Arc<PushSandboxSettings>,
    books: Arc<Mutex<Books>>,
    origin: Arc<String>,
    accepted: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl Sandbox {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn subscribe(&self, server_key: Option<String>) -> BrowserSubscription {
        let secret = loop {
            if let Ok(key) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let auth: [u8; 16] = rand::random();
        let id = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        let subscription = BrowserSubscription {
            endpoint: format!("{}/push/{id}", self.origin),
            keys: BrowserKeys {
                p256dh: URL_SAFE_NO_PAD
                    .encode(secret.public_key().to_encoded_point(false).as_bytes()),
                auth: URL_SAFE_NO_PAD.encode(auth),
            },
        };
        self.books().devices.insert(
            id,
            Device {
                secret,
                auth,
                server_key,
            },
        );
        subscription
    }
}

pub struct PushSandbox {
    addr: SocketAddr,
    sandbox: Sandbox,
    task: JoinHandle<()>,
}

impl PushSandbox {
    pub fn serve(listener: TcpListener, settings: PushSandboxSettings) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let sandbox = Sandbox {
            settings: Arc::new(settings),
            books: Arc::default(),
            origin: Arc::new(format!("http://{addr}")),
            accepted: Arc::default(),
            refused: Arc::default(),
        };
        let app = Router::new()
            .route("/subscribe", post(subscribe))
            .route("/push/{id}", post(push))
            .route("/__sandbox/received", get(received))
            .route("/__sandbox/stats", get(stats))
            .route("/__sandbox/answer/{device}", post(script))
            .with_state(sandbox.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "push sandbox stopped");
            }
        });
        Ok(Self {
            addr,
            sandbox,
            task,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new device, as a browser subscribing with the server's `applicationServerKey`.
    pub fn subscribe(&self, server_key: &str) -> BrowserSubscription {
        self.sandbox.subscribe(Some(server_key.to_owned()))
    }

    /// What the device behind `endpoint` received, oldest first.
    pub fn received(&self, endpoint: &str) -> Vec<Received> {
        let id = endpoint.rsplit('/').next().unwrap_or_default();
        self.sandbox
            .books()
            .received
            .iter()
            .filter(|push| push.endpoint_id == id)
            .cloned()
            .collect()
    }

    /// The next `times` pushes to `endpoint`'s device are answered `status` instead.
    pub fn answer(&self, endpoint: &str, status: u16, times: usize) {
        let id = endpoint.rsplit('/').next().unwrap_or_default().to_owned();
        self.sandbox
            .books()
            .scripted
            .entry(id)
            .or_default()
            .extend(std::iter::repeat_n(status, times));
    }

    /// Pushes taken and refused so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.sandbox.accepted.load(Ordering::Relaxed),
            self.sandbox.refused.load(Ordering::Relaxed),
        )
    }

    pub async fn wait(self) {
        let task = &mut { self }.task;
        let _ = task.await;
    }
}

impl Drop for PushSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default, Deserialize)]
struct SubscribeBody {
    application_server_key: Option<String>,
}

async fn subscribe(
    State(sandbox): State<Sandbox>,
    body: Option<Json<SubscribeBody>>,
) -> Json<BrowserSubscription> {
    let key = body.and_then(|Json(body)| body.application_server_key);
    Json(sandbox.subscribe(key))
}

#[derive(Debug, Deserialize)]
struct ScriptBody {
    status: u16,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn script(
    State(sandbox): State<Sandbox>,
    Path(device): Path<String>,
    Json(body): Json<ScriptBody>,
) -> StatusCode {
    sandbox
        .books()
        .scripted
        .entry(device)
        .or_default()
        .extend(std::iter::repeat_n(body.status, body.times));
    StatusCode::NO_CONTENT
}

async fn received(State(sandbox): State<Sandbox>) -> Json<Vec<Received>> {
    Json(sandbox.books().received.clone())
}

#[derive(Serialize)]
struct Stats {
    accepted: u64,
    refused: u64,
}

async fn stats(State(sandbox): State<Sandbox>) -> Json<Stats> {
    Json(Stats {
        accepted: sandbox.accepted.load(Ordering::Relaxed),
        refused: sandbox.refused.load(Ordering::Relaxed),
    })
}

fn refuse(sandbox: &Sandbox, status: StatusCode, why: &str) -> Response {
    sandbox.refused.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%status, why, "push refused");
    (status, why.to_owned()).into_response()
}

async fn push(
    State(sandbox): State<Sandbox>,
    Path(endpoint_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !sandbox.settings.latency.is_zero() {
        tokio::time::sleep(sandbox.settings.latency).await;
    }
    let device_id = endpoint_id
        .split_once('.')
        .map_or(endpoint_id.as_str(), |(device, _)| device)
        .to_owned();
    let scripted = sandbox
        .books()
        .scripted
        .get_mut(&device_id)
        .and_then(VecDeque::pop_front);
    if let Some(status) = scripted {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return refuse(&sandbox, status, "answered as asked");
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let Some(ttl) = header("ttl").and_then(|ttl| ttl.trim().parse::<u64>().ok()) else {
        return refuse(
            &sandbox,
            StatusCode::BAD_REQUEST,
            "a TTL header is required",
        );
    };
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        return refuse(
            &sandbox,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "aes128gcm only",
        );
    }
    if body.len() > 4096 {
        return refuse(
            &sandbox,
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 4096 bytes",
        );
    }
    let topic = header("topic");
    if topic.as_ref().is_some_and(|topic| {
        topic.len() > 32
            || !topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return refuse(
            &sandbox,
            StatusCode::BAD_REQUEST,
            "a topic is at most 32 base64url characters",
        );
    }
    let (secret, auth, server_key) = {
        let books = sandbox.books();
        let Some(device) = books.devices.get(&device_id) else {
            drop(books);
            return refuse(&sandbox, StatusCode::GONE, "no such subscription");
        };
        (
            device.secret.clone(),
            device.auth,
            device.server_key.clone(),
        )
    };
    let subject = match verify_vapid(&sandbox, header("authorization"), server_key.as_deref()) {
        Ok(subject) => subject,
        Err(why) => return refuse(&sandbox, StatusCode::FORBIDDEN, &why),
    };
    let plaintext = match web_push_native::decrypt(
        body.to_vec(),
        &secret,
        &web_push_native::Auth::clone_from_slice(&auth),
    ) {
        Ok(plaintext) => plaintext,
        Err(error) => {
            return refuse(
                &sandbox,
                StatusCode::BAD_REQUEST,
                &format!("not decryptable: {error}"),
            );
        }
    };
    let Ok(payload) = serde_json::from_slice(&plaintext) else {
        return refuse(&sandbox, StatusCode::BAD_REQUEST, "the payload is not JSON");
    };
    sandbox.accepted.fetch_add(1, Ordering::Relaxed);
    if !sandbox.settings.count_only {
        sandbox.books().received.push(Received {
            endpoint_id,
            payload,
            encrypted_bytes: body.len(),
            ttl,
            urgency: header("urgency"),
            topic,
            subject,
        });
    }
    StatusCode::CREATED.into_response()
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

/// Checks `vapid t=JWT, k=KEY` (RFC 8292): an ES256 signature by `k`, `aud` this service's
/// origin, `exp` in the future and within 24 hours, a `sub`; `k` the key the device subscribed
/// with. Returns the `sub`.
fn verify_vapid(
    sandbox: &Sandbox,
    authorization: Option<String>,
    server_key: Option<&str>,
) -> Result<String, String> {
    let authorization = authorization.ok_or("no Authorization header")?;
    let parameters = authorization
        .strip_prefix("vapid ")
        .ok_or("the Authorization scheme must be vapid")?;
    let mut token = None;
    let mut key = None;
    for part in parameters.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => token = Some(value.trim()),
            Some(("k", value)) => key = Some(value.trim()),
            _ => {}
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    if server_key.is_some_and(|expected| expected != key) {
        return Err("k= is not the key the subscription was made with".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if let Some((exp, sub)) = sandbox.books().verified.get(&authorization)
        && *exp > now
    {
        return Ok(sub.clone());
    }
    let point = URL_SAFE_NO_PAD
        .decode(key)
        .map_err(|_| "k= is not base64url")?;
    if point.len() != 65 || point[0] != 4 {
        return Err("k= is not an uncompressed P-256 key".into());
    }
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(
        &URL_SAFE_NO_PAD.encode(&point[1..33]),
        &URL_SAFE_NO_PAD.encode(&point[33..]),
    )
    .map_err(|error| format!("k=: {error}"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[sandbox.origin.as_str()]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
        .map_err(|error| format!("the VAPID token is refused: {error}"))?
        .claims;
    if claims.exp > now + 24 * 3600 {
        return Err("the VAPID token's exp is more than 24 hours ahead".into());
    }
    if !(claims.sub.starts_with("mailto:") || claims.sub.starts_with("https://")) {
        return Err("the VAPID token's sub must be a mailto: or https: URL".into());
    }
    sandbox
        .books()
        .verified
        .insert(authorization.clone(), (claims.exp, claims.sub.clone()));
    Ok(claims.sub)
}
