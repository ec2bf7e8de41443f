//! `scripts/bench push [N]`: the midnight question to N members (default 100,000) with one
//! device each, pushed by `petory-batch run send-pushes` to the local push service answering
//! every push after 20 ms (it checks each VAPID token and decrypts each body). Prints one
//! Markdown table row for `docs/benchmarks.md`: throughput against the in-flight bound
//! (pushes in flight / latency), after checking every device got exactly one push.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{
    AsyncConnection as _, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _,
};
use petory_core::daily::qna;
use petory_core::db::{self, PoolSettings};
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::testing::{TestDatabase, server_url, with_database};
use petory_external_api::push::sandbox::{PushSandbox, PushSandboxSettings};
use petory_external_api::push::{DEV_PRIVATE_KEY, DEV_SUBJECT, VapidSettings};

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
    let concurrency: usize = std::env::var("PETORY_PUSH_CONCURRENCY")
        .ok()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(64);
    let batch = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("petory-batch"))
        .ok_or_else(|| anyhow::anyhow!("cannot find petory-batch next to this example"))?;

    let database = TestDatabase::new().await;
    let service = PushSandbox::serve(
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        PushSandboxSettings {
            latency: LATENCY,
            count_only: true,
        },
    )?;
    // One browser's keys; each member's endpoint is its own (`/push/{device}.{member}`).
    let vapid = VapidSettings::new(DEV_PRIVATE_KEY, DEV_SUBJECT).map_err(anyhow::Error::msg)?;
    let device = service.subscribe(&vapid.public_key());
    let mut conn = AsyncPgConnection::establish(database.url()).await?;
    diesel::sql_query(
        "INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
         SELECT 'user-' || g || '@bench.petory', 'unused', 'User ' || g, now(), now(), now()
           FROM generate_series(1, $1) g",
    )
    .bind::<BigInt, _>(count)
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, session_id, created_at,
                                         updated_at)
         SELECT id, $1 || '.' || id, $2, $3, 'bench', now(), now() FROM users",
    )
    .bind::<Text, _>(&device.endpoint)
    .bind::<Text, _>(&device.keys.p256dh)
    .bind::<Text, _>(&device.keys.auth)
    .execute(&mut conn)
    .await?;
    conn.batch_execute("VACUUM ANALYZE").await?;

    // The midnight job's notifications and pushes, queued by its set-based SQL.
    let pool = db::pool(database.url(), &PoolSettings::default());
    let today = BusinessCalendar::default().day_of(Utc::now());
    let queued = qna::notify_question_of_the_day(&pool, today, Utc::now(), 50_000, 2).await?;
    anyhow::ensure!(
        queued.pushes == count,
        "queued {} pushes, not {count}",
        queued.pushes
    );
    drop(pool);

    eprintln!(
        "pushing {count} notifications, {concurrency} in flight, push service latency {LATENCY:?}"
    );
    let started = Instant::now();
    let output = Command::new(&batch)
        .env("DATABASE_URL", database.url())
        .env("PETORY_VAPID_PRIVATE_KEY", DEV_PRIVATE_KEY)
        .env("PETORY_VAPID_SUBJECT", DEV_SUBJECT)
        .env("PETORY_PUSH_CONCURRENCY", concurrency.to_string())
        .env("PETORY_DEV_MODE", "1")
        .env("RUST_LOG", "warn")
        .args(["run", "send-pushes"])
        .output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "send-pushes failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout).trim().to_owned();

    let (accepted, refused) = service.counts();
    let sent = diesel::sql_query("SELECT count(*) AS n FROM push_deliveries WHERE status = 'SENT'")
        .get_result::<Count>(&mut conn)
        .await?
        .n;
    anyhow::ensure!(
        accepted == count as u64 && refused == 0 && sent == count,
        "expected {count} pushes: the service took {accepted} (refused {refused}), the database sent {sent}"
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
    let throughput = count as f64 / seconds;
    let bound = concurrency as f64 / LATENCY.as_secs_f64();
    eprintln!("{summary}");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "| send-pushes | {count} | {} ms | {concurrency} | {seconds:.1} s | {throughput:.0} pushes/s | {bound:.0} pushes/s | {:.0} % |",
            LATENCY.as_millis(),
            100.0 * throughput / bound
        );
    }
    Ok(())
}
