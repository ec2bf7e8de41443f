//! `scripts/bench events [N]`: how long a notification takes from the commit that records it to
//! the Server-Sent Events frame a signed-in browser receives, through the real processes:
//! `petory-api serve` (the stream) and `petory-batch scheduler` (the relay, woken by the commit's
//! `NOTIFY`; its 10-second poll left on as in production). N notifications (default 500) are
//! committed one at a time, each waited for on the stream; prints the percentiles as a Markdown
//! table row.

#[path = "support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use petory_core::notification::{self, NewNotification, Notice};
use petory_core::testing::TestDatabase;
use serde_json::{Value, json};
use support::{Process, free_port, ms, percentile};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(500);
    let database = TestDatabase::new().await;
    let port = free_port()?;
    let prefix = format!("bench:{}:", database.name());
    let _api = support::api(database.url(), &prefix, port)?;
    let mut batch = Command::new(support::release_dir()?.join("petory-batch"));
    support::common_env(&mut batch, database.url(), &prefix);
    batch.arg("scheduler").env(
        "PETORY_BATCH_METRICS_BIND",
        format!("127.0.0.1:{}", free_port()?),
    );
    let _batch = Process(batch.spawn()?);

    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    support::wait_ready(&http, &base).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let account =
        json!({"email": "bench@example.com", "password": "bench horse 1", "name": "Bench"});
    http.post(format!("{base}/api/v1/auth/signup"))
        .json(&account)
        .send()
        .await?
        .error_for_status()?;
    let tokens: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&account)
        .send()
        .await?
        .json()
        .await?;
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let me: Value = http
        .get(format!("{base}/api/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let user_id = me["id"]
        .as_i64()
        .map(petory_core::identity::UserId)
        .ok_or_else(|| anyhow::anyhow!("the account: {me}"))?;
    let stream = http
        .get(format!("{base}/api/v1/notifications/stream"))
        .bearer_auth(&token)
        .send()
        .await?;
    anyhow::ensure!(stream.status().is_success(), "stream: {}", stream.status());
    let mut frames = stream.bytes_stream();
    let mut buffer = String::new();

    // The relay's listener must be in place before measuring.
    let mut conn = {
        use diesel_async::AsyncConnection as _;
        diesel_async::AsyncPgConnection::establish(database.url()).await?
    };
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    loop {
        use diesel_async::RunQueryDsl as _;
        let listening: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .get_result(&mut conn)
        .await?;
        if listening.n > 0 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the relay listener never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut delays = Vec::with_capacity(n);
    for seq in 0..n {
        notification::request(
            &mut conn,
            &NewNotification {
                user_id,
                notice: Notice::OrderStatus {
                    order_id: i64::try_from(seq)?,
                    status: Some("PAID".into()),
                    payment_status: None,
                },
                title: "bench".into(),
                body: String::new(),
                once_per: None,
            },
            chrono::Utc::now(),
        )
        .await?;
        let committed = Instant::now();
        let marker = format!("\"order_id\":{seq},");
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if frame.contains(&marker) {
                    break;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), frames.next())
                .await
                .map_err(|_| anyhow::anyhow!("no frame for notification {seq} in 30 s"))?
                .ok_or_else(|| anyhow::anyhow!("the stream ended"))??;
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        delays.push(committed.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    delays.sort();
    let row = format!(
        "| commit → SSE frame | {n} | {} | {} | {} | {} |",
        ms(percentile(&delays, 0.5)),
        ms(percentile(&delays, 0.9)),
        ms(percentile(&delays, 0.99)),
        ms(delays[delays.len() - 1]),
    );
    #[allow(clippy::print_stdout)]
    {
        println!("| path | notifications | p50 | p90 | p99 | max |");
        println!("|---|---|---|---|---|---|");
        println!("{row}");
    }
    Ok(())
}
