//! Community: pets, the owner board, the trade board, reports and moderation.

pub mod board;
pub mod pet;
pub mod report;
pub mod trade;
