//! `petory-batch [scheduler]` runs jobs on their schedules;
//! `petory-batch run JOB [--date YYYY-MM-DD]` runs one job once; `petory-batch jobs` lists them.

use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use petory_batch::config::BatchConfig;
use petory_batch::job::{JobContext, RunDate, all_jobs, find_job, run_recorded};
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::platform::run_log::Trigger;
use petory_core::ports::SystemClock;
use petory_external_api::mail::LettreMailer;
use petory_external_api::payment::kakaopay::KakaoPay;
use petory_redis::notification::RedisNotificationSignal;

/// The same allocator as the API's (mimalloc): the reminder job ran as fast or faster with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "petory-batch", version, about = "Petory batch jobs")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every job on its schedule until stopped (the default).
    Scheduler,
    /// Run one job once and exit (non-zero when it fails).
    Run {
        job: String,
        /// The business day to run for (default: today in PETORY_TIMEZONE).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// List the jobs and their schedules.
    Jobs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Scheduler)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("petory-batch: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let json = std::env::var("PETORY_LOG_FORMAT").map_or(true, |format| format != "text");
    let _traces = petory_external_api::telemetry::init("petory-batch", json, "info")?;
    if let Command::Jobs = command {
        for job in all_jobs() {
            let schedule = petory_batch::config::schedule_for(job.name(), job.default_schedule())?;
            #[allow(clippy::print_stdout)]
            {
                println!("{}\t{}", job.name(), schedule.as_deref().unwrap_or("off"));
            }
        }
        return Ok(());
    }
    let config = BatchConfig::from_env()?;
    let redis = petory_redis::pool(&config.redis)?;
    let context = JobContext {
        db: petory_core::db::pool(&config.database.url, &config.database.pool),
        database_url: config.listen_url.clone(),
        run_retention: config.run_retention,
        notifications: Arc::new(RedisNotificationSignal::new(
            redis.clone(),
            &config.redis.key_prefix,
        )),
        billing: config.billing,
        shop: config.shop,
        lifecycle: config.lifecycle,
        notification_retention: config.notification_retention,
        mailer: Arc::new(petory_batch::metrics::CountingMailer(Arc::new(
            LettreMailer::new(&config.mail)?,
        ))),
        sessions: Arc::new(petory_redis::session::RedisSessionStore::new(
            redis.clone(),
            &config.redis.key_prefix,
        )),
        access_ttl: config.access_ttl,
        object_store: Arc::new(petory_external_api::storage::s3::S3ObjectStore::new(
            &config.s3,
        )),
        uploads: config.uploads,
        views: Arc::new(petory_redis::views::RedisViewCounter::new(
            redis.clone(),
            &config.redis.key_prefix,
        )),
        place_ranking: Arc::new(petory_redis::place_ranking::RedisPlaceRanking::new(
            redis.clone(),
            &config.redis.key_prefix,
        )),
        images: Arc::new(petory_external_api::image::WebpVersions::from_env()?),
        cdn: petory_external_api::cdn::from_env()?,
        push: Arc::new(petory_external_api::push::WebPush::new(&config.push)?),
        push_sender: config.push_sender,
        clock: Arc::new(SystemClock),
        calendar: BusinessCalendar::new(config.timezone),
        payments: Arc::new(KakaoPay::new(config.kakaopay.clone())),
    };
    match command {
        Command::Run { job, date } => {
            let Some(job) = find_job(&job) else {
                let known: Vec<_> = all_jobs().iter().map(|job| job.name()).collect();
                anyhow::bail!("unknown job {job:?}; known jobs: {}", known.join(", "));
            };
            let date = date.map_or_else(
                || RunDate::today(&context),
                |date| RunDate::of(&context, date),
            );
            let outcome = run_recorded(&context, job.as_ref(), date, Trigger::Manual).await?;
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "{}",
                    summary_line(job.name(), outcome.run_id, &outcome.counts)
                );
            }
            Ok(())
        }
        Command::Scheduler => {
            // Counters of the jobs (charges, failures, ...) for Prometheus to scrape.
            // A second instance on the same host keeps running without its own endpoint.
            let exporter = metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(config.metrics_bind)
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("duration_seconds".into()),
                    petory_batch::metrics::JOB_DURATION_BUCKETS,
                )
                .and_then(metrics_exporter_prometheus::PrometheusBuilder::install);
            if let Err(error) = exporter {
                tracing::warn!(%error, bind = %config.metrics_bind, "metrics endpoint not started");
            }
            petory_batch::metrics::register_counters();
            petory_batch::metrics::watch_pools(
                context.db.clone(),
                config.database.pool.max_size,
                redis.clone(),
                config.redis.max_size,
                std::time::Duration::from_secs(5),
            );
            if let Err(error) = petory_batch::metrics::seed_last_successes(&context).await {
                tracing::warn!(%error, "last successes not read from the run log");
            }
            tracing::info!(metrics = %config.metrics_bind, "petory-batch scheduler starting");
            petory_batch::scheduler::run(
                context,
                config.job_lease,
                petory_core::process::shutdown_signal(),
            )
            .await
        }
        Command::Jobs => Ok(()),
    }
}

fn summary_line(
    job: &str,
    run_id: i64,
    counts: &petory_core::platform::run_log::JobCounts,
) -> String {
    let counts: Vec<String> = counts
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("{job} run {run_id} succeeded: {}", counts.join(" "))
}
