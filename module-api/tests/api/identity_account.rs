//! My account: its password, leaving, coming back from dormancy, my profile and my delivery
//! addresses (which nobody else reads).

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client as _, Page};
use crate::fixtures::shop::{Account, Address, address, me};
use crate::util::{PASSWORD, TestApp, assert_problem};

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let current = app.session("bori@example.com", PASSWORD).await.member;
    let other = app.session("bori@example.com", PASSWORD).await.member;

    let wrong = current
        .request(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(json!({"current_password": "nope", "new_password": "brand new 2"})),
        )
        .await;
    let problem = assert_problem(wrong, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"][0]["field"], "current_password");

    let changed = current
        .request(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(json!({"current_password": PASSWORD, "new_password": "brand new 2"})),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(me(&current).await.status(), 200);
    assert_problem(me(&other).await, 401, "TOKEN_REVOKED").await;
    let old = app.try_login("bori@example.com", PASSWORD).await;
    assert_problem(old, 401, "INVALID_CREDENTIALS").await;
    app.login("bori@example.com", "brand new 2").await;
}

#[tokio::test]
async fn withdrawal_closes_the_account_and_frees_the_email() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    assert_eq!(
        bori.request(
            Method::DELETE,
            "/api/v1/users/me",
            Some(json!({"password": PASSWORD}))
        )
        .await
        .status(),
        204
    );
    assert_problem(me(&bori).await, 401, "TOKEN_REVOKED").await;
    let login = app.try_login("bori@example.com", PASSWORD).await;
    assert_problem(login, 401, "INVALID_CREDENTIALS").await;
    app.signup("bori@example.com").await;
}

#[tokio::test]
async fn a_dormant_account_is_reactivated_by_logging_in() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let user = app.user_id("bori@example.com").await;
    set_status(&app, user, "DORMANT").await;
    let bori = app.session("bori@example.com", PASSWORD).await.member;
    let account: Account = me(&bori).await.json().await.unwrap();
    assert_eq!(account.status, "ACTIVE");
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    use diesel_async::SimpleAsyncConnection as _;
    let mut conn = app.state.db.get().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE users SET status = '{status}' WHERE id = {id}"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn profile_fields_and_completion() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    let patched = bori
        .request(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"name": "Bori Kim", "phone": "010-9999-0000"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Account = patched.json().await.unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.phone.as_deref()),
        ("Bori Kim", Some("010-9999-0000"))
    );
    assert!(!patched.profile_complete, "no delivery address yet");

    let cleared = bori
        .request(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"phone": null})),
        )
        .await;
    assert_eq!(cleared.json::<Account>().await.unwrap().phone, None);
    let bad = bori
        .request(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"phone": "call me"})),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;

    let profile = bori
        .request(Method::PUT, "/api/v1/users/me/profile", Some(json!({
            "phone": "010-1234-5678",
            "address": {"recipient": "Bori Kim", "phone": "010-1234-5678", "zip_code": "06236", "address1": "서울특별시 강남구 테헤란로 123"}
        })))
        .await;
    assert_eq!(profile.status(), 200);
    assert!(profile.json::<Account>().await.unwrap().profile_complete);
    let addresses: Page<Address> = bori.get("/api/v1/users/me/addresses").await;
    assert_eq!(addresses.items.len(), 1);
    assert!(addresses.items[0].is_default);
}

#[tokio::test]
async fn addresses_keep_exactly_one_default() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    let home: Address = bori
        .post("/api/v1/users/me/addresses", address("Home"))
        .await;
    assert!(home.is_default, "the first address is the default");
    let work = bori
        .request(
            Method::POST,
            "/api/v1/users/me/addresses",
            Some(address("Work")),
        )
        .await;
    assert_eq!(work.status(), 201);
    let work: Address = work.json().await.unwrap();
    assert!(!work.is_default);

    let path = format!("/api/v1/users/me/addresses/{}", work.id);
    let moved = bori
        .request(
            Method::PATCH,
            &path,
            Some(json!({"is_default": true, "address2": "3F"})),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let moved: Address = moved.json().await.unwrap();
    assert_eq!((moved.is_default, moved.address2.as_str()), (true, "3F"));

    let list: Page<Address> = bori.get("/api/v1/users/me/addresses").await;
    let defaults: Vec<&Address> = list.items.iter().filter(|a| a.is_default).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0].label, "Work");

    assert_eq!(
        bori.request(Method::DELETE, &path, None).await.status(),
        204
    );
    let list: Page<Address> = bori.get("/api/v1/users/me/addresses").await;
    let list = &list.items;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].label, "Home");
    assert!(
        list[0].is_default,
        "the default moved to the remaining address"
    );

    let bad = bori
        .request(
            Method::POST,
            "/api/v1/users/me/addresses",
            Some(json!({"recipient": "", "phone": "x", "zip_code": "1", "address1": "a"})),
        )
        .await;
    let problem = assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn nobody_reads_or_changes_another_users_addresses() {
    let app = TestApp::spawn().await;
    let alice = app.member("alice@example.com").await;
    let bob = app.member("bob@example.com").await;
    let home: Address = alice
        .post("/api/v1/users/me/addresses", address("Home"))
        .await;
    let path = format!("/api/v1/users/me/addresses/{}", home.id);

    assert_problem(
        bob.request(Method::GET, &path, None).await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_problem(
        bob.request(Method::PATCH, &path, Some(json!({"label": "Mine"})))
            .await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_problem(
        bob.request(Method::DELETE, &path, None).await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    // The whole document: an empty page and nothing else.
    let bobs: Value = bob.get("/api/v1/users/me/addresses").await;
    assert_eq!(bobs, json!({"items": [], "next_cursor": null}));
    let alices: Address = alice.get(&path).await;
    assert_eq!(alices.label, "Home");
}
