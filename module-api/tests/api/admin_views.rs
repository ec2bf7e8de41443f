//! What admins manage, seen through the API (their only tool): items including retired ones,
//! every order, every subscription, with filters, details and the one paging convention.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Client as _, Member, Page};
use crate::fixtures::shop::{Charge, Item, Order, Payment};
use crate::fixtures::{app_with_kakaopay, complete_profile, order_body};
use crate::util::{TestApp, assert_problem};

/// Anything listed: its id.
#[derive(Debug, Deserialize)]
struct Id {
    id: i64,
}

/// An order or a subscription in an admin's list.
#[derive(Debug, Deserialize)]
struct Listed {
    id: i64,
    user_id: Option<i64>,
    payment: Option<Payment>,
}

/// An order as an admin sees it alone.
#[derive(Debug, Deserialize)]
struct OrderDetail {
    id: i64,
    gateway: Option<Gateway>,
}

/// KakaoPay's ids of a payment.
#[derive(Debug, Deserialize)]
struct Gateway {
    tid: String,
    aid: Option<String>,
}

/// A subscription as an admin sees it alone.
#[derive(Debug, Deserialize)]
struct SubscriptionDetail {
    id: i64,
    charges: Vec<Charge>,
}

/// A `GET` of `member`'s that must answer 200.
async fn get<T: DeserializeOwned>(member: &Member, path: &str) -> T {
    let response = member.request(Method::GET, path, None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The ids on the page `member` reads at `path` (which must answer 200).
async fn ids(member: &Member, path: &str) -> Vec<i64> {
    let page: Page<Id> = get(member, path).await;
    page.items.into_iter().map(|item| item.id).collect()
}

/// `member` orders one of `item` to `address`: the order's id.
async fn place(member: &Member, item: i64, address: i64) -> i64 {
    let order: Order = member
        .post("/api/v1/orders", order_body(item, 1, address))
        .await;
    order.id
}

#[tokio::test]
async fn admins_list_items_including_retired_ones() {
    let app = TestApp::spawn().await;
    let item = app.shop(10).await.item;
    let admin = app.admin().await;
    let category = get::<Item>(&admin, &format!("/api/v1/items/{item}"))
        .await
        .category_id;
    let retired: Item = admin
        .post(
            "/api/v1/admin/items",
            json!({"category_id": category, "name": "Old fish oil", "price": 5000, "stock": 1}),
        )
        .await;
    let retired = retired.id;
    let gone = admin
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/items/{retired}"),
            None,
        )
        .await;
    assert_eq!(gone.status(), 204);

    let public: Page<Id> = app.guest().get("/api/v1/items").await;
    assert_eq!(
        public.items.iter().map(|item| item.id).collect::<Vec<_>>(),
        [item]
    );
    assert_eq!(ids(&admin, "/api/v1/admin/items").await, [retired, item]);
    assert_eq!(
        ids(&admin, "/api/v1/admin/items?retired=true").await,
        [retired]
    );
    assert_eq!(
        ids(&admin, "/api/v1/admin/items?retired=false").await,
        [item]
    );
    assert_eq!(ids(&admin, "/api/v1/admin/items?q=fish").await, [retired]);

    let user = app.member("curious@example.com").await;
    assert_problem(
        user.request(Method::GET, "/api/v1/admin/items", None).await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn admins_list_every_order_by_status_buyer_and_date_and_see_its_payment() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let unpaid = place(&shop.buyer, shop.item, shop.address).await;
    let paid = place(&shop.buyer, shop.item, shop.address).await;
    app.get(&shop.pay(&app, paid).await).await;
    let other = app.member("other@example.com").await;
    let other_address = complete_profile(&app, &other.token).await;
    app.clock.advance(chrono::TimeDelta::hours(2));
    let other = other.logged_in_again(&app).await;
    let later = place(&other, shop.item, other_address).await;
    let admin = app.admin().await;

    assert_eq!(
        ids(&admin, "/api/v1/admin/orders").await,
        [later, paid, unpaid]
    );
    assert_eq!(
        ids(&admin, "/api/v1/admin/orders?status=PAID").await,
        [paid]
    );
    assert_eq!(
        ids(
            &admin,
            &format!("/api/v1/admin/orders?user_id={}", other.id)
        )
        .await,
        [later]
    );
    assert_eq!(
        ids(&admin, "/api/v1/admin/orders?from=2026-11-23T02:30:00Z").await,
        [later]
    );
    assert_eq!(
        ids(&admin, "/api/v1/admin/orders?to=2026-11-23T02:30:00Z").await,
        [paid, unpaid]
    );
    let listed: Page<Listed> = get(&admin, "/api/v1/admin/orders?status=PAID").await;
    assert_eq!(
        listed.items[0].payment.as_ref().map(|p| p.status.as_str()),
        Some("PAID")
    );
    assert!(listed.items[0].user_id.is_some());

    let detail: OrderDetail = get(&admin, &format!("/api/v1/admin/orders/{paid}")).await;
    assert_eq!(detail.id, paid);
    let gateway = detail.gateway.unwrap();
    assert!(gateway.tid.starts_with('T'), "{gateway:?}");
    assert!(gateway.aid.is_some());
    let unpaid_detail: OrderDetail = get(&admin, &format!("/api/v1/admin/orders/{unpaid}")).await;
    assert!(unpaid_detail.gateway.is_none());

    assert_problem(
        admin
            .request(Method::GET, "/api/v1/admin/orders?status=LOST", None)
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_problem(
        admin
            .request(Method::GET, "/api/v1/admin/orders/999999", None)
            .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
    assert_problem(
        other
            .request(Method::GET, &format!("/api/v1/admin/orders/{paid}"), None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn admins_list_subscriptions_by_status_and_billing_date_with_their_charges() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let admin = app.admin().await;
    let all: Page<Listed> = get(&admin, "/api/v1/admin/subscriptions").await;
    assert_eq!(all.items.iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
    let owner = all.items[0].user_id.unwrap();
    assert_eq!(
        ids(
            &admin,
            &format!("/api/v1/admin/subscriptions?user_id={owner}")
        )
        .await,
        [id]
    );
    assert_eq!(
        ids(&admin, "/api/v1/admin/subscriptions?status=ACTIVE&billing_from=2026-12-23&billing_to=2026-12-23").await,
        [id]
    );
    assert!(
        ids(&admin, "/api/v1/admin/subscriptions?billing_to=2026-12-22")
            .await
            .is_empty()
    );
    assert!(
        ids(&admin, "/api/v1/admin/subscriptions?status=CANCELED")
            .await
            .is_empty()
    );

    app.clock.advance(chrono::TimeDelta::days(31));
    crate::fixtures::bill(&app).await;
    let admin = app.admin().await;
    let detail: SubscriptionDetail =
        get(&admin, &format!("/api/v1/admin/subscriptions/{id}")).await;
    assert_eq!(detail.id, id);
    assert_eq!(detail.charges.len(), 1);
    assert_eq!(detail.charges[0].status, "APPROVED");
    assert_problem(
        admin
            .request(
                Method::GET,
                "/api/v1/admin/subscriptions?status=SOMETIMES",
                None,
            )
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    let buyer = shop.buyer.logged_in_again(&app).await;
    assert_problem(
        buyer
            .request(
                Method::GET,
                &format!("/api/v1/admin/subscriptions/{id}"),
                None,
            )
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn every_list_pages_the_same_way() {
    let app = TestApp::spawn().await;
    let shop = app.shop(10).await;
    let buyer = &shop.buyer;
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(place(buyer, shop.item, shop.address).await);
    }
    placed.reverse();

    // An empty cursor is the first page; pages follow next_cursor to the end.
    let first: Page<Id> = get(buyer, "/api/v1/orders?cursor=&limit=2").await;
    assert_eq!(
        first.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        placed[..2]
    );
    let cursor = first.next_cursor.unwrap();
    let second: Page<Id> = get(buyer, &format!("/api/v1/orders?cursor={cursor}&limit=2")).await;
    assert_eq!(
        second.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        placed[2..]
    );
    assert!(second.next_cursor.is_none());

    // A limit outside 1..=100 is refused, never quietly capped.
    for limit in ["0", "101", "-1", "lots", "99999999999"] {
        assert_problem(
            buyer
                .request(Method::GET, &format!("/api/v1/orders?limit={limit}"), None)
                .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
    assert_eq!(ids(buyer, "/api/v1/orders?limit=100").await, placed);

    // Lists that used to be bare arrays are pages too: raw, since `next_cursor` must be
    // there even when null.
    for path in [
        "/api/v1/subscriptions",
        "/api/v1/users/me/addresses",
        "/api/v1/categories",
    ] {
        let page: Value = get(buyer, path).await;
        assert!(page["items"].is_array(), "{path}: {page}");
        assert!(page.get("next_cursor").is_some(), "{path}: {page}");
    }
}
