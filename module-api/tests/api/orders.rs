//! Orders through HTTP: placing, stock reservation under a race, cancel, expiry, idempotency.

use std::sync::Arc;

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{complete_profile, order_body, shop, stock};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[tokio::test]
async fn an_order_reserves_stock_and_waits_for_payment() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let response = app
        .post_json("/api/v1/orders", Some(&token), order_body(item, 3, address))
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["total"], 54000);
    assert_eq!(order["lines"][0]["unit_price"], 18000);
    assert_eq!(order["delivery"]["zip_code"], "06236");
    assert_eq!(order["payment_expires_at"], "2026-11-23T01:30:00Z");
    assert_eq!(stock(&app, item).await, 7);

    let mine: Value = app
        .send_ok(Method::GET, "/api/v1/orders", Some(&token), None)
        .await;
    assert_eq!(mine["items"][0]["id"], order["id"]);
    let one: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{}", order["id"]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(one["total"], 54000);
}

#[tokio::test]
async fn ordering_needs_a_complete_profile_and_my_own_address() {
    let app = TestApp::spawn().await;
    let (item, _, address) = shop(&app, 10).await;
    let (_, fresh) = app.user("fresh@example.com").await;
    assert_problem(
        app.post_json("/api/v1/orders", Some(&fresh), order_body(item, 1, address))
            .await,
        409,
        "PROFILE_INCOMPLETE",
    )
    .await;
    complete_profile(&app, &fresh).await;
    // The address of the first buyer is not fresh's.
    assert_problem(
        app.post_json("/api/v1/orders", Some(&fresh), order_body(item, 1, address))
            .await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_eq!(stock(&app, item).await, 10, "refused orders change nothing");
}

#[tokio::test]
async fn bad_orders_are_refused_without_side_effects() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 2).await;
    assert_problem(
        app.post_json("/api/v1/orders", Some(&token), order_body(item, 3, address))
            .await,
        409,
        "OUT_OF_STOCK",
    )
    .await;
    assert_problem(
        app.post_json(
            "/api/v1/orders",
            Some(&token),
            order_body(999_999, 1, address),
        )
        .await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.post_json(
            "/api/v1/orders",
            Some(&token),
            json!({"address_id": address}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        app.post_json("/api/v1/orders", Some(&token), order_body(item, 0, address))
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        app.post_json(
            "/api/v1/orders",
            Some(&token),
            json!({"cart_item_ids": [123], "address_id": address}),
        )
        .await,
        404,
        "CART_ITEM_NOT_FOUND",
    )
    .await;
    assert_eq!(stock(&app, item).await, 2);
}

#[tokio::test]
async fn ordering_from_the_cart_empties_those_lines() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let cart: Value = app
        .post_ok(
            "/api/v1/cart/items",
            Some(&token),
            json!({"item_id": item, "quantity": 2, "subscription_period_days": 30}),
        )
        .await;
    let line = cart["lines"][0]["id"].as_i64().unwrap();
    let order: Value = app
        .post_ok(
            "/api/v1/orders",
            Some(&token),
            json!({"cart_item_ids": [line], "address_id": address}),
        )
        .await;
    assert_eq!(order["lines"][0]["subscription_period_days"], 30);
    assert_eq!(order["lines"][0]["quantity"], 2);
    let cart: Value = app
        .send_ok(Method::GET, "/api/v1/cart", Some(&token), None)
        .await;
    assert_eq!(cart["lines"], json!([]));
}

