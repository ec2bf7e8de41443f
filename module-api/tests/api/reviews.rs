//! Reviews: buyers only, once per paid order line, with an exact item rating.

use std::sync::Arc;

use diesel_async::SimpleAsyncConnection as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{complete_profile, order_body, shop};
use crate::util::{TestApp, assert_problem};

async fn paid_order(app: &TestApp, token: &str, item: i64, address: i64) -> i64 {
    let order: Value = app
        .post_ok("/api/v1/orders", Some(token), order_body(item, 1, address))
        .await;
    let id = order["id"].as_i64().unwrap();
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
    let item: Value = app.get_ok(&format!("/api/v1/items/{item}")).await;
    (
        item["average_rating"].as_f64().unwrap(),
        item["review_count"].as_i64().unwrap(),
    )
}

fn review(stars: i64) -> Value {
    json!({"stars": stars, "content": "우리 보리가 잘 먹어요"})
}

#[tokio::test]
async fn only_buyers_of_a_paid_order_review_once_per_line() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    let path = format!("/api/v1/items/{item}/reviews");
    assert_problem(
        app.post_json(&path, Some(&token), review(5)).await,
        403,
        "NOT_A_BUYER",
    )
    .await;
    app.post_json("/api/v1/orders", Some(&token), order_body(item, 1, address))
        .await;
    assert_problem(
        app.post_json(&path, Some(&token), review(5)).await,
        403,
        "NOT_A_BUYER",
    )
    .await;

    paid_order(&app, &token, item, address).await;
    let created = app.post_json(&path, Some(&token), review(5)).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["stars"].as_i64(), Some(5));
    assert!(
        created["author_name"]
            .as_str()
            .is_some_and(|name| name.starts_with("회원")),
        "reviews are public: the buyer shows by nickname, not name: {created}"
    );
    assert_problem(
        app.post_json(&path, Some(&token), review(4)).await,
        409,
        "ALREADY_REVIEWED",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&token), review(6)).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;

    paid_order(&app, &token, item, address).await;
    assert_eq!(
        app.post_json(&path, Some(&token), review(2)).await.status(),
        201,
        "a second paid order may be reviewed"
    );
    assert_eq!(item_rating(&app, item).await, (3.5, 2));

    let page: Value = app.get_ok(&path).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["stars"], 2, "newest first");
}

#[tokio::test]
async fn editing_and_deleting_keep_the_rating_exact() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10).await;
    paid_order(&app, &token, item, address).await;
    let created: Value = app
        .post_ok(
            &format!("/api/v1/items/{item}/reviews"),
            Some(&token),
            review(2),
        )
        .await;
    let path = format!("/api/v1/reviews/{}", created["id"]);

    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&stranger),
            Some(json!({"stars": 1})),
        )
        .await,
        404,
        "REVIEW_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(Method::DELETE, &path, Some(&stranger), None).await,
        404,
        "REVIEW_NOT_FOUND",
    )
    .await;

    let edited: Value = app
        .send_ok(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"stars": 4, "content": "better now"})),
        )
        .await;
    assert_eq!(
        (edited["stars"].as_i64(), edited["content"].as_str()),
        (Some(4), Some("better now"))
    );
    assert_eq!(item_rating(&app, item).await, (4.0, 1));
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&token), None)
            .await
            .status(),
        204
    );
    assert_eq!(item_rating(&app, item).await, (0.0, 0));
    assert_eq!(
        app.post_json(
            &format!("/api/v1/items/{item}/reviews"),
            Some(&token),
            review(5)
        )
        .await
        .status(),
        201,
        "the line is free again"
    );
}

#[tokio::test]
async fn concurrent_reviews_keep_the_rating_exact() {
    let app = Arc::new(TestApp::spawn().await);
    let (item, _, _) = shop(&app, 100).await;
    let mut buyers = Vec::new();
    for n in 0..10 {
        let (_, token) = app.user(&format!("buyer{n}@example.com")).await;
        let address = complete_profile(&app, &token).await;
        paid_order(&app, &token, item, address).await;
        buyers.push(token);
    }
    let reviews = buyers.into_iter().enumerate().map(|(n, token)| {
        let app = app.clone();
        let stars = i64::try_from(n % 5).unwrap() + 1;
        tokio::spawn(async move {
            app.post_json(
                &format!("/api/v1/items/{item}/reviews"),
                Some(&token),
                review(stars),
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
