//! `petory-batch` settings, read once from the environment at start-up.

use petory_core::config::{self, ConfigError};
use petory_core::db::DatabaseSettings;
use petory_core::identity::lifecycle::LifecycleSettings;
use petory_core::platform::business_days::{BusinessCalendar, Tz};
use petory_core::shop::ShopSettings;
use petory_core::shop::billing::BillingSettings;
use petory_external_api::mail::MailSettings;
use petory_external_api::payment::kakaopay::KakaoPaySettings;
use petory_redis::RedisSettings;

#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub timezone: Tz,
    pub kakaopay: KakaoPaySettings,
    pub billing: BillingSettings,
    pub shop: ShopSettings,
    pub lifecycle: LifecycleSettings,
    /// How long notifications are kept before `purge-notifications` deletes them.
    pub notification_retention: chrono::TimeDelta,
    /// How long the run log keeps runs (`prune-batch-runs`).
    pub run_retention: chrono::TimeDelta,
    pub mail: MailSettings,
    /// How long access tokens live, so revocations are kept that long.
    pub access_ttl: std::time::Duration,
    /// Where the scheduler serves Prometheus metrics (`PETORY_BATCH_METRICS_BIND`).
    pub metrics_bind: std::net::SocketAddr,
    /// Where the outbox listener connects (`PETORY_DB_LISTEN_URL`, else `DATABASE_URL` unless
    /// that is a PgBouncer): `None` turns the listener off.
    pub listen_url: Option<String>,
    pub s3: petory_external_api::storage::s3::S3Settings,
    pub uploads: petory_core::platform::upload::UploadSettings,
    /// How long a replica's claim on a scheduled job's tick holds without renewal
    /// (`PETORY_JOB_LEASE_SECS`): a replica that died mid-run leaves the next tick to another
    /// within this.
    pub job_lease: chrono::TimeDelta,
    /// Web Push: the VAPID key and the client's timeout.
    pub push: petory_external_api::push::PushSettings,
    pub push_sender: petory_core::notification::push::delivery::SenderSettings,
}

impl BatchConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let database = DatabaseSettings::from_env()?;
        let listen_url = match config::var("PETORY_DB_LISTEN_URL")? {
            Some(url) => Some(config::ensure(
                "PETORY_DB_LISTEN_URL",
                url.clone(),
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "must be a postgres:// URL",
            )?),
            // LISTEN needs a session: a transaction-pooling PgBouncer cannot keep one.
            None if database.pool.pgbouncer => None,
            None => Some(database.url.clone()),
        };
        let job_lease = config::parsed_or("PETORY_JOB_LEASE_SECS", 60_i64)?;
        config::ensure(
            "PETORY_JOB_LEASE_SECS",
            job_lease,
            (2..=3600).contains(&job_lease),
            "must be 2 to 3600",
        )?;
        Ok(Self {
            job_lease: chrono::TimeDelta::seconds(job_lease),
            push: petory_external_api::push::PushSettings::from_env()?,
            push_sender: push_sender_from_env()?,
            listen_url,
            database,
            redis: RedisSettings::from_env()?,
            s3: petory_external_api::storage::s3::S3Settings::from_env()?,
            uploads: petory_core::platform::upload::UploadSettings::from_env()?,
            timezone: config::parsed_or("PETORY_TIMEZONE", BusinessCalendar::DEFAULT_ZONE)?,
            kakaopay: KakaoPaySettings::from_env()?,
            billing: billing_from_env()?,
            shop: shop_from_env()?,
            lifecycle: lifecycle_from_env()?,
            notification_retention: days_from_env(
                "PETORY_NOTIFICATION_RETENTION_DAYS",
                crate::jobs::notification::DEFAULT_RETENTION,
            )?,
            run_retention: days_from_env(
                "PETORY_BATCH_RUN_RETENTION_DAYS",
                crate::jobs::platform::DEFAULT_RUN_RETENTION,
            )?,
            mail: MailSettings::from_env()?,
            access_ttl: petory_core::identity::token::access_ttl_from_env()?,
            metrics_bind: config::parsed_or(
                "PETORY_BATCH_METRICS_BIND",
                std::net::SocketAddr::from(([127, 0, 0, 1], 9464)),
            )?,
        })
    }
}

/// `PETORY_BILLING_CHUNK`, `PETORY_BILLING_CONCURRENCY` and `PETORY_BILLING_LEASE_SECS`.
fn billing_from_env() -> Result<BillingSettings, ConfigError> {
    let defaults = BillingSettings::default();
    let chunk = config::parsed_or("PETORY_BILLING_CHUNK", defaults.chunk)?;
    config::ensure(
        "PETORY_BILLING_CHUNK",
        chunk,
        (1..=10_000).contains(&chunk),
        "must be 1 to 10000",
    )?;
    let concurrency = config::parsed_or("PETORY_BILLING_CONCURRENCY", defaults.concurrency)?;
    config::ensure(
        "PETORY_BILLING_CONCURRENCY",
        concurrency,
        (1..=1024).contains(&concurrency),
        "must be 1 to 1024",
    )?;
    let lease = config::parsed_or("PETORY_BILLING_LEASE_SECS", defaults.lease.num_seconds())?;
    config::ensure(
        "PETORY_BILLING_LEASE_SECS",
        lease,
        lease >= 1,
        "must be at least 1 second",
    )?;
    Ok(BillingSettings {
        chunk,
        concurrency,
        lease: chrono::TimeDelta::seconds(lease),
    })
}

