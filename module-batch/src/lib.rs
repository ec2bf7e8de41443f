//! `petory-batch`: scheduled jobs and one-off runs, every run recorded in `batch_job_runs`.

pub mod config;
pub mod job;
pub mod jobs;
pub mod metrics;
pub mod scheduler;
