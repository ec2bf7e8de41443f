//! The catalog and the cart through HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{TestApp, assert_problem};

async fn category(app: &TestApp, admin: &str, name: &str) -> i64 {
    let response = app
        .post_json(
            "/api/v1/admin/categories",
            Some(admin),
            json!({"name": name}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn item(app: &TestApp, admin: &str, body: Value) -> Value {
    let response = app
        .post_json("/api/v1/admin/items", Some(admin), body)
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page: Value = app.get_ok(&format!("/api/v1/items{query}")).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_stock_the_catalog_and_guests_browse_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let dogs = category(&app, &admin, "강아지 영양제").await;
    let people = category(&app, &admin, "보호자 건강").await;
    let joint = item(&app, &admin, json!({"category_id": dogs, "name": "관절 튼튼 글루코사민", "brand": "Petory Lab", "price": 30000, "discount_rate": 10, "stock": 5})).await;
    assert_eq!(
        (
            joint["sale_price"].as_i64(),
            joint["average_rating"].as_f64()
        ),
        (Some(27000), Some(0.0))
    );
    item(&app, &admin, json!({"category_id": dogs, "name": "Omega-3 for dogs", "brand": "Nordic", "price": 18000, "stock": 10})).await;
    item(&app, &admin, json!({"category_id": people, "name": "Vitamin D", "brand": "Petory Lab", "price": 9000, "stock": 0})).await;

    let categories: Value = app.get_ok("/api/v1/categories").await;
    assert_eq!(categories["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        names(&app, "").await,
        ["Vitamin D", "Omega-3 for dogs", "관절 튼튼 글루코사민"],
        "newest first"
    );
    assert_eq!(names(&app, &format!("?category={dogs}")).await.len(), 2);
    assert_eq!(
        names(&app, "?q=%EA%B4%80%EC%A0%88").await,
        ["관절 튼튼 글루코사민"],
        "Korean substring"
    );
    assert_eq!(
        names(&app, "?q=petory%20lab").await.len(),
        2,
        "brand, case-insensitive"
    );
    assert_eq!(
        names(&app, "?sort=price_asc").await,
        ["Vitamin D", "Omega-3 for dogs", "관절 튼튼 글루코사민"]
    );
    assert_eq!(
        names(&app, "?sort=price_desc").await,
        ["관절 튼튼 글루코사민", "Omega-3 for dogs", "Vitamin D"]
    );
    assert_problem(
        app.get("/api/v1/items?sort=cheapest").await,
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_problem(
        app.get("/api/v1/items?sort=sales&cursor=nonsense").await,
        400,
        "INVALID_CURSOR",
    )
    .await;

    let one: Value = app.get_ok(&format!("/api/v1/items/{}", joint["id"])).await;
    assert_eq!(one["name"], "관절 튼튼 글루코사민");
    assert_problem(app.get("/api/v1/items/999999").await, 404, "ITEM_NOT_FOUND").await;
}

#[tokio::test]
async fn every_sort_pages_through_all_items_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let dogs = category(&app, &admin, "Dogs").await;
    // Equal prices on purpose: ties must still page exactly.
    for n in 0..7 {
        item(&app, &admin, json!({"category_id": dogs, "name": format!("item {n}"), "price": 1000 * (n % 3 + 1), "stock": 1})).await;
    }
    for sort in ["newest", "sales", "price_asc", "price_desc", "rating"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(cursor) => format!("?sort={sort}&limit=3&cursor={cursor}"),
                None => format!("?sort={sort}&limit=3"),
            };
            let page: Value = app.get_ok(&format!("/api/v1/items{query}")).await;
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|item| item["id"].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (7, 7), "sort {sort}: {seen:?}");
    }
}

#[tokio::test]
async fn catalog_upkeep_rules() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, user) = app.user("bori@example.com").await;
    assert_problem(
        app.post_json(
            "/api/v1/admin/categories",
            Some(&user),
            json!({"name": "x"}),
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    let dogs = category(&app, &admin, "Dogs").await;
    assert_problem(
        app.post_json(
            "/api/v1/admin/categories",
            Some(&admin),
            json!({"name": "Dogs"}),
        )
        .await,
        409,
        "CATEGORY_NAME_TAKEN",
    )
    .await;
    let bad = app
        .post_json(
            "/api/v1/admin/items",
            Some(&admin),
            json!({"category_id": dogs, "name": "", "price": 0, "discount_rate": 95, "stock": -1}),
        )
        .await;
    let problem = assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4);
    let missing = app
        .post_json(
            "/api/v1/admin/items",
            Some(&admin),
            json!({"category_id": 999999, "name": "x", "price": 1000, "stock": 1}),
        )
        .await;
    assert_problem(missing, 404, "CATEGORY_NOT_FOUND").await;

    let omega = item(
        &app,
        &admin,
        json!({"category_id": dogs, "name": "Omega-3", "price": 18000, "stock": 10}),
    )
    .await;
    let path = format!("/api/v1/admin/items/{}", omega["id"]);
    let changed: Value = app
        .send_ok(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"discount_rate": 50})),
        )
        .await;
    assert_eq!(changed["sale_price"], 9000);

    let category_path = format!("/api/v1/admin/categories/{dogs}");
    assert_problem(
        app.send(Method::DELETE, &category_path, Some(&admin), None)
            .await,
        409,
        "CATEGORY_NOT_EMPTY",
    )
    .await;
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&admin), None)
            .await
            .status(),
        204
    );
    assert_problem(
        app.get(&format!("/api/v1/items/{}", omega["id"])).await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;
    assert!(
        names(&app, "").await.is_empty(),
        "retired items are off the list"
    );
    let renamed: Value = app
        .send_ok(
            Method::PATCH,
            &category_path,
            Some(&admin),
            Some(json!({"name": "Dog care"})),
        )
        .await;
    assert_eq!(renamed["name"], "Dog care");
}

