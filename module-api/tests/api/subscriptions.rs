//! Subscriptions through HTTP and the billing job against the KakaoPay sandbox: cycles, schedule
//! changes, the retry ladder, hard declines, lost answers and concurrent runs.

use std::time::Duration;

use chrono::TimeDelta;
use petory_external_api::payment::sandbox::KakaoPaySandbox;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Client as _, Member, Page};
use crate::fixtures::shop::{Order, Subscription, calls, ledger_entries};
use crate::fixtures::{app_with_kakaopay, bill, charges, misbehave, stock};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Notification {
    kind: String,
}

/// Moves the clock and signs the buyer in again (access tokens last 15 minutes).
async fn later(app: &TestApp, buyer: &Member, by: TimeDelta) -> Member {
    app.clock.advance(by);
    buyer.clone().logged_in_again(app).await
}

/// The subscription as its subscriber reads it (which must answer 200).
async fn subscription(member: &Member, id: i64) -> Subscription {
    let response = member
        .request(Method::GET, &format!("/api/v1/subscriptions/{id}"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A request of `member`'s that must answer 200: its body.
async fn act<T: DeserializeOwned>(
    member: &Member,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> T {
    let response = member.request(method, path, body).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_subscription_is_billed_once_per_cycle_over_three_cycles() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    // Nothing is due before the first renewal date.
    assert_eq!(bill(&app).await.due, 0);

    for (cycle, next) in [
        ("2026-12-23", "2027-01-22"),
        ("2027-01-22", "2027-02-21"),
        ("2027-02-21", "2027-03-23"),
    ] {
        let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
        let counts = bill(&app).await;
        assert_eq!((counts.due, counts.charged), (1, 1), "cycle {cycle}");
        // A second run the same day finds nothing to charge.
        assert_eq!(bill(&app).await.due, 0);
        let s = subscription(&buyer, id).await;
        assert_eq!(s.next_billing_date, next);
        assert_eq!(s.last_cycle_date, cycle);
        let charge = s.last_charge.unwrap();
        assert_eq!(charge.status, "APPROVED");
        assert_eq!(charge.amount, 36000);
        let order: Order = act(
            &buyer,
            Method::GET,
            &format!("/api/v1/orders/{}", charge.order_id.unwrap()),
            None,
        )
        .await;
        assert_eq!(order.status, "PAID");
        assert_eq!(order.lines[0].quantity, 2);
    }
    assert_eq!(charges(&sandbox).await, 3);
}

#[tokio::test]
async fn skip_pause_resume_and_period_changes_move_the_dates_on_the_anchor() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let buyer = &shop.buyer;
    let path = format!("/api/v1/subscriptions/{id}");
    // Anchored on 2026-11-23, every 30 days.
    let s: Subscription = act(buyer, Method::POST, &format!("{path}/skip"), None).await;
    assert_eq!(s.next_billing_date, "2027-01-22");

    let s: Subscription = act(
        buyer,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 60})),
    )
    .await;
    assert_eq!(
        (s.period_days, s.next_billing_date.as_str()),
        (60, "2027-01-22")
    );
    let s: Subscription = act(
        buyer,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 90})),
    )
    .await;
    assert_eq!(s.next_billing_date, "2027-02-21");

    let s: Subscription = act(
        buyer,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 30, "next_billing_date": "2026-12-01"})),
    )
    .await;
    assert_eq!(s.next_billing_date, "2026-12-01");
    for bad in [
        json!({"next_billing_date": "2026-11-23"}),
        json!({"next_billing_date": "2027-12-01"}),
        json!({"period_days": 45}),
    ] {
        assert_problem(
            buyer.request(Method::PATCH, &path, Some(bad)).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }

    // Charged on the moved date, then back on the anchored schedule.
    let buyer = later(&app, buyer, TimeDelta::days(8)).await;
    assert_eq!(bill(&app).await.charged, 1);
    assert_eq!(
        subscription(&buyer, id).await.next_billing_date,
        "2026-12-23"
    );

    // Paused past a billing date: nothing charged; resuming moves to the next anchored date.
    let s: Subscription = act(&buyer, Method::POST, &format!("{path}/pause"), None).await;
    assert_eq!(s.status, "PAUSED");
    let buyer = later(&app, &buyer, TimeDelta::days(40)).await;
    assert_eq!(bill(&app).await.due, 0);
    let s: Subscription = act(&buyer, Method::POST, &format!("{path}/resume"), None).await;
    assert_eq!(
        (s.status.as_str(), s.next_billing_date.as_str()),
        ("ACTIVE", "2027-01-22")
    );
    assert_eq!(charges(&sandbox).await, 1);

    // Someone else's subscription is not found; a cancelled one cannot change.
    let stranger = app.member("stranger@example.com").await;
    assert_problem(
        stranger
            .request(Method::POST, &format!("{path}/pause"), None)
            .await,
        404,
        "SUBSCRIPTION_NOT_FOUND",
    )
    .await;
    let s: Subscription = act(&buyer, Method::DELETE, &path, None).await;
    assert_eq!(
        (s.status.as_str(), s.cancel_reason.as_deref()),
        ("CANCELED", Some("USER"))
    );
    let again: Subscription = act(&buyer, Method::DELETE, &path, None).await;
    assert_eq!(again.status, "CANCELED");
    assert_problem(
        buyer
            .request(Method::POST, &format!("{path}/resume"), None)
            .await,
        409,
        "SUBSCRIPTION_CANCELED",
    )
    .await;

    // The sid is inactivated at the gateway through the outbox, once.
    app.relay_events().await;
    app.relay_events().await;
    assert_eq!(calls(&sandbox, "inactive").await, 1);
    let buyer = later(&app, &buyer, TimeDelta::days(60)).await;
    assert_eq!(bill(&app).await.due, 0);
    assert_eq!(subscription(&buyer, id).await.status, "CANCELED");
}

