//! Adapters to systems outside Petory: object storage (S3), payments (KakaoPay), sign-in (Google
//! OAuth), mail (SMTP or files), place search (Kakao Local), Web Push, image versions, CDN
//! purges and traces (OpenTelemetry). Each implements a port declared in `petory-core`.

pub mod cdn;
pub mod image;
pub mod mail;
pub mod oauth;
pub mod payment;
pub mod place;
pub mod push;
pub mod storage;
#[cfg(feature = "telemetry")]
pub mod telemetry;
