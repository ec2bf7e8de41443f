//! HTTP routes, one module per domain (the same names as in `petory-core`).

pub mod batch;
pub mod community;
pub mod daily;
pub mod event;
pub mod health;
pub mod identity;
pub mod metrics;
pub mod notification;
pub mod place;
pub mod shop;
pub mod upload;
