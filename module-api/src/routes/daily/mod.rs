//! Daily records: the daily Q&A, the daily album, the pet calendar and pets' D-days.

pub mod album;
pub mod dday;
pub mod ical;
pub mod qna;
pub mod schedule;
