//! Paying for orders through the KakaoPay sandbox.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{
    app_with_kakaopay, ledger, misbehave, notification_titles, order_of, pay, place, refund_relay,
    shop, stock,
};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[tokio::test]
async fn an_order_is_paid_through_kakaopay_and_a_second_approve_changes_nothing() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    assert!(approve.starts_with(&format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&return_token="
    )));
    assert!(approve.contains("&pg_token="));

    let paid = app.get(&approve).await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    assert_eq!(
        (paid["id"].as_i64(), paid["status"].as_str()),
        (Some(order), Some("PAID"))
    );
    assert!(paid["paid_at"].is_string());
    assert!(paid.get("delivery").is_none(), "the outcome only: {paid}");
    let mine = order_of(&app, &token, order).await;
    assert_eq!(
        (
            mine["payment"]["status"].as_str(),
            mine["payment"]["amount"].as_i64()
        ),
        (Some("PAID"), Some(36000))
    );

    let again: Value = app.get_ok(&approve).await;
    assert_eq!(again["status"], "PAID");
    let entries = ledger(&sandbox).await;
    let approvals = entries
        .iter()
        .filter(|entry| entry["kind"] == "approve")
        .count();
    assert_eq!(approvals, 1, "approved once at the gateway");
    assert_eq!(entries[0]["amount"], 36000);

    let item: Value = app.get_ok(&format!("/api/v1/items/{item}")).await;
    assert_eq!(item["sales_count"], 2);
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_or_failed_payment_leaves_the_order_payable() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;

    assert_problem(
        app.get(&format!(
            "/api/v1/payments/kakaopay/cancel?order_id={order}"
        ))
        .await,
        400,
        "PAYMENT_CANCELED_BY_BUYER",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/payments/kakaopay/fail?order_id={order}"))
            .await,
        400,
        "PAYMENT_FAILED",
    )
    .await;
    let forged = format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&return_token=forged&pg_token=forged"
    );
    assert_problem(app.get(&forged).await, 402, "PAYMENT_REFUSED").await;
    let status: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{order}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status["status"], "PENDING_PAYMENT");

    // A fresh attempt works.
    let approve_again = pay(&app, &token, order).await;
    assert_ne!(approve_again, approve);
    assert_eq!(app.get_ok(&approve_again).await["status"], "PAID");
}

#[tokio::test]
async fn a_gateway_timeout_on_approval_is_resolved_by_lookup() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(1)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    reqwest::Client::new()
        .post(format!("{}/__sandbox/misbehave", sandbox.base_url()))
        .json(&json!({"next": "timeout"}))
        .send()
        .await
        .unwrap();
    let paid: Value = app.get_ok(&approve).await;
    assert_eq!(
        paid["status"], "PAID",
        "the lookup found the approval the timeout hid"
    );
    assert_eq!(
        ledger(&sandbox)
            .await
            .iter()
            .filter(|entry| entry["kind"] == "approve")
            .count(),
        1
    );
}

#[tokio::test]
async fn unpayable_orders_and_an_unreachable_gateway_are_clear_problems() {
    let app = TestApp::spawn().await; // its gateway points at a closed port
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        503,
        "PAYMENT_GATEWAY_UNAVAILABLE",
    )
    .await;
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
    assert_eq!(stock(&app, item).await, 10);
    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&stranger),
            json!({}),
        )
        .await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_through_the_outbox() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    app.get(&approve).await;

    let canceled: Value = app
        .send_ok(
            Method::POST,
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (
            canceled["status"].as_str(),
            canceled["payment"]["status"].as_str()
        ),
        (Some("CANCELED"), Some("REFUND_PENDING")),
        "not refunded before the gateway says so"
    );
    assert!(canceled["canceled_at"].is_string());
    assert_eq!(stock(&app, item).await, 10);
    assert!(
        ledger(&sandbox)
            .await
            .iter()
            .all(|entry| entry["kind"] != "cancel"),
        "the refund waits for the relay"
    );

    // The relay (the batch job `relay-events`) carries the refund out at the gateway.
    assert!(app.relay_events().await.delivered >= 1);
    let cancels: Vec<Value> = ledger(&sandbox)
        .await
        .into_iter()
        .filter(|entry| entry["kind"] == "cancel")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0]["amount"], 36000);

    let refunded = order_of(&app, &token, order).await;
    assert_eq!(
        (
            refunded["status"].as_str(),
            refunded["payment"]["status"].as_str()
        ),
        (Some("REFUNDED"), Some("REFUNDED"))
    );
    assert!(refunded["payment"]["refunded_at"].is_string());
    app.relay_events().await;
    let titles = notification_titles(&app, &token).await;
    assert!(
        titles.contains(&"환불이 완료되었어요".to_owned()),
        "the buyer hears of the confirmed refund: {titles:?}"
    );
    assert_problem(
        app.send(
            Method::POST,
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&token),
            None,
        )
        .await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
}

