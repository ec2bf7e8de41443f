//! Paying for orders through the KakaoPay sandbox.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client as _, Page};
use crate::fixtures::shop::{
    Order, OutboxEvent, PaymentOutcome, Subscription, calls, cancel_order, ledger_entries,
    start_payment,
};
use crate::fixtures::{app_with_kakaopay, misbehave, notification_titles, refund_relay, stock};
use crate::util::{ClockExt as _, TestApp, assert_problem};

#[tokio::test]
async fn an_order_is_paid_through_kakaopay_and_a_second_approve_changes_nothing() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
    assert!(approve.starts_with(&format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&return_token="
    )));
    assert!(approve.contains("&pg_token="));

    let paid = app.get(&approve).await;
    assert_eq!(paid.status(), 200);
    // Raw as well: what the outcome leaves out.
    let paid: Value = paid.json().await.unwrap();
    let outcome: PaymentOutcome = serde_json::from_value(paid.clone()).unwrap();
    assert_eq!((outcome.id, outcome.status.as_str()), (order, "PAID"));
    assert!(outcome.paid_at.is_some());
    assert!(paid.get("delivery").is_none(), "the outcome only: {paid}");
    let payment = app.order_of(&shop.buyer, order).await.payment.unwrap();
    assert_eq!((payment.status.as_str(), payment.amount), ("PAID", 36000));

    let again: PaymentOutcome = app.guest().get(&approve).await;
    assert_eq!(again.status, "PAID");
    let entries = ledger_entries(&sandbox).await;
    let approvals = entries
        .iter()
        .filter(|entry| entry.kind == "approve")
        .count();
    assert_eq!(approvals, 1, "approved once at the gateway");
    assert_eq!(entries[0].amount, 36000);

    assert_eq!(app.item(shop.item).await.sales_count, 2);
    assert_problem(
        start_payment(&shop.buyer, order).await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_or_failed_payment_leaves_the_order_payable() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;

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
    let status: Order = shop.buyer.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(status.status, "PENDING_PAYMENT");

    // A fresh attempt works.
    let approve_again = shop.pay(&app, order).await;
    assert_ne!(approve_again, approve);
    let paid: PaymentOutcome = app.guest().get(&approve_again).await;
    assert_eq!(paid.status, "PAID");
}

#[tokio::test]
async fn a_gateway_timeout_on_approval_is_resolved_by_lookup() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(1)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
    reqwest::Client::new()
        .post(format!("{}/__sandbox/misbehave", sandbox.base_url()))
        .json(&json!({"next": "timeout"}))
        .send()
        .await
        .unwrap();
    let paid: PaymentOutcome = app.guest().get(&approve).await;
    assert_eq!(
        paid.status, "PAID",
        "the lookup found the approval the timeout hid"
    );
    assert_eq!(calls(&sandbox, "approve").await, 1);
}

#[tokio::test]
async fn unpayable_orders_and_an_unreachable_gateway_are_clear_problems() {
    let app = TestApp::spawn().await; // its gateway points at a closed port
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    assert_problem(
        start_payment(&shop.buyer, order).await,
        503,
        "PAYMENT_GATEWAY_UNAVAILABLE",
    )
    .await;
    cancel_order(&shop.buyer, order).await;
    assert_problem(
        start_payment(&shop.buyer, order).await,
        409,
        "ORDER_NOT_PAYABLE",
    )
    .await;
    assert_eq!(stock(&app, shop.item).await, 10);
    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        start_payment(&stranger, order).await,
        404,
        "ORDER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_through_the_outbox() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
    app.get(&approve).await;

    let canceled: Order = shop
        .buyer
        .ok(
            Method::POST,
            &format!("/api/v1/orders/{order}/cancel"),
            None,
        )
        .await;
    assert_eq!(
        (
            canceled.status.as_str(),
            canceled.payment.as_ref().map(|p| p.status.as_str())
        ),
        ("CANCELED", Some("REFUND_PENDING")),
        "not refunded before the gateway says so"
    );
    assert!(canceled.canceled_at.is_some());
    assert_eq!(stock(&app, shop.item).await, 10);
    assert!(
        ledger_entries(&sandbox)
            .await
            .iter()
            .all(|entry| entry.kind != "cancel"),
        "the refund waits for the relay"
    );

    // The relay (the batch job `relay-events`) carries the refund out at the gateway.
    assert!(app.relay_events().await.delivered >= 1);
    let cancels: Vec<_> = ledger_entries(&sandbox)
        .await
        .into_iter()
        .filter(|entry| entry.kind == "cancel")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].amount, 36000);

    let refunded = app.order_of(&shop.buyer, order).await;
    let payment = refunded.payment.unwrap();
    assert_eq!(
        (refunded.status.as_str(), payment.status.as_str()),
        ("REFUNDED", "REFUNDED")
    );
    assert!(payment.refunded_at.is_some());
    app.relay_events().await;
    let titles = notification_titles(&app, &shop.buyer.token).await;
    assert!(
        titles.contains(&"환불이 완료되었어요".to_owned()),
        "the buyer hears of the confirmed refund: {titles:?}"
    );
    assert_problem(
        cancel_order(&shop.buyer, order).await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
}

