//! The pet calendar: my events ([`CalendarEvent`]), each in its own IANA time zone, optionally
//! recurring by an RFC 5545 rule (parsed, validated and expanded by the `rrule` crate, never by
//! hand), with cancelled and edited occurrences, reminders, pets' D-days, and the calendar as an
//! iCalendar feed and import. Occurrences are expanded in the event's zone, so "every day at
//! 9:00" stays at 9:00 across daylight-saving changes.
//!
//! - [`event`]: the events and their writes;
//! - [`rule`]: checking a rule and expanding it into occurrences;
//! - [`series`]: changing some occurrences of a series (cancel, edit one, split);
//! - [`ical`] and [`import`]: the RFC 5545 text, and importing a file;
//! - [`feed`]: the secret feed address;
//! - [`reminder`] and [`dday`]: the reminder job and the D-days it announces.

pub mod dday;
pub mod event;
pub mod feed;
pub mod ical;
pub mod import;
pub mod reminder;
pub mod rule;
pub mod series;

pub use event::{CalendarEvent, CalendarEventId, EventDetail, EventDraft, Override};
pub use rule::{Occurrence, Window};
pub use series::{EditScope, OccurrenceEdit};

use crate::db::DbError;

/// Events one user keeps at most.
pub const MAX_EVENTS: i64 = 1000;
/// The longest range of occurrences asked at once.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Edited occurrences one series keeps at most.
pub const MAX_OVERRIDES: i64 = 366;
/// Reminders per event, and how far ahead (4 weeks).
pub const MAX_REMINDERS: usize = 5;
pub const MAX_REMINDER_MINUTES: i32 = 40_320;
/// The years events, their exceptions, their rules' ends and the listed ranges lie in (the
/// database checks them too): dates a pet's calendar means, and bounded work for the rules.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2200;
/// The largest `COUNT` a rule may have (13 years of a daily event).
pub const MAX_COUNT: u32 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("no such event of yours")]
    NotFound,
    #[error("no such pet of yours")]
    PetNotFound,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("the event has no occurrence on that date")]
    OccurrenceNotFound,
    #[error("a single event is edited or deleted as a whole, not on one date")]
    NotRecurring,
    #[error("a series keeps at most {MAX_OVERRIDES} edited occurrences")]
    TooManyOverrides,
    #[error("a calendar keeps at most {max} events")]
    TooMany { max: i64 },
    #[error("occurrences are listed for at most {MAX_RANGE_DAYS} days at once")]
    RangeTooLong,
    #[error("occurrences are listed within the years {FIRST_YEAR} to {LAST_YEAR}")]
    OutOfYears,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for CalendarError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

pub(crate) fn invalid(
    field: &'static str,
    code: &'static str,
    message: impl Into<String>,
) -> CalendarError {
    CalendarError::Invalid {
        field,
        code,
        message: message.into(),
    }
}
