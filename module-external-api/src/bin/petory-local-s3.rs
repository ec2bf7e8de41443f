//! `petory-local-s3 --bind ADDR --root DIR`: an S3-compatible server for local development.

use std::path::PathBuf;

use clap::Parser;
use petory_external_api::storage::local::{LocalS3, LocalS3Settings};

#[derive(Debug, Parser)]
#[command(about = "S3-compatible server over a directory, for local development")]
struct Args {
    #[arg(long, env = "LOCAL_S3_BIND", default_value = "127.0.0.1:9000")]
    bind: String,
    #[arg(long, env = "LOCAL_S3_ROOT", default_value = ".dev/s3")]
    root: PathBuf,
    #[arg(long, env = "S3_BUCKET", default_value = "petory")]
    bucket: String,
    #[arg(long, env = "S3_ACCESS_KEY_ID", default_value = "petory-dev")]
    access_key_id: String,
    #[arg(
        long,
        env = "S3_SECRET_ACCESS_KEY",
        default_value = "petory-dev-secret"
    )]
    secret_access_key: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let server = LocalS3::serve(
        listener,
        &LocalS3Settings {
            root: args.root,
            bucket: args.bucket,
            access_key_id: args.access_key_id,
            secret_access_key: args.secret_access_key,
        },
    )?;
    tracing::info!(endpoint = %server.endpoint(), "local S3 server listening");
    tokio::select! {
        () = server.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
