//! The trade board as sellers and buyers use it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::community::Listing;
use crate::fixtures::{image, suspend_quietly};
use crate::util::{TestApp, assert_problem};

fn listing(title: &str, category: &str, price: i64, region: &str) -> Value {
    json!({"category": category, "title": title, "content": format!("{title}, barely used"),
           "price": price, "region": region})
}

/// A request body with one field set.
fn with(mut body: Value, field: &str, value: Value) -> Value {
    body.as_object_mut()
        .expect("an object")
        .insert(field.to_owned(), value);
    body
}

fn titles(page: &Page<Listing>) -> Vec<&str> {
    page.items
        .iter()
        .map(|listing| listing.title.as_str())
        .collect()
}

async fn set_status(by: &impl Client, path: &str, status: &str) -> reqwest::Response {
    by.request(
        Method::PATCH,
        &format!("{path}/status"),
        Some(json!({"status": status})),
    )
    .await
}

#[tokio::test]
async fn a_listing_is_reserved_released_and_sold_by_its_seller_only_and_a_sale_is_final() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let buyer = app.member("buyer@example.com").await;
    let guest = app.guest();
    let created: Listing = seller
        .post(
            "/api/v1/trade-boards",
            listing("Dog stroller", "GOODS", 80_000, "Mapo-gu"),
        )
        .await;
    assert_eq!(created.status, "FOR_SALE");
    assert_eq!(created.chat_count, 0);
    let path = format!("/api/v1/trade-boards/{}", created.id);

    // Only the seller moves it; guests are asked to log in.
    assert_problem(
        set_status(&buyer, &path, "SOLD").await,
        403,
        "NOT_THE_SELLER",
    )
    .await;
    assert_problem(
        set_status(&guest, &path, "SOLD").await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_problem(
        set_status(&seller, &path, "GIVEN_AWAY").await,
        422,
        "INVALID_BODY",
    )
    .await;

    for status in [
        "RESERVED", "FOR_SALE", "RESERVED", "RESERVED", "SOLD", "SOLD",
    ] {
        let response = set_status(&seller, &path, status).await;
        assert_eq!(response.status(), 200, "to {status}");
        let body: Listing = response.json().await.unwrap();
        assert_eq!(body.status, status);
    }
    for status in ["FOR_SALE", "RESERVED"] {
        assert_problem(
            set_status(&seller, &path, status).await,
            409,
            "INVALID_LISTING_TRANSITION",
        )
        .await;
    }
    assert_eq!(guest.get::<Listing>(&path).await.status, "SOLD");
}

