//! The bottom layer: what every domain relies on and which names no domain (see
//! `tests/layers.rs`): business days, idempotency keys, mail, the words users read, the outbox,
//! the run log of batch jobs, traces, uploads and the served versions of their images.

pub mod business_days;
pub mod idempotency;
pub mod image;
pub mod mail;
pub mod messages;
pub mod outbox;
pub mod run_log;
pub mod trace;
pub mod upload;
