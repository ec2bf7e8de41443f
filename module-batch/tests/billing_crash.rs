//! Billing survives being killed: `petory-batch run billing` is SIGKILLed at random points over
//! 1,000 due subscriptions, restarted each time, and the gateway's ledger and the database must
//! agree that every due cycle was charged exactly once.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{TimeDelta, Timelike as _, Utc};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::testing::{TestDatabase, seed_due_subscriptions};
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};
use rand::Rng as _;
use serde_json::{Value, json};

const BATCH: &str = env!("CARGO_BIN_EXE_petory-batch");
const SUBSCRIPTIONS: i64 = 1_000;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

fn billing(database: &TestDatabase, sandbox: &KakaoPaySandbox) -> Command {
    let mut command = Command::new(BATCH);
    command
        .env("PETORY_DEV_MODE", "1")
        .env("DATABASE_URL", database.url())
        .env("KAKAOPAY_BASE_URL", sandbox.base_url())
        .env("KAKAOPAY_SECRET_KEY", "DEV-SANDBOX-SECRET")
        .env("PETORY_BILLING_CHUNK", "25")
        .env("PETORY_BILLING_CONCURRENCY", "8")
        // A killed run's claims are taken over a second later.
        .env("PETORY_BILLING_LEASE_SECS", "1")
        .env("PETORY_LOG_FORMAT", "text")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .args(["run", "billing"]);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_billing_at_random_points_never_loses_or_doubles_a_charge() {
    let database = TestDatabase::new().await;
    let sandbox = KakaoPaySandbox::serve(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        SandboxSettings {
            latency: Duration::from_millis(5),
            ..SandboxSettings::default()
        },
    )
    .unwrap();
    let today = BusinessCalendar::default().day_of(Utc::now());
    let approved_at = (Utc::now() - TimeDelta::days(30))
        .with_nanosecond(0)
        .unwrap();
    let mut conn = AsyncPgConnection::establish(database.url()).await.unwrap();
    let seeded = seed_due_subscriptions(
        &mut conn,
        SUBSCRIPTIONS,
        today - TimeDelta::days(1),
        approved_at,
    )
    .await;
    assert_eq!(seeded.len() as i64, SUBSCRIPTIONS);
    let seed: Vec<Value> = seeded
        .iter()
        .map(|(sid, user)| json!({"sid": sid, "partner_user_id": user, "item_name": "Omega-3", "approved_at": approved_at}))
        .collect();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/__sandbox/subscriptions", sandbox.base_url()))
        .json(&json!({ "subscriptions": seed }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());

    let approved = "SELECT count(*) AS n FROM subscription_charges WHERE status = 'APPROVED'";
    let mut killed_mid_run = 0;
    let mut progress = Vec::new();
    let mut charged = 0;
    for _ in 0..6 {
        // Each run is killed once it has charged a random further stretch, wherever it then is
        // (calls in flight, claims held): progress decides, not a clock, so a fast or a loaded
        // machine kills mid-run alike.
        let kill_at = (charged + rand::rng().random_range(40..160)).min(SUBSCRIPTIONS - 20);
        let mut child = billing(&database, &sandbox).spawn().unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() && tokio::time::Instant::now() < deadline {
            if count(&mut conn, approved).await >= kill_at {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // `Child::kill` is SIGKILL on Unix: no shutdown code runs.
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed_mid_run += 1;
        }
        child.wait().unwrap();
        charged = count(&mut conn, approved).await;
        progress.push(charged);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    let status = billing(&database, &sandbox).status().unwrap();
    assert!(status.success());

    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} runs were killed mid-run: {progress:?}"
    );
    assert!(
        progress.iter().any(|&n| n > 0 && n < SUBSCRIPTIONS),
        "no kill landed mid-run: {progress:?}"
    );

    let ledger: Vec<Value> = http
        .get(format!("{}/__sandbox/ledger", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut charges_per_sid: HashMap<&str, usize> = HashMap::new();
    for entry in ledger.iter().filter(|e| e["kind"] == "subscription") {
        *charges_per_sid
            .entry(entry["sid"].as_str().unwrap())
            .or_default() += 1;
    }
    let doubled: Vec<_> = charges_per_sid.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "charged twice: {doubled:?}");
    assert_eq!(
        charges_per_sid.len() as i64,
        SUBSCRIPTIONS,
        "every sid charged"
    );

    assert_eq!(count(&mut conn, approved).await, SUBSCRIPTIONS);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM subscription_charges WHERE status <> 'APPROVED'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&mut conn, "SELECT count(DISTINCT subscription_id) AS n FROM orders WHERE status = 'PAID' AND subscription_id IS NOT NULL").await,
        SUBSCRIPTIONS
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM orders WHERE subscription_id IS NOT NULL"
        )
        .await,
        SUBSCRIPTIONS
    );
    assert_eq!(
        count(&mut conn, &format!("SELECT count(*) AS n FROM subscriptions WHERE next_billing_date > '{today}' AND status = 'ACTIVE'")).await,
        SUBSCRIPTIONS
    );
}
