//! `Idempotency-Key` on POST, through the production middleware stack and a real database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::TimeDelta;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Client as _;
use crate::fixtures::shop::{Cart, Category, Item, Tokens};
use crate::util::{TestApp, assert_problem};

/// What `POST /things` is asked to do.
#[derive(Debug, Deserialize)]
struct Thing {
    name: Option<Value>,
    sleep_ms: Option<u64>,
    /// `server` or `client`: answer with that kind of failure.
    fail: Option<String>,
}

/// An app whose `POST /things` counts how often it really ran.
async fn counting_app() -> (TestApp, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let app = TestApp::builder()
        .routes(move |router| {
            router.route(
                "/things",
                post(move |Json(thing): Json<Thing>| {
                    let counter = counter.clone();
                    async move {
                        let run = counter.fetch_add(1, Ordering::SeqCst) + 1;
                        tokio::time::sleep(Duration::from_millis(
                            u64::from(thing.sleep_ms.is_some()) * 300,
                        ))
                        .await;
                        match thing.fail.as_deref() {
                            Some("server") => {
                                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"run": run})))
                            }
                            Some("client") => {
                                (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"run": run})))
                            }
                            _ => (
                                StatusCode::CREATED,
                                Json(json!({"run": run, "name": thing.name})),
                            ),
                        }
                    }
                }),
            )
        })
        .spawn()
        .await;
    (app, runs)
}

/// A signed-in caller (keys are scoped per user; a guest's are ignored).
fn caller(app: &TestApp, user: i64) -> String {
    use crate::util::ClockExt as _;
    petory_core::identity::token::issue_access(
        &app.state.tokens,
        petory_core::identity::UserId(user),
        petory_core::identity::Role::User,
        "session",
        app.clock.now_utc(),
    )
    .0
}

async fn post_thing(app: &TestApp, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/things"))
        .bearer_auth(caller(app, 1))
        .json(&body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_response() {
    let (app, runs) = counting_app().await;
    let first = post_thing(&app, Some("key-1"), json!({"name": "Bori"})).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    // Compared whole: a replay is the first answer, every field of it.
    let first: Value = first.json().await.unwrap();

    let second = post_thing(&app, Some("key-1"), json!({"name": "Bori"})).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["content-type"], "application/json");
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_conflict() {
    let (app, runs) = counting_app().await;
    assert_eq!(
        post_thing(&app, Some("key-1"), json!({"name": "Bori"}))
            .await
            .status(),
        201
    );
    let response = post_thing(&app, Some("key-1"), json!({"name": "Choco"})).await;
    assert_problem(response, 409, "IDEMPOTENCY_KEY_REUSED").await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the conflicting request changed nothing"
    );
}

#[tokio::test]
async fn requests_without_a_key_run_every_time() {
    let (app, runs) = counting_app().await;
    for _ in 0..3 {
        assert_eq!(
            post_thing(&app, None, json!({"name": "Bori"}))
                .await
                .status(),
            201
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_malformed_key_is_refused() {
    let (app, runs) = counting_app().await;
    let response = post_thing(&app, Some(&"k".repeat(256)), json!({"name": "Bori"})).await;
    assert_problem(response, 400, "INVALID_IDEMPOTENCY_KEY").await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn concurrent_retries_run_the_request_once() {
    let (app, runs) = counting_app().await;
    let app = Arc::new(app);
    let attempts = (0..8).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            post_thing(&app, Some("race"), json!({"name": "Bori", "sleep_ms": 300}))
                .await
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "statuses: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| *status == 201 || *status == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    // Once finished, every retry is a replay.
    let replay = post_thing(&app, Some("race"), json!({"name": "Bori", "sleep_ms": 300})).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_server_failure_frees_the_key_for_a_retry() {
    let (app, runs) = counting_app().await;
    assert_eq!(
        post_thing(&app, Some("flaky"), json!({"fail": "server"}))
            .await
            .status(),
        500
    );
    assert_eq!(
        post_thing(&app, Some("flaky"), json!({"fail": "server"}))
            .await
            .status(),
        500
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "a failed attempt is not replayed"
    );
}

#[tokio::test]
async fn a_client_error_is_replayed_like_any_answer() {
    let (app, runs) = counting_app().await;
    assert_eq!(
        post_thing(&app, Some("bad"), json!({"fail": "client"}))
            .await
            .status(),
        422
    );
    let again = post_thing(&app, Some("bad"), json!({"fail": "client"})).await;
    assert_eq!(again.status(), 422);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_key_can_be_reused_after_its_retention() {
    let (app, runs) = counting_app().await;
    assert_eq!(
        post_thing(&app, Some("old"), json!({"name": "Bori"}))
            .await
            .status(),
        201
    );
    app.clock.advance(TimeDelta::hours(25));
    let response = post_thing(&app, Some("old"), json!({"name": "Choco"})).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn auth_answers_are_never_stored_for_replay() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let login = |key: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("idempotency-key", key)
            .json(&json!({"email": "bori@example.com", "password": crate::util::PASSWORD}))
            .send()
    };
    let first: Tokens = login("same").await.unwrap().json().await.unwrap();
    let second = login("same").await.unwrap();
    assert!(second.headers().get("idempotent-replayed").is_none());
    let second: Tokens = second.json().await.unwrap();
    assert_ne!(
        first.refresh_token, second.refresh_token,
        "each login is its own session"
    );
}

#[tokio::test]
async fn keys_are_scoped_per_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let category: Category = admin
        .post("/api/v1/admin/categories", json!({"name": "Dogs"}))
        .await;
    let item: Item = admin
        .post(
            "/api/v1/admin/items",
            json!({"category_id": category.id, "name": "Omega-3", "price": 1000, "stock": 5}),
        )
        .await;
    let add = |token: &str| {
        app.client
            .post(app.url("/api/v1/cart/items"))
            .bearer_auth(token)
            .header("idempotency-key", "add-omega")
            .json(&json!({"item_id": item.id, "quantity": 1}))
            .send()
    };
    let alice = app.member("alice@example.com").await;
    let bob = app.member("bob@example.com").await;
    assert_eq!(add(&alice.token).await.unwrap().status(), 200);
    let bobs = add(&bob.token).await.unwrap();
    assert!(
        bobs.headers().get("idempotent-replayed").is_none(),
        "bob's request is his own, not alice's replay"
    );
    let bobs: Cart = bobs.json().await.unwrap();
    assert_eq!(bobs.total_quantity, 1);
    // Alice's retry replays her answer; her cart holds one, not two.
    assert_eq!(
        add(&alice.token).await.unwrap().headers()["idempotent-replayed"],
        "true"
    );
    let cart: Cart = alice.get("/api/v1/cart").await;
    assert_eq!(cart.total_quantity, 1);
}

/// Every signed-in POST documents the key's conflicts (the response check holds the answer
/// against the document): here adding a pet, then another pet under the same key.
#[tokio::test]
async fn a_reused_key_on_any_operation_is_a_documented_conflict() {
    let app = TestApp::spawn().await;
    let owner = app.member("bori@example.com").await;
    let add = |name: &str| {
        app.client
            .post(app.url("/api/v1/pets"))
            .bearer_auth(&owner.token)
            .header("idempotency-key", "add-a-pet")
            .json(&json!({"name": name, "species": "DOG", "sex": "FEMALE", "neutered": true}))
            .send()
    };
    assert_eq!(add("Bori").await.unwrap().status(), 201);
    assert_problem(add("Choco").await.unwrap(), 409, "IDEMPOTENCY_KEY_REUSED").await;
}
