//! Identity and access through HTTP: accounts, tokens, sessions, addresses, admin, rate limits.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.send(Method::GET, "/api/v1/users/me", Some(token), None)
        .await
}

#[tokio::test]
async fn signup_creates_an_account_without_exposing_the_password() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json("/api/v1/auth/signup", None, json!({"email": "Bori@Example.com", "password": PASSWORD, "name": "Bori", "phone": "010-1234-5678"}))
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted, json!({"email": "Bori@Example.com"}));
    let (token, _) = app.login("bori@example.com", PASSWORD).await;
    let user: Value = me(&app, &token).await.json().await.unwrap();
    assert_eq!(user["email"], "bori@example.com");
    assert_eq!(
        (user["role"].as_str(), user["status"].as_str()),
        (Some("USER"), Some("ACTIVE"))
    );
    assert_eq!(user["profile_complete"], false);
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["phone"], "010-1234-5678");
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
            .post_json(
                "/api/v1/auth/signup",
                None,
                json!({"email": owner.to_uppercase(), "password": "other horse 2", "name": "Other"}),
            )
            .await;
        assert_eq!(response.status(), 202);
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
        app.post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": owner, "password": "other horse 2"}),
        )
        .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
}

#[tokio::test]
async fn weak_passwords_and_bad_emails_are_listed_per_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            None,
            json!({"email": "not-an-email", "password": "onlyletters", "name": ""}),
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

#[tokio::test]
async fn login_gives_tokens_that_open_my_account() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let response = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "bori@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let response = me(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200);
    let account: Value = response.json().await.unwrap();
    assert_eq!(account["email"], "bori@example.com");
    assert_eq!(account["last_login_at"], "2026-11-23T01:00:00Z");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "bori@example.com", "password": "wrong horse 1"}),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    let wrong = assert_problem(wrong, 401, "INVALID_CREDENTIALS").await;
    let unknown = assert_problem(unknown, 401, "INVALID_CREDENTIALS").await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn guests_bad_and_expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("bori@example.com").await;

    let guest = app.send(Method::GET, "/api/v1/users/me", None, None).await;
    assert_eq!(guest.headers()["www-authenticate"], "Bearer");
    assert_problem(guest, 401, "AUTHENTICATION_REQUIRED").await;

    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert_problem(me(&app, &tampered).await, 401, "INVALID_TOKEN").await;

    let payload = token.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_problem(me(&app, &unsigned).await, 401, "INVALID_TOKEN").await;

    app.clock.advance(TimeDelta::minutes(15));
    assert_problem(me(&app, &token).await, 401, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let (access, first_refresh) = app.login("bori@example.com", PASSWORD).await;

    let response = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        me(&app, second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // A thief replays the first token: the whole family ends.
    let replay = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await;
    assert_problem(replay, 401, "REFRESH_TOKEN_REUSED").await;
    let legit = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_problem(legit, 401, "INVALID_REFRESH_TOKEN").await;
    assert_problem(
        me(&app, second["access_token"].as_str().unwrap()).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
    assert_problem(me(&app, &access).await, 401, "TOKEN_REVOKED").await;

    // Another login is a new family and works.
    let (other, _) = app.login("bori@example.com", PASSWORD).await;
    assert_eq!(me(&app, &other).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": "f".repeat(64)}),
        )
        .await;
    assert_problem(response, 401, "INVALID_REFRESH_TOKEN").await;
}

#[tokio::test]
async fn logout_refuses_the_token_at_once_and_ends_the_session_only() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let (access, refresh) = app.login("bori@example.com", PASSWORD).await;
    let (other_access, _) = app.login("bori@example.com", PASSWORD).await;

    let response = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&access), None)
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(me(&app, &access).await, 401, "TOKEN_REVOKED").await;
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await;
    assert_problem(refreshed, 401, "INVALID_REFRESH_TOKEN").await;
    assert_eq!(
        me(&app, &other_access).await.status(),
        200,
        "the other session lives on"
    );
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let (current, _) = app.login("bori@example.com", PASSWORD).await;
    let (other, _) = app.login("bori@example.com", PASSWORD).await;

    let wrong = app
        .send(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(&current),
            Some(json!({"current_password": "nope", "new_password": "brand new 2"})),
        )
        .await;
    let problem = assert_problem(wrong, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"][0]["field"], "current_password");

    let changed = app
        .send(
            Method::PUT,
            "/api/v1/users/me/password",
            Some(&current),
            Some(json!({"current_password": PASSWORD, "new_password": "brand new 2"})),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(me(&app, &current).await.status(), 200);
    assert_problem(me(&app, &other).await, 401, "TOKEN_REVOKED").await;
    let old = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "bori@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(old, 401, "INVALID_CREDENTIALS").await;
    app.login("bori@example.com", "brand new 2").await;
}

#[tokio::test]
async fn withdrawal_closes_the_account_and_frees_the_email() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("bori@example.com").await;
    assert_eq!(
        app.send(
            Method::DELETE,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"password": PASSWORD}))
        )
        .await
        .status(),
        204
    );
    assert_problem(me(&app, &token).await, 401, "TOKEN_REVOKED").await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "bori@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(login, 401, "INVALID_CREDENTIALS").await;
    app.signup("bori@example.com").await;
}