#[tokio::test]
async fn a_refund_the_gateway_refuses_reads_refund_failed_until_an_admin_retries_it() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    app.get(&shop.pay(&app, order).await).await;
    cancel_order(&shop.buyer, order).await;

    misbehave(&sandbox, "decline", 1).await;
    let counts = refund_relay(&app)
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(counts.failed, 1, "a refusal is final: parked at once");
    let failed = app.order_of(&shop.buyer, order).await;
    assert_eq!(
        (
            failed.status.as_str(),
            failed.payment.unwrap().status.as_str()
        ),
        ("CANCELED", "REFUND_FAILED")
    );
    app.relay_events().await;
    let titles = notification_titles(&app, &shop.buyer.token).await;
    assert!(
        titles.contains(&"환불이 지연되고 있어요".to_owned()),
        "the buyer is told: {titles:?}"
    );

    // Admins see it among the failed events and retry it once the gateway is fixed.
    let admin = app.admin().await;
    let parked: Page<OutboxEvent> = admin.get("/api/v1/admin/events/failed").await;
    let event = parked
        .items
        .iter()
        .find(|event| event.kind == "PAYMENT_CANCEL_REQUESTED")
        .expect("the refund is a failed event");
    assert!(event.last_error.as_deref().unwrap().contains("-780"));
    let retry = admin
        .request(
            Method::POST,
            &format!("/api/v1/admin/events/failed/{}/retry", event.id),
            None,
        )
        .await;
    assert_eq!(retry.status(), 200);
    app.relay_events().await;
    let refunded = app.order_of(&shop.buyer, order).await;
    assert_eq!(
        (
            refunded.status.as_str(),
            refunded.payment.unwrap().status.as_str()
        ),
        ("REFUNDED", "REFUNDED")
    );
}

#[tokio::test]
async fn a_refund_that_keeps_failing_is_parked_as_refund_failed() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    app.get(&shop.pay(&app, order).await).await;
    cancel_order(&shop.buyer, order).await;
    misbehave(&sandbox, "fail", 10).await;
    let relay = app.relay();
    let first = relay
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(first.retried, 1, "an outage is retried");
    assert_eq!(
        app.order_of(&shop.buyer, order)
            .await
            .payment
            .unwrap()
            .status,
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
    let buyer = shop.buyer.logged_in_again(&app).await;
    assert_eq!(
        app.order_of(&buyer, order).await.payment.unwrap().status,
        "REFUND_FAILED"
    );
}

#[tokio::test]
async fn the_return_urls_tell_a_guest_or_another_user_nothing_about_an_order() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
    let stranger = app.member("stranger@example.com").await;
    let forged = format!(
        "/api/v1/payments/kakaopay/approve?order_id={order}&return_token=anything&pg_token=anything"
    );
    let unknown =
        "/api/v1/payments/kakaopay/approve?order_id=999999&return_token=anything&pg_token=anything";

    // Before and after the buyer approved, with or without somebody else's token, a stranger
    // gets the same refusal and nothing of the order, and never makes us call KakaoPay.
    for paid in [false, true] {
        if paid {
            assert_eq!(app.get(&approve).await.status(), 200);
        }
        for path in [forged.as_str(), unknown] {
            for response in [
                app.guest().request(Method::GET, path, None).await,
                stranger.request(Method::GET, path, None).await,
            ] {
                let body = assert_problem(response, 402, "PAYMENT_REFUSED").await;
                let text = body.to_string();
                for secret in ["Bori", "010-1234-5678", "06236", "Teheran", "36000", "PAID"] {
                    assert!(!text.contains(secret), "{path} leaked {secret}: {text}");
                }
            }
        }
        assert_eq!(
            calls(&sandbox, "approve").await,
            usize::from(paid),
            "only the buyer's own approval"
        );
    }
    // The buyer's own browser, with the token KakaoPay gave it, sees the outcome again; raw,
    // to see what it leaves out.
    let again: Value = app.guest().get(&approve).await;
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
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
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
    assert_eq!(app.order_of(&shop.buyer, order).await.status, "PAID");
}

