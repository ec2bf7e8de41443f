//! Daily records: the question of the day and its answers, the daily album and pets' D-days
//! (the calendar follows).

pub mod album;
pub mod dday;
pub mod qna;
pub mod schedule;
