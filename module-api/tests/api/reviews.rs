//! Reviews: buyers only, once per paid order line, with an exact item rating.

use diesel_async::SimpleAsyncConnection as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::daily::{ItemOnSale, item_on_sale};
use crate::fixtures::{complete_profile, order_body};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Review {
    id: i64,
    stars: i64,
    content: String,
    author_name: String,
}

#[derive(Debug, Deserialize)]
struct Item {
    average_rating: f64,
    review_count: i64,
}

#[derive(Debug, Deserialize)]
struct Order {
    id: i64,
}

async fn paid_order(app: &TestApp, buyer: &Member, item: i64, address: i64) -> i64 {
    let order: Order = buyer
        .post("/api/v1/orders", order_body(item, 1, address))
        .await;
    let id = order.id;
    // Payment arrives with the payments capability; mark it paid directly here.
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE orders SET status = 'PAID', paid_at = now() WHERE id = {id}"
    ))
    .await
    .unwrap();
    id
}

async fn item_rating(app: &TestApp, item: i64) -> (f64, i64) {
    let item: Item = app.guest().get(&format!("/api/v1/items/{item}")).await;
    (item.average_rating, item.review_count)
}

fn review(stars: i64) -> Value {
    json!({"stars": stars, "content": "우리 보리가 잘 먹어요"})
}

#[tokio::test]
async fn only_buyers_of_a_paid_order_review_once_per_line() {
    let app = TestApp::spawn().await;
    let ItemOnSale {
        item,
        buyer,
        address,
    } = item_on_sale(&app, 10).await;
    let path = format!("/api/v1/items/{item}/reviews");
    let write = async |body: Value| buyer.request(Method::POST, &path, Some(body)).await;
    assert_problem(write(review(5)).await, 403, "NOT_A_BUYER").await;
    buyer
        .request(
            Method::POST,
            "/api/v1/orders",
            Some(order_body(item, 1, address)),
        )
        .await;
    assert_problem(write(review(5)).await, 403, "NOT_A_BUYER").await;

    paid_order(&app, &buyer, item, address).await;
    let created = write(review(5)).await;
    assert_eq!(created.status(), 201);
    let created: Review = created.json().await.unwrap();
    assert_eq!(created.stars, 5);
    assert!(
        created.author_name.starts_with("회원"),
        "reviews are public: the buyer shows by nickname, not name: {created:?}"
    );
    assert_problem(write(review(4)).await, 409, "ALREADY_REVIEWED").await;
    assert_problem(write(review(6)).await, 422, "VALIDATION_FAILED").await;

    paid_order(&app, &buyer, item, address).await;
    assert_eq!(
        write(review(2)).await.status(),
        201,
        "a second paid order may be reviewed"
    );
    assert_eq!(item_rating(&app, item).await, (3.5, 2));

    let page: Page<Review> = app.guest().get(&path).await;
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].stars, 2, "newest first");
}

#[tokio::test]
async fn editing_and_deleting_keep_the_rating_exact() {
    let app = TestApp::spawn().await;
    let ItemOnSale {
        item,
        buyer,
        address,
    } = item_on_sale(&app, 10).await;
    paid_order(&app, &buyer, item, address).await;
    let created: Review = buyer
        .post(&format!("/api/v1/items/{item}/reviews"), review(2))
        .await;
    let path = format!("/api/v1/reviews/{}", created.id);

    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        stranger
            .request(Method::PATCH, &path, Some(json!({"stars": 1})))
            .await,
        404,
        "REVIEW_NOT_FOUND",
    )
    .await;
    assert_problem(
        stranger.request(Method::DELETE, &path, None).await,
        404,
        "REVIEW_NOT_FOUND",
    )
    .await;

    let edited: Review = buyer
        .patch(&path, json!({"stars": 4, "content": "better now"}))
        .await;
    assert_eq!((edited.stars, edited.content.as_str()), (4, "better now"));
    assert_eq!(item_rating(&app, item).await, (4.0, 1));
    assert_eq!(
        buyer.request(Method::DELETE, &path, None).await.status(),
        204
    );
    assert_eq!(item_rating(&app, item).await, (0.0, 0));
    assert_eq!(
        buyer
            .request(
                Method::POST,
                &format!("/api/v1/items/{item}/reviews"),
                Some(review(5))
            )
            .await
            .status(),
        201,
        "the line is free again"
    );
}

#[tokio::test]
async fn concurrent_reviews_keep_the_rating_exact() {
    let app = TestApp::spawn().await;
    let ItemOnSale { item, .. } = item_on_sale(&app, 100).await;
    let mut buyers = Vec::new();
    for n in 0..10 {
        let buyer = app.member(&format!("buyer{n}@example.com")).await;
        let address = complete_profile(&app, &buyer.token).await;
        paid_order(&app, &buyer, item, address).await;
        buyers.push(buyer);
    }
    let reviews = buyers.into_iter().enumerate().map(|(n, buyer)| {
        let stars = i64::try_from(n % 5).unwrap() + 1;
        tokio::spawn(async move {
            buyer
                .request(
                    Method::POST,
                    &format!("/api/v1/items/{item}/reviews"),
                    Some(review(stars)),
                )
                .await
                .status()
        })
    });
    for review in reviews {
        assert_eq!(review.await.unwrap(), 201);
    }
    // Stars 1..5 twice: 30 / 10.
    assert_eq!(item_rating(&app, item).await, (3.0, 10));
}
