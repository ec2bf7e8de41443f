//! Purging a CDN by URL with HTTP `PURGE`, the request Varnish, Fastly, Squid and nginx's cache
//! purge module all accept: what moderation withholds leaves the cache, not only the bucket.

use async_trait::async_trait;
use petory_core::config::{self, ConfigError};
use petory_core::ports::{Cdn, CdnError, NoCdn};

/// Sends `PURGE {base}/{key}` for each key.
#[derive(Debug, Clone)]
pub struct HttpPurge {
    base: String,
    client: reqwest::Client,
}

impl HttpPurge {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        }
    }
}

/// `PETORY_IMAGE_PURGE=true` with `PETORY_IMAGE_BASE_URL`: the CDN at that base is purged; otherwise
/// there is none to purge.
pub fn from_env() -> Result<std::sync::Arc<dyn Cdn>, ConfigError> {
    let purge: bool = config::parsed_or("PETORY_IMAGE_PURGE", false)?;
    Ok(match config::var("PETORY_IMAGE_BASE_URL")? {
        Some(base) if purge => std::sync::Arc::new(HttpPurge::new(&base)),
        _ => std::sync::Arc::new(NoCdn),
    })
}

#[async_trait]
impl Cdn for HttpPurge {
    async fn purge(&self, keys: &[String]) -> Result<(), CdnError> {
        let method = http::Method::from_bytes(b"PURGE").map_err(|e| CdnError(e.to_string()))?;
        for key in keys {
            let url = format!("{}/{key}", self.base);
            let response = self
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .map_err(|error| CdnError(error.to_string()))?;
            // A cache that never held the object answers 404: nothing to forget.
            let status = response.status();
            if !status.is_success() && status != reqwest::StatusCode::NOT_FOUND {
                return Err(CdnError(format!("{url}: {status}")));
            }
        }
        Ok(())
    }
}