#[tokio::test]
async fn a_dormant_account_is_reactivated_by_logging_in() {
    let app = TestApp::spawn().await;
    app.signup("bori@example.com").await;
    let user = app.user_id("bori@example.com").await;
    set_status(&app, user, "DORMANT").await;
    let (token, _) = app.login("bori@example.com", PASSWORD).await;
    let account: Value = me(&app, &token).await.json().await.unwrap();
    assert_eq!(account["status"], "ACTIVE");
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
    let (_, token) = app.user("bori@example.com").await;
    let patched = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"name": "Bori Kim", "phone": "010-9999-0000"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["phone"].as_str()),
        (Some("Bori Kim"), Some("010-9999-0000"))
    );
    assert_eq!(
        patched["profile_complete"], false,
        "no delivery address yet"
    );

    let cleared = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"phone": null})),
        )
        .await;
    assert_eq!(cleared.json::<Value>().await.unwrap()["phone"], Value::Null);
    let bad = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"phone": "call me"})),
        )
        .await;
    assert_problem(bad, 422, "VALIDATION_FAILED").await;

    let profile = app
        .send(Method::PUT, "/api/v1/users/me/profile", Some(&token), Some(json!({
            "phone": "010-1234-5678",
            "address": {"recipient": "Bori Kim", "phone": "010-1234-5678", "zip_code": "06236", "address1": "서울특별시 강남구 테헤란로 123"}
        })))
        .await;
    assert_eq!(profile.status(), 200);
    assert_eq!(
        profile.json::<Value>().await.unwrap()["profile_complete"],
        true
    );
    let addresses: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/addresses",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(addresses["items"].as_array().unwrap().len(), 1);
    assert_eq!(addresses["items"][0]["is_default"], true);
}

fn address(label: &str) -> Value {
    json!({"label": label, "recipient": "Bori", "phone": "010-1234-5678", "zip_code": "06236", "address1": "Teheran-ro 1"})
}

#[tokio::test]
async fn addresses_keep_exactly_one_default() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("bori@example.com").await;
    let home: Value = app
        .post_ok("/api/v1/users/me/addresses", Some(&token), address("Home"))
        .await;
    assert_eq!(home["is_default"], true, "the first address is the default");
    let work = app
        .post_json("/api/v1/users/me/addresses", Some(&token), address("Work"))
        .await;
    assert_eq!(work.status(), 201);
    let work: Value = work.json().await.unwrap();
    assert_eq!(work["is_default"], false);

    let path = format!("/api/v1/users/me/addresses/{}", work["id"]);
    let moved = app
        .send(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"is_default": true, "address2": "3F"})),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(
        (moved["is_default"].as_bool(), moved["address2"].as_str()),
        (Some(true), Some("3F"))
    );

    let list: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/addresses",
            Some(&token),
            None,
        )
        .await;
    let defaults: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["is_default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["label"], "Work");

    assert_eq!(
        app.send(Method::DELETE, &path, Some(&token), None)
            .await
            .status(),
        204
    );
    let list: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/addresses",
            Some(&token),
            None,
        )
        .await;
    let list = &list["items"];
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["label"], "Home");
    assert_eq!(
        list[0]["is_default"], true,
        "the default moved to the remaining address"
    );

    let bad = app
        .post_json(
            "/api/v1/users/me/addresses",
            Some(&token),
            json!({"recipient": "", "phone": "x", "zip_code": "1", "address1": "a"}),
        )
        .await;
    let problem = assert_problem(bad, 422, "VALIDATION_FAILED").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn nobody_reads_or_changes_another_users_addresses() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice@example.com").await;
    let (_, bob) = app.user("bob@example.com").await;
    let home: Value = app
        .post_ok("/api/v1/users/me/addresses", Some(&alice), address("Home"))
        .await;
    let path = format!("/api/v1/users/me/addresses/{}", home["id"]);

    assert_problem(
        app.send(Method::GET, &path, Some(&bob), None).await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(
            Method::PATCH,
            &path,
            Some(&bob),
            Some(json!({"label": "Mine"})),
        )
        .await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(Method::DELETE, &path, Some(&bob), None).await,
        404,
        "ADDRESS_NOT_FOUND",
    )
    .await;
    let bobs: Value = app
        .send_ok(Method::GET, "/api/v1/users/me/addresses", Some(&bob), None)
        .await;
    assert_eq!(bobs, json!({"items": [], "next_cursor": null}));
    let alices: Value = app.send_ok(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(alices["label"], "Home");
}

