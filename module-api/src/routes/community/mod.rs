//! Community: pets, the owner board, the trade board, reports and moderation.

pub mod pet;