#[tokio::test]
async fn failed_charges_climb_the_retry_ladder_to_cancellation() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    misbehave(&sandbox, "decline", 5).await;

    // Day 30: the first failure is retried at once, the second waits a day.
    let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!(
        (counts.due, counts.failed, counts.retried, counts.charged),
        (2, 2, 1, 0)
    );
    let s = subscription(&buyer, id).await;
    assert_eq!(s.retry.failed_attempts, 2);
    assert_eq!(
        s.retry.next_retry_at.as_deref(),
        Some("2026-12-24T01:00:00Z")
    );
    assert_eq!(s.status, "ACTIVE");
    // Not yet: the retry is a day away.
    app.clock.advance(TimeDelta::hours(23));
    assert_eq!(bill(&app).await.due, 0);
    app.clock.advance(TimeDelta::hours(1));
    assert_eq!(bill(&app).await.failed, 1);
    app.clock.advance(TimeDelta::hours(24));
    assert_eq!(bill(&app).await.failed, 1);
    app.clock.advance(TimeDelta::hours(24));
    let last = bill(&app).await;
    assert_eq!((last.failed, last.canceled), (1, 1));

    let buyer = buyer.logged_in_again(&app).await;
    let s = subscription(&buyer, id).await;
    assert_eq!(
        (s.status.as_str(), s.cancel_reason.as_deref()),
        ("CANCELED", Some("PAYMENT_FAILED"))
    );
    let charge = s.last_charge.unwrap();
    assert_eq!(charge.status, "GAVE_UP");
    assert_eq!(charge.attempts, 5);
    app.relay_events().await;
    let notifications: Page<Notification> =
        act(&buyer, Method::GET, "/api/v1/notifications", None).await;
    let kinds: Vec<String> = notifications.items.into_iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "SUBSCRIPTION_PAYMENT_FAILED")
            .count(),
        3
    );
    assert_eq!(kinds[0], "SUBSCRIPTION_CANCELED");
    let entries = ledger_entries(&sandbox).await;
    assert_eq!(entries.iter().filter(|e| e.kind == "inactive").count(), 1);
    assert_eq!(
        entries.iter().filter(|e| e.kind == "subscription").count(),
        0
    );
    // Later runs leave it alone.
    app.clock.advance(TimeDelta::days(30));
    assert_eq!(bill(&app).await.due, 0);
}

