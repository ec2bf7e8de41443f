//! The catalog and the cart through HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client as _, Member, Page};
use crate::fixtures::shop::{Cart, Category, Item};
use crate::util::{TestApp, assert_problem};

/// A new category, made by `admin` (which must answer 201): its id.
async fn category(admin: &Member, name: &str) -> i64 {
    let response = admin
        .request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Category>().await.unwrap().id
}

/// A new item, made by `admin` (which must answer 201).
async fn item(admin: &Member, body: Value) -> Item {
    let response = admin
        .request(Method::POST, "/api/v1/admin/items", Some(body))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The names of the items a guest finds with `query`, in order.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page: Page<Item> = app.guest().get(&format!("/api/v1/items{query}")).await;
    page.items.into_iter().map(|item| item.name).collect()
}

#[tokio::test]
async fn admins_stock_the_catalog_and_guests_browse_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dogs = category(&admin, "강아지 영양제").await;
    let people = category(&admin, "보호자 건강").await;
    let joint = item(&admin, json!({"category_id": dogs, "name": "관절 튼튼 글루코사민", "brand": "Petory Lab", "price": 30000, "discount_rate": 10, "stock": 5})).await;
    assert_eq!((joint.sale_price, joint.average_rating), (27000, 0.0));
    item(&admin, json!({"category_id": dogs, "name": "Omega-3 for dogs", "brand": "Nordic", "price": 18000, "stock": 10})).await;
    item(&admin, json!({"category_id": people, "name": "Vitamin D", "brand": "Petory Lab", "price": 9000, "stock": 0})).await;

    let categories: Page<Category> = app.guest().get("/api/v1/categories").await;
    assert_eq!(categories.items.len(), 2);
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

    assert_eq!(app.item(joint.id).await.name, "관절 튼튼 글루코사민");
    assert_problem(app.get("/api/v1/items/999999").await, 404, "ITEM_NOT_FOUND").await;
}

#[tokio::test]
async fn every_sort_pages_through_all_items_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dogs = category(&admin, "Dogs").await;
    // Equal prices on purpose: ties must still page exactly.
    for n in 0..7 {
        item(&admin, json!({"category_id": dogs, "name": format!("item {n}"), "price": 1000 * (n % 3 + 1), "stock": 1})).await;
    }
    for sort in ["newest", "sales", "price_asc", "price_desc", "rating"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(cursor) => format!("?sort={sort}&limit=3&cursor={cursor}"),
                None => format!("?sort={sort}&limit=3"),
            };
            let page: Page<Item> = app.guest().get(&format!("/api/v1/items{query}")).await;
            seen.extend(page.items.iter().map(|item| item.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
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
    let admin = app.admin().await;
    let user = app.member("bori@example.com").await;
    assert_problem(
        user.request(
            Method::POST,
            "/api/v1/admin/categories",
            Some(json!({"name": "x"})),
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    let dogs = category(&admin, "Dogs").await;
    assert_problem(
        admin
            .request(
                Method::POST,
                "/api/v1/admin/categories",
                Some(json!({"name": "Dogs"})),
            )
            .await,
        409,
        "CATEGORY_NAME_TAKEN",
    )
    .await;
    let bad = admin
        .request(
            Method::POST,
            "/api/v1/admin/items",
            Some(json!({"category_id": dogs, "name": "", "price": 0, "discount_rate": 95, "stock": -1})),
        )
        .await;
    let problem = assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4);
    let missing = admin
        .request(
            Method::POST,
            "/api/v1/admin/items",
            Some(json!({"category_id": 999999, "name": "x", "price": 1000, "stock": 1})),
        )
        .await;
    assert_problem(missing, 404, "CATEGORY_NOT_FOUND").await;

    let omega = item(
        &admin,
        json!({"category_id": dogs, "name": "Omega-3", "price": 18000, "stock": 10}),
    )
    .await;
    let path = format!("/api/v1/admin/items/{}", omega.id);
    let changed: Item = admin.patch(&path, json!({"discount_rate": 50})).await;
    assert_eq!(changed.sale_price, 9000);

    let category_path = format!("/api/v1/admin/categories/{dogs}");
    assert_problem(
        admin.request(Method::DELETE, &category_path, None).await,
        409,
        "CATEGORY_NOT_EMPTY",
    )
    .await;
    assert_eq!(
        admin.request(Method::DELETE, &path, None).await.status(),
        204
    );
    assert_problem(
        app.get(&format!("/api/v1/items/{}", omega.id)).await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;
    assert!(
        names(&app, "").await.is_empty(),
        "retired items are off the list"
    );
    let renamed: Category = admin
        .patch(&category_path, json!({"name": "Dog care"}))
        .await;
    assert_eq!(renamed.name, "Dog care");
}

#[tokio::test]
async fn the_cart_merges_lines_and_totals_on_the_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dogs = category(&admin, "Dogs").await;
    let omega = item(&admin, json!({"category_id": dogs, "name": "Omega-3", "price": 20000, "discount_rate": 10, "stock": 3})).await;
    let user = app.member("bori@example.com").await;

    user.request(
        Method::POST,
        "/api/v1/cart/items",
        Some(json!({"item_id": omega.id, "quantity": 1})),
    )
    .await;
    let cart: Cart = user
        .post(
            "/api/v1/cart/items",
            json!({"item_id": omega.id, "quantity": 2}),
        )
        .await;
    assert_eq!(cart.lines.len(), 1, "same item, same kind: one line");
    assert_eq!((cart.lines[0].quantity, cart.total_price), (3, 54000));

    let cart: Cart = user
        .post(
            "/api/v1/cart/items",
            json!({"item_id": omega.id, "quantity": 1, "subscription_period_days": 30}),
        )
        .await;
    assert_eq!(cart.lines.len(), 2, "a subscription is its own line");
    assert_eq!((cart.total_quantity, cart.total_price), (4, 72000));
    assert!(cart.lines[0].available);

    let line = cart.lines[0].id;
    let cart: Cart = user
        .patch(
            &format!("/api/v1/cart/items/{line}"),
            json!({"quantity": 5}),
        )
        .await;
    assert!(!cart.lines[0].available, "more than the stock of 3");

    let bad = user
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"item_id": omega.id, "quantity": 1, "subscription_period_days": 45})),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;
    let bad = user
        .request(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"item_id": omega.id, "quantity": 0})),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_problem(
        user.request(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"item_id": 999999, "quantity": 1})),
        )
        .await,
        404,
        "ITEM_NOT_FOUND",
    )
    .await;

    // Nobody touches another's cart.
    let other = app.member("other@example.com").await;
    let path = format!("/api/v1/cart/items/{line}");
    assert_problem(
        other.request(Method::DELETE, &path, None).await,
        404,
        "CART_ITEM_NOT_FOUND",
    )
    .await;
    // The whole document: an empty cart and nothing else.
    let theirs: Value = other.get("/api/v1/cart").await;
    assert_eq!(
        theirs,
        json!({"lines": [], "total_quantity": 0, "total_price": 0})
    );

    let cart: Cart = user.ok(Method::DELETE, &path, None).await;
    assert_eq!(cart.lines.len(), 1);
    assert_problem(
        app.guest().request(Method::GET, "/api/v1/cart", None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}
