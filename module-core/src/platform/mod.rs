//! The bottom layer: what every domain relies on and which names no domain (see
//! `tests/layers.rs`): business days, idempotency keys, the outbox, the run log of batch jobs, traces.

pub mod business_days;
pub mod idempotency;
pub mod outbox;
pub mod run_log;
pub mod trace;