#[tokio::test]
async fn a_hard_decline_cancels_without_retrying() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    // The buyer removed the card at KakaoPay: the sid is inactive there.
    let s = subscription(&shop.buyer.clone().logged_in_again(&app).await, id).await;
    let sid: String = {
        let mut conn = app.state.db.get().await.unwrap();
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        petory_core::schema::subscriptions::table
            .find(s.id)
            .select(petory_core::schema::subscriptions::sid)
            .first(&mut conn)
            .await
            .unwrap()
    };
    app.state
        .payments
        .inactivate_subscription(&sid)
        .await
        .unwrap();

    let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!((counts.due, counts.failed, counts.canceled), (1, 1, 1));
    let s = subscription(&buyer, id).await;
    assert_eq!(s.cancel_reason.as_deref(), Some("SUBSCRIPTION_INVALID"));
    assert_eq!(s.last_charge.unwrap().attempts, 1);
    assert_eq!(charges(&sandbox).await, 0);
}

#[tokio::test]
async fn a_charge_whose_answer_is_lost_is_resolved_by_the_sid_status_not_charged_again() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(1)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    // The gateway charges, but its answer never arrives in time.
    misbehave(&sandbox, "timeout", 1).await;
    let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!((counts.charged, counts.failed, counts.unknown), (1, 0, 0));
    let s = subscription(&buyer, id).await;
    let charge = s.last_charge.unwrap();
    assert_eq!(charge.status, "APPROVED");
    assert_eq!(s.next_billing_date, "2027-01-22");
    assert!(charge.order_id.is_some());
    assert_eq!(charges(&sandbox).await, 1);

    // A 500 that charged nothing is a failure, retried at once, and charged then.
    token_cycle(&app, &sandbox, &buyer, id).await;
}

async fn token_cycle(app: &TestApp, sandbox: &KakaoPaySandbox, buyer: &Member, id: i64) {
    misbehave(sandbox, "fail", 1).await;
    let buyer = later(app, buyer, TimeDelta::days(30)).await;
    let counts = bill(app).await;
    assert_eq!((counts.due, counts.failed, counts.charged), (2, 1, 1));
    assert_eq!(subscription(&buyer, id).await.retry.failed_attempts, 0);
    assert_eq!(charges(sandbox).await, 2);
}

#[tokio::test]
async fn two_concurrent_runs_charge_each_cycle_once() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(shop.subscribe(&app).await);
    }
    let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
    let (a, b) = tokio::join!(bill(&app), bill(&app));
    assert_eq!(a.charged + b.charged, 12, "{a:?} {b:?}");
    assert_eq!(a.due + b.due, 12);
    assert_eq!(charges(&sandbox).await, 12);
    for id in ids {
        assert_eq!(
            subscription(&buyer, id).await.last_charge.unwrap().status,
            "APPROVED"
        );
    }
}

#[tokio::test]
async fn a_refunded_renewal_gives_back_the_stock_it_took_no_more() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    // Three in stock; the first order of two leaves one.
    let shop = app.shop(3).await;
    let id = shop.subscribe(&app).await;
    assert_eq!(stock(&app, shop.item).await, 1);

    // The renewal is delivered all the same, taking the one that is left.
    let buyer = later(&app, &shop.buyer, TimeDelta::days(30)).await;
    assert_eq!(bill(&app).await.charged, 1);
    assert_eq!(stock(&app, shop.item).await, 0);
    let renewal = subscription(&buyer, id)
        .await
        .last_charge
        .unwrap()
        .order_id
        .unwrap();

    // Refunded, it gives back that one, not the two it delivered.
    let canceled = crate::fixtures::shop::cancel_order(&buyer, renewal).await;
    assert_eq!(canceled.status(), 200);
    assert_eq!(stock(&app, shop.item).await, 1);
}

#[tokio::test]
async fn a_property_the_schema_does_not_name_is_refused_and_changes_nothing() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let buyer = &shop.buyer;
    let path = format!("/api/v1/subscriptions/{id}");
    // The whole document, compared before and after.
    let before: Value = act(buyer, Method::GET, &path, None).await;
    // `gift_wrap` is not a property of the change: it would otherwise be silently ignored.
    let response = buyer
        .request(
            Method::PATCH,
            &path,
            Some(json!({"period_days": 60, "gift_wrap": true})),
        )
        .await;
    let problem = assert_problem(response, 422, "UNKNOWN_FIELD").await;
    assert_eq!(problem["errors"][0]["field"], "gift_wrap");
    assert_eq!(problem["errors"][0]["code"], "unknown");
    let after: Value = act(buyer, Method::GET, &path, None).await;
    assert_eq!(after, before, "nothing changed");
    drop(sandbox);
}
