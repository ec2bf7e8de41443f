//! The served versions of images: decoded with the `image` crate (pure Rust) under limits,
//! turned upright by the photo's EXIF orientation, brought into sRGB from its ICC profile with
//! `moxcms` (the `image` crate's own colour engine), scaled and written as lossy WebP by libwebp
//! (`webp`; the `image` crate only writes lossless WebP, several times larger for photos). Every
//! version is encoded from pixels, so no metadata block of the original reaches it.
//!
//! Decoding runs on the blocking pool, at most `decoders` images at once: with the limits below,
//! the memory images take is bounded by `decoders × (4 B × 40 MP + the versions)`.

use std::io::Cursor;
use std::sync::Arc;

use async_trait::async_trait;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
use petory_core::platform::image::{MAX_PIXELS, Size, check_size};
use petory_core::ports::{ImageError, ImageProcessor, Shape};
use tokio::sync::Semaphore;

/// The most a decoder may allocate: 40 megapixels of 16-bit RGB, and a little.
const MAX_DECODED_BYTES: u64 = MAX_PIXELS * 6 + 16 * 1024 * 1024;
/// libwebp's quality (0–100) for every version: photos look as the original at a tenth of it.
const WEBP_QUALITY: f32 = 80.0;

/// Makes versions on a bounded pool.
#[derive(Debug, Clone)]
pub struct WebpVersions {
    decoders: Arc<Semaphore>,
}

impl WebpVersions {
    /// At most `decoders` images decoded at once (at least one).
    pub fn new(decoders: usize) -> Self {
        Self {
            decoders: Arc::new(Semaphore::new(decoders.max(1))),
        }
    }

    /// `PETORY_IMAGE_DECODERS` images at once (default: one per core, at most 64).
    pub fn from_env() -> Result<Self, petory_core::config::ConfigError> {
        use petory_core::config;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let decoders = config::parsed_or("PETORY_IMAGE_DECODERS", cores)?;
        config::ensure(
            "PETORY_IMAGE_DECODERS",
            decoders,
            (1..=64).contains(&decoders),
            "must be 1 to 64",
        )?;
        Ok(Self::new(decoders))
    }
}

/// What is shown for an image whose versions are not served (yet): a light grey square, WebP.
pub fn placeholder() -> &'static [u8] {
    static PLACEHOLDER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PLACEHOLDER.get_or_init(|| {
        let side = Size::Thumb.longest_side();
        let grey = vec![0xE8; (side * side * 3) as usize];
        webp::Encoder::from_rgb(&grey, side, side)
            .encode(WEBP_QUALITY)
            .to_vec()
    })
}

#[async_trait]
impl ImageProcessor for WebpVersions {
    async fn versions(&self, original: Vec<u8>, shape: Shape) -> Result<Vec<Vec<u8>>, ImageError> {
        let _permit = self
            .decoders
            .acquire()
            .await
            .map_err(|error| ImageError::Unreadable(error.to_string()))?;
        tokio::task::spawn_blocking(move || versions(&original, shape))
            .await
            .map_err(|error| ImageError::Unreadable(error.to_string()))?
    }
}

fn unreadable(error: impl std::fmt::Display) -> ImageError {
    ImageError::Unreadable(error.to_string())
}

/// Every size of the image, largest first internally, returned in [`Size::ALL`]'s order.
fn versions(bytes: &[u8], shape: Shape) -> Result<Vec<Vec<u8>>, ImageError> {
    let display = display_image(bytes, shape)?;
    let mut images = vec![display];
    // Each smaller version is scaled from the one above it: cheaper, and as sharp.
    for size in [Size::Medium, Size::Thumb] {
        let larger = images
            .last()
            .unwrap_or_else(|| unreachable!("display is there"));
        images.push(fit(larger, size.longest_side()));
    }
    images.reverse();
    images.iter().map(webp).collect()
}

/// The display version's pixels: decoded under the limits, cut to shape, scaled, upright, sRGB.
fn display_image(bytes: &[u8], shape: Shape) -> Result<DynamicImage, ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(unreadable)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, bytes.len() as u64)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    // A broken profile is dropped (the pixels are taken as sRGB), not a reason to refuse.
    let profile = decoder
        .icc_profile()
        .ok()
        .flatten()
        .and_then(|icc| ColorProfile::new_from_slice(&icc).ok());
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    if shape == Shape::Square {
        let side = image.width().min(image.height());
        image = image.crop_imm(
            (image.width() - side) / 2,
            (image.height() - side) / 2,
            side,
            side,
        );
    }
    let mut image = fit(&image, Size::Display.longest_side());
    image.apply_orientation(orientation);
    Ok(match profile {
        Some(profile) if profile.color_space == DataColorSpace::Rgb => to_srgb(image, &profile)?,
        _ => image,
    })
}

