//! HTTP routes, one module per domain (the same names as in `petory-core`).

pub mod health;
pub mod metrics;
