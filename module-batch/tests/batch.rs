//! The batch runner against a real database: runs are recorded, the CLI runs one job, and the
//! scheduler fires jobs on their cron schedule.

use std::process::Command;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use petory_batch::job::{Job, JobContext, RunDate, run_recorded};
use petory_core::platform::idempotency::{self, Claim, Lifetimes, StoredResponse};
use petory_core::platform::run_log::{self, JobCounts, Trigger};
use petory_core::testing::TestDatabase;

mod common;

const BATCH: &str = env!("CARGO_BIN_EXE_petory-batch");

fn now() -> DateTime<Utc> {
    "2026-11-23T03:00:00Z".parse().unwrap()
}

fn context(database: &TestDatabase) -> JobContext {
    common::context_at(database.url(), &format!("test:{}:", database.name()), now())
}

async fn store_key(context: &JobContext, key: &str, at: DateTime<Utc>) {
    let mut conn = context.db.get().await.unwrap();
    let claim = idempotency::claim(
        &mut conn,
        "anonymous",
        key,
        &[7; 32],
        at,
        Lifetimes::default(),
    )
    .await
    .unwrap();
    assert_eq!(claim, Claim::Acquired);
    idempotency::complete(&mut conn, "anonymous", key, &stored())
        .await
        .unwrap();
}

fn stored() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec(),
    }
}

async fn runs(context: &JobContext) -> Vec<run_log::JobRun> {
    let mut conn = context.db.get().await.unwrap();
    run_log::list_runs(&mut conn, None, None, 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_run_whose_process_died_is_recorded_as_failed_when_the_job_next_starts() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    let job = petory_batch::job::find_job("prune-idempotency-keys").expect("job exists");
    let mut conn = context.db.get().await.unwrap();
    let business_date = context.calendar.day_of(now());
    let killed = run_log::start_run(
        &mut conn,
        job.name(),
        business_date,
        Trigger::Schedule,
        now() - TimeDelta::hours(13),
    )
    .await
    .unwrap();
    let still_going = run_log::start_run(
        &mut conn,
        job.name(),
        business_date,
        Trigger::Schedule,
        now() - TimeDelta::hours(1),
    )
    .await
    .unwrap();
    run_recorded(
        &context,
        job.as_ref(),
        RunDate::today(&context),
        Trigger::Manual,
    )
    .await
    .unwrap();
    let runs = runs(&context).await;
    let status = |id: i64| {
        let run = runs.iter().find(|run| run.id == id).unwrap();
        (run.status, run.error.is_some())
    };
    assert_eq!(status(killed), (run_log::RunStatus::Failed, true));
    assert_eq!(status(still_going), (run_log::RunStatus::Running, false));
}

#[tokio::test]
async fn prune_job_deletes_expired_keys_and_records_its_run() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    store_key(&context, "two-days-old", now() - TimeDelta::days(2)).await;
    store_key(&context, "fresh", now() - TimeDelta::hours(1)).await;

    let job = petory_batch::job::find_job("prune-idempotency-keys").expect("job exists");
    let outcome = run_recorded(
        &context,
        job.as_ref(),
        RunDate::today(&context),
        Trigger::Manual,
    )
    .await
    .unwrap();
    assert_eq!(outcome.counts, JobCounts::from([("deleted".to_owned(), 1)]));

    let runs = runs(&context).await;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.id, outcome.run_id);
    assert_eq!(
        (run.job.as_str(), run.status.as_str(), run.trigger.as_str()),
        ("prune-idempotency-keys", "SUCCEEDED", "MANUAL")
    );
    assert_eq!(
        run.business_date,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    );
    assert_eq!(run.counts, serde_json::json!({"deleted": 1}));
    assert_eq!((run.started_at, run.finished_at), (now(), Some(now())));
    assert_eq!(run.error, None);

    // The fresh response still replays; the expired key is free again.
    let mut conn = context.db.get().await.unwrap();
    let fresh = idempotency::claim(
        &mut conn,
        "anonymous",
        "fresh",
        &[7; 32],
        now(),
        Lifetimes::default(),
    )
    .await
    .unwrap();
    assert_eq!(fresh, Claim::Replay(stored()));
    let old = idempotency::claim(
        &mut conn,
        "anonymous",
        "two-days-old",
        &[8; 32],
        now(),
        Lifetimes::default(),
    )
    .await
    .unwrap();
    assert_eq!(old, Claim::Acquired);
}

