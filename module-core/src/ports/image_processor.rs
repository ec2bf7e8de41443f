use async_trait::async_trait;

/// Makes the served versions of an uploaded image: CPU-bound work that adapters run on a bounded
/// pool off the async workers.
#[async_trait]
pub trait ImageProcessor: Send + Sync + 'static {
    /// The image decoded once (bounded by [`crate::platform::image::check_size`]), turned
    /// upright and into sRGB, written as each of [`crate::platform::image::Size::ALL`] (longest
    /// side, never enlarged; `Shape::Square` takes the middle square first), in that order,
    /// encoded from pixels so that no metadata of the original survives.
    async fn versions(&self, original: Vec<u8>, shape: Shape) -> Result<Vec<Vec<u8>>, ImageError>;
}

/// How versions are cut from the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The whole picture.
    Fit,
    /// The middle square (an avatar).
    Square,
}

/// Why an image has no versions: trying again will not help.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    TooLarge(#[from] crate::platform::image::TooLargeImage),
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
}