#[tokio::test]
async fn admin_routes_are_for_admins_only() {
    let app = TestApp::spawn().await;
    let (_, user) = app.user("bori@example.com").await;
    assert_problem(
        app.send(Method::GET, "/api/v1/admin/users", Some(&user), None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        app.send(Method::GET, "/api/v1/admin/users", None, None)
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_problem(
        app.send(Method::GET, "/api/v1/admin/batch/runs", Some(&user), None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn admins_list_and_search_users_page_by_page() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol"] {
        app.signup(&format!("{name}@example.com")).await;
    }
    let admin = app.admin_token().await;
    let page: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/users?limit=2",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/admin/users?limit=2&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], Value::Null);

    let found: Value = app
        .send_ok(Method::GET, "/api/v1/admin/users?q=BOB", Some(&admin), None)
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["email"], "bob@example.com");
    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/users?status=NOPE",
            Some(&admin),
            None,
        )
        .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/users?cursor=abc",
            Some(&admin),
            None,
        )
        .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
}

#[tokio::test]
async fn a_suspension_blocks_login_until_its_end() {
    let app = TestApp::spawn().await;
    let (id, token) = app.user("bori@example.com").await;
    let admin = app.admin_token().await;
    let until = (app.clock.now_utc() + TimeDelta::days(3)).to_rfc3339();
    let path = format!("/api/v1/admin/users/{id}/suspension");

    let past = app
        .post_json(
            &path,
            Some(&admin),
            json!({"until": "2020-01-01T00:00:00Z", "reason": "spam"}),
        )
        .await;
    assert_problem(past, 422, "VALIDATION_FAILED").await;

    let suspended = app
        .post_json(
            &path,
            Some(&admin),
            json!({"until": until, "reason": "spam"}),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(
        suspended.json::<Value>().await.unwrap()["status"],
        "SUSPENDED"
    );
    assert_problem(me(&app, &token).await, 401, "TOKEN_REVOKED").await;

    let refused = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "bori@example.com", "password": PASSWORD}),
        )
        .await;
    let problem = assert_problem(refused, 403, "ACCOUNT_SUSPENDED").await;
    assert_eq!(problem["context"]["reason"], "spam");
    assert_eq!(
        problem["context"]["suspended_until"],
        "2026-11-26T01:00:00Z"
    );

    app.clock.advance(TimeDelta::days(3));
    let (token, _) = app.login("bori@example.com", PASSWORD).await;
    assert_eq!(
        me(&app, &token).await.json::<Value>().await.unwrap()["status"],
        "ACTIVE"
    );
}

#[tokio::test]
async fn admins_lift_suspensions_and_change_roles() {
    let app = TestApp::spawn().await;
    let (id, token) = app.user("bori@example.com").await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/admin/users/{id}/suspension");
    app.post_json(
        &path,
        Some(&admin),
        json!({"until": "2027-01-01T00:00:00Z", "reason": "spam"}),
    )
    .await;
    let lifted = app.send(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(lifted.json::<Value>().await.unwrap()["status"], "ACTIVE");
    app.login("bori@example.com", PASSWORD).await;

    let role = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}/role"),
            Some(&admin),
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_eq!(role.json::<Value>().await.unwrap()["role"], "ADMIN");
    assert_problem(me(&app, &token).await, 401, "TOKEN_REVOKED").await;
    let (promoted, _) = app.login("bori@example.com", PASSWORD).await;
    assert_eq!(
        app.send(Method::GET, "/api/v1/admin/users", Some(&promoted), None)
            .await
            .status(),
        200
    );

    let bad = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}/role"),
            Some(&admin),
            Some(json!({"role": "GOD"})),
        )
        .await;
    assert_problem(bad, 422, "INVALID_BODY").await;
    let missing = app
        .send(
            Method::PATCH,
            "/api/v1/admin/users/999999/role",
            Some(&admin),
            Some(json!({"role": "USER"})),
        )
        .await;
    assert_problem(missing, 404, "USER_NOT_FOUND").await;
}

