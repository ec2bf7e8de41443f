//! HTTP tests of `petory-api`: the real router, a real database and Redis per test.

mod admin_views;
mod cli;
mod contract;
mod daily;
mod events;
mod fake_google;
mod fixtures;
mod hardening;
mod health;
mod idempotency;
mod identity;
mod lifecycle;
mod money;
mod notifications;
mod oauth;
mod openapi;
mod orders;
mod payments;
mod pets;
mod problems;
mod reviews;
mod security;
mod shop;
mod subscriptions;
mod uploads;
mod util;
