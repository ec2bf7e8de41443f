//! Account lifecycle rules, run as the batch jobs run them, seen through the API: warning mails,
//! dormancy and its undoing at login, suspensions ending, and the notification purge.

use chrono::TimeDelta;
use petory_core::identity::lifecycle::{self, LifecycleSettings};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client as _, Page};
use crate::fixtures::complete_profile;
use crate::fixtures::shop::{Account, Address, Tokens, lifecycle_mails_to as mails_to, me};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Notification {
    title: String,
}

fn settings() -> LifecycleSettings {
    LifecycleSettings::default()
}

#[tokio::test]
async fn inactive_users_are_warned_then_made_dormant_and_a_login_brings_them_back() {
    let app = TestApp::spawn().await;
    let email = format!("sleepy-{}@example.com", uuid::Uuid::new_v4().simple());
    let sleepy = app.member(&email).await;
    let address = complete_profile(&app, &sleepy.token).await;
    let mut conn = app.state.db.get().await.unwrap();

    // 85 days without a login: a warning, once, and nothing else yet.
    app.clock.advance(TimeDelta::days(85));
    let now = app.clock.now_utc();
    assert_eq!(
        lifecycle::warn_inactive(&mut conn, now, settings())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lifecycle::warn_inactive(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    app.relay_events().await;
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1, "one warning mail");

    // Day 90: dormant, the personal data moved out of the users table.
    app.clock.advance(TimeDelta::days(5));
    let now = app.clock.now_utc();
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lifecycle::make_dormant(&mut conn, now, settings())
            .await
            .unwrap(),
        0
    );
    let view = app.admin_view_of(sleepy.id).await.unwrap();
    assert_eq!(view.status, "DORMANT");
    assert_ne!(view.email, email.as_str());
    assert!(view.phone.is_none());
    let addresses_left: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        petory_core::schema::user_addresses::table
            .filter(petory_core::schema::user_addresses::user_id.eq(sleepy.id))
            .count()
            .get_result(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(addresses_left, 0, "addresses are kept apart too");

    // A login with the original email restores everything.
    let sleepy = sleepy.logged_in_again(&app).await;
    let me: Account = sleepy.get("/api/v1/users/me").await;
    assert_eq!(
        (me.status.as_str(), me.email.as_str()),
        ("ACTIVE", email.as_str())
    );
    assert_eq!(me.name, "Bori's human");
    assert_eq!(me.phone.as_deref(), Some("010-1234-5678"));
    let addresses: Page<Address> = sleepy.get("/api/v1/users/me/addresses").await;
    assert_eq!(addresses.items[0].id, address);
    assert_eq!(addresses.items[0].address1, "Teheran-ro 1");
}

#[tokio::test]
async fn suspensions_end_at_their_end_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let naughty = app.member("naughty@example.com").await;
    let until = app.clock.now_utc() + TimeDelta::days(30);
    let suspended = admin
        .request(
            Method::POST,
            &format!("/api/v1/admin/users/{}/suspension", naughty.id),
            Some(json!({"until": until, "reason": "spam"})),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(29));
    assert_eq!(
        lifecycle::lift_suspensions(&mut conn, app.clock.now_utc())
            .await
            .unwrap(),
        0
    );
    app.clock.advance(TimeDelta::days(1));
    assert_eq!(
        lifecycle::lift_suspensions(&mut conn, app.clock.now_utc())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.admin_view_of(naughty.id).await.unwrap().status,
        "ACTIVE"
    );
}

#[tokio::test]
async fn notifications_older_than_thirty_days_are_purged() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let id = me.id;
    let mut conn = app.state.db.get().await.unwrap();
    let notify = async |conn: &mut petory_core::db::DbConn<'_>, cause: &str, now| {
        petory_core::notification::deliver(
            conn,
            &petory_core::notification::NewNotification {
                user_id: petory_core::identity::UserId(id),
                notice: petory_core::notification::Notice::DailyQuestion { question_id: 1 },
                title: "q".into(),
                body: "b".into(),
                once_per: None,
            },
            cause,
            now,
        )
        .await
        .unwrap()
    };
    notify(&mut conn, "old", app.clock.now_utc()).await;
    app.clock.advance(TimeDelta::days(20));
    notify(&mut conn, "recent", app.clock.now_utc()).await;
    app.clock.advance(TimeDelta::days(11));
    let cutoff = app.clock.now_utc() - TimeDelta::days(30);
    assert_eq!(
        petory_core::notification::purge_older_than(&mut conn, cutoff, 1)
            .await
            .unwrap(),
        1
    );
    let me = me.logged_in_again(&app).await;
    let left: Page<Notification> = me.get("/api/v1/notifications").await;
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].title, "q");
}

#[tokio::test]
async fn a_dormant_accounts_tokens_are_refused_at_once() {
    use petory_core::identity::token;
    let app = TestApp::spawn().await;
    let email = format!("sleepy-{}@example.com", uuid::Uuid::new_v4().simple());
    let sleepy = app.member(&email).await;
    let session = token::verify_access(&app.state.tokens, &sleepy.token, app.clock.now_utc())
        .unwrap()
        .sid;

    let mut conn = app.state.db.get().await.unwrap();
    app.clock.advance(TimeDelta::days(85));
    lifecycle::warn_inactive(&mut conn, app.clock.now_utc(), settings())
        .await
        .unwrap();
    app.clock.advance(TimeDelta::days(5));
    // An access token of that session, issued just before the job runs.
    let (fresh, _) = token::issue_access(
        &app.state.tokens,
        petory_core::identity::UserId(sleepy.id),
        petory_core::identity::Role::User,
        &session,
        app.clock.now_utc(),
    );
    let fresh = app.member_of(sleepy.id, &email, fresh);
    assert_eq!(me(&fresh).await.status(), 200);

    assert_eq!(
        lifecycle::make_dormant(&mut conn, app.clock.now_utc(), settings())
            .await
            .unwrap(),
        1
    );
    drop(conn);
    app.relay_events().await;
    assert_problem(me(&fresh).await, 401, "TOKEN_REVOKED").await;
}

#[tokio::test]
async fn a_user_who_stays_signed_in_by_refreshing_is_not_inactive() {
    let app = TestApp::spawn().await;
    let email = format!("steady-{}@example.com", uuid::Uuid::new_v4().simple());
    app.signup(&email).await;
    let mut refresh = app.session(&email, PASSWORD).await.refresh_token;
    let mut conn = app.state.db.get().await.unwrap();
    // Refreshing every ten days for three months, never typing the password again.
    for _ in 0..9 {
        app.clock.advance(TimeDelta::days(10));
        let tokens: Tokens = app
            .guest()
            .post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        refresh = tokens.refresh_token;
        let now = app.clock.now_utc();
        assert_eq!(
            lifecycle::warn_inactive(&mut conn, now, settings())
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            lifecycle::make_dormant(&mut conn, now, settings())
                .await
                .unwrap(),
            0
        );
    }
}
