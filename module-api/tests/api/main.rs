//! HTTP tests of `petory-api`: the real router, a real database and Redis per test.

mod cli;
mod health;
mod idempotency;
mod identity;
mod openapi;
mod problems;
mod util;
