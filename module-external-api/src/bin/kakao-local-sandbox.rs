//! `kakao-local-sandbox --bind ADDR [--places N]`: a local Kakao Local-compatible server.

use clap::Parser;
use petory_external_api::place::sandbox::{KakaoLocalSandbox, SandboxSettings};

#[derive(Debug, Parser)]
#[command(about = "Kakao Local-compatible sandbox (keyword search) for local runs and tests")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9200")]
    bind: String,
    #[arg(long, env = "KAKAO_REST_API_KEY", default_value = "DEV-KAKAO-REST-KEY")]
    rest_api_key: String,
    /// How many places any keyword finds.
    #[arg(long, default_value_t = 45)]
    places: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let sandbox = KakaoLocalSandbox::serve(
        listener,
        SandboxSettings {
            rest_api_key: args.rest_api_key,
            places_per_keyword: args.places,
        },
    )?;
    tracing::info!(url = %sandbox.base_url(), "kakao local sandbox listening");
    tokio::select! {
        () = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
