//! Daily records: the daily Q&A, the daily album and pets' D-days (the calendar follows).

pub mod album;
pub mod dday;
pub mod qna;