#[tokio::test]
async fn admins_see_batch_runs() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.state.db.get().await.unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let id = petory_core::platform::run_log::start_run(
            &mut conn,
            "prune-idempotency-keys",
            date,
            petory_core::platform::run_log::Trigger::Manual,
            app.clock.now_utc(),
        )
        .await
        .unwrap();
        let counts = petory_core::platform::run_log::JobCounts::from([("deleted".to_owned(), 3)]);
        petory_core::platform::run_log::finish_run(&mut conn, id, Ok(&counts), app.clock.now_utc())
            .await
            .unwrap();
    }
    let admin = app.admin_token().await;
    let runs: Value = app
        .send_ok(
            Method::GET,
            "/api/v1/admin/batch/runs?job=prune-idempotency-keys",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    let run = &runs["items"][0];
    assert_eq!(
        (run["status"].as_str(), run["trigger"].as_str()),
        (Some("SUCCEEDED"), Some("MANUAL"))
    );
    assert_eq!(run["counts"], json!({"deleted": 3}));
    assert_eq!(run["business_date"], "2026-11-23");
}

#[tokio::test]
async fn scheduled_runs_with_nothing_to_do_are_counted_not_listed() {
    use petory_core::platform::run_log::{self, JobCounts, Trigger};
    let app = TestApp::spawn().await;
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    {
        let mut conn = app.state.db.get().await.unwrap();
        for job in ["relay-events", "relay-events", "expire-unpaid-orders"] {
            let id =
                run_log::start_run(&mut conn, job, date, Trigger::Schedule, app.clock.now_utc())
                    .await
                    .unwrap();
            let nothing = JobCounts::from([("delivered".to_owned(), 0)]);
            run_log::finish_run(&mut conn, id, Ok(&nothing), app.clock.now_utc())
                .await
                .unwrap();
        }
    }
    let admin = app.admin_token().await;
    let get = |path: &'static str| {
        let (app, admin) = (&app, &admin);
        async move { app.send_ok(Method::GET, path, Some(admin), None).await }
    };
    assert_eq!(get("/api/v1/admin/batch/runs").await["items"], json!([]));
    let idle = get("/api/v1/admin/batch/idle-runs?limit=1").await;
    assert_eq!(
        (
            idle["items"][0]["job"].as_str(),
            idle["items"][0]["runs"].as_i64()
        ),
        (Some("expire-unpaid-orders"), Some(1))
    );
    let cursor = idle["next_cursor"].as_str().unwrap();
    let next = app
        .send_ok(
            Method::GET,
            &format!("/api/v1/admin/batch/idle-runs?limit=1&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (
            next["items"][0]["job"].as_str(),
            next["items"][0]["runs"].as_i64()
        ),
        (Some("relay-events"), Some(2))
    );
    assert!(next["next_cursor"].is_null());
}

