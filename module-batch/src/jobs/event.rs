//! Delivery of outbox events.

use async_trait::async_trait;
use petory_core::batch::JobCounts;
use std::sync::Arc;

use petory_event::{CancelPayment, Relay, RetryPolicy};

use crate::job::{Job, JobContext, RunDate};

/// Relays due outbox events to their handlers (retries with backoff are part of it).
pub struct RelayEvents;

impl RelayEvents {
    /// Every event handler of the product; new kinds register here.
    fn relay(context: &JobContext) -> Relay {
        Relay::new(RetryPolicy::default()).with_handler(Arc::new(CancelPayment {
            gateway: context.payments.clone(),
            db: context.db.clone(),
        }))
    }
}

#[async_trait]
impl Job for RelayEvents {
    fn name(&self) -> &'static str {
        "relay-events"
    }

    fn default_schedule(&self) -> &'static str {
        "*/10 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let counts = Self::relay(context)
            .relay_due(&context.db, date.as_of, 100)
            .await?;
        Ok(JobCounts::from([
            ("delivered".to_owned(), counts.delivered),
            ("retried".to_owned(), counts.retried),
            ("failed".to_owned(), counts.failed),
        ]))
    }
}
