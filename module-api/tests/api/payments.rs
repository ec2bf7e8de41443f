//! Paying for orders through the KakaoPay sandbox.

use std::time::Duration;

use petory_external_api::payment::kakaopay::KakaoPaySettings;
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};
use reqwest::Method;
use serde_json::{Value, json};

use crate::orders::{order_body, shop, stock};
use crate::util::{TestApp, assert_problem};

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
    (TestApp::builder().kakaopay(settings).spawn().await, sandbox)
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
fn refund_relay(app: &TestApp) -> petory_event::Relay {
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
        .post_json("/api/v1/orders", Some(token), order_body(item, 2, address))
        .await
        .json()
        .await
        .unwrap();
    order["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_order_is_paid_through_kakaopay_and_a_second_approve_changes_nothing() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    assert!(approve.starts_with(&format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&pg_token="
    )));

    let paid = app.get(&approve).await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    assert_eq!(paid["status"], "PAID");
    assert!(paid["paid_at"].is_string());

    let again: Value = app.get(&approve).await.json().await.unwrap();
    assert_eq!(again["status"], "PAID");
    let entries = ledger(&sandbox).await;
    let approvals = entries
        .iter()
        .filter(|entry| entry["kind"] == "approve")
        .count();
    assert_eq!(approvals, 1, "approved once at the gateway");
    assert_eq!(entries[0]["amount"], 36000);

    let item: Value = app
        .get(&format!("/api/v1/items/{item}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["sales_count"], 2);
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_or_failed_payment_leaves_the_order_payable() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;

    assert_problem(
        app.get(&format!(
            "/api/v1/payments/kakaopay/cancel?order_id={order}"
        ))
        .await,
        400,
        "PAYMENT_CANCELED_BY_BUYER",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/payments/kakaopay/fail?order_id={order}"))
            .await,
        400,
        "PAYMENT_FAILED",
    )
    .await;
    let forged = format!("/api/v1/payments/kakaopay/approve?order_id={order}&pg_token=forged");
    assert_problem(app.get(&forged).await, 402, "PAYMENT_REFUSED").await;
    let status: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/orders/{order}"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "PENDING_PAYMENT");

    // A fresh attempt works.
    let approve_again = pay(&app, &token, order).await;
    assert_ne!(approve_again, approve);
    assert_eq!(
        app.get(&approve_again).await.json::<Value>().await.unwrap()["status"],
        "PAID"
    );
}

#[tokio::test]
async fn a_gateway_timeout_on_approval_is_resolved_by_lookup() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(1)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    reqwest::Client::new()
        .post(format!("{}/__sandbox/misbehave", sandbox.base_url()))
        .json(&json!({"next": "timeout"}))
        .send()
        .await
        .unwrap();
    let paid: Value = app.get(&approve).await.json().await.unwrap();
    assert_eq!(
        paid["status"], "PAID",
        "the lookup found the approval the timeout hid"
    );
    assert_eq!(
        ledger(&sandbox)
            .await
            .iter()
            .filter(|entry| entry["kind"] == "approve")
            .count(),
        1
    );
}

#[tokio::test]
async fn unpayable_orders_and_an_unreachable_gateway_are_clear_problems() {
    let app = TestApp::spawn().await; // its gateway points at a closed port
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        503,
        "PAYMENT_GATEWAY_UNAVAILABLE",
    )
    .await;
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
    assert_eq!(stock(&app, item).await, 10);
    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&stranger),
            json!({}),
        )
        .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_through_the_outbox() {
    use diesel_async::RunQueryDsl as _;
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    app.get(&approve).await;

    let refunded: Value = app
        .send(
            Method::POST,
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refunded["status"], "REFUNDED");
    assert_eq!(stock(&app, item).await, 10);
    assert!(
        ledger(&sandbox)
            .await
            .iter()
            .all(|entry| entry["kind"] != "cancel"),
        "the refund waits for the relay"
    );

    // The relay (the batch job `relay-events`) carries the refund out at the gateway.
    let relay = refund_relay(&app);
    let now = crate::util::ClockExt::now_utc(&app.clock);
    assert_eq!(
        relay
            .relay_due(&app.state.db, now, 10)
            .await
            .unwrap()
            .delivered,
        1
    );
    let cancels: Vec<Value> = ledger(&sandbox)
        .await
        .into_iter()
        .filter(|entry| entry["kind"] == "cancel")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0]["amount"], 36000);

    #[derive(diesel::QueryableByName)]
    struct Status {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let payment: Status = diesel::sql_query(format!(
        "SELECT status FROM payments WHERE order_id = {order}"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(payment.status, "CANCELED");
    drop(conn);
    assert_problem(
        app.send(
            Method::POST,
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&token),
            None,
        )
        .await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
}

#[tokio::test]
async fn an_order_that_expired_while_the_buyer_was_at_kakaopay_is_refunded_not_resurrected() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    // The buyer dawdles; the expiry job releases the stock.
    app.clock.advance(chrono::TimeDelta::minutes(31));
    let mut conn = app.state.db.get().await.unwrap();
    let now = crate::util::ClockExt::now_utc(&app.clock);
    assert_eq!(
        petory_core::shop::order::expire_unpaid(&mut conn, now, 10)
            .await
            .unwrap(),
        1
    );
    drop(conn);

    assert_problem(app.get(&approve).await, 409, "ORDER_NOT_PAYABLE").await;
    let (token, _) = app.login("buyer@example.com", crate::util::PASSWORD).await;
    let status: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/orders/{order}"),
            Some(&token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "CANCELED");
    assert_eq!(stock(&app, item).await, 10, "no stock was taken twice");
    let relay = refund_relay(&app);
    assert_eq!(
        relay
            .relay_due(&app.state.db, now, 10)
            .await
            .unwrap()
            .delivered,
        1,
        "the approved money goes back"
    );
}

#[tokio::test]
async fn a_subscription_orders_first_approval_creates_its_subscription() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let body = json!({"items": [{"item_id": item, "quantity": 1, "subscription_period_days": 30}], "address_id": address});
    let order: Value = app
        .post_json("/api/v1/orders", Some(&token), body)
        .await
        .json()
        .await
        .unwrap();
    let approve = pay(&app, &token, order["id"].as_i64().unwrap()).await;
    assert_eq!(
        app.get(&approve).await.json::<Value>().await.unwrap()["status"],
        "PAID"
    );

    let subscriptions: Value = app
        .send(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    let subscription = &subscriptions[0];
    assert_eq!(
        (
            subscription["status"].as_str(),
            subscription["period_days"].as_i64()
        ),
        (Some("ACTIVE"), Some(30))
    );
    // Paid at 10:00 in Seoul on 2026-11-23: the next cycle is 30 days later.
    assert_eq!(
        (
            subscription["anchor_date"].as_str(),
            subscription["next_billing_date"].as_str()
        ),
        (Some("2026-11-23"), Some("2026-12-23"))
    );
    assert_eq!(subscription["first_order_id"], order["id"]);
    assert!(
        ledger(&sandbox)
            .await
            .iter()
            .any(|entry| entry["kind"] == "approve" && entry["sid"].is_string())
    );

    let path = format!("/api/v1/subscriptions/{}", subscription["id"]);
    assert_eq!(
        app.send(Method::GET, &path, Some(&token), None)
            .await
            .status(),
        200
    );
    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.send(Method::GET, &path, Some(&stranger), None).await,
        404,
        "SUBSCRIPTION_NOT_FOUND",
    )
    .await;
}
