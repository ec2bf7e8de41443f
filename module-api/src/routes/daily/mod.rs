//! Daily records: the daily Q&A (the album and calendar follow).

pub mod qna;
