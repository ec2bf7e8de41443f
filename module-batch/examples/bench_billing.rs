//! `scripts/bench billing [N]`: N due subscriptions (default 100,000) billed by
//! `petory-batch run billing` against the KakaoPay sandbox answering after 20 ms. Prints one
//! Markdown table row for `docs/benchmarks.md`, after checking that every cycle was charged once.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Timelike as _, Utc};
use diesel::sql_types::BigInt;
use diesel_async::{
    AsyncConnection as _, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _,
};
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::testing::{TestDatabase, seed_due_subscriptions, server_url, with_database};
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};
use serde_json::{Value, json};

const LATENCY: Duration = Duration::from_millis(20);

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let batch = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("petory-batch"))
        .ok_or_else(|| anyhow::anyhow!("cannot find petory-batch next to this example"))?;

    let database = TestDatabase::new().await;
    let sandbox = KakaoPaySandbox::serve(
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        SandboxSettings {
            latency: LATENCY,
            ..SandboxSettings::default()
        },
    )?;
    let today = BusinessCalendar::default().day_of(Utc::now());
    let approved_at = (Utc::now() - TimeDelta::days(30))
        .with_nanosecond(0)
        .expect("whole second");
    let mut conn = AsyncPgConnection::establish(database.url()).await?;
    let seeded =
        seed_due_subscriptions(&mut conn, count, today - TimeDelta::days(1), approved_at).await;
    conn.batch_execute("VACUUM ANALYZE").await?;
    let seed: Vec<Value> = seeded
        .iter()
        .map(|(sid, user)| json!({"sid": sid, "partner_user_id": user, "item_name": "Omega-3", "approved_at": approved_at}))
        .collect();
    let http = reqwest::Client::new();
    // In parts: the sandbox takes request bodies of up to 2 MB.
    for part in seed.chunks(10_000) {
        http.post(format!("{}/__sandbox/subscriptions", sandbox.base_url()))
            .json(&json!({ "subscriptions": part }))
            .send()
            .await?
            .error_for_status()?;
    }

    eprintln!("billing {count} subscriptions, gateway latency {LATENCY:?}");
    let started = Instant::now();
    let output = Command::new(&batch)
        .env("DATABASE_URL", database.url())
        .env("KAKAOPAY_BASE_URL", sandbox.base_url())
        .env("KAKAOPAY_SECRET_KEY", "DEV-SANDBOX-SECRET")
        .env("RUST_LOG", "warn")
        .args(["run", "billing"])
        .output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "billing failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout).trim().to_owned();

    let ledger: Vec<Value> = http
        .get(format!("{}/__sandbox/ledger", sandbox.base_url()))
        .send()
        .await?
        .json()
        .await?;
    let charged = ledger
        .iter()
        .filter(|e| e["kind"] == "subscription")
        .count() as i64;
    let approved = diesel::sql_query(
        "SELECT count(*) AS n FROM subscription_charges WHERE status = 'APPROVED'",
    )
    .get_result::<Count>(&mut conn)
    .await?
    .n;
    anyhow::ensure!(
        charged == count && approved == count,
        "expected {count} charges, the gateway saw {charged} and the database {approved}"
    );
    drop(conn);
    let mut admin = AsyncPgConnection::establish(&with_database(&server_url(), "postgres")).await?;
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            database.name()
        ))
        .await?;

    let seconds = elapsed.as_secs_f64();
    eprintln!("{summary}");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "| billing | {count} | {} ms | {seconds:.1} s | {:.0} charges/s |",
            LATENCY.as_millis(),
            count as f64 / seconds
        );
    }
    Ok(())
}
