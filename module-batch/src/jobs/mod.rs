//! The jobs, one module per domain (the same names as in `petory-core`).

pub mod calendar;
pub mod community;
pub mod daily;
pub mod identity;
pub mod notification;
pub mod outbox;
pub mod place;
pub mod platform;
pub mod shop;
pub mod upload;
