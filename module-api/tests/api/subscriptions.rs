//! Subscriptions through HTTP and the billing job against the KakaoPay sandbox: cycles, schedule
//! changes, the retry ladder, hard declines, lost answers and concurrent runs.

use std::time::Duration;

use chrono::TimeDelta;
use petory_external_api::payment::sandbox::KakaoPaySandbox;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{
    app_with_kakaopay, bill, charges, ledger, misbehave, shop, stock, subscribe, subscribe_to,
};
use crate::util::{PASSWORD, TestApp, assert_problem};

const BUYER: &str = "buyer@example.com";

/// Moves the clock and signs in again (access tokens last 15 minutes).
async fn later(app: &TestApp, by: TimeDelta) -> String {
    app.clock.advance(by);
    app.login(BUYER, PASSWORD).await.0
}

async fn subscription(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/subscriptions/{id}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn act(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let response = app.send(method, path, Some(token), body).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_subscription_is_billed_once_per_cycle_over_three_cycles() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    // Nothing is due before the first renewal date.
    assert_eq!(bill(&app).await.due, 0);

    for (cycle, next) in [
        ("2026-12-23", "2027-01-22"),
        ("2027-01-22", "2027-02-21"),
        ("2027-02-21", "2027-03-23"),
    ] {
        let token = later(&app, TimeDelta::days(30)).await;
        let counts = bill(&app).await;
        assert_eq!((counts.due, counts.charged), (1, 1), "cycle {cycle}");
        // A second run the same day finds nothing to charge.
        assert_eq!(bill(&app).await.due, 0);
        let s = subscription(&app, &token, id).await;
        assert_eq!(s["next_billing_date"], next);
        assert_eq!(s["last_cycle_date"], cycle);
        assert_eq!(s["last_charge"]["status"], "APPROVED");
        assert_eq!(s["last_charge"]["amount"], 36000);
        let order = act(
            &app,
            &token,
            Method::GET,
            &format!("/api/v1/orders/{}", s["last_charge"]["order_id"]),
            None,
        )
        .await;
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["lines"][0]["quantity"], 2);
    }
    assert_eq!(charges(&sandbox).await, 3);
}

#[tokio::test]
async fn skip_pause_resume_and_period_changes_move_the_dates_on_the_anchor() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, token) = subscribe(&app).await;
    let path = format!("/api/v1/subscriptions/{id}");
    // Anchored on 2026-11-23, every 30 days.
    let s = act(&app, &token, Method::POST, &format!("{path}/skip"), None).await;
    assert_eq!(s["next_billing_date"], "2027-01-22");

    let s = act(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 60})),
    )
    .await;
    assert_eq!(
        (s["period_days"].as_i64(), s["next_billing_date"].as_str()),
        (Some(60), Some("2027-01-22"))
    );
    let s = act(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 90})),
    )
    .await;
    assert_eq!(s["next_billing_date"], "2027-02-21");

    let s = act(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"period_days": 30, "next_billing_date": "2026-12-01"})),
    )
    .await;
    assert_eq!(s["next_billing_date"], "2026-12-01");
    for bad in [
        json!({"next_billing_date": "2026-11-23"}),
        json!({"next_billing_date": "2027-12-01"}),
        json!({"period_days": 45}),
    ] {
        assert_problem(
            app.send(Method::PATCH, &path, Some(&token), Some(bad))
                .await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }

    // Charged on the moved date, then back on the anchored schedule.
    let token = later(&app, TimeDelta::days(8)).await;
    assert_eq!(bill(&app).await.charged, 1);
    assert_eq!(
        subscription(&app, &token, id).await["next_billing_date"],
        "2026-12-23"
    );

    // Paused past a billing date: nothing charged; resuming moves to the next anchored date.
    let s = act(&app, &token, Method::POST, &format!("{path}/pause"), None).await;
    assert_eq!(s["status"], "PAUSED");
    let token = later(&app, TimeDelta::days(40)).await;
    assert_eq!(bill(&app).await.due, 0);
    let s = act(&app, &token, Method::POST, &format!("{path}/resume"), None).await;
    assert_eq!(
        (s["status"].as_str(), s["next_billing_date"].as_str()),
        (Some("ACTIVE"), Some("2027-01-22"))
    );
    assert_eq!(charges(&sandbox).await, 1);

    // Someone else's subscription is not found; a cancelled one cannot change.
    let (_, stranger) = app.user("stranger@example.com").await;
    assert_problem(
        app.send(
            Method::POST,
            &format!("{path}/pause"),
            Some(&stranger),
            None,
        )
        .await,
        404,
        "SUBSCRIPTION_NOT_FOUND",
    )
    .await;
    let s = act(&app, &token, Method::DELETE, &path, None).await;
    assert_eq!(
        (s["status"].as_str(), s["cancel_reason"].as_str()),
        (Some("CANCELED"), Some("USER"))
    );
    assert_eq!(
        act(&app, &token, Method::DELETE, &path, None).await["status"],
        "CANCELED"
    );
    assert_problem(
        app.send(Method::POST, &format!("{path}/resume"), Some(&token), None)
            .await,
        409,
        "SUBSCRIPTION_CANCELED",
    )
    .await;

    // The sid is inactivated at the gateway through the outbox, once.
    app.relay_events().await;
    app.relay_events().await;
    let inactivations = ledger(&sandbox)
        .await
        .iter()
        .filter(|e| e["kind"] == "inactive")
        .count();
    assert_eq!(inactivations, 1);
    let token = later(&app, TimeDelta::days(60)).await;
    assert_eq!(bill(&app).await.due, 0);
    assert_eq!(subscription(&app, &token, id).await["status"], "CANCELED");
}

