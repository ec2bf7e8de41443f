//! Daily records: the question of the day and its answers, the daily album, pets' D-days and
//! the pet calendar (events, its iCalendar feed and import, and reminders).

pub mod album;
pub mod dday;
pub mod ical;
pub mod qna;
pub mod reminder;
pub mod schedule;
