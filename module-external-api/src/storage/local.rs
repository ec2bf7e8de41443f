//! A local S3-compatible server (s3s-fs over a directory) for development and tests, so that
//! presigned uploads are exercised against real S3 wire behaviour and signature checks.

use std::net::SocketAddr;
use std::path::PathBuf;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct LocalS3Settings {
    pub root: PathBuf,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub struct LocalS3 {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalS3 {
    /// Serves on `listener` until dropped. The bucket is created if it does not exist.
    pub fn serve(listener: TcpListener, settings: &LocalS3Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(settings.root.join(&settings.bucket))?;
        let fs = s3s_fs::FileSystem::new(&settings.root)
            .map_err(|error| anyhow::anyhow!("local s3 root: {error:?}"))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(
            settings.access_key_id.clone(),
            settings.secret_access_key.clone(),
        ));
        let service = builder.build();
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "local s3 connection ended");
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the task is stopped (for the stand-alone binary).
    pub async fn wait(self) {
        let task = &mut { self }.task;
        let _ = task.await;
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}
