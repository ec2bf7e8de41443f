//! `scripts/bench images`: served versions made from 12-megapixel phone-sized JPEGs on this
//! machine (the `image-versions` job's decoding, scaling, colour and WebP work, one decoder per
//! core), and what a board's first page of 20 photo posts makes a phone download with thumbnails
//! against the originals. Prints Markdown table rows; timings are medians of 3 runs.

#![allow(clippy::print_stdout)] // The table is the output.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder as _, Rgb, RgbImage};
use petory_core::ports::{ImageProcessor, Shape};
use petory_external_api::image::WebpVersions;

const RUNS: usize = 3;
/// Posts on a board's first page.
const PAGE: usize = 20;

/// A 4000 × 3000 photo-like JPEG (gradients under fine noise, quality 90: 3–5 MB, as phones
/// write them); `seed` makes each one different.
fn photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let pixels = RgbImage::from_fn(4000, 3000, |x, y| {
        // xorshift: texture no encoder can predict away.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as u8;
        Rgb([
            ((x / 16 + seed) % 200) as u8 + noise,
            ((y / 12) % 200) as u8 + noise,
            (((x + y) / 28) % 200) as u8 + noise,
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut Cursor::new(&mut out), 90)
        .write_image(pixels.as_raw(), 4000, 3000, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(0, |kb| kb / 1024)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(16);
    eprintln!("making {count} 12-megapixel JPEGs");
    let photos: Vec<Vec<u8>> = (0..count as u32).map(photo).collect();
    let original_bytes: usize = photos.iter().map(Vec::len).sum::<usize>() / photos.len();

    let processor = WebpVersions::new(cores);
    // One image alone: the latency a member waits for (besides the job's 10 s schedule).
    let mut alone = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        processor.versions(photos[0].clone(), Shape::Fit).await?;
        alone.push(started.elapsed());
    }
    // All of them, `cores` at once, as the job runs them.
    let mut batches = Vec::new();
    let mut sizes = [0_usize; 3];
    for run in 0..RUNS {
        let started = Instant::now();
        let tasks: Vec<_> = photos
            .iter()
            .map(|photo| {
                let processor = processor.clone();
                let photo = photo.clone();
                tokio::spawn(async move { processor.versions(photo, Shape::Fit).await })
            })
            .collect();
        for task in tasks {
            let versions = task.await??;
            if run == 0 {
                for (total, version) in sizes.iter_mut().zip(&versions) {
                    *total += version.len();
                }
            }
        }
        batches.push(started.elapsed());
    }
    let batch = median(batches);
    let images_per_second = count as f64 / batch.as_secs_f64();
    let [thumb, medium, display] = sizes.map(|total| total / count);

    println!("| 12-MP JPEGs | decoders | one image | images/s | versions/s | peak RSS |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {count} (mean {:.1} MB) | {cores} | {:.0} ms | {images_per_second:.2} | {:.2} | {} MB |",
        original_bytes as f64 / 1e6,
        median(alone).as_secs_f64() * 1e3,
        images_per_second * 3.0,
        peak_rss_mb(),
    );
    println!();
    println!("| a first page of {PAGE} photo posts | bytes | against the originals |");
    println!("|---|---|---|");
    for (label, bytes) in [
        ("originals (before)", original_bytes),
        ("`thumb` (320 px)", thumb),
        ("`medium` (640 px)", medium),
        ("`display` (1,600 px)", display),
    ] {
        println!(
            "| {label} | {:.2} MB | {:.1} % |",
            (bytes * PAGE) as f64 / 1e6,
            100.0 * bytes as f64 / original_bytes as f64
        );
    }
    Ok(())
}
