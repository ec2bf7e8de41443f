//! Money follows the account: nobody is charged after they leave or get their money back, and a
//! paying subscriber is never taken for inactive.

use std::time::Duration;

use chrono::TimeDelta;
use petory_core::identity::lifecycle::{self, LifecycleSettings};
use reqwest::Method;
use serde_json::Value;

use crate::fixtures::{
    app_with_kakaopay, bill, charges, ledger, order_of, subscribe, subscribe_to,
};
use crate::util::{ClockExt as _, PASSWORD, TestApp};

/// A subscription as an admin sees it (its owner may not be able to log in any more).
async fn subscription_as_admin(app: &TestApp, id: i64) -> Value {
    let admin = app.admin_token().await;
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/subscriptions/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn inactivations(sandbox: &petory_external_api::payment::sandbox::KakaoPaySandbox) -> usize {
    ledger(sandbox)
        .await
        .iter()
        .filter(|entry| entry["kind"] == "inactive")
        .count()
}

#[tokio::test]
async fn a_withdrawn_subscriber_is_never_charged_again() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, token) = subscribe(&app).await;
    let withdrawn = app
        .send(
            Method::DELETE,
            "/api/v1/users/me",
            Some(&token),
            Some(serde_json::json!({"password": crate::util::PASSWORD})),
        )
        .await;
    assert_eq!(withdrawn.status(), 204);

    let subscription = subscription_as_admin(&app, id).await;
    assert_eq!(
        (
            subscription["status"].as_str(),
            subscription["cancel_reason"].as_str()
        ),
        (Some("CANCELED"), Some("ACCOUNT_CLOSED"))
    );
    app.relay_events().await;
    assert_eq!(
        inactivations(&sandbox).await,
        1,
        "the sid is stopped at KakaoPay"
    );

    app.clock.advance(TimeDelta::days(31));
    let counts = bill(&app).await;
    assert_eq!((counts.due, counts.charged), (0, 0));
    assert_eq!(charges(&sandbox).await, 0, "the ledger shows no renewal");
}

#[tokio::test]
async fn refunding_the_order_that_started_a_subscription_ends_it() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, token) = subscribe(&app).await;
    let first_order = subscription_as_admin(&app, id).await["first_order_id"]
        .as_i64()
        .unwrap();
    let canceled = app
        .send(
            Method::POST,
            &format!("/api/v1/orders/{first_order}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(canceled.status(), 200);
    let subscription = subscription_as_admin(&app, id).await;
    assert_eq!(
        (
            subscription["status"].as_str(),
            subscription["cancel_reason"].as_str()
        ),
        (Some("CANCELED"), Some("ORDER_REFUNDED"))
    );
    app.relay_events().await;
    assert_eq!(inactivations(&sandbox).await, 1);
    assert_eq!(
        order_of(&app, &token, first_order).await["payment"]["status"],
        "REFUNDED"
    );

    app.clock.advance(TimeDelta::days(31));
    assert_eq!(bill(&app).await.charged, 0);
    assert_eq!(charges(&sandbox).await, 0);
}

#[tokio::test]
async fn billing_itself_never_charges_an_owner_who_is_not_active() {
    use diesel_async::RunQueryDsl as _;
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    // A second subscriber of the same item, who stays active.
    let item = subscription_as_admin(&app, id).await["item_id"]
        .as_i64()
        .unwrap();
    let (_, other) = app.user("other@example.com").await;
    let address = crate::fixtures::complete_profile(&app, &other).await;
    let (still_active, _) = subscribe_to(&app, &other, item, address).await;

    // As if a bug left the subscription live after the account closed: the claim itself refuses.
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(
        "UPDATE users SET status = 'WITHDRAWN', status_changed_at = now()
          WHERE email = 'buyer@example.com'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    app.clock.advance(TimeDelta::days(31));
    let counts = bill(&app).await;
    assert_eq!(
        (counts.due, counts.charged),
        (1, 1),
        "only the active owner is charged"
    );
    assert_eq!(charges(&sandbox).await, 1);
    assert_eq!(subscription_as_admin(&app, id).await["status"], "ACTIVE");
    assert_eq!(
        subscription_as_admin(&app, still_active).await["last_charge"]["status"],
        "APPROVED"
    );
}

#[tokio::test]
async fn a_paying_subscriber_is_not_made_dormant_but_an_idle_account_is() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (id, _) = subscribe(&app).await;
    let (idle, _) = app.user("idle@example.com").await;
    let settings = LifecycleSettings::default();
    let mut conn = app.state.db.get().await.unwrap();
    for days in [85, 5] {
        app.clock.advance(TimeDelta::days(days));
        let now = app.clock.now_utc();
        lifecycle::warn_inactive(&mut conn, now, settings)
            .await
            .unwrap();
        lifecycle::make_dormant(&mut conn, now, settings)
            .await
            .unwrap();
    }
    drop(conn);
    let admin = app.admin_token().await;
    let users: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/users?limit=100",
            Some(&admin),
            None,
        )
        .await;
    let status_of = |email_or_id: i64| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == email_or_id)
            .map(|u| u["status"].as_str().unwrap().to_owned())
    };
    let subscriber = subscription_as_admin(&app, id).await["user_id"]
        .as_i64()
        .unwrap();
    assert_eq!(status_of(subscriber).as_deref(), Some("ACTIVE"));
    assert_eq!(status_of(idle).as_deref(), Some("DORMANT"));
    // Still a customer: the subscriber signs in as usual and the renewal has an address.
    app.login("buyer@example.com", PASSWORD).await;
}