#[tokio::test]
async fn sellers_edit_and_take_down_while_others_and_guests_only_read() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let photo = image(&app, &seller.token, "TRADE").await;
    let body = with(
        listing(" Cat tower ", "TOY", 30_000, " Suwon "),
        "image_keys",
        json!([photo]),
    );
    let created: Listing = seller.post("/api/v1/trade-boards", body).await;
    assert_eq!(created.title, "Cat tower");
    assert_eq!(created.region, "Suwon");
    assert_eq!(created.seller_name, format!("회원{}", seller.id));
    assert_eq!(created.image_urls.len(), 1);
    assert!(!created.hidden);
    let path = format!("/api/v1/trade-boards/{}", created.id);

    assert_eq!(guest.get::<Listing>(&path).await.id, created.id);
    let board: Page<Listing> = guest.get("/api/v1/trade-boards").await;
    assert_eq!(titles(&board), ["Cat tower"]);
    assert_problem(
        guest
            .request(
                Method::POST,
                "/api/v1/trade-boards",
                Some(listing("x", "ETC", 1, "Seoul")),
            )
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    for (method, body) in [
        (Method::PATCH, Some(json!({"price": 1}))),
        (Method::DELETE, None),
    ] {
        assert_problem(
            other.request(method, &path, body).await,
            403,
            "NOT_THE_SELLER",
        )
        .await;
    }

    let edited: Listing = seller
        .patch(&path, json!({"price": 25_000, "category": "GOODS"}))
        .await;
    assert_eq!(edited.price, 25_000);
    assert_eq!(edited.category, "GOODS");
    assert_eq!(edited.title, "Cat tower");
    assert_eq!(edited.image_keys, [photo]);

    assert_eq!(
        seller.request(Method::DELETE, &path, None).await.status(),
        204
    );
    assert_problem(
        guest.request(Method::GET, &path, None).await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    assert_problem(
        set_status(&seller, &path, "SOLD").await,
        404,
        "LISTING_NOT_FOUND",
    )
    .await;
    let board: Page<Listing> = guest.get("/api/v1/trade-boards").await;
    assert!(titles(&board).is_empty());
}

#[tokio::test]
async fn bad_listings_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let other = app.member("other@example.com").await;
    let guest = app.guest();
    let theirs = image(&app, &other.token, "TRADE").await;
    let wrong_purpose = image(&app, &seller.token, "POST").await;
    let leash =
        |field: &str, value: Value| with(listing("Leash", "GOODS", 5_000, "Seoul"), field, value);
    for (body, status, code) in [
        (leash("category", json!("CARS")), 422, "INVALID_BODY"),
        (leash("price", json!(-1)), 422, "VALIDATION_FAILED"),
        (leash("price", json!(100_000_001)), 422, "VALIDATION_FAILED"),
        (leash("price", json!(1e30)), 422, "INVALID_BODY"),
        (leash("price", json!("5000")), 422, "INVALID_BODY"),
        (leash("title", json!("")), 422, "VALIDATION_FAILED"),
        (
            leash("title", json!("t".repeat(101))),
            422,
            "VALIDATION_FAILED",
        ),
        (leash("region", json!("")), 422, "VALIDATION_FAILED"),
        (leash("content", json!("a\u{0}b")), 422, "VALIDATION_FAILED"),
        (
            leash("image_keys", json!([theirs])),
            422,
            "UPLOAD_NOT_FOUND",
        ),
        (
            leash("image_keys", json!([wrong_purpose])),
            422,
            "UPLOAD_NOT_FOUND",
        ),
        (
            leash("image_keys", json!(vec!["k"; 11])),
            422,
            "VALIDATION_FAILED",
        ),
    ] {
        assert_problem(
            seller
                .request(Method::POST, "/api/v1/trade-boards", Some(body))
                .await,
            status,
            code,
        )
        .await;
    }
    let board: Page<Listing> = guest.get("/api/v1/trade-boards").await;
    assert!(titles(&board).is_empty());

    // A suspended seller reads but does not list, edit or sell.
    let created: Listing = seller
        .post(
            "/api/v1/trade-boards",
            listing("Leash", "GOODS", 5_000, "Seoul"),
        )
        .await;
    let path = format!("/api/v1/trade-boards/{}", created.id);
    suspend_quietly(&app, seller.id).await;
    assert_problem(
        seller
            .request(
                Method::POST,
                "/api/v1/trade-boards",
                Some(listing("Bowl", "GOODS", 5_000, "Seoul")),
            )
            .await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    assert_problem(
        set_status(&seller, &path, "SOLD").await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    assert_eq!(guest.get::<Listing>(&path).await.status, "FOR_SALE");
}

#[tokio::test]
async fn buyers_filter_by_status_category_region_and_price_search_in_korean_and_page_through() {
    let app = TestApp::spawn().await;
    let seller = app.member("seller@example.com").await;
    let guest = app.guest();
    for (title, category, price, region) in [
        ("강아지 산책로 하네스", "GOODS", 15_000, "마포구"),
        ("고양이 사료 2kg", "FOOD", 20_000, "마포구"),
        ("삑삑이 장난감", "TOY", 3_000, "수원시"),
        ("강아지 겨울 패딩", "FASHION", 25_000, "수원시"),
        ("산책 가방", "GOODS", 40_000, "마포구"),
    ] {
        let _: Listing = seller
            .post(
                "/api/v1/trade-boards",
                listing(title, category, price, region),
            )
            .await;
    }
    let sold: Listing = seller
        .post(
            "/api/v1/trade-boards",
            listing("다 쓴 배변패드", "ETC", 1_000, "마포구"),
        )
        .await;
    let sold_path = format!("/api/v1/trade-boards/{}", sold.id);
    assert_eq!(set_status(&seller, &sold_path, "SOLD").await.status(), 200);

    let list = |query: &str| {
        let guest = &guest;
        let path = format!("/api/v1/trade-boards?{query}");
        async move { guest.get::<Page<Listing>>(&path).await }
    };
    assert_eq!(titles(&list("status=SOLD").await), ["다 쓴 배변패드"]);
    assert_eq!(titles(&list("status=FOR_SALE").await).len(), 5);
    assert_eq!(
        titles(&list("category=GOODS").await),
        ["산책 가방", "강아지 산책로 하네스"]
    );
    assert_eq!(
        titles(&list("region=%EC%88%98%EC%9B%90%EC%8B%9C").await),
        ["강아지 겨울 패딩", "삑삑이 장난감"]
    );
    assert_eq!(
        titles(&list("min_price=15000&max_price=25000").await),
        [
            "강아지 겨울 패딩",
            "고양이 사료 2kg",
            "강아지 산책로 하네스"
        ]
    );
    // "산책" finds "산책로"; every word must occur.
    assert_eq!(
        titles(&list("q=%EC%82%B0%EC%B1%85").await),
        ["산책 가방", "강아지 산책로 하네스"]
    );
    assert_eq!(
        titles(&list("q=%EA%B0%95%EC%95%84%EC%A7%80%20%ED%8C%A8%EB%94%A9").await),
        ["강아지 겨울 패딩"]
    );
    assert_eq!(
        titles(&list("q=%EC%82%B0%EC%B1%85&category=GOODS&max_price=20000").await),
        ["강아지 산책로 하네스"]
    );

    // Cursor paging walks every listing once, newest first.
    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let page = list(&query).await;
        seen.extend(titles(&page).into_iter().map(str::to_owned));
        match page.next_cursor {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], "다 쓴 배변패드");
    assert_eq!(seen[5], "강아지 산책로 하네스");

    for (query, code) in [
        ("min_price=30000&max_price=10000", "INVALID_QUERY"),
        ("min_price=-1", "INVALID_QUERY"),
        ("max_price=99999999999999999999", "INVALID_QUERY"),
        ("status=LOST", "INVALID_QUERY"),
        ("cursor=nonsense", "INVALID_CURSOR"),
        ("q=%21%21", "INVALID_QUERY"),
    ] {
        assert_problem(
            guest
                .request(Method::GET, &format!("/api/v1/trade-boards?{query}"), None)
                .await,
            400,
            code,
        )
        .await;
    }
}
