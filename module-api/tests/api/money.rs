//! Money follows the account: nobody is charged after they leave or get their money back, and a
//! paying subscriber is never taken for inactive.

use std::time::Duration;

use chrono::TimeDelta;
use petory_core::identity::lifecycle::{self, LifecycleSettings};
use reqwest::Method;

use crate::client::{Client as _, Page};
use crate::fixtures::shop::{Account, Shop, Subscription, calls, cancel_order};
use crate::fixtures::{app_with_kakaopay, bill, charges};
use crate::util::{ClockExt as _, PASSWORD, TestApp};

/// A subscription as an admin sees it (its owner may not be able to log in any more).
async fn subscription_as_admin(app: &TestApp, id: i64) -> Subscription {
    let admin = app.admin().await;
    let response = admin
        .request(Method::GET, &format!("/api/v1/subscriptions/{id}"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_withdrawn_subscriber_is_never_charged_again() {
    let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let withdrawn = shop
        .buyer
        .request(
            Method::DELETE,
            "/api/v1/users/me",
            Some(serde_json::json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(withdrawn.status(), 204);

    let subscription = subscription_as_admin(&app, id).await;
    assert_eq!(
        (
            subscription.status.as_str(),
            subscription.cancel_reason.as_deref()
        ),
        ("CANCELED", Some("ACCOUNT_CLOSED"))
    );
    app.relay_events().await;
    assert_eq!(
        calls(&sandbox, "inactive").await,
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
    let shop = app.shop(100).await;
    let id = shop.subscribe(&app).await;
    let first_order = subscription_as_admin(&app, id).await.first_order_id;
    let canceled = cancel_order(&shop.buyer, first_order).await;
    assert_eq!(canceled.status(), 200);
    let subscription = subscription_as_admin(&app, id).await;
    assert_eq!(
        (
            subscription.status.as_str(),
            subscription.cancel_reason.as_deref()
        ),
        ("CANCELED", Some("ORDER_REFUNDED"))
    );
    app.relay_events().await;
    assert_eq!(calls(&sandbox, "inactive").await, 1);
    assert_eq!(
        app.order_of(&shop.buyer, first_order)
            .await
            .payment
            .unwrap()
            .status,
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
    let id = app.shop(100).await.subscribe(&app).await;
    // A second subscriber of the same item, who stays active.
    let item = subscription_as_admin(&app, id).await.item_id;
    let other = app.member("other@example.com").await;
    let address = crate::fixtures::complete_profile(&app, &other.token).await;
    let still_active = Shop {
        item,
        buyer: other,
        address,
    }
    .subscribe(&app)
    .await;

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
    assert_eq!(subscription_as_admin(&app, id).await.status, "ACTIVE");
    assert_eq!(
        subscription_as_admin(&app, still_active)
            .await
            .last_charge
            .unwrap()
            .status,
        "APPROVED"
    );
}

#[tokio::test]
async fn a_paying_subscriber_is_not_made_dormant_but_an_idle_account_is() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let id = app.shop(100).await.subscribe(&app).await;
    let idle = app.member("idle@example.com").await;
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
    let admin = app.admin().await;
    let users: Page<Account> = admin.get("/api/v1/admin/users?limit=100").await;
    let status_of = |id: i64| {
        users
            .items
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.status.clone())
    };
    let subscriber = subscription_as_admin(&app, id).await.user_id;
    assert_eq!(status_of(subscriber).as_deref(), Some("ACTIVE"));
    assert_eq!(status_of(idle.id).as_deref(), Some("DORMANT"));
    // Still a customer: the subscriber signs in as usual and the renewal has an address.
    app.login("buyer@example.com", PASSWORD).await;
}
