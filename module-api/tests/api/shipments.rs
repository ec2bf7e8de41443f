//! Parcels: an admin ships with a courier and an invoice number, the buyer is told where to
//! follow it and confirms receipt; orders nobody confirmed are delivered by the job.

use std::time::Duration;

use chrono::TimeDelta;
use petory_core::shop::shipment;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client as _, Member, Page};
use crate::fixtures::app_with_kakaopay;
use crate::fixtures::shop::Shop;
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Courier {
    code: String,
    tracking_url_template: String,
}

#[derive(Debug, Deserialize)]
struct Shipment {
    courier: String,
    courier_name: String,
    tracking_number: String,
    tracking_url: String,
}

/// An order with its parcel, as its buyer reads it.
#[derive(Debug, Deserialize)]
struct ShippedOrder {
    status: String,
    shipment: Option<Shipment>,
    shipped_at: Option<String>,
    delivered_at: Option<String>,
    delivered_by: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Notification {
    kind: String,
    data: Value,
}

/// A paid order of the buyer's.
async fn paid_order(app: &TestApp, shop: &Shop) -> i64 {
    let order = shop.order(app).await;
    let approve = shop.pay(app, order).await;
    assert_eq!(app.get(&approve).await.status(), 200);
    order
}

async fn ship(admin: &Member, order: i64, courier: &str, number: &str) -> reqwest::Response {
    admin
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/orders/{order}/shipment"),
            Some(json!({"courier": courier, "tracking_number": number})),
        )
        .await
}

async fn notifications(member: &Member) -> Vec<Notification> {
    let page: Page<Notification> = member.get("/api/v1/notifications").await;
    page.items
}

#[tokio::test]
async fn a_shipped_order_tells_its_buyer_where_to_follow_it_and_the_buyer_confirms_receipt() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let admin = app.admin().await;
    let order = paid_order(&app, &shop).await;

    let couriers: Vec<Courier> = admin.get("/api/v1/admin/couriers").await;
    for code in ["CJ", "HANJIN", "LOTTE", "EPOST", "LOGEN"] {
        let courier = couriers.iter().find(|c| c.code == code).expect(code);
        assert!(courier.tracking_url_template.contains("{tracking_number}"));
    }
    let refused = ship(&admin, order, "UPS", "684512345678").await;
    let problem = assert_problem(refused, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"][0]["field"], "courier");
    let refused = ship(&admin, order, "CJ", "6845 1234&x=1").await;
    let problem = assert_problem(refused, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"][0]["field"], "tracking_number");
    assert_problem(
        ship(&shop.buyer, order, "CJ", "684512345678").await,
        403,
        "ADMIN_ONLY",
    )
    .await;

    let shipped: ShippedOrder = ship(&admin, order, "CJ", "684512345678")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shipped.status, "SHIPPING");
    assert!(shipped.shipped_at.is_some());
    let parcel = shipped.shipment.unwrap();
    assert_eq!(
        (parcel.courier.as_str(), parcel.tracking_number.as_str()),
        ("CJ", "684512345678")
    );
    assert_eq!(parcel.courier_name, "CJ대한통운");
    let url = "https://trace.cjlogistics.com/next/tracking.html?wblNo=684512345678";
    assert_eq!(parcel.tracking_url, url);
    // The same request again tells the buyer nothing new.
    assert_eq!(
        ship(&admin, order, "CJ", "684512345678").await.status(),
        200
    );
    app.relay_events().await;
    let told: Vec<Notification> = notifications(&shop.buyer)
        .await
        .into_iter()
        .filter(|n| n.kind == "ORDER_SHIPPED")
        .collect();
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0].data,
        json!({"order_id": order, "courier": "CJ", "tracking_number": "684512345678", "tracking_url": url})
    );

    // Only its buyer confirms receipt; confirming twice changes nothing.
    let receipt = format!("/api/v1/orders/{order}/receipt");
    let other = app.member("other@example.com").await;
    assert_problem(
        other.request(Method::POST, &receipt, None).await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
    let delivered: ShippedOrder = shop.buyer.post(&receipt, json!({})).await;
    assert_eq!(delivered.status, "DELIVERED");
    assert_eq!(delivered.delivered_by.as_deref(), Some("BUYER"));
    let again: ShippedOrder = shop.buyer.post(&receipt, json!({})).await;
    assert_eq!(again.delivered_at, delivered.delivered_at);
    // Delivered, it ships no more; an unpaid order cannot be received.
    assert_problem(
        ship(&admin, order, "HANJIN", "123412341234").await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
    let unpaid = shop.order(&app).await;
    assert_problem(
        shop.buyer
            .request(
                Method::POST,
                &format!("/api/v1/orders/{unpaid}/receipt"),
                None,
            )
            .await,
        409,
        "INVALID_ORDER_TRANSITION",
    )
    .await;
}

#[tokio::test]
async fn orders_nobody_confirmed_are_delivered_after_the_days_once() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let admin = app.admin().await;
    let early = paid_order(&app, &shop).await;
    let late = paid_order(&app, &shop).await;
    assert_eq!(
        ship(&admin, early, "LOTTE", "240012345678").await.status(),
        200
    );
    app.clock.advance(TimeDelta::days(3));
    let admin = admin.logged_in_again(&app).await;
    assert_eq!(
        ship(&admin, late, "EPOST", "6012345678901").await.status(),
        200
    );

    // Seven days after the first shipped: that one only, and a second run finds nothing.
    app.clock.advance(TimeDelta::days(4));
    let now = app.clock.now_utc();
    let mut conn = app.state.db.get().await.unwrap();
    let week = TimeDelta::days(7);
    assert_eq!(
        shipment::deliver_unconfirmed(&mut conn, now, week, 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shipment::deliver_unconfirmed(&mut conn, now, week, 1)
            .await
            .unwrap(),
        0
    );
    drop(conn);

    let buyer = shop.buyer.clone().logged_in_again(&app).await;
    let early: ShippedOrder = buyer.get(&format!("/api/v1/orders/{early}")).await;
    assert_eq!(early.status, "DELIVERED");
    assert_eq!(early.delivered_by.as_deref(), Some("AUTO"));
    let late: ShippedOrder = buyer.get(&format!("/api/v1/orders/{late}")).await;
    assert_eq!(late.status, "SHIPPING");
    app.relay_events().await;
    let delivered = notifications(&buyer)
        .await
        .into_iter()
        .filter(|n| n.kind == "ORDER_STATUS" && n.data["status"] == "DELIVERED")
        .count();
    assert_eq!(delivered, 1);
}
