//! The state every handler shares: pools, ports and settings, built once per process.

use std::ops::Deref;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use petory_core::calendar::BusinessCalendar;
use petory_core::db::{self, DbConn, DbPool};
use petory_core::ports::{Clock, ObjectStore, SystemClock};
use petory_external_api::storage::s3::S3ObjectStore;
use petory_redis::RedisPool;

use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::telemetry;

pub struct App {
    pub config: ApiConfig,
    pub db: DbPool,
    pub redis: RedisPool,
    pub object_store: Arc<dyn ObjectStore>,
    pub clock: Arc<dyn Clock>,
    pub calendar: BusinessCalendar,
    pub metrics: PrometheusHandle,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self(Arc::new(app))
    }

    /// The production wiring: real pools and adapters, the system clock. Connects to nothing
    /// yet, so the process starts even while a dependency is down.
    pub fn from_config(config: ApiConfig) -> anyhow::Result<Self> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    pub fn with_clock(config: ApiConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Ok(Self::new(App {
            db: db::pool(&config.database.url, &config.database.pool),
            redis: petory_redis::pool(&config.redis)?,
            object_store: Arc::new(S3ObjectStore::new(&config.s3)),
            calendar: BusinessCalendar::new(config.timezone),
            metrics: telemetry::metrics_handle(),
            clock,
            config,
        }))
    }

    /// A pooled database connection, or 503 when none can be had.
    pub async fn db(&self) -> Result<DbConn<'_>, ApiError> {
        Ok(self.db.get().await.map_err(db::DbError::from)?)
    }
}
