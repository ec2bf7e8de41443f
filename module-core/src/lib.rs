//! Petory's domain: rules, services and persistence (PostgreSQL through diesel). Knows nothing of
//! HTTP, Redis or any vendor's API; what it needs from outside it declares in [`ports`].

pub mod calendar;
pub mod community;
pub mod config;
pub mod daily;
pub mod db;
pub mod identity;
pub mod moderation;
pub mod notification;
pub mod place;
pub mod platform;
pub mod ports;
pub mod process;
pub mod schema;
pub mod shop;
pub mod types;

#[cfg(feature = "test-support")]
pub mod testing;
