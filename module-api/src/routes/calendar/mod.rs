//! The pet calendar: events and their occurrences, the iCalendar feed and import, and pets'
//! D-days.

pub mod dday;
pub mod event;
pub mod ical;
