//! What tests build again and again: a shop with an item and a buyer, KakaoPay's sandbox,
//! paying, the relay. Each test then reads as what it proves.

use std::time::Duration;

use chrono::TimeDelta;
use petory_core::shop::billing::{self, BillingCounts, BillingSettings};

use petory_external_api::payment::kakaopay::KakaoPaySettings;
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};
use petory_external_api::place::sandbox::{self as places_sandbox, KakaoLocalSandbox};
use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{ClockExt as _, TestApp};

pub mod community;
pub mod daily;
pub mod images;
pub mod shop;

/// An item with `stock` on sale and a buyer with a complete profile: `(item id, token, address id)`.
pub async fn shop(app: &TestApp, stock: i64) -> (i64, String, i64) {
    let admin = app.admin_token().await;
    let category: Value = app
        .post_ok(
            "/api/v1/admin/categories",
            Some(&admin),
            json!({"name": "Dogs"}),
        )
        .await;
    let item: Value = app
        .post_ok("/api/v1/admin/items", Some(&admin), json!({"category_id": category["id"], "name": "Omega-3", "price": 20000, "discount_rate": 10, "stock": stock})).await;
    let (_, token) = app.user("buyer@example.com").await;
    let address = complete_profile(app, &token).await;
    (item["id"].as_i64().unwrap(), token, address)
}

pub async fn complete_profile(app: &TestApp, token: &str) -> i64 {
    app.send(Method::PUT, "/api/v1/users/me/profile", Some(token), Some(json!({
        "phone": "010-1234-5678",
        "address": {"recipient": "Bori", "phone": "010-1234-5678", "zip_code": "06236", "address1": "Teheran-ro 1"}
    })))
    .await;
    let addresses: Value = app
        .send_ok(Method::GET, "/api/v1/users/me/addresses", Some(token), None)
        .await;
    addresses["items"][0]["id"].as_i64().unwrap()
}

pub async fn stock(app: &TestApp, item: i64) -> i64 {
    let item: Value = app.get_ok(&format!("/api/v1/items/{item}")).await;
    item["stock"].as_i64().unwrap()
}

pub fn order_body(item: i64, quantity: i64, address: i64) -> Value {
    json!({"items": [{"item_id": item, "quantity": quantity}], "address_id": address})
}

pub async fn app_with_kakaopay(timeout: Duration) -> (TestApp, KakaoPaySandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = KakaoPaySandbox::serve(
        listener,
        SandboxSettings {
            auto_approve: true,
            ..SandboxSettings::default()
        },
    )
    .unwrap();
    let settings = KakaoPaySettings {
        base_url: sandbox.base_url(),
        secret_key: "DEV-SANDBOX-SECRET".into(),
        cid: "TC0ONETIME".into(),
        subscription_cid: "TCSUBSCRIP".into(),
        timeout,
    };
    // Places imports reach a local Kakao Local too.
    let directory = kakao_local(3, "test-rest-key").await;
    (
        TestApp::builder()
            .kakaopay(settings)
            .kakao_local(directory)
            .spawn()
            .await,
        sandbox,
    )
}

