//! Thumbnails with the `image` crate (pure Rust, no system libraries): decoded under limits,
//! turned upright by the photo's EXIF orientation, scaled down and written as WebP (the crate's
//! encoder is lossless: a 320 px photo is tens of kilobytes), off the async workers.

use std::io::Cursor;

use async_trait::async_trait;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, ImageResult, Limits};
use petory_core::ports::{ThumbnailError, Thumbnailer};

/// Images larger than this are refused rather than decoded (a decompression bomb guard).
const MAX_SIDE: u32 = 12_000;
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImageThumbnailer;

#[async_trait]
impl Thumbnailer for ImageThumbnailer {
    async fn webp(&self, image: Vec<u8>, width: u32) -> Result<Vec<u8>, ThumbnailError> {
        tokio::task::spawn_blocking(move || webp_thumbnail(&image, width))
            .await
            .map_err(|error| ThumbnailError(error.to_string()))?
            .map_err(|error| ThumbnailError(error.to_string()))
    }

    async fn square_webp(&self, image: Vec<u8>, side: u32) -> Result<Vec<u8>, ThumbnailError> {
        tokio::task::spawn_blocking(move || square_thumbnail(&image, side))
            .await
            .map_err(|error| ThumbnailError(error.to_string()))?
            .map_err(|error| ThumbnailError(error.to_string()))
    }
}

/// The image decoded under the limits and turned upright.
fn decoded(bytes: &[u8]) -> ImageResult<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn webp_thumbnail(bytes: &[u8], width: u32) -> ImageResult<Vec<u8>> {
    let image = decoded(bytes)?;
    let thumbnail = if image.width() > width {
        image.thumbnail(width, u32::MAX)
    } else {
        image
    };
    webp(thumbnail)
}

/// The middle square of the image, `side` pixels a side (a smaller image is not enlarged).
fn square_thumbnail(bytes: &[u8], side: u32) -> ImageResult<Vec<u8>> {
    let image = decoded(bytes)?;
    let side = side.min(image.width()).min(image.height());
    webp(image.resize_to_fill(side, side, image::imageops::FilterType::Triangle))
}

fn webp(thumbnail: DynamicImage) -> ImageResult<Vec<u8>> {
    // WebP holds 8-bit RGB(A).
    let thumbnail = if thumbnail.color().has_alpha() {
        DynamicImage::ImageRgba8(thumbnail.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(thumbnail.into_rgb8())
    };
    let mut out = Vec::new();
    thumbnail.write_to(&mut Cursor::new(&mut out), ImageFormat::WebP)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    #[tokio::test]
    async fn photos_become_320_px_webp_and_small_ones_are_not_enlarged() {
        let thumbnail = ImageThumbnailer.webp(jpeg(1600, 1200), 320).await.unwrap();
        let decoded = image::load_from_memory_with_format(&thumbnail, ImageFormat::WebP).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (320, 240));
        let small = ImageThumbnailer.webp(jpeg(200, 100), 320).await.unwrap();
        let decoded = image::load_from_memory(&small).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (200, 100));
    }

    #[tokio::test]
    async fn what_is_not_an_image_is_an_error() {
        assert!(
            ImageThumbnailer
                .webp(b"not a picture".to_vec(), 320)
                .await
                .is_err()
        );
        let mut truncated = jpeg(400, 300);
        truncated.truncate(200);
        assert!(ImageThumbnailer.webp(truncated, 320).await.is_err());
    }
}
