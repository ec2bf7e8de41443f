//! What a job is, how a run is recorded, and the list of jobs this binary knows.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use petory_core::db::DbPool;
use petory_core::identity::lifecycle::LifecycleSettings;
use petory_core::identity::session::SessionStore;
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::platform::run_log::{self, JobCounts, Trigger};
use petory_core::ports::{Clock, Mailer, NotificationSignal};
use petory_core::shop::billing::BillingSettings;
use petory_core::shop::payment::PaymentGateway;

use crate::jobs;

/// What every job may use. Built once per process.
#[derive(Clone)]
pub struct JobContext {
    pub db: DbPool,
    /// Where the outbox listener connects: `LISTEN` needs a session of its own, so behind a
    /// transaction-pooling PgBouncer this is PostgreSQL itself (`PETORY_DB_LISTEN_URL`).
    /// `None`: no listener, events wait for the `relay-events` poll.
    pub database_url: Option<String>,
    /// Runs and idle counters older than this are forgotten (`PETORY_BATCH_RUN_RETENTION_DAYS`).
    pub run_retention: chrono::TimeDelta,
    pub clock: Arc<dyn Clock>,
    pub calendar: BusinessCalendar,
    pub payments: Arc<dyn PaymentGateway>,
    pub notifications: Arc<dyn NotificationSignal>,
    pub billing: BillingSettings,
    pub shop: petory_core::shop::ShopSettings,
    pub lifecycle: LifecycleSettings,
    /// How long notifications are kept (`PETORY_NOTIFICATION_RETENTION_DAYS`).
    pub notification_retention: chrono::TimeDelta,
    pub mailer: Arc<dyn Mailer>,
    pub sessions: Arc<dyn SessionStore>,
    /// How long access tokens live (`PETORY_ACCESS_TOKEN_TTL_SECS`).
    pub access_ttl: std::time::Duration,
    pub object_store: Arc<dyn petory_core::ports::ObjectStore>,
    pub uploads: petory_core::platform::upload::UploadSettings,
    pub views: Arc<dyn petory_core::ports::ViewCounter>,
    pub place_ranking: Arc<dyn petory_core::place::ranking::PlaceRanking>,
    /// Makes the served versions of images.
    pub images: Arc<dyn petory_core::ports::ImageProcessor>,
    /// The cache in front of a public image base URL, if any.
    pub cdn: Arc<dyn petory_core::ports::Cdn>,
    /// Sends Web Push messages (`send-pushes`).
    pub push: Arc<dyn petory_core::ports::PushService>,
    pub push_sender: petory_core::notification::push::delivery::SenderSettings,
}

impl JobContext {
    /// What the outbox relay's handlers reach.
    pub fn relay_ports(&self) -> petory_event::RelayPorts {
        petory_event::RelayPorts {
            db: self.db.clone(),
            gateway: self.payments.clone(),
            signal: self.notifications.clone(),
            mailer: self.mailer.clone(),
            sessions: self.sessions.clone(),
            access_ttl: self.access_ttl,
        }
    }
}

/// The business day a run works on and the instant it treats as "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunDate {
    pub business_date: NaiveDate,
    pub as_of: DateTime<Utc>,
}

impl RunDate {
    /// Today, as of now.
    pub fn today(context: &JobContext) -> Self {
        let now = context.clock.now();
        Self {
            business_date: context.calendar.day_of(now),
            as_of: now,
        }
    }

    /// A given day (`--date`): as of its end, or now if that is earlier.
    pub fn of(context: &JobContext, business_date: NaiveDate) -> Self {
        let end = context
            .calendar
            .start_of(business_date + TimeDelta::days(1));
        Self {
            business_date,
            as_of: end.min(context.clock.now()),
        }
    }
}

#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// Stable name, used by `run JOB`, in `batch_job_runs` and in the schedule variable.
    fn name(&self) -> &'static str;
    /// Cron expression with seconds, in the business time zone.
    fn default_schedule(&self) -> &'static str;
    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts>;
}

/// Every job of this binary.
pub fn all_jobs() -> Vec<Arc<dyn Job>> {
    vec![
        Arc::new(jobs::platform::PruneIdempotencyKeys),
        Arc::new(jobs::platform::PruneBatchRuns),
        Arc::new(jobs::upload::PruneUnattachedUploads),
        Arc::new(jobs::community::FlushViews),
        Arc::new(jobs::community::TellPostLikes),
        Arc::new(jobs::place::RebuildPlaceRanking),
        Arc::new(jobs::upload::ImageVersions),
        Arc::new(jobs::shop::ExpireUnpaidOrders),
        Arc::new(jobs::shop::BillSubscriptions),
        Arc::new(jobs::shop::ConfirmDeliveries),
        Arc::new(jobs::daily::DailyQuestionNotification),
        Arc::new(jobs::calendar::CalendarReminders),
        Arc::new(jobs::identity::AccountDormancy),
        Arc::new(jobs::identity::AccountDeletion),
        Arc::new(jobs::identity::LiftSuspensions),
        Arc::new(jobs::notification::PurgeNotifications),
        Arc::new(jobs::outbox::RelayEvents),
        Arc::new(jobs::notification::SendPushes),
    ]
}

pub fn find_job(name: &str) -> Option<Arc<dyn Job>> {
    all_jobs().into_iter().find(|job| job.name() == name)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub run_id: i64,
    pub counts: JobCounts,
}

/// Runs a job once and records the run (start, end, status, counts or error).
pub async fn run_recorded(
    context: &JobContext,
    job: &dyn Job,
    date: RunDate,
    trigger: Trigger,
) -> anyhow::Result<RunOutcome> {
    let run_id = {
        let mut conn = context
            .db
            .get()
            .await
            .map_err(petory_core::db::DbError::from)?;
        run_log::start_run(
            &mut conn,
            job.name(),
            date.business_date,
            trigger,
            context.clock.now(),
        )
        .await?
    };
    tracing::info!(job = job.name(), run_id, business_date = %date.business_date, "job started");
    let started = std::time::Instant::now();
    // Events the job records carry this span's trace (when tracing is on).
    let span = tracing::info_span!("job", job = job.name(), run_id);
    let result = tracing::Instrument::instrument(job.run(context, date), span).await;
    crate::metrics::record_run(job.name(), started, result.is_ok(), context.clock.now());
    let mut conn = context
        .db
        .get()
        .await
        .map_err(petory_core::db::DbError::from)?;
    match result {
        Ok(counts) => {
            run_log::finish_run(&mut conn, run_id, Ok(&counts), context.clock.now()).await?;
            tracing::info!(job = job.name(), run_id, ?counts, "job succeeded");
            Ok(RunOutcome { run_id, counts })
        }
        Err(error) => {
            let message = format!("{error:#}");
            run_log::finish_run(&mut conn, run_id, Err(&message), context.clock.now()).await?;
            tracing::error!(job = job.name(), run_id, error = %message, "job failed");
            Err(error)
        }
    }
}