#[tokio::test]
async fn a_refund_the_gateway_refuses_reads_refund_failed_until_an_admin_retries_it() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    app.get(&pay(&app, &token, order).await).await;
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&token),
        None,
    )
    .await;

    misbehave(&sandbox, "decline", 1).await;
    let counts = refund_relay(&app)
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(counts.failed, 1, "a refusal is final: parked at once");
    let failed = order_of(&app, &token, order).await;
    assert_eq!(
        (
            failed["status"].as_str(),
            failed["payment"]["status"].as_str()
        ),
        (Some("CANCELED"), Some("REFUND_FAILED"))
    );
    app.relay_events().await;
    let titles = notification_titles(&app, &token).await;
    assert!(
        titles.contains(&"환불이 지연되고 있어요".to_owned()),
        "the buyer is told: {titles:?}"
    );

    // Admins see it among the failed events and retry it once the gateway is fixed.
    let admin = app.admin_token().await;
    let parked: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/events/failed",
            Some(&admin),
            None,
        )
        .await;
    let event = parked["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "PAYMENT_CANCEL_REQUESTED")
        .expect("the refund is a failed event");
    assert!(event["last_error"].as_str().unwrap().contains("-780"));
    let retry = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/events/failed/{}/retry", event["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(retry.status(), 200);
    app.relay_events().await;
    let refunded = order_of(&app, &token, order).await;
    assert_eq!(
        (
            refunded["status"].as_str(),
            refunded["payment"]["status"].as_str()
        ),
        (Some("REFUNDED"), Some("REFUNDED"))
    );
}

#[tokio::test]
async fn a_refund_that_keeps_failing_is_parked_as_refund_failed() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    app.get(&pay(&app, &token, order).await).await;
    app.send(
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&token),
        None,
    )
    .await;
    misbehave(&sandbox, "fail", 10).await;
    let relay = app.relay();
    let first = relay
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(first.retried, 1, "an outage is retried");
    assert_eq!(
        order_of(&app, &token, order).await["payment"]["status"],
        "REFUND_PENDING"
    );
    let mut failed = 0;
    for _ in 0..6 {
        app.clock.advance(chrono::TimeDelta::hours(2));
        failed += relay
            .relay_due(&app.state.db, app.clock.now_utc(), 10)
            .await
            .unwrap()
            .failed;
    }
    assert_eq!(failed, 1);
    let token = app
        .login("buyer@example.com", crate::util::PASSWORD)
        .await
        .0;
    assert_eq!(
        order_of(&app, &token, order).await["payment"]["status"],
        "REFUND_FAILED"
    );
}

#[tokio::test]
async fn the_return_urls_tell_a_guest_or_another_user_nothing_about_an_order() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    let (_, stranger) = app.user("stranger@example.com").await;
    let forged = format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&return_token=anything&pg_token=anything"
    );
    let unknown =
        "/api/v1/payments/kakaopay/approve?order_id=999999&return_token=anything&pg_token=anything";

    // Before and after the buyer approved, with or without somebody else's token, a stranger
    // gets the same refusal and nothing of the order, and never makes us call KakaoPay.
    let approvals = || async {
        ledger(&sandbox)
            .await
            .iter()
            .filter(|entry| entry["kind"] == "approve")
            .count()
    };
    for paid in [false, true] {
        if paid {
            assert_eq!(app.get(&approve).await.status(), 200);
        }
        for path in [forged.as_str(), unknown] {
            for caller in [None, Some(stranger.as_str())] {
                let body = assert_problem(
                    app.send(Method::GET, path, caller, None).await,
                    402,
                    "PAYMENT_REFUSED",
                )
                .await;
                let text = body.to_string();
                for secret in ["Bori", "010-1234-5678", "06236", "Teheran", "36000", "PAID"] {
                    assert!(!text.contains(secret), "{path} leaked {secret}: {text}");
                }
            }
        }
        assert_eq!(
            approvals().await,
            usize::from(paid),
            "only the buyer's own approval"
        );
    }
    // The buyer's own browser, with the token KakaoPay gave it, sees the outcome again.
    let again: Value = app.get_ok(&approve).await;
    assert_eq!(again["status"], "PAID");
    assert!(again.get("delivery").is_none() && again.get("lines").is_none());

    for path in ["cancel", "fail"] {
        let response = app
            .get(&format!(
                "/api/v1/payments/kakaopay/{path}?order_id={order}"
            ))
            .await;
        let text = response.text().await.unwrap();
        for secret in ["Bori", "010-1234-5678", "Teheran", "PAID", "36000"] {
            assert!(!text.contains(secret), "{path} leaked {secret}: {text}");
        }
    }
}

