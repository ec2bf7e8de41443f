use async_trait::async_trait;
use chrono::NaiveDate;

/// Counts views without a database write per view: one view per viewer per subject per day,
/// kept aside until a batch takes them into the database.
#[async_trait]
pub trait ViewCounter: Send + Sync + 'static {
    /// Counts `viewer`'s view of `subject` (e.g. `post:7`) on `day`, once: whether it counted.
    async fn record(
        &self,
        subject: &str,
        viewer: &str,
        day: NaiveDate,
    ) -> Result<bool, ViewCounterError>;

    /// Views of `subject` counted but not taken into the database yet.
    async fn pending(&self, subject: &str) -> Result<i64, ViewCounterError>;

    /// The counts to take into the database, under a batch id. The same batch is offered again
    /// until [`ViewCounter::ack`] says it is stored, so a crash loses nothing; the id lets the
    /// database refuse a batch it stored already.
    async fn take(&self) -> Result<Option<ViewBatch>, ViewCounterError>;

    /// The batch is stored: forget it.
    async fn ack(&self, batch: &str) -> Result<(), ViewCounterError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewBatch {
    pub id: String,
    pub counts: Vec<(String, i64)>,
}

#[derive(Debug, thiserror::Error)]
#[error("view counter failed: {0}")]
pub struct ViewCounterError(pub String);
