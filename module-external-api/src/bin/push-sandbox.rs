//! `push-sandbox --bind ADDR [--latency-ms N] [--count-only]`: a local Web Push service that
//! checks VAPID and decrypts what it receives. `push-sandbox keygen` prints a new VAPID pair.

use clap::{Parser, Subcommand};
use petory_external_api::push::VapidSettings;
use petory_external_api::push::sandbox::{PushSandbox, PushSandboxSettings};

#[derive(Debug, Parser)]
#[command(about = "Web Push service sandbox for local runs, tests and benchmarks")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[arg(long, default_value = "127.0.0.1:9300")]
    bind: String,
    /// Milliseconds added to every push (the benchmark uses 20).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Count pushes without keeping them.
    #[arg(long)]
    count_only: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a new VAPID key pair as environment variables.
    Keygen,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    if let Some(Command::Keygen) = args.command {
        let (private, public) = VapidSettings::generate();
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(
            &mut out,
            format!("PETORY_VAPID_PRIVATE_KEY={private}\nPETORY_VAPID_PUBLIC_KEY={public}\n")
                .as_bytes(),
        )?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let sandbox = PushSandbox::serve(
        listener,
        PushSandboxSettings {
            latency: std::time::Duration::from_millis(args.latency_ms),
            count_only: args.count_only,
        },
    )?;
    tracing::info!(url = %sandbox.base_url(), "push sandbox listening");
    tokio::select! {
        () = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
