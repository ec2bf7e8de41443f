//! Administration of accounts: only admins enter; they list and find users, suspend them and
//! lift suspensions, change roles, and see the batch jobs' runs.

use chrono::TimeDelta;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client as _, Page};
use crate::fixtures::shop::{Account, me};
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

/// A batch job's run as an admin lists it.
#[derive(Debug, Deserialize)]
struct JobRun {
    status: String,
    trigger: String,
    counts: Value,
    business_date: String,
}

/// Scheduled runs of a job that had nothing to do, counted.
#[derive(Debug, Deserialize)]
struct IdleRuns {
    job: String,
    runs: i64,
}

#[tokio::test]
async fn admin_routes_are_for_admins_only() {
    let app = TestApp::spawn().await;
    let user = app.member("bori@example.com").await;
    assert_problem(
        user.request(Method::GET, "/api/v1/admin/users", None).await,
        403,
        "ADMIN_ONLY",
    )
    .await;
    assert_problem(
        app.guest()
            .request(Method::GET, "/api/v1/admin/users", None)
            .await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_problem(
        user.request(Method::GET, "/api/v1/admin/batch/runs", None)
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
    let admin = app.admin().await;
    let page: Page<Account> = admin.get("/api/v1/admin/users?limit=2").await;
    assert_eq!(page.items.len(), 2);
    let cursor = page.next_cursor.unwrap();
    let rest: Page<Account> = admin
        .get(&format!("/api/v1/admin/users?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next_cursor, None);

    let found: Page<Account> = admin.get("/api/v1/admin/users?q=BOB").await;
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].email, "bob@example.com");
    assert_problem(
        admin
            .request(Method::GET, "/api/v1/admin/users?status=NOPE", None)
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_problem(
        admin
            .request(Method::GET, "/api/v1/admin/users?cursor=abc", None)
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
}

#[tokio::test]
async fn a_suspension_blocks_login_until_its_end() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    let admin = app.admin().await;
    let until = (app.clock.now_utc() + TimeDelta::days(3)).to_rfc3339();
    let path = format!("/api/v1/admin/users/{}/suspension", bori.id);

    let past = admin
        .request(
            Method::POST,
            &path,
            Some(json!({"until": "2020-01-01T00:00:00Z", "reason": "spam"})),
        )
        .await;
    assert_problem(past, 422, "VALIDATION_FAILED").await;

    let suspended = admin
        .request(
            Method::POST,
            &path,
            Some(json!({"until": until, "reason": "spam"})),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(
        suspended.json::<Account>().await.unwrap().status,
        "SUSPENDED"
    );
    assert_problem(me(&bori).await, 401, "TOKEN_REVOKED").await;

    let refused = app.try_login("bori@example.com", PASSWORD).await;
    let problem = assert_problem(refused, 403, "ACCOUNT_SUSPENDED").await;
    assert_eq!(problem["context"]["reason"], "spam");
    assert_eq!(
        problem["context"]["suspended_until"],
        "2026-11-26T01:00:00Z"
    );

    app.clock.advance(TimeDelta::days(3));
    let bori = app.session("bori@example.com", PASSWORD).await.member;
    assert_eq!(
        me(&bori).await.json::<Account>().await.unwrap().status,
        "ACTIVE"
    );
}

#[tokio::test]
async fn admins_lift_suspensions_and_change_roles() {
    let app = TestApp::spawn().await;
    let bori = app.member("bori@example.com").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/admin/users/{}/suspension", bori.id);
    admin
        .request(
            Method::POST,
            &path,
            Some(json!({"until": "2027-01-01T00:00:00Z", "reason": "spam"})),
        )
        .await;
    let lifted = admin.request(Method::DELETE, &path, None).await;
    assert_eq!(lifted.json::<Account>().await.unwrap().status, "ACTIVE");
    app.login("bori@example.com", PASSWORD).await;

    let role_path = format!("/api/v1/admin/users/{}/role", bori.id);
    let role = admin
        .request(Method::PATCH, &role_path, Some(json!({"role": "ADMIN"})))
        .await;
    assert_eq!(role.json::<Account>().await.unwrap().role, "ADMIN");
    assert_problem(me(&bori).await, 401, "TOKEN_REVOKED").await;
    let promoted = app.session("bori@example.com", PASSWORD).await.member;
    assert_eq!(
        promoted
            .request(Method::GET, "/api/v1/admin/users", None)
            .await
            .status(),
        200
    );

    let bad = admin
        .request(Method::PATCH, &role_path, Some(json!({"role": "GOD"})))
        .await;
    assert_problem(bad, 422, "INVALID_BODY").await;
    let missing = admin
        .request(
            Method::PATCH,
            "/api/v1/admin/users/999999/role",
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
    let admin = app.admin().await;
    let runs: Page<JobRun> = admin
        .get("/api/v1/admin/batch/runs?job=prune-idempotency-keys")
        .await;
    assert_eq!(runs.items.len(), 1);
    let run = &runs.items[0];
    assert_eq!(
        (run.status.as_str(), run.trigger.as_str()),
        ("SUCCEEDED", "MANUAL")
    );
    assert_eq!(run.counts, json!({"deleted": 3}));
    assert_eq!(run.business_date, "2026-11-23");
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
    let admin = app.admin().await;
    let runs: Page<JobRun> = admin.get("/api/v1/admin/batch/runs").await;
    assert!(runs.items.is_empty());
    let idle: Page<IdleRuns> = admin.get("/api/v1/admin/batch/idle-runs?limit=1").await;
    assert_eq!(
        (idle.items[0].job.as_str(), idle.items[0].runs),
        ("expire-unpaid-orders", 1)
    );
    let cursor = idle.next_cursor.unwrap();
    let next: Page<IdleRuns> = admin
        .get(&format!(
            "/api/v1/admin/batch/idle-runs?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(
        (next.items[0].job.as_str(), next.items[0].runs),
        ("relay-events", 2)
    );
    assert!(next.next_cursor.is_none());
}
