//! The supplement store.

pub mod cart;
pub mod catalog;
pub mod order;
pub mod payment;
pub mod review;
pub mod shipment;
pub mod subscription;