#[tokio::test]
async fn a_gateway_error_that_is_ours_is_a_502_never_blamed_on_the_buyer() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    misbehave(&sandbox, "reject", 1).await;
    assert_problem(
        start_payment(&shop.buyer, order).await,
        502,
        "PAYMENT_GATEWAY_ERROR",
    )
    .await;
    assert_eq!(
        app.order_of(&shop.buyer, order).await.status,
        "PENDING_PAYMENT"
    );
    let approve = shop.pay(&app, order).await;
    misbehave(&sandbox, "reject", 1).await;
    assert_problem(app.get(&approve).await, 502, "PAYMENT_GATEWAY_ERROR").await;
    assert_eq!(app.get(&approve).await.status(), 200, "payable once fixed");
}

#[tokio::test]
async fn an_order_that_expired_while_the_buyer_was_at_kakaopay_is_refunded_not_resurrected() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    let order = shop.order(&app).await;
    let approve = shop.pay(&app, order).await;
    // The buyer dawdles; the expiry job releases the stock.
    app.clock.advance(chrono::TimeDelta::minutes(31));
    let mut conn = app.state.db.get().await.unwrap();
    let now = app.clock.now_utc();
    assert_eq!(
        petory_core::shop::order::expire_unpaid(&mut conn, now, 10)
            .await
            .unwrap(),
        1
    );
    drop(conn);

    assert_problem(app.get(&approve).await, 409, "ORDER_NOT_PAYABLE").await;
    let buyer = shop.buyer.logged_in_again(&app).await;
    let status: Order = buyer.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(status.status, "CANCELED");
    assert_eq!(stock(&app, shop.item).await, 10, "no stock was taken twice");
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
    let shop = app.shop(10).await;
    let order = shop.subscription_order(1, 30).await;
    let approve = shop.pay(&app, order.id).await;
    let paid: PaymentOutcome = app.guest().get(&approve).await;
    assert_eq!(paid.status, "PAID");

    let subscriptions: Page<Subscription> = shop.buyer.get("/api/v1/subscriptions").await;
    let subscription = &subscriptions.items[0];
    assert_eq!(
        (subscription.status.as_str(), subscription.period_days),
        ("ACTIVE", 30)
    );
    // Paid at 10:00 in Seoul on 2026-11-23: the next cycle is 30 days later.
    assert_eq!(
        (
            subscription.anchor_date.as_str(),
            subscription.next_billing_date.as_str()
        ),
        ("2026-11-23", "2026-12-23")
    );
    assert_eq!(subscription.first_order_id, order.id);
    assert!(
        ledger_entries(&sandbox)
            .await
            .iter()
            .any(|entry| entry.kind == "approve" && entry.sid.is_some())
    );

    let path = format!("/api/v1/subscriptions/{}", subscription.id);
    assert_eq!(
        shop.buyer.request(Method::GET, &path, None).await.status(),
        200
    );
    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        stranger.request(Method::GET, &path, None).await,
        404,
        "SUBSCRIPTION_NOT_FOUND",
    )
    .await;
}

/// What starting a payment answers.
#[derive(Debug, serde::Deserialize)]
struct PaymentStart {
    redirect_url: String,
    client: String,
}

#[tokio::test]
async fn each_client_is_sent_to_its_own_kakaopay_page_and_any_of_them_approves() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(10).await;
    for (body, client, page) in [
        (None, "PC", ""),
        (Some(json!({})), "PC", ""),
        (Some(json!({"client": "MOBILE"})), "MOBILE", "/mobile"),
        (Some(json!({"client": "APP"})), "APP", "/app"),
    ] {
        let order = shop.order(&app).await;
        let started = shop
            .buyer
            .request(
                Method::POST,
                &format!("/api/v1/orders/{order}/payment"),
                body,
            )
            .await;
        assert_eq!(started.status(), 200, "{client}");
        let started: PaymentStart = started.json().await.unwrap();
        assert_eq!(started.client, client);
        let tid_page = started
            .redirect_url
            .strip_prefix(&format!("{}/__sandbox/approve/T", sandbox.base_url()))
            .expect("the sandbox's approval page");
        assert!(
            tid_page.ends_with(page) && !tid_page.contains("//"),
            "{client}: {tid_page}"
        );

        // The buyer approves on that page and comes back to us: the order is paid.
        let redirect = app.client.get(&started.redirect_url).send().await.unwrap();
        assert_eq!(redirect.status(), 302, "{client}");
        let approve = redirect.headers()["location"].to_str().unwrap().to_owned();
        let approve = approve.strip_prefix("http://petory.test").unwrap();
        let outcome: PaymentOutcome = app.guest().get(approve).await;
        assert_eq!((outcome.id, outcome.status.as_str()), (order, "PAID"));
    }

    let order = shop.order(&app).await;
    let watch = shop
        .buyer
        .request(
            Method::POST,
            &format!("/api/v1/orders/{order}/payment"),
            Some(json!({"client": "WATCH"})),
        )
        .await;
    assert_problem(watch, 422, "INVALID_BODY").await;
}
