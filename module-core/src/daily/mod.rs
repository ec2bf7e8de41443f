//! Daily records: the question of the day and its answers, and the daily album (the calendar
//! follows).

pub mod album;
pub mod qna;
