//! Attacks a source review found possible, each shown refused: account pre-hijack through an
//! unverified sign-up, a squatted dormant email, password guessing spread over addresses,
//! hoarding stock with unpaid orders, reviews of refunded orders, unbounded rows, cached tokens,
//! withdrawal from a stolen session, streams outliving their session, stored responses of
//! strangers, and an organisation left without an administrator.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::daily::buyer;
use crate::fixtures::{app_with_kakaopay, complete_profile, order_body, pay, place, shop};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Me {
    id: i64,
    email: String,
    email_verified: bool,
}

#[derive(Debug, Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

#[derive(Debug, Deserialize)]
struct Item {
    review_count: i64,
}

/// The verification link mailed to `to`.
async fn verification_link(app: &TestApp, to: &str) -> String {
    let token = app.mailed_token(to, "/api/v1/auth/verify-email").await;
    format!("/api/v1/auth/verify-email?token={token}")
}

#[tokio::test]
async fn a_mailed_link_verifies_an_email_address_once() {
    let app = TestApp::spawn().await;
    let email = format!("verify-{}@example.com", uuid::Uuid::new_v4().simple());
    let member = app.unverified_member(&email).await;
    let me = || async { member.get::<Me>("/api/v1/users/me").await };
    assert!(!me().await.email_verified);

    let link = verification_link(&app, &email).await;
    let verified = app.get(&link).await;
    assert_eq!(verified.status(), 200);
    assert!(me().await.email_verified);
    assert_problem(app.get(&link).await, 400, "INVALID_VERIFICATION_TOKEN").await;
    assert_problem(
        app.get("/api/v1/auth/verify-email?token=forged").await,
        400,
        "INVALID_VERIFICATION_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn a_verification_link_can_be_sent_again_but_not_at_once() {
    let app = TestApp::spawn().await;
    let email = format!("again-{}@example.com", uuid::Uuid::new_v4().simple());
    let member = app.unverified_member(&email).await;
    let resend = || member.request(Method::POST, "/api/v1/users/me/email-verification", None);
    assert_problem(resend().await, 429, "VERIFICATION_RECENTLY_SENT").await;
    app.clock.advance(TimeDelta::minutes(2));
    let member = member.logged_in_again(&app).await;
    let again = member
        .request(Method::POST, "/api/v1/users/me/email-verification", None)
        .await;
    assert_eq!(again.status(), 202);
}

#[tokio::test]
async fn an_account_squatted_before_a_google_sign_in_loses_the_squatters_password() {
    use crate::fake_google::{FakeGoogle, GoogleUser};
    let google = FakeGoogle::start(crate::util::start_of_test_time()).await;
    let app = TestApp::builder().google(google.settings()).spawn().await;
    // The attacker signs up with the victim's address and never verifies it.
    let squatter = app.unverified_member("victim@gmail.com").await;

    // The victim signs in with Google, which vouches for the address.
    let authorize = app.get("/api/v1/auth/oauth/google/authorize").await;
    let cookie = crate::oauth::state_cookie(&authorize);
    let location = authorize.headers()["location"].to_str().unwrap().to_owned();
    let (code, state) = google.consent(&location, GoogleUser::new("g-victim", "victim@gmail.com"));
    let signed_in = crate::oauth::callback_with(&app, &code, &state, Some(&cookie)).await;
    assert_eq!(signed_in.status(), 200);
    let tokens: Tokens = signed_in.json().await.unwrap();
    let victim = app.member_of(squatter.id, "victim@gmail.com", tokens.access_token);

    // The squatter's password and session are gone; the account is the victim's.
    assert_problem(
        app.guest()
            .request(
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"email": "victim@gmail.com", "password": PASSWORD})),
            )
            .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_problem(
        squatter
            .request(Method::GET, "/api/v1/users/me", None)
            .await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
    let me: Me = victim.get("/api/v1/users/me").await;
    assert!(me.email_verified);
}

