//! Orders through HTTP: placing, stock reservation under a race, cancel, expiry, idempotency.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::json;

use crate::client::{Client as _, Member, Page};
use crate::fixtures::shop::{Cart, Order};
use crate::fixtures::{complete_profile, order_body, stock};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

/// `member` orders: the raw answer.
async fn try_order(member: &Member, body: serde_json::Value) -> reqwest::Response {
    member
        .request(Method::POST, "/api/v1/orders", Some(body))
        .await
}

#[tokio::test]
async fn an_order_reserves_stock_and_waits_for_payment() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let response = try_order(&shop.buyer, order_body(shop.item, 3, shop.address)).await;
    assert_eq!(response.status(), 201);
    let order: Order = response.json().await.unwrap();
    assert_eq!(order.status, "PENDING_PAYMENT");
    assert_eq!(order.total, 54000);
    assert_eq!(order.lines[0].unit_price, 18000);
    assert_eq!(order.delivery.zip_code, "06236");
    assert_eq!(order.payment_expires_at, "2026-11-23T01:30:00Z");
    assert_eq!(stock(&app, shop.item).await, 7);

    let mine: Page<Order> = shop.buyer.get("/api/v1/orders").await;
    assert_eq!(mine.items[0].id, order.id);
    let one: Order = shop
        .buyer
        .get(&format!("/api/v1/orders/{}", order.id))
        .await;
    assert_eq!(one.total, 54000);
}

#[tokio::test]
async fn ordering_needs_a_complete_profile_and_my_own_address() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let fresh = app.member("fresh@example.com").await;
    assert_problem(
        try_order(&fresh, order_body(shop.item, 1, shop.address)).await,
        409,
        "PROFILE_INCOMPLETE",
    )
    .await;
    complete_profile(&app, &fresh.token).await;
    // The address of the first buyer is not fresh's.
    assert_problem(
        try_order(&fresh, order_body(shop.item, 1, shop.address)).await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_eq!(
        stock(&app, shop.item).await,
        10,
        "refused orders change nothing"
    );
}

