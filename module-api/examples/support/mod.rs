//! What the API benchmarks share: the release binaries run as child processes, readiness,
//! percentiles, and resident memory.

// Each benchmark includes this module and uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The signing key the benchmarks give the API (and mint tokens with).
pub const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret";

/// A child process, killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Resident memory, in MiB.
    pub fn rss_mib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|line| line.starts_with("VmRSS:"))
                    .and_then(|line| line.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse::<u64>().ok())
            })
            .map_or(0, |kib| kib / 1024)
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The directory of the release binaries (this example's parent's parent).
pub fn release_dir() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or_else(|| anyhow::anyhow!("cannot find the release directory"))?
        .to_owned())
}

/// The environment every benchmarked process shares.
pub fn common_env(command: &mut Command, database_url: &str, redis_prefix: &str) {
    command
        .env("DATABASE_URL", database_url)
        .env("PETORY_REDIS_PREFIX", redis_prefix)
        .env("PETORY_JWT_SECRET", JWT_SECRET)
        .env("PETORY_DEV_MODE", "1")
        .env("PETORY_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
}

/// `petory-api serve` on `port`, with request quotas out of the way.
pub fn api(database_url: &str, redis_prefix: &str, port: u16) -> anyhow::Result<Process> {
    let mut api = Command::new(release_dir()?.join("petory-api"));
    common_env(&mut api, database_url, redis_prefix);
    api.arg("serve")
        .env("PETORY_BIND", format!("127.0.0.1:{port}"))
        .env("PETORY_RATE_LIMIT_PER_MINUTE", "100000000")
        .env("PETORY_AUTH_RATE_LIMIT_PER_MINUTE", "100000000");
    Ok(Process(api.spawn()?))
}

/// Waits until `base` answers `/health/ready`.
pub async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(Instant::now() < deadline, "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
