//! HTTP routes, one module per domain (the same names as in `petory-core`).

pub mod calendar;
pub mod community;
pub mod daily;
pub mod health;
pub mod identity;
pub mod metrics;
pub mod moderation;
pub mod notification;
pub mod outbox;
pub mod place;
pub mod run_log;
pub mod shop;
pub mod upload;
