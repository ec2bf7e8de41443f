//! Signing up: a new account, a taken address answered as a new one would be, and what is
//! wrong with a form listed field by field.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::Client as _;
use crate::fixtures::shop::{Account, me};
use crate::util::{PASSWORD, TestApp, assert_problem};

#[tokio::test]
async fn signup_creates_an_account_without_exposing_the_password() {
    let app = TestApp::spawn().await;
    let response = app
        .guest()
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "Bori@Example.com", "password": PASSWORD, "name": "Bori", "phone": "010-1234-5678"})),
        )
        .await;
    assert_eq!(response.status(), 202);
    // The whole answer: the address as given, nothing more.
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted, json!({"email": "Bori@Example.com"}));
    let bori = app.session("bori@example.com", PASSWORD).await.member;
    // Read raw as well: what the document holds besides the fields, and must not.
    let user: Value = me(&bori).await.json().await.unwrap();
    let account: Account = serde_json::from_value(user.clone()).unwrap();
    assert_eq!(account.email, "bori@example.com");
    assert_eq!(
        (account.role.as_str(), account.status.as_str()),
        ("USER", "ACTIVE")
    );
    assert!(!account.profile_complete);
    assert!(!account.email_verified);
    assert_eq!(account.phone.as_deref(), Some("010-1234-5678"));
    assert!(user["id"].as_i64().is_some() && user["created_at"].as_str().is_some());
    assert!(!user.to_string().contains(PASSWORD) && user.get("password_hash").is_none());
}

#[tokio::test]
async fn a_taken_email_gets_the_same_answer_and_its_owner_a_mail_instead() {
    let app = TestApp::spawn().await;
    let owner = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
    app.signup(&owner).await;
    let welcome = app.mails_to(&owner).await.len();
    // Someone else tries the address, in another case, twice: the answers are a new
    // address's, the account keeps its password, and its owner hears of it once.
    for _ in 0..2 {
        let response = app
            .guest()
            .request(
                Method::POST,
                "/api/v1/auth/signup",
                Some(
                    json!({"email": owner.to_uppercase(), "password": "other horse 2", "name": "Other"}),
                ),
            )
            .await;
        assert_eq!(response.status(), 202);
        // The whole answer, as a new address gets it.
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer, json!({"email": owner.to_uppercase()}));
    }
    let mails = app.mails_to(&owner).await;
    assert_eq!(mails.len(), welcome + 1, "one notice, not one per try");
    assert!(
        mails
            .last()
            .unwrap()
            .contains("already has a Petory account")
    );
    app.login(&owner, PASSWORD).await;
    assert_problem(
        app.try_login(&owner, "other horse 2").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
}

#[tokio::test]
async fn weak_passwords_and_bad_emails_are_listed_per_field() {
    let app = TestApp::spawn().await;
    let response = app
        .guest()
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "not-an-email", "password": "onlyletters", "name": ""})),
        )
        .await;
    let problem = assert_problem(response, 422, "VALIDATION_FAILED").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "password"]);
    assert_eq!(problem["errors"][2]["code"], "weak_password");
}
