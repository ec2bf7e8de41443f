//! Payment gateways.

pub mod kakaopay;
#[cfg(feature = "kakaopay-sandbox")]
pub mod sandbox;
