//! Cross-cutting records the whole product relies on.

pub mod idempotency;
pub mod trace;
