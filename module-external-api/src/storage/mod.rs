//! Object storage adapters.

#[cfg(feature = "local-s3")]
pub mod local;
pub mod s3;