#[tokio::test]
async fn the_cart_merges_lines_and_totals_on_the_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let dogs = category(&app, &admin, "Dogs").await;
    let omega = item(&app, &admin, json!({"category_id": dogs, "name": "Omega-3", "price": 20000, "discount_rate": 10, "stock": 3})).await;
    let omega_id = omega["id"].as_i64().unwrap();
    let (_, user) = app.user("bori@example.com").await;

    app.post_json(
        "/api/v1/cart/items",
        Some(&user),
        json!({"item_id": omega_id, "quantity": 1}),
    )
    .await;
    let cart: Value = app
        .post_ok(
            "/api/v1/cart/items",
            Some(&user),
            json!({"item_id": omega_id, "quantity": 2}),
        )
        .await;
    assert_eq!(
        cart["lines"].as_array().unwrap().len(),
        1,
        "same item, same kind: one line"
    );
    assert_eq!(
        (
            cart["lines"][0]["quantity"].as_i64(),
            cart["total_price"].as_i64()
        ),
        (Some(3), Some(54000))
    );

    let cart: Value = app
        .post_ok(
            "/api/v1/cart/items",
            Some(&user),
            json!({"item_id": omega_id, "quantity": 1, "subscription_period_days": 30}),
        )
        .await;
    assert_eq!(
        cart["lines"].as_array().unwrap().len(),
        2,
        "a subscription is its own line"
    );
    assert_eq!(
        (
            cart["total_quantity"].as_i64(),
            cart["total_price"].as_i64()
        ),
        (Some(4), Some(72000))
    );
    assert_eq!(cart["lines"][0]["available"], true);

    let line = cart["lines"][0]["id"].as_i64().unwrap();
    let cart: Value = app
        .send_ok(
            Method::PATCH,
            &format!("/api/v1/cart/items/{line}"),
            Some(&user),
            Some(json!({"quantity": 5})),
        )
        .await;
    assert_eq!(
        cart["lines"][0]["available"], false,
        "more than the stock of 3"
    );

    let bad = app
        .post_json(
            "/api/v1/cart/items",
            Some(&user),
            json!({"item_id": omega_id, "quantity": 1, "subscription_period_days": 45}),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;
    let bad = app
        .post_json(
            "/api/v1/cart/items",
            Some(&user),
            json!({"item_id": omega_id, "quantity": 0}),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_problem(
        app.post_json(
            "/api/v1/cart/items",
            Some(&user),
            json!({"item_id": 999999, "quantity": 1}),
        )
        .await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;

    // Nobody touches another's cart.
    let (_, other) = app.user("other@example.com").await;
    let path = format!("/api/v1/cart/items/{line}");
    assert_problem(
        app.send(Method::DELETE, &path, Some(&other), None).await,
        404,
        "CART_ITEM_NOT_FOUND",
    )
    .await;
    let theirs: Value = app
        .send_ok(Method::GET, "/api/v1/cart", Some(&other), None)
        .await;
    assert_eq!(
        theirs,
        json!({"lines": [], "total_quantity": 0, "total_price": 0})
    );

    let cart: Value = app.send_ok(Method::DELETE, &path, Some(&user), None).await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1);
    assert_problem(
        app.send(Method::GET, "/api/v1/cart", None, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}
