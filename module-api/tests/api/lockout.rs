//! Guessing at someone's password must not lock its owner out: a device that signed in before
//! keeps its own count of failures, the throttled answer offers a reset, and a forgotten
//! password is reset by a mailed single-use link that ends every session.

use chrono::TimeDelta;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client as _, Member};
use crate::fixtures::shop::{Account, Tokens, me};
use crate::util::{PASSWORD, TestApp, assert_problem};

/// A calendar feed's private address.
#[derive(Debug, Deserialize)]
struct Feed {
    url: String,
}

/// A login of `email` with `password`, carrying `device` (a `petory_device` cookie) if given.
async fn login(
    app: &TestApp,
    email: &str,
    password: &str,
    device: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(device) = device {
        request = request.header("cookie", format!("petory_device={device}"));
    }
    request.send().await.unwrap()
}

/// The device mark a successful login sets, with its attributes.
fn device_cookie(response: &reqwest::Response) -> (String, String) {
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|value| value.starts_with("petory_device="))
        .expect("a petory_device cookie");
    let value = header["petory_device=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (value, header)
}

fn unique(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn strangers_guesses_never_lock_the_owner_out_of_a_device_used_before() {
    let app = TestApp::spawn().await;
    let owner = unique("owner");
    app.member(&owner).await;
    let first = login(&app, &owner, PASSWORD, None).await;
    assert_eq!(first.status(), 200);
    let (device, attributes) = device_cookie(&first);
    assert!(attributes.contains("HttpOnly") && attributes.contains("SameSite=Strict"));
    assert!(attributes.contains("Path=/api/v1/auth"), "{attributes}");

    // Ten wrong guesses from elsewhere hold back logins from unknown devices, even with the
    // right password, and the answer offers the reset.
    for _ in 0..10 {
        assert_problem(
            login(&app, &owner, "wrong horse 9", None).await,
            401,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    let held = assert_problem(
        login(&app, &owner, PASSWORD, None).await,
        429,
        "LOGIN_THROTTLED",
    )
    .await;
    assert_eq!(
        held["context"]["password_reset"],
        "/api/v1/auth/password-reset"
    );

    // The owner's device signs in all the same, and keeps its mark.
    let again = login(&app, &owner, PASSWORD, Some(&device)).await;
    assert_eq!(again.status(), 200);
    let (renewed, _) = device_cookie(&again);

    // A mark is worth nothing for another account, nor forged, nor without the password: a
    // device's own wrong guesses count against it alone.
    let other = unique("other");
    app.member(&other).await;
    let (others_device, _) = device_cookie(&login(&app, &other, PASSWORD, None).await);
    for device in [others_device.as_str(), "forged.device.mark"] {
        assert_problem(
            login(&app, &owner, PASSWORD, Some(device)).await,
            429,
            "LOGIN_THROTTLED",
        )
        .await;
    }
    for _ in 0..10 {
        assert_problem(
            login(&app, &other, "wrong horse 9", Some(&others_device)).await,
            401,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    assert_problem(
        login(&app, &other, PASSWORD, Some(&others_device)).await,
        429,
        "LOGIN_THROTTLED",
    )
    .await;
    assert_eq!(login(&app, &other, PASSWORD, None).await.status(), 200);
    assert_eq!(
        login(&app, &owner, PASSWORD, Some(&renewed)).await.status(),
        200
    );
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_by_the_mailed_link() {
    let app = TestApp::spawn().await;
    let owner = unique("forgetful");
    let old_session = app.unverified_member(&owner).await;
    let feed: Feed = old_session
        .post("/api/v1/users/me/calendar-feed", json!({}))
        .await;
    let feed = feed.url.trim_start_matches("http://petory.test").to_owned();
    assert_eq!(app.get(&feed).await.status(), 200);
    // Locked out of unknown devices by a stranger first.
    for _ in 0..10 {
        login(&app, &owner, "wrong horse 9", None).await;
    }

    // An address with an account and one without get the same answer.
    let guest = app.guest();
    let ask = |email: String| {
        guest.request(
            Method::POST,
            "/api/v1/auth/password-reset",
            Some(json!({"email": email})),
        )
    };
    for email in [owner.to_uppercase(), unique("nobody")] {
        let response = ask(email).await;
        assert_eq!(response.status(), 202);
        assert_eq!(response.text().await.unwrap(), "");
    }
    // Asked again at once: no second mail.
    ask(owner.clone()).await;
    let code = app.mailed_token(&owner, "/reset-password").await;
    let resets = app
        .mails_to(&owner)
        .await
        .iter()
        .filter(|mail| mail.contains("/reset-password?token="))
        .count();
    assert_eq!(resets, 1);

    let confirm = |token: &str, password: &str| {
        guest.request(
            Method::POST,
            "/api/v1/auth/password-reset/confirm",
            Some(json!({"token": token, "new_password": password})),
        )
    };
    let weak = confirm(&code, "short").await;
    assert_problem(weak, 422, "VALIDATION_FAILED").await;
    assert_eq!(confirm(&code, "new horse 22").await.status(), 204);

    // Once only; every old session has ended, and the old password with it.
    assert_problem(
        confirm(&code, "newer horse 33").await,
        400,
        "INVALID_RESET_TOKEN",
    )
    .await;
    assert_problem(me(&old_session).await, 401, "TOKEN_REVOKED").await;
    assert_problem(
        login(&app, &owner, PASSWORD, None).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    // The new password opens the account from anywhere (the failures were forgotten), the
    // address is proven by the link, and the calendar feed's address stopped.
    let fresh = login(&app, &owner, "new horse 22", None).await;
    assert_eq!(fresh.status(), 200);
    let tokens: Tokens = fresh.json().await.unwrap();
    let owner_now = app.holding(&owner, tokens.access_token).await;
    let account: Account = owner_now.get("/api/v1/users/me").await;
    assert!(account.email_verified);
    assert_problem(app.get(&feed).await, 404, "FEED_NOT_FOUND").await;

    // A link not used in 30 minutes is spent.
    app.clock.advance(TimeDelta::minutes(2));
    ask(owner.clone()).await;
    let late = app.mailed_token(&owner, "/reset-password").await;
    assert_ne!(late, code);
    app.clock.advance(TimeDelta::minutes(31));
    assert_problem(
        confirm(&late, "late horse 44").await,
        400,
        "INVALID_RESET_TOKEN",
    )
    .await;
    assert_problem(
        confirm("forged", "late horse 44").await,
        400,
        "INVALID_RESET_TOKEN",
    )
    .await;
}

async fn change_password(member: &Member, current: &str) -> reqwest::Response {
    member
        .request(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(json!({"current_password": current, "new_password": "new horse 22"})),
        )
        .await
}

#[tokio::test]
async fn wrong_current_passwords_are_counted_like_logins() {
    let app = TestApp::spawn().await;
    let email = unique("changer");
    let changer = app.member(&email).await;
    for _ in 0..10 {
        assert_problem(
            change_password(&changer, "wrong horse 9").await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
    }
    // A stolen session cannot go on guessing, even at the right password.
    assert_problem(
        change_password(&changer, PASSWORD).await,
        429,
        "LOGIN_THROTTLED",
    )
    .await;
    app.clock.advance(TimeDelta::minutes(16));
    let changer = changer.logged_in_again(&app).await;
    assert_eq!(change_password(&changer, PASSWORD).await.status(), 204);
}