/// `PETORY_PUSH_CONCURRENCY` (pushes in flight, 64) and `PETORY_PUSH_CHUNK` (claimed at a
/// time, 500).
fn push_sender_from_env()
-> Result<petory_core::notification::push::delivery::SenderSettings, ConfigError> {
    let defaults = petory_core::notification::push::delivery::SenderSettings::default();
    let concurrency = config::parsed_or("PETORY_PUSH_CONCURRENCY", defaults.concurrency)?;
    config::ensure(
        "PETORY_PUSH_CONCURRENCY",
        concurrency,
        (1..=1024).contains(&concurrency),
        "must be 1 to 1024",
    )?;
    let chunk = config::parsed_or("PETORY_PUSH_CHUNK", defaults.chunk)?;
    config::ensure(
        "PETORY_PUSH_CHUNK",
        chunk,
        (1..=10_000).contains(&chunk),
        "must be 1 to 10000",
    )?;
    Ok(petory_core::notification::push::delivery::SenderSettings {
        concurrency,
        chunk,
        ..defaults
    })
}

/// `PETORY_ORDER_DELIVERY_CONFIRM_DAYS` and `PETORY_RENEWAL_NOTICE_DAYS`.
fn shop_from_env() -> Result<ShopSettings, ConfigError> {
    let defaults = ShopSettings::default();
    let confirm = config::parsed_or(
        "PETORY_ORDER_DELIVERY_CONFIRM_DAYS",
        defaults.confirm_delivery_after.num_days(),
    )?;
    config::ensure(
        "PETORY_ORDER_DELIVERY_CONFIRM_DAYS",
        confirm,
        (1..=60).contains(&confirm),
        "must be 1 to 60",
    )?;
    let notice = config::parsed_or("PETORY_RENEWAL_NOTICE_DAYS", defaults.renewal_notice_days)?;
    config::ensure(
        "PETORY_RENEWAL_NOTICE_DAYS",
        notice,
        (1..=14).contains(&notice),
        "must be 1 to 14",
    )?;
    Ok(ShopSettings {
        confirm_delivery_after: chrono::TimeDelta::days(confirm),
        renewal_notice_days: notice,
    })
}

/// `PETORY_DORMANT_AFTER_DAYS`, `PETORY_DELETE_AFTER_DAYS` and `PETORY_LIFECYCLE_WARNING_DAYS`.
fn lifecycle_from_env() -> Result<LifecycleSettings, ConfigError> {
    let defaults = LifecycleSettings::default();
    let days = |name: &'static str, default: chrono::TimeDelta| -> Result<i64, ConfigError> {
        let value = config::parsed_or(name, default.num_days())?;
        config::ensure(name, value, value >= 1, "must be at least 1 day")
    };
    let dormant_after = days("PETORY_DORMANT_AFTER_DAYS", defaults.dormant_after)?;
    let delete_after = days("PETORY_DELETE_AFTER_DAYS", defaults.delete_after)?;
    let warning = days("PETORY_LIFECYCLE_WARNING_DAYS", defaults.warning)?;
    config::ensure(
        "PETORY_LIFECYCLE_WARNING_DAYS",
        warning,
        warning < dormant_after.min(delete_after),
        "must be shorter than the dormancy and deletion periods",
    )?;
    Ok(LifecycleSettings {
        dormant_after: chrono::TimeDelta::days(dormant_after),
        delete_after: chrono::TimeDelta::days(delete_after),
        warning: chrono::TimeDelta::days(warning),
        ..defaults
    })
}

/// A retention period in days, 1 to 3650.
fn days_from_env(
    name: &'static str,
    default: chrono::TimeDelta,
) -> Result<chrono::TimeDelta, ConfigError> {
    let days = config::parsed_or(name, default.num_days())?;
    config::ensure(
        name,
        days,
        (1..=3650).contains(&days),
        "must be 1 to 3650 days",
    )?;
    Ok(chrono::TimeDelta::days(days))
}

/// The cron schedule of a job: `PETORY_SCHEDULE_<JOB>` (e.g. `PETORY_SCHEDULE_PRUNE_IDEMPOTENCY_KEYS`)
/// with seconds, in the business time zone; `off` disables the job in scheduler mode.
pub fn schedule_for(job: &str, default: &str) -> Result<Option<String>, ConfigError> {
    let name = format!(
        "PETORY_SCHEDULE_{}",
        job.to_ascii_uppercase().replace('-', "_")
    );
    // Leaked once per job at start-up so the error can name the variable statically.
    let name: &'static str = Box::leak(name.into_boxed_str());
    let schedule = config::var_or(name, default)?;
    if schedule.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let fields = schedule.split_whitespace().count();
    config::ensure(
        name,
        schedule.as_str(),
        (6..=7).contains(&fields),
        "must be a cron expression with seconds, or `off`",
    )?;
    Ok(Some(schedule))
}
