//! `petory-api`: the REST API. Handlers are thin: extract, authorise, call one core service,
//! map the result. Everything else is here as shared plumbing.

pub mod app;
pub mod auth;
pub mod chat_rate;
pub mod config;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod page_cache;
pub mod pagination;
pub mod problem_code;
pub mod router;
pub mod routes;
pub mod server;
pub mod telemetry;
pub mod validation;