#[tokio::test]
async fn a_verified_account_keeps_its_password_when_google_links_it() {
    use crate::fake_google::{FakeGoogle, GoogleUser};
    let google = FakeGoogle::start(crate::util::start_of_test_time()).await;
    let app = TestApp::builder().google(google.settings()).spawn().await;
    let email = format!("owner-{}@gmail.com", uuid::Uuid::new_v4().simple());
    app.signup(&email).await;
    let link = verification_link(&app, &email).await;
    assert_eq!(app.get(&link).await.status(), 200);

    let authorize = app.get("/api/v1/auth/oauth/google/authorize").await;
    let cookie = crate::oauth::state_cookie(&authorize);
    let location = authorize.headers()["location"].to_str().unwrap().to_owned();
    let (code, state) = google.consent(&location, GoogleUser::new("g-owner", &email));
    assert_eq!(
        crate::oauth::callback_with(&app, &code, &state, Some(&cookie))
            .await
            .status(),
        200
    );
    app.login(&email, PASSWORD).await;
}

#[tokio::test]
async fn a_dormant_accounts_email_stays_reserved_for_its_owner() {
    use petory_core::identity::lifecycle::{self, LifecycleSettings};
    let app = TestApp::spawn().await;
    let email = format!("asleep-{}@example.com", uuid::Uuid::new_v4().simple());
    let member = app.member(&email).await;
    let mut conn = app.state.db.get().await.unwrap();
    for days in [85, 5] {
        app.clock.advance(TimeDelta::days(days));
        lifecycle::warn_inactive(&mut conn, app.clock.now_utc(), LifecycleSettings::default())
            .await
            .unwrap();
        lifecycle::make_dormant(&mut conn, app.clock.now_utc(), LifecycleSettings::default())
            .await
            .unwrap();
    }
    drop(conn);
    let squat = app
        .guest()
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": email, "password": "another horse 2", "name": "Squatter"})),
        )
        .await;
    // The squatter hears what any sign-up hears; the owner is told instead.
    assert_eq!(squat.status(), 202);
    assert!(
        app.mails_to(&email)
            .await
            .iter()
            .any(|mail| mail.contains("already has a Petory account"))
    );
    assert_problem(
        app.guest()
            .request(
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"email": email, "password": "another horse 2"})),
            )
            .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    // The owner comes back with the password and finds everything.
    let id = member.id;
    let member = member.logged_in_again(&app).await;
    let me: Me = member.get("/api/v1/users/me").await;
    assert_eq!((me.id, me.email.as_str()), (id, email.as_str()));
}