#[tokio::test]
async fn failed_charges_climb_the_retry_ladder_to_cancellation() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    misbehave(&sandbox, "decline", 5).await;

    // Day 30: the first failure is retried at once, the second waits a day.
    let token = later(&app, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!(
        (counts.due, counts.failed, counts.retried, counts.charged),
        (2, 2, 1, 0)
    );
    let s = subscription(&app, &token, id).await;
    assert_eq!(s["retry"]["failed_attempts"], 2);
    assert_eq!(s["retry"]["next_retry_at"], "2026-12-24T01:00:00Z");
    assert_eq!(s["status"], "ACTIVE");
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

    let token = app.login(BUYER, PASSWORD).await.0;
    let s = subscription(&app, &token, id).await;
    assert_eq!(
        (s["status"].as_str(), s["cancel_reason"].as_str()),
        (Some("CANCELED"), Some("PAYMENT_FAILED"))
    );
    assert_eq!(s["last_charge"]["status"], "GAVE_UP");
    assert_eq!(s["last_charge"]["attempts"], 5);
    app.relay_events().await;
    let kinds: Vec<String> =
        act(&app, &token, Method::GET, "/api/v1/notifications", None).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "SUBSCRIPTION_PAYMENT_FAILED")
            .count(),
        3
    );
    assert_eq!(kinds[0], "SUBSCRIPTION_CANCELED");
    let entries = ledger(&sandbox).await;
    assert_eq!(
        entries.iter().filter(|e| e["kind"] == "inactive").count(),
        1
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["kind"] == "subscription")
            .count(),
        0
    );
    // Later runs leave it alone.
    app.clock.advance(TimeDelta::days(30));
    assert_eq!(bill(&app).await.due, 0);
}

