//! What admins manage, seen through the API (their only tool): items including retired ones,
//! every order, every subscription, with filters, details and the one paging convention.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{app_with_kakaopay, complete_profile, order_body, pay, shop, subscribe};
use crate::util::{TestApp, assert_problem};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.send(Method::GET, path, Some(token), None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn admins_list_items_including_retired_ones() {
    let app = TestApp::spawn().await;
    let (item, _, _) = shop(&app, 10).await;
    let admin = app.admin_token().await;
    let category = get(&app, &admin, &format!("/api/v1/items/{item}")).await["category_id"].clone();
    let retired: Value = app
        .post_ok(
            "/api/v1/admin/items",
            Some(&admin),
            json!({"category_id": category, "name": "Old fish oil", "price": 5000, "stock": 1}),
        )
        .await;
    let retired = retired["id"].as_i64().unwrap();
    let gone = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/items/{retired}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status(), 204);

    assert_eq!(ids(&app.get_ok("/api/v1/items").await), [item]);
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/items").await),
        [retired, item]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/items?retired=true").await),
        [retired]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/items?retired=false").await),
        [item]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/items?q=fish").await),
        [retired]
    );

    let (_, user) = app.user("curious@example.com").await;
    assert_problem(
        app.send(Method::GET, "/api/v1/admin/items", Some(&user), None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn admins_list_every_order_by_status_buyer_and_date_and_see_its_payment() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, buyer, address) = shop(&app, 10).await;
    let place = |token: String, address: i64| {
        let app = &app;
        async move {
            let order: Value = app
                .post_ok("/api/v1/orders", Some(&token), order_body(item, 1, address))
                .await;
            order["id"].as_i64().unwrap()
        }
    };
    let unpaid = place(buyer.clone(), address).await;
    let paid = place(buyer.clone(), address).await;
    app.get(&pay(&app, &buyer, paid).await).await;
    let (other_id, other) = app.user("other@example.com").await;
    let other_address = complete_profile(&app, &other).await;
    app.clock.advance(chrono::TimeDelta::hours(2));
    let other = app
        .login("other@example.com", crate::util::PASSWORD)
        .await
        .0;
    let later = place(other.clone(), other_address).await;
    let admin = app.admin_token().await;

    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/orders").await),
        [later, paid, unpaid]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/orders?status=PAID").await),
        [paid]
    );
    assert_eq!(
        ids(&get(
            &app,
            &admin,
            &format!("/api/v1/admin/orders?user_id={other_id}")
        )
        .await),
        [later]
    );
    assert_eq!(
        ids(&get(
            &app,
            &admin,
            "/api/v1/admin/orders?from=2026-11-23T02:30:00Z"
        )
        .await),
        [later]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/orders?to=2026-11-23T02:30:00Z").await),
        [paid, unpaid]
    );
    let listed = get(&app, &admin, "/api/v1/admin/orders?status=PAID").await;
    assert_eq!(listed["items"][0]["payment"]["status"], "PAID");
    assert!(listed["items"][0]["user_id"].is_i64());

    let detail = get(&app, &admin, &format!("/api/v1/admin/orders/{paid}")).await;
    assert_eq!(detail["id"], paid);
    assert!(
        detail["gateway"]["tid"]
            .as_str()
            .is_some_and(|tid| tid.starts_with('T')),
        "{detail}"
    );
    assert!(detail["gateway"]["aid"].is_string());
    assert!(
        get(&app, &admin, &format!("/api/v1/admin/orders/{unpaid}")).await["gateway"].is_null()
    );

    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/orders?status=LOST",
            Some(&admin),
            None,
        )
        .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/orders/999999",
            Some(&admin),
            None,
        )
        .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(
            Method::GET,
            &format!("/api/v1/admin/orders/{paid}"),
            Some(&other),
            None,
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn admins_list_subscriptions_by_status_and_billing_date_with_their_charges() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    let admin = app.admin_token().await;
    let all = get(&app, &admin, "/api/v1/admin/subscriptions").await;
    assert_eq!(ids(&all), [id]);
    let owner = all["items"][0]["user_id"].as_i64().unwrap();
    assert_eq!(
        ids(&get(
            &app,
            &admin,
            &format!("/api/v1/admin/subscriptions?user_id={owner}")
        )
        .await),
        [id]
    );
    assert_eq!(
        ids(&get(&app, &admin, "/api/v1/admin/subscriptions?status=ACTIVE&billing_from=2026-12-23&billing_to=2026-12-23").await),
        [id]
    );
    assert!(
        ids(&get(
            &app,
            &admin,
            "/api/v1/admin/subscriptions?billing_to=2026-12-22"
        )
        .await)
        .is_empty()
    );
    assert!(
        ids(&get(&app, &admin, "/api/v1/admin/subscriptions?status=CANCELED").await).is_empty()
    );

    app.clock.advance(chrono::TimeDelta::days(31));
    crate::fixtures::bill(&app).await;
    let admin = app.admin_token().await;
    let detail = get(&app, &admin, &format!("/api/v1/admin/subscriptions/{id}")).await;
    assert_eq!(detail["id"], id);
    assert_eq!(detail["charges"].as_array().unwrap().len(), 1);
    assert_eq!(detail["charges"][0]["status"], "APPROVED");
    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/subscriptions?status=SOMETIMES",
            Some(&admin),
            None,
        )
        .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    let token = app
        .login("buyer@example.com", crate::util::PASSWORD)
        .await
        .0;
    assert_problem(
        app.send(
            Method::GET,
            &format!("/api/v1/admin/subscriptions/{id}"),
            Some(&token),
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
    let (item, token, address) = shop(&app, 10).await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        let order: Value = app
            .post_ok("/api/v1/orders", Some(&token), order_body(item, 1, address))
            .await;
        placed.push(order["id"].as_i64().unwrap());
    }
    placed.reverse();

    // An empty cursor is the first page; pages follow next_cursor to the end.
    let first = get(&app, &token, "/api/v1/orders?cursor=&limit=2").await;
    assert_eq!(ids(&first), placed[..2]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(
        &app,
        &token,
        &format!("/api/v1/orders?cursor={cursor}&limit=2"),
    )
    .await;
    assert_eq!(ids(&second), placed[2..]);
    assert!(second["next_cursor"].is_null());

    // A limit outside 1..=100 is refused, never quietly capped.
    for limit in ["0", "101", "-1", "lots", "99999999999"] {
        assert_problem(
            app.send(
                Method::GET,
                &format!("/api/v1/orders?limit={limit}"),
                Some(&token),
                None,
            )
            .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
    assert_eq!(
        ids(&get(&app, &token, "/api/v1/orders?limit=100").await),
        placed
    );

    // Lists that used to be bare arrays are pages too.
    for path in [
        "/api/v1/subscriptions",
        "/api/v1/users/me/addresses",
        "/api/v1/categories",
    ] {
        let page = get(&app, &token, path).await;
        assert!(page["items"].is_array(), "{path}: {page}");
        assert!(page.get("next_cursor").is_some(), "{path}: {page}");
    }
}
