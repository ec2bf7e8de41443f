//! Uploads: the served versions of their images, and those nothing came to use.

use async_trait::async_trait;
use petory_core::db::DbError;
use petory_core::platform::run_log::{JobCounts, job_counts};
use petory_core::platform::{image, upload};

use crate::job::{Job, JobContext, RunDate};

/// Removes objects (and their records) that were presigned but never attached within a day.
pub struct PruneUnattachedUploads;

#[async_trait]
impl Job for PruneUnattachedUploads {
    fn name(&self) -> &'static str {
        "prune-unattached-uploads"
    }

    fn default_schedule(&self) -> &'static str {
        "0 25 * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let removed = upload::prune_unattached(
            &mut conn,
            context.object_store.as_ref(),
            &context.uploads,
            500,
            date.as_of,
        )
        .await?;
        Ok(job_counts([("removed", removed)]))
    }
}

/// Makes the served versions of newly attached images (every 10 seconds: until then readers see
/// the placeholder), and moves the versions of images whose content moderation hid, deleted or
/// showed again. Instances share the uploads (`SKIP LOCKED`).
pub struct ImageVersions;

#[async_trait]
impl Job for ImageVersions {
    fn name(&self) -> &'static str {
        "image-versions"
    }

    fn default_schedule(&self) -> &'static str {
        "*/10 * * * * *"
    }

    async fn run(&self, context: &JobContext, date: RunDate) -> anyhow::Result<JobCounts> {
        let mut conn = context.db.get().await.map_err(DbError::from)?;
        let counts = image::make_versions(
            &mut conn,
            context.object_store.as_ref(),
            context.images.as_ref(),
            20,
            date.as_of,
        )
        .await?;
        let moved = image::apply_withholding(
            &mut conn,
            context.object_store.as_ref(),
            context.cdn.as_ref(),
            100,
        )
        .await?;
        Ok(job_counts([
            ("made", counts.made),
            ("failed", counts.failed),
            ("withholding_changed", moved),
        ]))
    }
}
