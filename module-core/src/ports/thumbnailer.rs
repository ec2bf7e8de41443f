use async_trait::async_trait;

/// Makes small previews of uploaded images: CPU-bound work that adapters run off the async
/// workers.
#[async_trait]
pub trait Thumbnailer: Send + Sync + 'static {
    /// A WebP of `image`, at most `width` pixels wide (never enlarged), or why it cannot be made.
    async fn webp(&self, image: Vec<u8>, width: u32) -> Result<Vec<u8>, ThumbnailError>;

    /// A square WebP of `image`, `side` pixels a side: the middle of it, scaled (an avatar).
    async fn square_webp(&self, image: Vec<u8>, side: u32) -> Result<Vec<u8>, ThumbnailError>;
}

/// The image could not be read (a format or size the decoder refuses): trying again will not
/// help.
#[derive(Debug, thiserror::Error)]
#[error("no thumbnail: {0}")]
pub struct ThumbnailError(pub String);