/// Starts payment and approves at the sandbox like a browser: returns the approve path on our
/// API (with `order_id` and `pg_token`) that the sandbox redirected to.
pub async fn pay(app: &TestApp, token: &str, order: i64) -> String {
    let started = app
        .post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(started.status(), 200);
    let started: Value = started.json().await.unwrap();
    assert!(
        started["tid"]
            .as_str()
            .is_some_and(|tid| tid.starts_with('T'))
    );
    let redirect = app
        .client
        .get(started["redirect_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    location
        .strip_prefix("http://petory.test")
        .expect("our public URL")
        .to_owned()
}

pub async fn ledger(sandbox: &KakaoPaySandbox) -> Vec<Value> {
    reqwest::get(format!("{}/__sandbox/ledger", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The relay as the batch job `relay-events` runs it, for refunds.
pub fn refund_relay(app: &TestApp) -> petory_event::Relay {
    let gateway = app.state.payments.clone();
    petory_event::Relay::new(petory_event::RetryPolicy::default()).with_handler(
        std::sync::Arc::new(petory_event::CancelPayment {
            gateway,
            db: app.state.db.clone(),
        }),
    )
}

pub async fn place(app: &TestApp, token: &str, item: i64, address: i64) -> i64 {
    let order: Value = app
        .post_ok("/api/v1/orders", Some(token), order_body(item, 2, address))
        .await;
    order["id"].as_i64().unwrap()
}

pub async fn misbehave(sandbox: &KakaoPaySandbox, next: &str, times: usize) {
    let response = reqwest::Client::new()
        .post(format!("{}/__sandbox/misbehave", sandbox.base_url()))
        .json(&json!({"next": next, "times": times}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// An order as its owner reads it.
pub async fn order_of(app: &TestApp, token: &str, order: i64) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/orders/{order}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The titles of a user's notifications, newest first.
pub async fn notification_titles(app: &TestApp, token: &str) -> Vec<String> {
    let page: Value = app
        .send_ok(Method::GET, "/api/v1/notifications", Some(token), None)
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn subscribe_to(app: &TestApp, token: &str, item: i64, address: i64) -> (i64, String) {
    let body = json!({"items": [{"item_id": item, "quantity": 2, "subscription_period_days": 30}], "address_id": address});
    let order: Value = app.post_ok("/api/v1/orders", Some(token), body).await;
    let approve = pay(app, token, order["id"].as_i64().unwrap()).await;
    assert_eq!(app.get(&approve).await.status(), 200);
    let mine: Value = app
        .send_ok(Method::GET, "/api/v1/subscriptions", Some(token), None)
        .await;
    let id = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["first_order_id"] == order["id"])
        .expect("the new subscription")["id"]
        .as_i64()
        .unwrap();
    (id, token.to_owned())
}

pub fn billing_settings() -> BillingSettings {
    BillingSettings {
        chunk: 4,
        concurrency: 4,
        lease: TimeDelta::minutes(5),
    }
}

/// One billing run as of the test clock.
pub async fn bill(app: &TestApp) -> BillingCounts {
    let now = app.clock.now_utc();
    billing::run(
        &app.state.db,
        app.state.payments.as_ref(),
        app.state.calendar.day_of(now),
        now,
        billing_settings(),
    )
    .await
    .expect("billing run")
}

pub async fn charges(sandbox: &KakaoPaySandbox) -> usize {
    ledger(sandbox)
        .await
        .iter()
        .filter(|entry| entry["kind"] == "subscription")
        .count()
}

/// A real 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Asks for an upload of `bytes` declared as `content_type` and sends them to the presigned
/// URL, as a client would: the key.
pub async fn upload(
    app: &TestApp,
    token: &str,
    purpose: &str,
    content_type: &str,
    bytes: &'static [u8],
) -> String {
    let ticket = app
        .post_ok(
            "/api/v1/uploads",
            Some(token),
            json!({"purpose": purpose, "content_type": content_type, "content_length": bytes.len()}),
        )
        .await;
    assert_eq!(ticket["method"], "PUT");
    let mut put = reqwest::Client::new()
        .put(ticket["url"].as_str().unwrap())
        .body(bytes);
    for (name, value) in ticket["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let status = put.send().await.unwrap().status();
    assert!(status.is_success(), "upload to S3: {status}");
    ticket["key"].as_str().unwrap().to_owned()
}

/// A real PNG uploaded for `purpose`: its key.
pub async fn image(app: &TestApp, token: &str, purpose: &str) -> String {
    upload(app, token, purpose, "image/png", PNG).await
}

/// A JPEG of `width` × `height` that really decodes, as a phone would upload.
pub fn jpeg(width: u32, height: u32) -> &'static [u8] {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    Box::leak(bytes.into_boxed_slice())
}

/// Whether the object store holds `key`.
pub async fn stored(app: &TestApp, key: &str) -> bool {
    app.state.object_store.head(key).await.unwrap().is_some()
}

/// A new category and an item in it with these images, made by the admin: the answer.
pub async fn item_with_images(
    app: &TestApp,
    admin: &str,
    image_keys: &[String],
) -> reqwest::Response {
    static CATEGORIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CATEGORIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let category = app
        .post_ok(
            "/api/v1/admin/categories",
            Some(admin),
            json!({"name": format!("Cats {n}")}),
        )
        .await;
    app.post_json(
        "/api/v1/admin/items",
        Some(admin),
        json!({"category_id": category["id"], "name": "Brush", "price": 9000, "stock": 3, "image_keys": image_keys}),
    )
    .await
}

/// `n` established members made at once (set-based SQL, no password hashing): active, their
/// addresses verified, joined a month ago; each with an access token: `(user id, token)`.
pub async fn crowd(app: &TestApp, n: i64) -> Vec<(i64, String)> {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let now = app.clock.now_utc();
    let ids: Vec<Id> = diesel::sql_query(
        "INSERT INTO users (email, password_hash, name, email_verified_at, status_changed_at,
                            created_at, updated_at)
         SELECT 'crowd-' || n || '-' || gen_random_uuid() || '@example.com', 'no login',
                'Member ' || n, $2, $2, $2, $2
           FROM generate_series(1, $1) AS n
         RETURNING id",
    )
    .bind::<diesel::sql_types::BigInt, _>(n)
    .bind::<diesel::sql_types::Timestamptz, _>(now - chrono::TimeDelta::days(30))
    .load(&mut conn)
    .await
    .unwrap();
    ids.into_iter()
        .map(|Id { id }| {
            let (token, _) = petory_core::identity::token::issue_access(
                &app.state.tokens,
                petory_core::identity::UserId(id),
                petory_core::identity::Role::User,
                &format!("crowd-{id}"),
                now,
            );
            (id, token)
        })
        .collect()
}

/// Marks an account suspended without ending its sessions: the moment between an admin's
/// suspension and the end of the account's sessions, when its tokens still work.
impl TestApp {
    /// `n` established members made at once, as [`crowd`] makes them (they have no password:
    /// their one login is the token they come with).
    pub async fn crowd_of(&self, n: i64) -> Vec<crate::client::Member> {
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        use diesel_async::RunQueryDsl as _;
        use petory_core::schema::users;
        let crowd = crowd(self, n).await;
        let ids: Vec<i64> = crowd.iter().map(|(id, _)| *id).collect();
        let mut conn = self.state.db.get().await.unwrap();
        let emails: std::collections::HashMap<i64, String> = users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::email))
            .load(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .collect();
        crowd
            .into_iter()
            .map(|(id, token)| self.member_of(id, &emails[&id], token))
            .collect()
    }
}

pub async fn suspend_quietly(app: &TestApp, user: i64) {
    use diesel_async::SimpleAsyncConnection as _;
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE users SET status = 'SUSPENDED', suspended_until = now() + interval '1 day',
                          suspension_reason = 'spam' WHERE id = {user}"
    ))
    .await
    .unwrap();
}

/// A post on the owner board by the holder of `token`: the answer.
pub async fn post(app: &TestApp, token: &str, title: &str, content: &str) -> Value {
    app.post_ok(
        "/api/v1/owner-boards",
        Some(token),
        json!({"category": "DAILY", "title": title, "content": content}),
    )
    .await
}

/// A listing for sale by the holder of `token`: its id.
pub async fn listing(app: &TestApp, token: &str, title: &str) -> i64 {
    let listing = app
        .post_ok(
            "/api/v1/trade-boards",
            Some(token),
            json!({"category": "GOODS", "title": title, "content": "barely used",
                   "price": 30_000, "region": "Mapo-gu"}),
        )
        .await;
    listing["id"].as_i64().unwrap()
}

/// A chat socket as a client holds it (`tokio-tungstenite`).
pub struct ChatSocket {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// How long a test waits for a frame that should come.
const FRAME_WAIT: Duration = Duration::from_secs(10);

impl ChatSocket {
    /// Opens `base_url`'s chat socket with a bearer token.
    pub async fn open(base_url: &str, token: &str) -> Self {
        Self::try_open(base_url, Some(token), None)
            .await
            .expect("chat socket opens")
    }

    /// Opens it with a bearer token or a ticket; the HTTP status when refused.
    pub async fn try_open(
        base_url: &str,
        token: Option<&str>,
        ticket: Option<&str>,
    ) -> Result<Self, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut url = format!("{}/api/v1/chat/ws", base_url.replacen("http", "ws", 1));
        if let Some(ticket) = ticket {
            url.push_str(&format!("?ticket={ticket}"));
        }
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Self { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(error) => panic!("chat socket: {error}"),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        use futures_util::SinkExt as _;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(
                frame.to_string(),
            ))
            .await
            .expect("frame sent");
    }

    /// The next JSON frame (pings are answered on the way), or `None` once closed.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Result<Value, Option<u16>>> {
        use futures_util::StreamExt as _;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(wait, self.stream.next()).await.ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(Ok(serde_json::from_str(&text).expect("JSON frame")));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Err(frame.map(|frame| u16::from(frame.code))));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Some(Err(None)),
            }
        }
    }

    /// The next JSON frame, which must come.
    pub async fn next(&mut self) -> Value {
        match self.next_frame(FRAME_WAIT).await {
            Some(Ok(frame)) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The next frame of this `type`, skipping others (e.g. `read` receipts).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts that nothing arrives for a moment.
    pub async fn assert_quiet(&mut self) {
        if let Some(frame) = self.next_frame(Duration::from_millis(500)).await {
            panic!("expected nothing, got {frame:?}");
        }
    }

    /// The close code the server ends the socket with.
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        loop {
            match self.next_frame(wait).await {
                Some(Ok(_)) => {}
                Some(Err(code)) => return code,
                None => panic!("the socket stayed open"),
            }
        }
    }

    /// Sends a text message and returns the server's `ack` (or `error`) for it.
    pub async fn say(&mut self, room: i64, text: &str) -> Value {
        let client_id = uuid::Uuid::new_v4();
        self.send(json!({"type": "send", "room_id": room, "client_id": client_id, "text": text}))
            .await;
        loop {
            let frame = self.next().await;
            if frame["client_id"] == client_id.to_string()
                && (frame["type"] == "ack" || frame["type"] == "error")
            {
                return frame;
            }
        }
    }
}

/// A Kakao Local sandbox in which every keyword finds `places` places, answering only `key`.
pub async fn kakao_local(places: usize, key: &str) -> KakaoLocalSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    KakaoLocalSandbox::serve(
        listener,
        places_sandbox::SandboxSettings {
            rest_api_key: key.to_owned(),
            places_per_keyword: places,
        },
    )
    .unwrap()
}
