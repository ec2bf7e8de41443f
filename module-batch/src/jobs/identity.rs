//! Account lifecycle jobs (see `petory_core::identity::lifecycle`).

use async_trait::async_trait;
use petory_core::db::DbError;
use petory_core::identity::lifecycle;
use petory_core::platform::run_log::{JobCounts, job_counts};

use crate::job::{Job, JobContext, RunDate};

/// Warns users about to turn dormant, then makes the warned ones dormant.
pub struct AccountDormancy;

#[async_trait]
impl Job for AccountDormancy {
    fn name(&self) -> &'static str {
        "account-dormancy"
    }

    fn default_schedule(&self) -> &'static str {
        "0 0 3 * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let warned = lifecycle::warn_inactive(&mut conn, date.as_of, context.lifecycle).await?;
        let dormant = lifecycle::make_dormant(&mut conn, date.as_of, context.lifecycle).await?;
        Ok(job_counts([("warned", warned), ("dormant", dormant)]))
    }
}

/// Warns dormant and withdrawn accounts about their deletion, then deletes the warned ones.
pub struct AccountDeletion;

#[async_trait]
impl Job for AccountDeletion {
    fn name(&self) -> &'static str {
        "account-deletion"
    }

    fn default_schedule(&self) -> &'static str {
        "0 30 3 * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let warned = lifecycle::warn_deletion(&mut conn, date.as_of, context.lifecycle).await?;
        let deleted = lifecycle::delete_expired(
            &mut conn,
            date.as_of,
            context.lifecycle,
            &petory_core::identity::closing::Closings(&[
                &petory_core::shop::subscription::EndSubscriptions,
                &petory_core::notification::push::EndPushSubscriptions,
            ]),
        )
        .await?;
        Ok(job_counts([
            ("warned", warned),
            ("removed", deleted.removed),
            ("anonymised", deleted.anonymised),
        ]))
    }
}

/// Ends suspensions at their end time.
pub struct LiftSuspensions;

#[async_trait]
impl Job for LiftSuspensions {
    fn name(&self) -> &'static str {
        "lift-suspensions"
    }

    fn default_schedule(&self) -> &'static str {
        "0 */5 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let lifted = lifecycle::lift_suspensions(&mut conn, date.as_of).await?;
        Ok(job_counts([("lifted", lifted)]))
    }
}