/// The image with its longest side at most `longest` pixels (never enlarged), in 8-bit RGB(A).
fn fit(image: &DynamicImage, longest: u32) -> DynamicImage {
    let scaled = if image.width().max(image.height()) > longest {
        image.resize(longest, longest, FilterType::Triangle)
    } else {
        image.clone()
    };
    if scaled.color().has_alpha() {
        DynamicImage::ImageRgba8(scaled.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(scaled.into_rgb8())
    }
}

/// The pixels converted from the picture's colour profile to sRGB (what browsers assume of an
/// image without one).
fn to_srgb(image: DynamicImage, profile: &ColorProfile) -> Result<DynamicImage, ImageError> {
    let srgb = ColorProfile::new_srgb();
    let layout = if image.color().has_alpha() {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let Ok(transform) =
        profile.create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
    else {
        return Ok(image);
    };
    Ok(match image {
        DynamicImage::ImageRgba8(mut pixels) => {
            let source = pixels.as_raw().clone();
            transform
                .transform(&source, &mut pixels)
                .map_err(unreadable)?;
            DynamicImage::ImageRgba8(pixels)
        }
        other => {
            let mut pixels = other.into_rgb8();
            let source = pixels.as_raw().clone();
            transform
                .transform(&source, &mut pixels)
                .map_err(unreadable)?;
            DynamicImage::ImageRgb8(pixels)
        }
    })
}

fn webp(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let encoder = match image {
        DynamicImage::ImageRgba8(pixels) => {
            webp::Encoder::from_rgba(pixels.as_raw(), pixels.width(), pixels.height())
        }
        DynamicImage::ImageRgb8(pixels) => {
            webp::Encoder::from_rgb(pixels.as_raw(), pixels.width(), pixels.height())
        }
        _ => return Err(unreadable("versions are 8-bit RGB(A)")),
    };
    Ok(encoder.encode(WEBP_QUALITY).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageFormat;

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

    fn dimensions(webp: &[u8]) -> (u32, u32) {
        let decoded = image::load_from_memory_with_format(webp, ImageFormat::WebP).unwrap();
        (decoded.width(), decoded.height())
    }

    #[tokio::test]
    async fn a_photo_becomes_three_webp_sizes_and_small_ones_are_not_enlarged() {
        let versions = WebpVersions::new(1)
            .versions(jpeg(2000, 1500), Shape::Fit)
            .await
            .unwrap();
        let sizes: Vec<_> = versions.iter().map(|v| dimensions(v)).collect();
        assert_eq!(sizes, [(320, 240), (640, 480), (1600, 1200)]);
        let small = WebpVersions::new(1)
            .versions(jpeg(200, 100), Shape::Fit)
            .await
            .unwrap();
        assert!(small.iter().all(|v| dimensions(v) == (200, 100)));
    }

    #[tokio::test]
    async fn an_avatar_is_the_middle_square() {
        let versions = WebpVersions::new(1)
            .versions(jpeg(900, 600), Shape::Square)
            .await
            .unwrap();
        let sizes: Vec<_> = versions.iter().map(|v| dimensions(v)).collect();
        assert_eq!(sizes, [(320, 320), (600, 600), (600, 600)]);
    }

    #[tokio::test]
    async fn an_animated_gif_gives_its_first_frame_as_a_still() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame, Rgba, RgbaImage};
        let frame = |colour: [u8; 4]| {
            let pixels = RgbaImage::from_pixel(40, 30, Rgba(colour));
            Frame::from_parts(pixels, 0, 0, Delay::from_numer_denom_ms(100, 1))
        };
        let mut gif = Vec::new();
        GifEncoder::new(&mut gif)
            .encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])])
            .unwrap();
        let versions = WebpVersions::new(1)
            .versions(gif, Shape::Fit)
            .await
            .unwrap();
        for version in &versions {
            assert!(!version.windows(4).any(|chunk| chunk == b"ANIM"), "a still");
            let still = image::load_from_memory_with_format(version, ImageFormat::WebP)
                .unwrap()
                .to_rgb8();
            let pixel = still.get_pixel(20, 15);
            assert!(
                pixel[0] > 200 && pixel[2] < 60,
                "the first (red) frame: {pixel:?}"
            );
        }
    }

    #[tokio::test]
    async fn what_is_not_an_image_is_unreadable() {
        let processor = WebpVersions::new(1);
        let refused = processor
            .versions(b"not a picture".to_vec(), Shape::Fit)
            .await;
        assert!(matches!(refused, Err(ImageError::Unreadable(_))));
        let mut truncated = jpeg(400, 300);
        truncated.truncate(200);
        let refused = processor.versions(truncated, Shape::Fit).await;
        assert!(matches!(refused, Err(ImageError::Unreadable(_))));
    }
}