#[tokio::test]
async fn a_hard_decline_cancels_without_retrying() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    // The buyer removed the card at KakaoPay: the sid is inactive there.
    let s = subscription(&app, &app.login(BUYER, PASSWORD).await.0, id).await;
    let sid: String = {
        let mut conn = app.state.db.get().await.unwrap();
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        petory_core::schema::subscriptions::table
            .find(s["id"].as_i64().unwrap())
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

    let token = later(&app, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!((counts.due, counts.failed, counts.canceled), (1, 1, 1));
    let s = subscription(&app, &token, id).await;
    assert_eq!(s["cancel_reason"], "SUBSCRIPTION_INVALID");
    assert_eq!(s["last_charge"]["attempts"], 1);
    assert_eq!(charges(&sandbox).await, 0);
}

#[tokio::test]
async fn a_charge_whose_answer_is_lost_is_resolved_by_the_sid_status_not_charged_again() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(1)).await;
    let (id, _) = subscribe(&app).await;
    // The gateway charges, but its answer never arrives in time.
    misbehave(&sandbox, "timeout", 1).await;
    let token = later(&app, TimeDelta::days(30)).await;
    let counts = bill(&app).await;
    assert_eq!((counts.charged, counts.failed, counts.unknown), (1, 0, 0));
    let s = subscription(&app, &token, id).await;
    assert_eq!(s["last_charge"]["status"], "APPROVED");
    assert_eq!(s["next_billing_date"], "2027-01-22");
    assert!(s["last_charge"]["order_id"].is_i64());
    assert_eq!(charges(&sandbox).await, 1);

    // A 500 that charged nothing is a failure, retried at once, and charged then.
    token_cycle(&app, &sandbox, id).await;
}

async fn token_cycle(app: &TestApp, sandbox: &KakaoPaySandbox, id: i64) {
    misbehave(sandbox, "fail", 1).await;
    let token = later(app, TimeDelta::days(30)).await;
    let counts = bill(app).await;
    assert_eq!((counts.due, counts.failed, counts.charged), (2, 1, 1));
    assert_eq!(
        subscription(app, &token, id).await["retry"]["failed_attempts"],
        0
    );
    assert_eq!(charges(sandbox).await, 2);
}

#[tokio::test]
async fn two_concurrent_runs_charge_each_cycle_once() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 100).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(subscribe_to(&app, &token, item, address).await.0);
    }
    let token = later(&app, TimeDelta::days(30)).await;
    let (a, b) = tokio::join!(bill(&app), bill(&app));
    assert_eq!(a.charged + b.charged, 12, "{a:?} {b:?}");
    assert_eq!(a.due + b.due, 12);
    assert_eq!(charges(&sandbox).await, 12);
    for id in ids {
        assert_eq!(
            subscription(&app, &token, id).await["last_charge"]["status"],
            "APPROVED"
        );
    }
}

#[tokio::test]
async fn a_refunded_renewal_gives_back_the_stock_it_took_no_more() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    // Three in stock; the first order of two leaves one.
    let (item, token, address) = shop(&app, 3).await;
    let (id, _) = subscribe_to(&app, &token, item, address).await;
    assert_eq!(stock(&app, item).await, 1);

    // The renewal is delivered all the same, taking the one that is left.
    let token = later(&app, TimeDelta::days(30)).await;
    assert_eq!(bill(&app).await.charged, 1);
    assert_eq!(stock(&app, item).await, 0);
    let renewal = subscription(&app, &token, id).await["last_charge"]["order_id"].clone();

    // Refunded, it gives back that one, not the two it delivered.
    let canceled = app
        .send(
            Method::POST,
            &format!("/api/v1/orders/{renewal}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(canceled.status(), 200);
    assert_eq!(stock(&app, item).await, 1);
}

#[tokio::test]
async fn a_property_the_schema_does_not_name_is_refused_and_changes_nothing() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, token) = subscribe(&app).await;
    let path = format!("/api/v1/subscriptions/{id}");
    let before = subscription(&app, &token, id).await;
    // `quantity` is not (yet) a property of the change: it was silently ignored before.
    let response = app
        .send(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"period_days": 60, "quantity": 2})),
        )
        .await;
    let problem = assert_problem(response, 422, "UNKNOWN_FIELD").await;
    assert_eq!(problem["errors"][0]["field"], "quantity");
    assert_eq!(problem["errors"][0]["code"], "unknown");
    assert_eq!(
        subscription(&app, &token, id).await,
        before,
        "nothing changed"
    );
    drop(sandbox);
}
