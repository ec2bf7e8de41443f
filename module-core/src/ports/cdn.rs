use async_trait::async_trait;

/// A cache in front of the images' public base URL, emptied by key when an image must leave
/// public reach (moderation withheld it).
#[async_trait]
pub trait Cdn: Send + Sync + 'static {
    /// Forgets what the cache holds of these object keys.
    async fn purge(&self, keys: &[String]) -> Result<(), CdnError>;
}

#[derive(Debug, thiserror::Error)]
#[error("CDN purge failed: {0}")]
pub struct CdnError(pub String);

/// Images are served without a cache in front (presigned URLs, or a base URL without one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCdn;

#[async_trait]
impl Cdn for NoCdn {
    async fn purge(&self, _keys: &[String]) -> Result<(), CdnError> {
        Ok(())
    }
}