#[tokio::test]
async fn a_quota_is_one_budget_across_instances() {
    let app = TestApp::builder().rate_limits(6, 1_000).spawn().await;
    let other = app.sibling().await;
    // A signed-in user whose sign-up did not spend the address's budget.
    let token = {
        use petory_core::identity::{Role, account, token};
        let new = account::NewAccount {
            email: "busy@example.com".into(),
            password: PASSWORD.into(),
            name: "Busy".into(),
            phone: None,
            nickname: None,
        };
        let proof = account::Proof::Vouched;
        let user = account::signup(&app.state.db, new, Role::User, proof, app.clock.now_utc())
            .await
            .unwrap();
        token::issue_access(
            &app.state.tokens,
            user.id,
            Role::User,
            "session",
            app.clock.now_utc(),
        )
        .0
    };
    let client = reqwest::Client::new();
    let get = |base: &str, token: Option<&str>| {
        let mut request = client.get(format!("{base}/api/v1/categories"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // A guest (by address) and a user (by id), each spread over both instances: the seventh
    // request is refused whichever instance gets it.
    for token in [None, Some(token.as_str())] {
        for n in 0..6 {
            let base = if n % 2 == 0 {
                &app.base_url
            } else {
                &other.base_url
            };
            assert_eq!(get(base, token).await.unwrap().status(), 200, "request {n}");
        }
        for base in [&app.base_url, &other.base_url] {
            assert_problem(get(base, token).await.unwrap(), 429, "RATE_LIMITED").await;
        }
    }
}

#[tokio::test]
async fn a_busy_caller_taking_its_budget_in_leases_never_exceeds_it_across_instances() {
    // 600 a minute: leases of up to 10 requests; 1,000 requests from one address, 20 at a
    // time over two instances, within a few seconds (10 a second refill meanwhile).
    let app = TestApp::builder().rate_limits(600, 1_000).spawn().await;
    let other = app.sibling().await;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut admitted = 0;
    for round in 0..50 {
        let requests = (0..20).map(|n| {
            let base = if n % 2 == 0 {
                &app.base_url
            } else {
                &other.base_url
            };
            client.get(format!("{base}/api/v1/categories")).send()
        });
        for response in futures_util::future::join_all(requests).await {
            match response.unwrap().status().as_u16() {
                200 => admitted += 1,
                429 => {}
                status => panic!("round {round}: {status}"),
            }
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 10.0).ceil() as i32;
    // Never more than the budget; at most a lease per instance left unspent.
    assert!(
        admitted <= 600 + refilled,
        "{admitted} admitted, {refilled} refilled"
    );
    assert!(admitted >= 600 - 2 * 10, "{admitted} admitted");
}

#[tokio::test]
async fn while_redis_is_down_each_instance_still_limits() {
    let app = TestApp::builder()
        .redis_url("redis://127.0.0.1:1")
        .rate_limits(3, 1_000)
        .spawn()
        .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/categories").await.status(), 200);
    }
    assert_problem(app.get("/api/v1/categories").await, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn the_auth_quota_holds_across_requests_per_ip() {
    let app = TestApp::builder().rate_limits(1_000, 3).spawn().await;
    for _ in 0..3 {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": "x@example.com", "password": "wrong horse 1"}),
            )
            .await;
        assert_eq!(response.status(), 401);
    }
    let limited = app
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "x@example.com", "password": "wrong horse 1"}),
        )
        .await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(limited, 429, "RATE_LIMITED").await;
    // Other routes are not under the auth quota.
    assert_eq!(app.get("/api/v1/no-such-route").await.status(), 404);
}

#[tokio::test]
async fn the_general_quota_is_per_user_when_authenticated() {
    let app = TestApp::builder().rate_limits(6, 1_000).spawn().await;
    // Sign-up and login count against the guest IP's quota (2 of 6 each).
    let (_, alice) = app.user("alice@example.com").await;
    let (_, bob) = app.user("bob@example.com").await;
    for _ in 0..6 {
        assert_eq!(me(&app, &alice).await.status(), 200);
    }
    assert_problem(me(&app, &alice).await, 429, "RATE_LIMITED").await;
    assert_eq!(me(&app, &bob).await.status(), 200, "bob has his own bucket");
    assert_eq!(
        app.get("/health/live").await.status(),
        200,
        "probes are never limited"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_guests_are_limited_per_forwarded_address() {
    async fn login_from(app: &TestApp, forwarded: &str) -> u16 {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": "x@example.com", "password": "wrong horse 1"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    // The tests' client is the proxy, on loopback.
    let app = TestApp::builder()
        .rate_limits(1_000, 2)
        .trusted_proxies(&["127.0.0.1/32"])
        .spawn()
        .await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 429);
    // Another client behind the same proxy has its own quota; a spoofed left part changes nothing.
    assert_eq!(login_from(&app, "198.51.100.2").await, 401);
    assert_eq!(login_from(&app, "203.0.113.5, 198.51.100.1").await, 429);

    // Without trusted proxies the header is ignored: everyone shares the peer's quota.
    let untrusting = TestApp::builder().rate_limits(1_000, 2).spawn().await;
    assert_eq!(login_from(&untrusting, "198.51.100.1").await, 401);
    assert_eq!(login_from(&untrusting, "198.51.100.2").await, 401);
    assert_eq!(login_from(&untrusting, "198.51.100.3").await, 429);
}
