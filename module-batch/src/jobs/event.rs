//! Delivery of outbox events.

use async_trait::async_trait;
use petory_core::batch::JobCounts;

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
        Ok(JobCounts::from([
            ("delivered".to_owned(), counts.delivered),
            ("retried".to_owned(), counts.retried),
            ("failed".to_owned(), counts.failed),
        ]))
    }
}
