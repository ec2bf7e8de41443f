//! `scripts/bench notifications`: the midnight daily-question job over N active users
//! (100,000 and 1,000,000), against a bare `INSERT … SELECT` of the same rows (the physical
//! floor) and, at 100,000, the seed's approach (read every user, insert one row per user).
//! Each timing is the median of its repetitions; prints Markdown table rows.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{
    AsyncConnection as _, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _,
};
use petory_core::daily::qna;
use petory_core::db::{self, PoolSettings};
use petory_core::testing::{TestDatabase, server_url, with_database};

const REPEATS: usize = 3;
const RANGE: i64 = 50_000;
const PARALLEL_RANGES: usize = 2;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn reset(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    // One statement per call: a multi-statement string runs as one transaction, and VACUUM
    // refuses that.
    for statement in [
        "TRUNCATE notifications",
        "VACUUM ANALYZE notifications",
        "CHECKPOINT",
    ] {
        conn.batch_execute(statement).await?;
    }
    Ok(())
}

async fn notifications(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    Ok(diesel::sql_query("SELECT count(*) AS n FROM notifications")
        .get_result::<Count>(conn)
        .await?
        .n)
}

const BARE: &str =
    "INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, created_at)
     SELECT u.id, 'DAILY_QUESTION', $1, '', '{\"question_id\": 1}', $2, $3
       FROM users u WHERE u.status = 'ACTIVE' AND u.id % 10 <> 0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<i64> = match std::env::args().nth(1) {
        Some(n) => vec![n.parse()?],
        None => vec![100_000, 1_000_000],
    };
    let date: NaiveDate = "2026-11-24".parse()?;
    let key = format!("dq:{date}");
    for users in sizes {
        let database = TestDatabase::new().await;
        let pool = db::pool(database.url(), &PoolSettings::default());
        let mut conn = AsyncPgConnection::establish(database.url()).await?;
        diesel::sql_query(
            "INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
             SELECT 'user-' || g || '@bench.petory', 'unused', 'User ' || g, now(), now(), now()
               FROM generate_series(1, $1) g",
        )
        .bind::<BigInt, _>(users)
        .execute(&mut conn)
        .await?;
        // Per-kind settings: every 10th member switched the daily question off in the app
        // (the bare insert skips the same rows by id), every 3rd changed another kind.
        conn.batch_execute(
            "INSERT INTO notification_settings (user_id, kind, in_app, push, mail, updated_at)
             SELECT id, 'DAILY_QUESTION', false, true, false, now() FROM users WHERE id % 10 = 0
             UNION ALL
             SELECT id, 'POST_COMMENTED', true, false, true, now() FROM users WHERE id % 3 = 0",
        )
        .await?;
        // Each on its own: VACUUM refuses to run inside the transaction a multi-statement
        // string becomes.
        for statement in [
            "VACUUM ANALYZE users",
            "VACUUM ANALYZE notification_settings",
        ] {
            conn.batch_execute(statement).await?;
        }
        let receivers = users - users / 10;
        let question = qna::for_date(&mut conn, date).await?;

        let mut job = Vec::new();
        let mut bare = Vec::new();
        for _ in 0..REPEATS {
            reset(&mut conn).await?;
            let started = Instant::now();
            let counts =
                qna::notify_question_of_the_day(&pool, date, Utc::now(), RANGE, PARALLEL_RANGES)
                    .await?;
            job.push(started.elapsed());
            anyhow::ensure!(
                counts.inserted == receivers,
                "job inserted {}",
                counts.inserted
            );
            // A second run of the same date adds nothing.
            let again =
                qna::notify_question_of_the_day(&pool, date, Utc::now(), RANGE, PARALLEL_RANGES)
                    .await?;
            anyhow::ensure!(again.inserted == 0, "a re-run inserted {}", again.inserted);

            reset(&mut conn).await?;
            let started = Instant::now();
            diesel::sql_query(BARE)
                .bind::<Text, _>(&question.content)
                .bind::<Text, _>(&key)
                .bind::<Timestamptz, _>(Utc::now())
                .execute(&mut conn)
                .await?;
            bare.push(started.elapsed());
            anyhow::ensure!(notifications(&mut conn).await? == receivers);
        }
        let (job, bare) = (median(job), median(bare));
        let mut row = format!(
            "| {users} | {:.2} s | {:.2} s | {:.2}× |",
            job.as_secs_f64(),
            bare.as_secs_f64(),
            job.as_secs_f64() / bare.as_secs_f64()
        );

        if users <= 100_000 {
            // The seed's approach: every user read into memory, one INSERT per user.
            reset(&mut conn).await?;
            let started = Instant::now();
            let ids: Vec<Id> = diesel::sql_query(
                "SELECT id FROM users WHERE status = 'ACTIVE' AND id % 10 <> 0 ORDER BY id",
            )
            .load(&mut conn)
            .await?;
            for Id { id } in ids {
                diesel::sql_query(
                    "INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, created_at)
                     VALUES ($1, 'DAILY_QUESTION', $2, '', '{\"question_id\": 1}', $3, $4)",
                )
                .bind::<BigInt, _>(id)
                .bind::<Text, _>(&question.content)
                .bind::<Text, _>(&key)
                .bind::<Timestamptz, _>(Utc::now())
                .execute(&mut conn)
                .await?;
            }
            let looped = started.elapsed();
            anyhow::ensure!(notifications(&mut conn).await? == users);
            row.push_str(&format!(
                " {:.1} s | {:.0}× |",
                looped.as_secs_f64(),
                looped.as_secs_f64() / job.as_secs_f64()
            ));
        } else {
            row.push_str(" – | – |");
        }
        #[allow(clippy::print_stdout)]
        {
            println!("{row}");
        }
        drop(conn);
        drop(pool);
        let mut admin =
            AsyncPgConnection::establish(&with_database(&server_url(), "postgres")).await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                database.name()
            ))
            .await?;
    }
    Ok(())
}
