//! Adapters to systems outside Petory: object storage now; payments, OAuth and mail as their
//! capabilities arrive. Each implements a port declared in `petory-core`.

pub mod image;
pub mod mail;
pub mod oauth;
pub mod payment;
pub mod place;
pub mod storage;
pub mod telemetry;
