//! `kakaopay-sandbox --bind ADDR [--auto-approve] [--latency-ms N]`: a local KakaoPay-compatible server.

use clap::Parser;
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};

#[derive(Debug, Parser)]
#[command(about = "KakaoPay-compatible sandbox for local runs and tests")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9100")]
    bind: String,
    /// Approve at once when the buyer opens the redirect URL.
    #[arg(long)]
    auto_approve: bool,
    #[arg(
        long,
        env = "KAKAOPAY_SECRET_KEY",
        default_value = "DEV-SANDBOX-SECRET"
    )]
    secret_key: String,
    /// Milliseconds added to every gateway call (benchmarks use 20).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let sandbox = KakaoPaySandbox::serve(
        listener,
        SandboxSettings {
            secret_key: args.secret_key,
            auto_approve: args.auto_approve,
            latency: std::time::Duration::from_millis(args.latency_ms),
            ..SandboxSettings::default()
        },
    )?;
    tracing::info!(url = %sandbox.base_url(), "kakaopay sandbox listening");
    tokio::select! {
        () = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
