//! Daily records: the question of the day and its answers (the album and calendar follow).

pub mod qna;