#[tokio::test]
async fn bad_orders_are_refused_without_side_effects() {
    let app = TestApp::spawn().await;
    let shop = app.shop(2).await;
    let (buyer, item, address) = (&shop.buyer, shop.item, shop.address);
    assert_problem(
        try_order(buyer, order_body(item, 3, address)).await,
        409,
        "OUT_OF_STOCK",
    )
    .await;
    assert_problem(
        try_order(buyer, order_body(999_999, 1, address)).await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;
    assert_problem(
        try_order(buyer, json!({"address_id": address})).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        try_order(buyer, order_body(item, 0, address)).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        try_order(
            buyer,
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
    let shop = app.shop(10).await;
    let cart: Cart = shop
        .buyer
        .post(
            "/api/v1/cart/items",
            json!({"item_id": shop.item, "quantity": 2, "subscription_period_days": 30}),
        )
        .await;
    let line = cart.lines[0].id;
    let order: Order = shop
        .buyer
        .post(
            "/api/v1/orders",
            json!({"cart_item_ids": [line], "address_id": shop.address}),
        )
        .await;
    assert_eq!(order.lines[0].subscription_period_days, Some(30));
    assert_eq!(order.lines[0].quantity, 2);
    let cart: Cart = shop.buyer.get("/api/v1/cart").await;
    assert!(cart.lines.is_empty());
}

#[tokio::test]
async fn a_hundred_orders_racing_for_ten_units_never_oversell() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    // Twenty buyers, five orders each (as many unpaid orders as one buyer may hold).
    let mut buyers = vec![(shop.buyer.clone(), shop.address)];
    for n in 1..20 {
        let racer = app.member(&format!("racer{n}@example.com")).await;
        let address = complete_profile(&app, &racer.token).await;
        buyers.push((racer, address));
    }
    let item = shop.item;
    let attempts = (0..100).map(|n| {
        let (buyer, address) = buyers[n % 20].clone();
        tokio::spawn(async move {
            try_order(&buyer, order_body(item, 1, address))
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
    let shop = app.shop(10).await;
    let place = || {
        app.client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&shop.buyer.token)
            .header("idempotency-key", "order-1")
            .json(&order_body(shop.item, 1, shop.address))
            .send()
    };
    let first: Order = place().await.unwrap().json().await.unwrap();
    let retry = place().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Order>().await.unwrap().id, first.id);
    assert_eq!(stock(&app, shop.item).await, 9);
}

#[tokio::test]
async fn cancelling_an_unpaid_order_returns_its_stock() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let order: Order = shop
        .buyer
        .post("/api/v1/orders", order_body(shop.item, 4, shop.address))
        .await;
    let path = format!("/api/v1/orders/{}/cancel", order.id);

    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        stranger.request(Method::POST, &path, None).await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
    assert_problem(
        stranger
            .request(Method::GET, &format!("/api/v1/orders/{}", order.id), None)
            .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;

    let canceled: Order = shop.buyer.ok(Method::POST, &path, None).await;
    assert_eq!(canceled.status, "CANCELED");
    assert_eq!(stock(&app, shop.item).await, 10);
    assert_problem(
        shop.buyer.request(Method::POST, &path, None).await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
    assert_eq!(stock(&app, shop.item).await, 10, "no double release");
}

#[tokio::test]
async fn unpaid_orders_release_their_stock_when_the_window_closes() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let old: Order = shop
        .buyer
        .post("/api/v1/orders", order_body(shop.item, 2, shop.address))
        .await;
    app.clock.advance(TimeDelta::minutes(20));
    // Access tokens last 15 minutes: log in again.
    let buyer = shop.buyer.clone().logged_in_again(&app).await;
    let recent = try_order(&buyer, order_body(shop.item, 3, shop.address)).await;
    assert_eq!(recent.status(), 201);
    let recent: Order = recent.json().await.unwrap();
    app.clock.advance(TimeDelta::minutes(10));
    let buyer = buyer.logged_in_again(&app).await;

    assert_eq!(stock(&app, shop.item).await, 5);
    let mut conn = app.state.db.get().await.unwrap();
    let expired = petory_core::shop::order::expire_unpaid(&mut conn, app.clock.now_utc(), 1)
        .await
        .unwrap();
    assert_eq!(expired, 1, "only the order past its 30 minutes");
    drop(conn);
    assert_eq!(stock(&app, shop.item).await, 7);
    let old: Order = buyer.get(&format!("/api/v1/orders/{}", old.id)).await;
    let recent: Order = buyer.get(&format!("/api/v1/orders/{}", recent.id)).await;
    assert_eq!(
        (old.status.as_str(), recent.status.as_str()),
        ("CANCELED", "PENDING_PAYMENT")
    );
}

#[tokio::test]
async fn admins_move_paid_orders_along_their_delivery() {
    use diesel_async::SimpleAsyncConnection as _;
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let admin = app.session("admin@petory.test", PASSWORD).await.member;
    let order: Order = shop
        .buyer
        .post("/api/v1/orders", order_body(shop.item, 1, shop.address))
        .await;
    let path = format!("/api/v1/admin/orders/{}/status", order.id);
    let to = |status: &str| Some(json!({"status": status}));
    assert_problem(
        admin.request(Method::PATCH, &path, to("SHIPPING")).await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
    assert_problem(
        shop.buyer
            .request(Method::PATCH, &path, to("SHIPPING"))
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;

    // Payment arrives with the payments capability; mark it paid directly here.
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE orders SET status = 'PAID', paid_at = now() WHERE id = {}",
        order.id
    ))
    .await
    .unwrap();
    drop(conn);
    assert_problem(
        admin.request(Method::PATCH, &path, to("DELIVERED")).await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
    assert_problem(
        admin.request(Method::PATCH, &path, to("PAID")).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    let shipped: Order = admin.patch(&path, json!({"status": "SHIPPING"})).await;
    assert_eq!(shipped.status, "SHIPPING");
    let delivered: Order = admin.patch(&path, json!({"status": "DELIVERED"})).await;
    assert_eq!(delivered.status, "DELIVERED");
    // The buyer sees it; an admin sees any order.
    let seen: Order = admin.get(&format!("/api/v1/orders/{}", order.id)).await;
    assert_eq!(seen.status, "DELIVERED");
}
