//! Daily records: the daily Q&A and the daily album (the calendar follows).

pub mod album;
pub mod qna;
