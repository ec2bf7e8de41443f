//! Daily records: the daily Q&A and the daily album.

pub mod album;
pub mod qna;
