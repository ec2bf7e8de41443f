//! The midnight daily-question notification job: one notification per active, opted-in user,
//! idempotent per date, recorded in `batch_job_runs`.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use petory_batch::job::{JobContext, RunDate, find_job, run_recorded};
use petory_core::platform::run_log::Trigger;
use petory_core::testing::TestDatabase;

mod common;

fn context(database: &TestDatabase, now: DateTime<Utc>) -> JobContext {
    common::context_at(database.url(), &format!("test:{}:", database.name()), now)
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
struct Row {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = BigInt)]
    question_id: i64,
}

#[tokio::test]
async fn every_active_opted_in_user_gets_one_notification_per_day() {
    let database = TestDatabase::new().await;
    // 00:00:05 on 2026-11-24 in Seoul.
    let context = context(&database, "2026-11-23T15:00:05Z".parse().unwrap());
    let mut conn = context.db.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO users (email, password_hash, name, status, suspended_until, suspension_reason,
                            status_changed_at, created_at, updated_at)
         VALUES ('a@x.test', 'h', 'A', 'ACTIVE', NULL, NULL, now(), now(), now()),
                ('b@x.test', 'h', 'B', 'ACTIVE', NULL, NULL, now(), now(), now()),
                ('quiet@x.test', 'h', 'Q', 'ACTIVE', NULL, NULL, now(), now(), now()),
                ('asleep@x.test', 'h', 'D', 'DORMANT', NULL, NULL, now(), now(), now()),
                ('banned@x.test', 'h', 'S', 'SUSPENDED', now() + interval '1 day', 'spam', now(), now(), now())",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // Q switched the daily question off; B only changed how chat reaches them.
    diesel::sql_query(
        "INSERT INTO notification_settings (user_id, kind, in_app, push, mail, updated_at)
         SELECT id, 'DAILY_QUESTION', false, true, false, now() FROM users WHERE name = 'Q'
         UNION ALL
         SELECT id, 'CHAT_MESSAGE', true, false, false, now() FROM users WHERE name = 'B'",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let job = find_job("daily-question-notification").unwrap();
    assert_eq!(job.default_schedule(), "0 0 0 * * *");
    let date = RunDate::today(&context);
    assert_eq!(date.business_date.to_string(), "2026-11-24");
    let first = run_recorded(&context, job.as_ref(), date, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(first.counts["notified"], 2);
    // The same date again (a retry, or a run resumed after a crash) adds nothing.
    let again = run_recorded(&context, job.as_ref(), date, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(again.counts["notified"], 0);

    let rows: Vec<Row> = diesel::sql_query(
        "SELECT u.email, n.title AS body, (n.data->>'question_id')::bigint AS question_id
           FROM notifications n JOIN users u ON u.id = n.user_id
          WHERE n.kind = 'DAILY_QUESTION' ORDER BY u.email",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let question: (i64, String) = {
        #[derive(diesel::QueryableByName)]
        struct Q {
            #[diesel(sql_type = BigInt)]
            id: i64,
            #[diesel(sql_type = Text)]
            content: String,
        }
        let q: Q = diesel::sql_query(
            "SELECT id, content FROM daily_questions WHERE month = 11 AND day = 24",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        (q.id, q.content)
    };
    let expected: Vec<Row> = ["a@x.test", "b@x.test"]
        .into_iter()
        .map(|email| Row {
            email: email.into(),
            body: question.1.clone(),
            question_id: question.0,
        })
        .collect();
    assert_eq!(rows, expected);

    // The next day is a new notification for each of them.
    let next = RunDate::of(&context, "2026-11-25".parse().unwrap());
    let next_day = run_recorded(&context, job.as_ref(), next, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(next_day.counts["notified"], 2);
}

#[tokio::test]
async fn lifecycle_jobs_run_and_record_their_counts() {
    let database = TestDatabase::new().await;
    let context = context(&database, "2026-11-23T18:00:00Z".parse().unwrap());
    let date = RunDate::today(&context);
    for (job, counts) in [
        ("account-dormancy", vec!["dormant", "warned"]),
        ("account-deletion", vec!["anonymised", "removed", "warned"]),
        ("lift-suspensions", vec!["lifted"]),
        ("purge-notifications", vec!["purged", "pushes_purged"]),
    ] {
        let job = find_job(job).unwrap();
        let outcome = run_recorded(&context, job.as_ref(), date, Trigger::Manual)
            .await
            .unwrap();
        assert_eq!(
            outcome
                .counts
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            counts
        );
        assert!(outcome.counts.values().all(|n| *n == 0));
    }
    let mut conn = context.db.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Runs {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let runs: Runs =
        diesel::sql_query("SELECT count(*) AS n FROM batch_job_runs WHERE status = 'SUCCEEDED'")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(runs.n, 4);
}

#[tokio::test]
async fn the_calendar_reminders_job_sends_what_fell_due_once() {
    let database = TestDatabase::new().await;
    // 10:20:05 on 2026-11-23 in Seoul: the 10-minute reminder of a 10:30 walk is due.
    let context = context(&database, "2026-11-23T01:20:05Z".parse().unwrap());
    let mut conn = context.db.get().await.unwrap();
    for statement in [
        "INSERT INTO users (email, password_hash, name, status,
                            status_changed_at, created_at, updated_at)
         VALUES ('a@x.test', 'h', 'A', 'ACTIVE', now(), now(), now())",
        "INSERT INTO calendar_events (user_id, title, all_day, starts_local, ends_local, time_zone,
                                      reminders, created_at, updated_at)
         SELECT id, '산책', false, '2026-11-23 10:30', '2026-11-23 11:00', 'Asia/Seoul', '{10}',
                now(), now()
           FROM users",
        "INSERT INTO calendar_reminder_queue (event_id, due_at, from_at)
         SELECT id, '2026-11-23T01:00:00Z', '2026-11-23T01:00:00Z' FROM calendar_events",
    ] {
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let job = find_job("calendar-reminders").unwrap();
    assert_eq!(job.default_schedule(), "0 * * * * *");
    let date = RunDate::today(&context);
    let first = run_recorded(&context, job.as_ref(), date, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(first.counts["reminded"], 1);
    assert_eq!(first.counts["d_days"], 0);
    let again = run_recorded(&context, job.as_ref(), date, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(again.counts["reminded"], 0);
    assert_eq!(again.counts["events"], 0, "the next reminder is tomorrow's");
}
