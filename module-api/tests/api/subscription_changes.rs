//! A subscriber in control of what renewals bring and where: quantity and delivery address,
//! changed through `PATCH /subscriptions/{id}` and used by the next renewal.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::json;

use crate::client::Client as _;
use crate::fixtures::shop::{Address, Order, Subscription, address};
use crate::fixtures::{app_with_kakaopay, bill};
use crate::util::assert_problem;

#[tokio::test]
async fn the_next_renewal_brings_the_chosen_quantity_to_the_chosen_address() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let path = format!("/api/v1/subscriptions/{id}");
    let before: Subscription = shop.buyer.get(&path).await;
    assert_eq!(before.address_id, None, "where the first order went");
    assert_eq!(before.delivery.address1, "Teheran-ro 1");

    let office: Address = shop
        .buyer
        .post(
            "/api/v1/users/me/addresses",
            json!({"label": "Office", "recipient": "Bori", "phone": "010-1234-5678",
                   "zip_code": "13487", "address1": "Pangyo-ro 2"}),
        )
        .await;
    let changed: Subscription = shop
        .buyer
        .patch(&path, json!({"address_id": office.id, "quantity": 3}))
        .await;
    assert_eq!(changed.quantity, 3);
    assert_eq!(changed.address_id, Some(office.id));
    assert_eq!(changed.delivery.address1, "Pangyo-ro 2");
    assert_eq!(changed.delivery.zip_code, "13487");
    assert_eq!(
        changed.next_billing_date, before.next_billing_date,
        "the schedule stays"
    );

    app.clock.advance(TimeDelta::days(30));
    let buyer = shop.buyer.clone().logged_in_again(&app).await;
    assert_eq!(bill(&app).await.charged, 1);
    let renewed: Subscription = buyer.get(&path).await;
    let charge = renewed.last_charge.expect("the renewal");
    assert_eq!(charge.amount, 3 * 18_000);
    let order: Order = buyer
        .get(&format!("/api/v1/orders/{}", charge.order_id.unwrap()))
        .await;
    assert_eq!(order.delivery.address1, "Pangyo-ro 2");
    assert_eq!(order.lines[0].quantity, 3);
    assert_eq!(order.lines[0].unit_price, 18_000);
    assert_eq!(order.total, 54_000);
}

#[tokio::test]
async fn another_members_address_or_a_quantity_out_of_range_changes_nothing() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let path = format!("/api/v1/subscriptions/{id}");
    let before: Subscription = shop.buyer.get(&path).await;

    // Someone else's address reads as one that does not exist.
    let other = app.member("other@example.com").await;
    let theirs: Address = other
        .post("/api/v1/users/me/addresses", address("Theirs"))
        .await;
    let refused = shop
        .buyer
        .request(
            Method::PATCH,
            &path,
            Some(json!({"address_id": theirs.id, "quantity": 5})),
        )
        .await;
    assert_problem(refused, 404, "ADDRESS_NOT_FOUND").await;
    let missing = shop
        .buyer
        .request(Method::PATCH, &path, Some(json!({"address_id": 999_999})))
        .await;
    assert_problem(missing, 404, "ADDRESS_NOT_FOUND").await;

    for quantity in [0, 100] {
        let response = shop
            .buyer
            .request(Method::PATCH, &path, Some(json!({"quantity": quantity})))
            .await;
        let problem = assert_problem(response, 422, "VALIDATION_FAILED").await;
        assert_eq!(problem["errors"][0]["field"], "quantity");
    }

    let after: Subscription = shop.buyer.get(&path).await;
    assert_eq!(after.quantity, before.quantity);
    assert_eq!(after.address_id, None);
    assert_eq!(after.delivery.address1, before.delivery.address1);
}
