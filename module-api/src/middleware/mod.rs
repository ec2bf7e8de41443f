//! Cross-cutting request handling.

pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod problem;
pub mod rate_limit;
pub mod security;