struct Failing;

#[async_trait]
impl Job for Failing {
    fn name(&self) -> &'static str {
        "always-fails"
    }

    fn default_schedule(&self) -> &'static str {
        "0 0 0 * * *"
    }

    async fn run(&self, _: &JobContext, _: RunDate) -> anyhow::Result<JobCounts> {
        anyhow::bail!("gateway said no")
    }
}

#[tokio::test]
async fn a_failed_run_is_recorded_with_its_error() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    let error = run_recorded(
        &context,
        &Failing,
        RunDate::today(&context),
        Trigger::Schedule,
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "gateway said no");
    let runs = runs(&context).await;
    assert_eq!(runs[0].status, run_log::RunStatus::Failed);
    assert_eq!(runs[0].error.as_deref(), Some("gateway said no"));
    assert_eq!(runs[0].trigger, Trigger::Schedule);
}

#[tokio::test]
async fn runs_are_listed_newest_first_with_a_cursor() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    let job = petory_batch::job::find_job("prune-idempotency-keys").unwrap();
    for _ in 0..3 {
        run_recorded(
            &context,
            job.as_ref(),
            RunDate::today(&context),
            Trigger::Manual,
        )
        .await
        .unwrap();
    }
    let mut conn = context.db.get().await.unwrap();
    let first_page = run_log::list_runs(&mut conn, Some("prune-idempotency-keys"), None, 2)
        .await
        .unwrap();
    assert_eq!(first_page.len(), 2);
    assert!(first_page[0].id > first_page[1].id);
    let second_page = run_log::list_runs(&mut conn, None, Some(first_page[1].id), 2)
        .await
        .unwrap();
    assert_eq!(second_page.len(), 1);
    assert!(second_page[0].id < first_page[1].id);
    assert!(
        run_log::list_runs(&mut conn, Some("other-job"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_given_date_runs_as_of_the_end_of_that_business_day() {
    let database_less = common::context_at("postgres://unused@127.0.0.1:1/none", "", now());
    let past = RunDate::of(
        &database_less,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    );
    assert_eq!(
        past.as_of,
        "2026-11-01T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    // Today is not over yet: as of now.
    let today = RunDate::of(
        &database_less,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    );
    assert_eq!(today.as_of, now());
}

fn batch_command(database: &TestDatabase) -> Command {
    let mut command = Command::new(BATCH);
    // A development machine: KakaoPay and S3 may fall back to the local sandboxes.
    command
        .env("PETORY_DEV_MODE", "1")
        .env("DATABASE_URL", database.url())
        .env("PETORY_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn cli_runs_one_job_for_a_date_and_records_it() {
    let database = TestDatabase::new().await;
    let output = batch_command(&database)
        .args(["run", "prune-idempotency-keys", "--date", "2026-11-20"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("prune-idempotency-keys run 1 succeeded: deleted=0")
    );
    let runs = runs(&context(&database)).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].business_date,
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    );
    assert_eq!(runs[0].status, run_log::RunStatus::Succeeded);
}

#[tokio::test]
async fn cli_names_an_unknown_job_and_the_known_ones() {
    let database = TestDatabase::new().await;
    let output = batch_command(&database)
        .args(["run", "no-such-job"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "unknown job \"no-such-job\"; known jobs: prune-idempotency-keys, prune-batch-runs, prune-unattached-uploads, flush-views, post-likes, rebuild-place-ranking, image-versions, expire-unpaid-orders, billing, confirm-deliveries, daily-question-notification, calendar-reminders, account-dormancy, account-deletion, lift-suspensions, purge-notifications, relay-events, send-pushes"
        ),
        "{stderr}"
    );
    assert!(runs(&context(&database)).await.is_empty());
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    let database = TestDatabase::new().await;
    let output = batch_command(&database)
        .env("PETORY_TIMEZONE", "Mars/Olympus")
        .args(["run", "prune-idempotency-keys"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line
                .starts_with("petory-batch: PETORY_TIMEZONE=\"Mars/Olympus\" is invalid")),
        "{stderr}"
    );
}

#[tokio::test]
async fn scheduler_runs_jobs_on_their_schedule() {
    let database = TestDatabase::new().await;
    let mut scheduler = batch_command(&database)
        .env("PETORY_SCHEDULE_PRUNE_IDEMPOTENCY_KEYS", "* * * * * *")
        .env("PETORY_SCHEDULE_EXPIRE_UNPAID_ORDERS", "off")
        .env("PETORY_SCHEDULE_RELAY_EVENTS", "off")
        .arg("scheduler")
        .spawn()
        .unwrap();
    let context = context(&database);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut idle = Vec::new();
    while Instant::now() < deadline {
        let mut conn = context.db.get().await.unwrap();
        idle = run_log::list_idle_runs(&mut conn, None, None, 10)
            .await
            .unwrap();
        // Other jobs may also fire on their own schedules while this runs (a minute's or ten
        // minutes' turn): only the every-second job is counted.
        idle.retain(|day| day.job == "prune-idempotency-keys");
        if idle.iter().map(|day| day.runs).sum::<i32>() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    scheduler.kill().unwrap();
    scheduler.wait().unwrap();
    assert!(
        idle.iter().map(|day| day.runs).sum::<i32>() >= 2,
        "the every-second schedule fired at least twice, got {idle:?}"
    );
    assert!(
        runs(&context).await.is_empty(),
        "runs that found nothing to do are counted, not kept"
    );
}

/// Every job's schedule off: nothing runs but what a test starts.
fn all_schedules_off(command: &mut Command) -> &mut Command {
    for job in petory_batch::job::all_jobs() {
        command.env(
            format!(
                "PETORY_SCHEDULE_{}",
                job.name().to_ascii_uppercase().replace('-', "_")
            ),
            "off",
        );
    }
    command
}

#[tokio::test]
async fn the_scheduler_relays_an_event_the_moment_it_is_committed_not_at_its_poll() {
    use diesel_async::RunQueryDsl as _;
    let database = TestDatabase::new().await;
    let mut command = batch_command(&database);
    command.env("PETORY_REDIS_PREFIX", format!("test:{}:", database.name()));
    let mut scheduler = all_schedules_off(&mut command)
        .arg("scheduler")
        .spawn()
        .unwrap();
    let context = context(&database);
    let mut conn = context.db.get().await.unwrap();

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = async |conn: &mut petory_core::db::DbConn<'_>, sql: &str| -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .await
            .unwrap()
            .n
    };
    // Wait until its listener is in place, so the event below can only arrive by wake-up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
        == 0
    {
        assert!(Instant::now() < deadline, "the listener never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    petory_core::notification::request(
        &mut conn,
        &petory_core::notification::NewNotification {
            user_id: petory_core::identity::UserId(7),
            notice: petory_core::notification::Notice::OrderStatus {
                order_id: 1,
                status: Some("SHIPPED".into()),
                payment_status: None,
            },
            title: "배송이 시작되었어요".into(),
            body: String::new(),
            once_per: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut delivered = 0;
    while Instant::now() < deadline {
        delivered = count(&mut conn, "SELECT count(*) AS n FROM notifications").await;
        if delivered == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.kill().unwrap();
    scheduler.wait().unwrap();
    assert_eq!(delivered, 1, "delivered with every poll off");
}

#[tokio::test]
async fn empty_scheduled_runs_are_counted_and_old_runs_pruned() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    let job = petory_batch::job::find_job("lift-suspensions").unwrap();
    let date = RunDate::today(&context);
    for _ in 0..3 {
        run_recorded(&context, job.as_ref(), date, Trigger::Schedule)
            .await
            .unwrap();
    }
    run_recorded(&context, job.as_ref(), date, Trigger::Manual)
        .await
        .unwrap();
    let kept = runs(&context).await;
    assert_eq!(kept.len(), 1, "only the manual run is a row");
    assert_eq!(kept[0].trigger, Trigger::Manual);
    let mut conn = context.db.get().await.unwrap();
    let idle = run_log::list_idle_runs(&mut conn, Some("lift-suspensions"), None, 10)
        .await
        .unwrap();
    assert_eq!((idle.len(), idle[0].runs), (1, 3));

    // 91 days later the retention (90 days) has passed for all of it.
    let later = now() + TimeDelta::days(91);
    assert_eq!(
        run_log::prune(&mut conn, later - TimeDelta::days(90), 2)
            .await
            .unwrap(),
        1
    );
    assert!(runs(&context).await.is_empty());
    assert!(
        run_log::list_idle_runs(&mut conn, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn cli_lists_jobs_with_their_schedules() {
    let output = Command::new(BATCH)
        .env("PETORY_SCHEDULE_PRUNE_IDEMPOTENCY_KEYS", "off")
        .arg("jobs")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "prune-idempotency-keys\toff\nprune-batch-runs\t0 45 4 * * *\nprune-unattached-uploads\t0 25 * * * *\nflush-views\t15 * * * * *\npost-likes\t45 */5 * * * *\nrebuild-place-ranking\t30 */10 * * * *\nimage-versions\t*/10 * * * * *\nexpire-unpaid-orders\t30 * * * * *\nbilling\t0 */10 * * * *\nconfirm-deliveries\t0 20 * * * *\ndaily-question-notification\t0 0 0 * * *\ncalendar-reminders\t0 * * * * *\naccount-dormancy\t0 0 3 * * *\naccount-deletion\t0 30 3 * * *\nlift-suspensions\t0 */5 * * * *\npurge-notifications\t0 0 4 * * *\nrelay-events\t*/10 * * * * *\nsend-pushes\t*/5 * * * * *\n"
    );
}

#[tokio::test]
async fn expire_unpaid_orders_job_records_what_it_cancelled() {
    let database = TestDatabase::new().await;
    let output = batch_command(&database)
        .args(["run", "expire-unpaid-orders"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("expire-unpaid-orders run 1 succeeded: canceled=0")
    );
    let runs = runs(&context(&database)).await;
    assert_eq!(runs[0].counts, serde_json::json!({"canceled": 0}));
}

/// Every event kind the product records has a handler in the relay the batch binary runs.
#[tokio::test]
async fn every_event_kind_has_a_handler() {
    let context = common::context_at("postgres://unused/petory", "test:kinds:", now());
    let relay =
        petory_event::product_relay(petory_event::RetryPolicy::default(), context.relay_ports());
    use petory_core::platform::outbox::Payload;
    // Every kind the domains record (each declares its payloads beside its own code).
    let mut recorded = vec![
        petory_core::shop::payment::RefundRequested::KIND,
        petory_core::shop::subscription::InactivationRequested::KIND,
        petory_core::ports::Mail::KIND,
        petory_core::notification::NewNotification::KIND,
        petory_core::identity::session::RevokeRequested::KIND,
    ];
    recorded.sort_unstable();
    assert_eq!(relay.kinds(), recorded);
}

/// A scrape of the scheduler's metrics endpoint once `ready` holds for it, within 20 s.
async fn scrape_until(port: u16, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await
            && let Ok(text) = response.text().await
            && ready(&text)
        {
            return text;
        }
        assert!(Instant::now() < deadline, "the metrics never showed up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_scheduler_exports_runs_the_outbox_and_last_successes_seeded_from_the_run_log() {
    let database = TestDatabase::new().await;
    let context = context(&database);
    // A successful run kept in the log before the scheduler starts.
    store_key(&context, "two-days-old", now() - TimeDelta::days(2)).await;
    let job = petory_batch::job::find_job("prune-idempotency-keys").unwrap();
    run_recorded(
        &context,
        job.as_ref(),
        RunDate::today(&context),
        Trigger::Manual,
    )
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = batch_command(&database);
    command
        .env("PETORY_REDIS_PREFIX", format!("test:{}:", database.name()))
        .env("PETORY_BATCH_METRICS_BIND", format!("127.0.0.1:{port}"));
    let mut scheduler = all_schedules_off(&mut command)
        .env("PETORY_SCHEDULE_RELAY_EVENTS", "* * * * * *")
        .arg("scheduler")
        .spawn()
        .unwrap();
    let metrics = scrape_until(port, |text| {
        text.contains(r#"petory_batch_job_runs_total{job="relay-events",outcome="succeeded"} "#)
            && text.contains("petory_outbox_pending_events ")
    })
    .await;
    scheduler.kill().unwrap();
    scheduler.wait().unwrap();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} is exported:\n{metrics}"))
            .parse()
            .unwrap()
    };
    // Seeded from the run log: the run above, as of the test's clock.
    #[allow(clippy::cast_precision_loss)]
    let seeded = now().timestamp() as f64;
    assert_eq!(
        value(r#"petory_batch_job_last_success_timestamp_seconds{job="prune-idempotency-keys"}"#),
        seeded
    );
    assert!(
        value(r#"petory_batch_job_last_success_timestamp_seconds{job="relay-events"}"#) > seeded
    );
    assert!(value(r#"petory_batch_job_runs_total{job="relay-events",outcome="succeeded"}"#) >= 1.0);
    assert!(value(r#"petory_batch_job_duration_seconds_count{job="relay-events"}"#) >= 1.0);
    // Counters exist at zero before anything happens to them.
    assert_eq!(
        value(r#"petory_batch_job_runs_total{job="billing",outcome="failed"}"#),
        0.0
    );
    assert_eq!(
        value(r#"petory_mail_deliveries_total{outcome="failed"}"#),
        0.0
    );
    assert_eq!(
        value(r#"petory_billing_charges_total{outcome="failed"}"#),
        0.0
    );
    assert_eq!(value("petory_outbox_pending_events"), 0.0);
    assert_eq!(value("petory_outbox_failed_events"), 0.0);
    assert_eq!(value("petory_outbox_oldest_pending_age_seconds"), 0.0);
    assert!(value("db_pool_max_connections") >= 1.0);
    assert!(value("redis_pool_max_connections") >= 1.0);
}

#[tokio::test]
async fn behind_pgbouncer_without_a_listen_url_the_outbox_listener_stays_off() {
    use diesel_async::RunQueryDsl as _;
    let database = TestDatabase::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = batch_command(&database);
    command
        .env("PETORY_REDIS_PREFIX", format!("test:{}:", database.name()))
        .env("PETORY_BATCH_METRICS_BIND", format!("127.0.0.1:{port}"))
        .env("PETORY_DB_PGBOUNCER", "true");
    let mut scheduler = all_schedules_off(&mut command)
        .env("PETORY_SCHEDULE_RELAY_EVENTS", "* * * * * *")
        .arg("scheduler")
        .spawn()
        .unwrap();
    // The poll still relays (and the pool works with unnamed statements)…
    scrape_until(port, |text| {
        text.contains(r#"petory_batch_job_runs_total{job="relay-events",outcome="succeeded"} "#)
            && !text.contains(
                r#"petory_batch_job_runs_total{job="relay-events",outcome="succeeded"} 0"#,
            )
    })
    .await;
    // …but no session LISTENs: a transaction-pooling PgBouncer could not keep one.
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let context = context(&database);
    let mut conn = context.db.get().await.unwrap();
    let listening = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n;
    scheduler.kill().unwrap();
    scheduler.wait().unwrap();
    assert_eq!(listening, 0);
}

/// Runs of `job` so far (kept ones and the counted idle ones).
async fn runs_of(context: &JobContext, job: &str) -> i32 {
    let mut conn = context.db.get().await.unwrap();
    let idle: i32 = run_log::list_idle_runs(&mut conn, None, None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|day| day.job == job)
        .map(|day| day.runs)
        .sum();
    let kept = run_log::list_runs(&mut conn, Some(job), None, 100)
        .await
        .unwrap()
        .len();
    idle + i32::try_from(kept).unwrap()
}

#[tokio::test]
async fn two_replicas_run_each_tick_once_and_one_left_alone_goes_on() {
    let database = TestDatabase::new().await;
    let replica = || {
        let mut command = batch_command(&database);
        all_schedules_off(&mut command)
            .env("PETORY_SCHEDULE_PRUNE_IDEMPOTENCY_KEYS", "*/2 * * * * *")
            .env("PETORY_JOB_LEASE_SECS", "2")
            .env("PETORY_REDIS_PREFIX", format!("test:{}:", database.name()))
            // Each replica serves its metrics on a port of its own.
            .env("PETORY_BATCH_METRICS_BIND", "127.0.0.1:0")
            .arg("scheduler")
            .spawn()
            .unwrap()
    };
    let context = context(&database);
    let started = Instant::now();
    let mut first = replica();
    let mut second = replica();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let ticks = started.elapsed().as_secs_f64() / 2.0;
    let together = runs_of(&context, "prune-idempotency-keys").await;
    assert!(
        together >= 3 && f64::from(together) <= ticks + 1.0,
        "{together} runs in {ticks:.1} ticks of two replicas: each tick once"
    );

    // One replica dies; the other runs the next ticks on its own.
    first.kill().unwrap();
    first.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let alone = runs_of(&context, "prune-idempotency-keys").await - together;
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(alone >= 2, "{alone} runs after the other replica died");
}
