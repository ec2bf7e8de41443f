//! The bottom layer: what every domain relies on and which names no domain (see
//! `tests/layers.rs`): business days, idempotency keys, mail, the words users read, the outbox,
//! the run log of batch jobs, traces and uploads.

pub mod business_days;
pub mod idempotency;
pub mod mail;
pub mod messages;
pub mod outbox;
pub mod run_log;
pub mod trace;
pub mod upload;
