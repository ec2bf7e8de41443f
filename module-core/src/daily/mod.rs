//! Daily records: the question of the day and its answers, and the daily album.

pub mod album;
pub mod qna;