#[tokio::test]
async fn browsers_coming_back_from_kakaopay_are_sent_on_to_the_app() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    let browser = |path: String| {
        app.client
            .get(app.url(&path))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
    };
    let location = |response: reqwest::Response| {
        assert_eq!(response.status(), 303);
        response.headers()["location"].to_str().unwrap().to_owned()
    };
    let app_page = format!("https://app.petory.test/orders/{order}");
    assert_eq!(
        location(
            browser(format!("/api/v1/payments/kakaopay/cancel?order_id={order}"))
                .await
                .unwrap()
        ),
        format!("{app_page}?payment=canceled&code=PAYMENT_CANCELED_BY_BUYER")
    );
    assert_eq!(
        location(
            browser(format!("/api/v1/payments/kakaopay/fail?order_id={order}"))
                .await
                .unwrap()
        ),
        format!("{app_page}?payment=failed&code=PAYMENT_FAILED")
    );
    assert_eq!(
        location(browser(approve.clone()).await.unwrap()),
        format!("{app_page}?payment=approved")
    );
    assert_eq!(
        location(
            browser(format!(
                "/api/v1/payments/kakaopay/approve?order_id={order}&return_token=forged&pg_token=forged"
            ))
            .await
            .unwrap()
        ),
        format!("{app_page}?payment=failed&code=PAYMENT_REFUSED")
    );
    assert_eq!(order_of(&app, &token, order).await["status"], "PAID");
}

#[tokio::test]
async fn a_gateway_error_that_is_ours_is_a_502_never_blamed_on_the_buyer() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    misbehave(&sandbox, "reject", 1).await;
    assert_problem(
        app.post_json(
            &format!("/api/v1/orders/{order}/payment"),
            Some(&token),
            json!({}),
        )
        .await,
        502,
        "PAYMENT_GATEWAY_ERROR",
    )
    .await;
    assert_eq!(
        order_of(&app, &token, order).await["status"],
        "PENDING_PAYMENT"
    );
    let approve = pay(&app, &token, order).await;
    misbehave(&sandbox, "reject", 1).await;
    assert_problem(app.get(&approve).await, 502, "PAYMENT_GATEWAY_ERROR").await;
    assert_eq!(app.get(&approve).await.status(), 200, "payable once fixed");
}

#[tokio::test]
async fn an_order_that_expired_while_the_buyer_was_at_kakaopay_is_refunded_not_resurrected() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let order = place(&app, &token, item, address).await;
    let approve = pay(&app, &token, order).await;
    // The buyer dawdles; the expiry job releases the stock.
    app.clock.advance(chrono::TimeDelta::minutes(31));
    let mut conn = app.state.db.get().await.unwrap();
    let now = crate::util::ClockExt::now_utc(&app.clock);
    assert_eq!(
        petory_core::shop::order::expire_unpaid(&mut conn, now, 10)
            .await
            .unwrap(),
        1
    );
    drop(conn);

    assert_problem(app.get(&approve).await, 409, "ORDER_NOT_PAYABLE").await;
    let (token, _) = app.login("buyer@example.com", crate::util::PASSWORD).await;
    let status: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/orders/{order}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status["status"], "CANCELED");
    assert_eq!(stock(&app, item).await, 10, "no stock was taken twice");
    let relay = refund_relay(&app);
    assert_eq!(
        relay
            .relay_due(&app.state.db, now, 10)
            .await
            .unwrap()
            .delivered,
        1,
        "the approved money goes back"
    );
}

#[tokio::test]
async fn a_subscription_orders_first_approval_creates_its_subscription() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let body = json!({"items": [{"item_id": item, "quantity": 1, "subscription_period_days": 30}], "address_id": address});
    let order: Value = app.post_ok("/api/v1/orders", Some(&token), body).await;
    let approve = pay(&app, &token, order["id"].as_i64().unwrap()).await;
    assert_eq!(app.get_ok(&approve).await["status"], "PAID");

    let subscriptions: Value = app
        .send_ok(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await;
    let subscription = &subscriptions["items"][0];
    assert_eq!(
        (
            subscription["status"].as_str(),
            subscription["period_days"].as_i64()
        ),
        (Some("ACTIVE"), Some(30))
    );
    // Paid at 10:00 in Seoul on 2026-11-23: the next cycle is 30 days later.
    assert_eq!(
        (
            subscription["anchor_date"].as_str(),
            subscription["next_billing_date"].as_str()
        ),
        (Some("2026-11-23"), Some("2026-12-23"))
    );
    assert_eq!(subscription["first_order_id"], order["id"]);
    assert!(
        ledger(&sandbox)
            .await
            .iter()
            .any(|entry| entry["kind"] == "approve" && entry["sid"].is_string())
    );

    let path = format!("/api/v1/subscriptions/{}", subscription["id"]);
    assert_eq!(
        app.send(Method::GET, &path, Some(&token), None)
            .await
            .status(),
        200
    );
    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.send(Method::GET, &path, Some(&stranger), None).await,
        404,
        "SUBSCRIPTION_NOT_FOUND",
    )
    .await;
}