#[tokio::test]
async fn guessing_one_accounts_password_is_throttled_whatever_the_address() {
    let app = TestApp::builder()
        .trusted_proxies(&["127.0.0.1/32"])
        .spawn()
        .await;
    let email = format!("target-{}@example.com", uuid::Uuid::new_v4().simple());
    app.signup(&email).await;
    let attempt = |password: &str, from: String| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for n in 0..10 {
        let response = attempt("wrong horse 9", format!("203.0.113.{n}"))
            .await
            .unwrap();
        assert_problem(response, 401, "INVALID_CREDENTIALS").await;
    }
    // The eleventh guess, even the right password and from yet another address, waits.
    let throttled = attempt(PASSWORD, "198.51.100.7".into()).await.unwrap();
    assert!(throttled.headers().contains_key("retry-after"));
    assert_problem(throttled, 429, "LOGIN_THROTTLED").await;
    // Other accounts are not affected.
    let other = format!("bystander-{}@example.com", uuid::Uuid::new_v4().simple());
    app.signup(&other).await;
    app.login(&other, PASSWORD).await;
    // After the window the owner signs in again.
    app.clock.advance(TimeDelta::minutes(16));
    let ok = attempt(PASSWORD, "198.51.100.7".into()).await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn unpaid_orders_cannot_hoard_stock() {
    let app = TestApp::spawn().await;
    let (item, token, address) = shop(&app, 10_000).await;
    let me = buyer(&app, token).await;
    for _ in 0..5 {
        place(&app, &me.token, item, address).await;
    }
    let sixth = me
        .request(
            Method::POST,
            "/api/v1/orders",
            Some(order_body(item, 1, address)),
        )
        .await;
    assert_problem(sixth, 409, "TOO_MANY_UNPAID_ORDERS").await;

    // Another buyer: at most 200 units waiting for payment at once.
    let other = app.member("hoarder@example.com").await;
    let other_address = complete_profile(&app, &other.token).await;
    for _ in 0..2 {
        let response = other
            .request(
                Method::POST,
                "/api/v1/orders",
                Some(order_body(item, 99, other_address)),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let over = other
        .request(
            Method::POST,
            "/api/v1/orders",
            Some(order_body(item, 3, other_address)),
        )
        .await;
    assert_problem(over, 409, "TOO_MANY_UNPAID_ORDERS").await;
}

#[tokio::test]
async fn refunding_an_order_takes_its_review_down() {
    let (app, _sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
    let (item, token, address) = shop(&app, 10).await;
    let me = buyer(&app, token).await;
    let guest = app.guest();
    let order = place(&app, &me.token, item, address).await;
    app.get(&pay(&app, &me.token, order).await).await;
    let review = me
        .request(
            Method::POST,
            &format!("/api/v1/items/{item}/reviews"),
            Some(json!({"stars": 1, "content": "meh"})),
        )
        .await;
    assert_eq!(review.status(), 201);
    let rated: Item = guest.get(&format!("/api/v1/items/{item}")).await;
    assert_eq!(rated.review_count, 1);

    me.request(
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        None,
    )
    .await;
    let after: Item = guest.get(&format!("/api/v1/items/{item}")).await;
    assert_eq!(
        after.review_count, 0,
        "a refunded purchase no longer reviews the item"
    );
    let reviews: Page<Value> = guest.get(&format!("/api/v1/items/{item}/reviews")).await;
    assert!(reviews.items.is_empty());
}

#[tokio::test]
async fn addresses_are_capped_per_user() {
    let app = TestApp::spawn().await;
    let me = app.member("many-homes@example.com").await;
    let address = |n: usize| {
        json!({"label": format!("home {n}"), "recipient": "Bori", "phone": "010-1234-5678",
               "zip_code": "06236", "address1": "Teheran-ro 1"})
    };
    for n in 0..10 {
        let response = me
            .request(Method::POST, "/api/v1/users/me/addresses", Some(address(n)))
            .await;
        assert_eq!(response.status(), 201, "address {n}");
    }
    assert_problem(
        me.request(
            Method::POST,
            "/api/v1/users/me/addresses",
            Some(address(10)),
        )
        .await,
        409,
        "TOO_MANY_ADDRESSES",
    )
    .await;
}

#[tokio::test]
async fn tokens_are_never_cached_and_every_answer_carries_the_usual_security_headers() {
    let app = TestApp::spawn().await;
    app.signup("headers@example.com").await;
    let guest = app.guest();
    let login = guest
        .request(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "headers@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.headers()["cache-control"], "no-store");
    for response in [
        login,
        guest.request(Method::GET, "/api/v1/categories", None).await,
        guest.request(Method::GET, "/nope", None).await,
    ] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
}

#[tokio::test]
async fn withdrawing_needs_the_password() {
    let app = TestApp::spawn().await;
    let me = app.member("leaving@example.com").await;
    let withdraw = |body: Option<Value>| me.request(Method::DELETE, "/api/v1/users/me", body);
    assert_problem(withdraw(None).await, 403, "REAUTHENTICATION_REQUIRED").await;
    assert_problem(
        withdraw(Some(json!({"password": "wrong horse 1"}))).await,
        403,
        "REAUTHENTICATION_REQUIRED",
    )
    .await;
    assert_eq!(
        me.request(Method::GET, "/api/v1/users/me", None)
            .await
            .status(),
        200,
        "still there"
    );
    assert_eq!(
        withdraw(Some(json!({"password": PASSWORD}))).await.status(),
        204
    );
}

#[tokio::test]
async fn a_notification_stream_ends_at_logout() {
    let app = TestApp::spawn().await;
    let me = app.member("streamer@example.com").await;
    let stream = me
        .request(Method::GET, "/api/v1/notifications/stream", None)
        .await;
    assert_eq!(stream.status(), 200);
    let logout = me.request(Method::POST, "/api/v1/auth/logout", None).await;
    assert_eq!(logout.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.text()).await;
    assert!(ended.is_ok(), "the stream closed after logout");
}

#[tokio::test]
async fn a_notification_stream_ends_when_its_user_is_suspended() {
    let app = TestApp::spawn().await;
    let rowdy = app.member("rowdy@example.com").await;
    let admin = app.admin().await;
    let stream = rowdy
        .request(Method::GET, "/api/v1/notifications/stream", None)
        .await;
    assert_eq!(stream.status(), 200);
    let until = (app.clock.now_utc() + TimeDelta::days(3)).to_rfc3339();
    let suspended = admin
        .request(
            Method::POST,
            &format!("/api/v1/admin/users/{}/suspension", rowdy.id),
            Some(json!({"until": until, "reason": "spam"})),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.text()).await;
    assert!(ended.is_ok(), "the stream closed after the suspension");
}

#[tokio::test]
async fn a_guests_idempotency_key_stores_nothing() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    app.signup("guest-key@example.com").await;
    let login = || {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("idempotency-key", "same-key")
            .json(&json!({"email": "guest-key@example.com", "password": PASSWORD}))
            .send()
    };
    let first = login().await.unwrap();
    let second = login().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert!(
        !second.headers().contains_key("idempotent-replayed"),
        "not replayed"
    );
    let first: Tokens = first.json().await.unwrap();
    let second: Tokens = second.json().await.unwrap();
    assert_ne!(first.refresh_token, second.refresh_token, "two real logins");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let stored: Count = diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        stored.n, 0,
        "no tokens kept in the database for strangers to replay"
    );
}

#[tokio::test]
async fn the_last_administrator_cannot_be_demoted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let me: Me = admin.get("/api/v1/users/me").await;
    let path = format!("/api/v1/admin/users/{}/role", me.id);
    assert_problem(
        admin
            .request(Method::PATCH, &path, Some(json!({"role": "USER"})))
            .await,
        409,
        "LAST_ADMIN",
    )
    .await;
    // With a second administrator, the first may step down.
    let second = app.member("deputy@example.com").await;
    let promoted = admin
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/users/{}/role", second.id),
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_eq!(promoted.status(), 200);
    assert_eq!(
        admin
            .request(Method::PATCH, &path, Some(json!({"role": "USER"})))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_cart_holds_at_most_fifty_lines() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    let (item, token, _) = shop(&app, 10).await;
    let me = buyer(&app, token).await;
    // Fifty more items on sale, made in one statement.
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO items (category_id, name, price, stock, created_at, updated_at)
         SELECT category_id, name || ' ' || n, price, 10, created_at, updated_at
           FROM items, generate_series(1, 50) n WHERE id = {item}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let add = |item: i64| {
        me.request(
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"item_id": item, "quantity": 1})),
        )
    };
    for n in 0..50 {
        assert_eq!(add(item + n).await.status(), 200, "line {n}");
    }
    assert_problem(add(item + 50).await, 409, "CART_FULL").await;
    assert_eq!(
        add(item).await.status(),
        200,
        "an existing line still grows"
    );
}

#[tokio::test]
async fn an_account_keeps_at_most_five_live_streams_per_instance() {
    let app = TestApp::spawn().await;
    let me = app.member("tabs@example.com").await;
    let stream = || me.request(Method::GET, "/api/v1/notifications/stream", None);
    let mut open = Vec::new();
    for _ in 0..5 {
        let opened = stream().await;
        assert_eq!(opened.status(), 200);
        open.push(opened);
    }
    assert_problem(stream().await, 429, "TOO_MANY_STREAMS").await;
    // Closing one frees its slot (the server notices at its next keep-alive, within 15 s).
    drop(open.pop());
    let mut reopened = false;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = stream().await;
        if again.status() == 200 {
            reopened = true;
            break;
        }
    }
    assert!(reopened, "a closed stream's slot is free again");
}
