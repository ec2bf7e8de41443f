//! Delivery of outbox events.

use async_trait::async_trait;
use petory_core::platform::run_log::{JobCounts, job_counts};

use petory_event::{RetryPolicy, product_relay};

use crate::job::{Job, JobContext, RunDate};

/// Relays due outbox events to their handlers (retries with backoff are part of it).
pub struct RelayEvents;

#[async_trait]
impl Job for RelayEvents {
    fn name(&self) -> &'static str {
        "relay-events"
    }

    fn default_schedule(&self) -> &'static str {
        "*/10 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let counts = product_relay(RetryPolicy::default(), context.relay_ports())
            .relay_due(&context.db, date.as_of, 100)
            .await?;
        // What is left, for the outbox alerts (a backlog that grows, events that failed).
        let mut conn = context
            .db
            .get()
            .await
            .map_err(petory_core::db::DbError::from)?;
        let backlog = petory_core::platform::outbox::backlog(&mut conn).await?;
        crate::metrics::record_backlog(&backlog, context.clock.now());
        Ok(job_counts([
            ("delivered", counts.delivered),
            ("retried", counts.retried),
            ("failed", counts.failed),
        ]))
    }
}