#[tokio::test]
async fn a_hundred_orders_racing_for_ten_units_never_oversell() {
    let app = Arc::new(TestApp::spawn().await);
    let (item, token, address) = shop(&app, 10).await;
    // Twenty buyers, five orders each (as many unpaid orders as one buyer may hold).
    let mut buyers = vec![(token, address)];
    for n in 1..20 {
        let (_, token) = app.user(&format!("racer{n}@example.com")).await;
        let address = complete_profile(&app, &token).await;
        buyers.push((token, address));
    }
    let attempts = (0..100).map(|n| {
        let app = app.clone();
        let (token, address) = buyers[n % 20].clone();
        tokio::spawn(async move {
            app.post_json("/api/v1/orders", Some(&token), order_body(item, 1, address))
                .await
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        90,
        "{statuses:?}"
    );
    assert_eq!(stock(&app, item).await, 0);
}

#[tokio::test]
async fn the_same_idempotency_key_places_one_order() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let place = || {
        app.client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&token)
            .header("idempotency-key", "order-1")
            .json(&order_body(item, 1, address))
            .send()
    };
    let first: Value = place().await.unwrap().json().await.unwrap();
    let retry = place().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(stock(&app, item).await, 9);
}

#[tokio::test]
async fn cancelling_an_unpaid_order_returns_its_stock() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let order: Value = app
        .post_ok("/api/v1/orders", Some(&token), order_body(item, 4, address))
        .await;
    let path = format!("/api/v1/orders/{}/cancel", order["id"]);

    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.send(Method::POST, &path, Some(&stranger), None).await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(
            Method::GET,
            &format!("/api/v1/orders/{}", order["id"]),
            Some(&stranger),
            None,
        )
        .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;

    let canceled: Value = app.send_ok(Method::POST, &path, Some(&token), None).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert_eq!(stock(&app, item).await, 10);
    assert_problem(
        app.send(Method::POST, &path, Some(&token), None).await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
    assert_eq!(stock(&app, item).await, 10, "no double release");
}

#[tokio::test]
async fn unpaid_orders_release_their_stock_when_the_window_closes() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let old: Value = app
        .post_ok("/api/v1/orders", Some(&token), order_body(item, 2, address))
        .await;
    app.clock.advance(TimeDelta::minutes(20));
    // Access tokens last 15 minutes: log in again.
    let (token, _) = app.login("buyer@example.com", crate::util::PASSWORD).await;
    let recent = app
        .post_json("/api/v1/orders", Some(&token), order_body(item, 3, address))
        .await;
    assert_eq!(recent.status(), 201);
    let recent: Value = recent.json().await.unwrap();
    app.clock.advance(TimeDelta::minutes(10));
    let (token, _) = app.login("buyer@example.com", crate::util::PASSWORD).await;

    assert_eq!(stock(&app, item).await, 5);
    let mut conn = app.state.db.get().await.unwrap();
    let expired = petory_core::shop::order::expire_unpaid(&mut conn, app.clock.now_utc(), 1)
        .await
        .unwrap();
    assert_eq!(expired, 1, "only the order past its 30 minutes");
    drop(conn);
    assert_eq!(stock(&app, item).await, 7);
    let old: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{}", old["id"]),
            Some(&token),
            None,
        )
        .await;
    let recent: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{}", recent["id"]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (old["status"].as_str(), recent["status"].as_str()),
        (Some("CANCELED"), Some("PENDING_PAYMENT"))
    );
}

#[tokio::test]
async fn admins_move_paid_orders_along_their_delivery() {
    use diesel_async::SimpleAsyncConnection as _;
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let admin = app
        .login("admin@petory.test", crate::util::PASSWORD)
        .await
        .0;
    let order: Value = app
        .post_ok("/api/v1/orders", Some(&token), order_body(item, 1, address))
        .await;
    let path = format!("/api/v1/admin/orders/{}/status", order["id"]);
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"status": "SHIPPING"})),
        )
        .await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"status": "SHIPPING"})),
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;

    // Payment arrives with the payments capability; mark it paid directly here.
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE orders SET status = 'PAID', paid_at = now() WHERE id = {}",
        order["id"]
    ))
    .await
    .unwrap();
    drop(conn);
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"status": "DELIVERED"})),
        )
        .await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"status": "PAID"})),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    let shipped: Value = app
        .send_ok(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"status": "SHIPPING"})),
        )
        .await;
    assert_eq!(shipped["status"], "SHIPPING");
    let delivered: Value = app
        .send_ok(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"status": "DELIVERED"})),
        )
        .await;
    assert_eq!(delivered["status"], "DELIVERED");
    // The buyer sees it; an admin sees any order.
    let seen: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{}", order["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(seen["status"], "DELIVERED");
}
