//! Moderation: one model for every kind of content. Members report what they see; enough
//! distinct reporters hide it until an admin dismisses, hides or deletes it, and every decision
//! lands in the moderation log. Each kind of content is [`Reportable`](content::Reportable):
//! how it is locked, hidden, shown, deleted and counted, in typed queries of its own tables.
//!
//! - [`content`]: the kinds of content and what moderation does to each;
//! - [`report`]: reporting, the weight of reports, and the admins' queue;
//! - [`decision`]: admins' decisions (from a report or on their own) and the log;
//! - [`search`]: admins' lists of content, hidden and deleted included, found by words, author
//!   and hiddenness without waiting for a report;
//! - [`record`]: a member's whole record (account, counts, reports made and received, latest
//!   content).

pub mod content;
pub mod decision;
pub mod record;
pub mod report;
pub mod search;

use crate::db::DbError;
use crate::identity::{EmailNotVerified, IdentityError, Suspended};

crate::id_type! {
    /// A report of some content (`reports.id`).
    pub struct ReportId;
}

crate::id_type! {
    /// An entry of the moderation log (`moderation_log.id`).
    pub struct ModerationEntryId;
}

crate::text_enum! {
    /// What kind of content a report points at.
    pub enum TargetType {
        Post = "POST",
        Comment = "COMMENT",
        Listing = "LISTING",
        ChatMessage = "CHAT_MESSAGE",
        PlaceReview = "PLACE_REVIEW",
        Place = "PLACE",
        AlbumPhoto = "ALBUM_PHOTO",
    }
}

crate::text_enum! {
    pub enum Reason {
        Spam = "SPAM",
        Abuse = "ABUSE",
        Adult = "ADULT",
        Fraud = "FRAUD",
        Other = "OTHER",
    }
}

crate::text_enum! {
    pub enum ReportStatus {
        Open = "OPEN",
        Resolved = "RESOLVED",
    }
}

crate::text_enum! {
    /// An admin's decision: leave the content up (and show it again if it was hidden), hide
    /// it, or delete it.
    pub enum Resolution {
        Dismiss = "DISMISS",
        Hide = "HIDE",
        Delete = "DELETE",
    }
}

crate::text_enum! {
    /// What the log records: an admin's decision, or the automatic hiding (no admin).
    pub enum ModerationAction {
        AutoHide = "AUTO_HIDE",
        Dismiss = "DISMISS",
        Hide = "HIDE",
        Delete = "DELETE",
    }
}

impl From<Resolution> for ModerationAction {
    fn from(resolution: Resolution) -> Self {
        match resolution {
            Resolution::Dismiss => Self::Dismiss,
            Resolution::Hide => Self::Hide,
            Resolution::Delete => Self::Delete,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error(transparent)]
    Suspended(#[from] Suspended),
    #[error(transparent)]
    EmailNotVerified(#[from] EmailNotVerified),
    #[error("nothing of that kind and id to report")]
    ReportTargetNotFound,
    #[error("one's own content is not reported but edited or deleted")]
    OwnContent,
    #[error("you already reported this, and the report is still open")]
    AlreadyReported,
    #[error("no such report")]
    ReportNotFound,
    #[error("no live content of that kind and id")]
    ContentNotFound,
    #[error("the report is already resolved")]
    ReportAlreadyResolved,
    /// The account a record is asked of (`UserNotFound`).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for ModerationError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}
