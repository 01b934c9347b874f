//! Small thumbnails, content features and perceptual hashes.
//!
//! JPEGs are decoded with jpeg-decoder's DCT scaling (1/2, 1/4 or 1/8 of the size straight out
//! of the IDCT), so a 12-megapixel photo costs a 1/64-size decode instead of a full one. PNGs go
//! through the `image` crate with allocation limits. Decoding is bounded by [`MAX_PIXELS`]
//! (checked from the header before any pixel buffer is allocated).

use crate::sniff::ImageKind;
use image::{imageops, DynamicImage, GrayImage, ImageBuffer, Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Longest side of the thumbnails kept for features and the HTML index.
pub const THUMB_SIZE: u32 = 160;

/// Refuse images above this many pixels (a "decompression bomb" guard): 200 megapixels.
pub const MAX_PIXELS: u64 = 200_000_000;

/// Side of the grayscale grid in the embedding (16x16 = 256 values).
pub const GRAY_GRID: u32 = 16;

/// Blocks of [`embed`]'s output: (length, weight of the block in distances). The grayscale
/// layout dominates; colour, texture and tone refine. Weights measured with `gallery_bench`
/// (2,000 digits as 112x112 JPEGs, k = 10, NMI Fashion-MNIST / MNIST): side blocks at 0 ->
/// 0.620 / 0.541, 0.25 -> 0.615 / 0.505, 0.5 -> 0.549 / 0.376, 1 -> 0.437 / 0.282. Those sets
/// are grayscale, where colour carries no class; 0.25 keeps some colour for real photos.
pub const EMBEDDING_BLOCKS: [(usize, f32); 4] = [(256, 1.0), (64, 0.25), (9, 0.25), (6, 0.25)];

/// The block layout for an embedding of `dim` values: [`EMBEDDING_BLOCKS`] when it matches,
/// else one block (e.g. a model's embedding).
pub fn embedding_blocks(dim: usize) -> Vec<(usize, f32)> {
    if EMBEDDING_BLOCKS.iter().map(|b| b.0).sum::<usize>() == dim {
        EMBEDDING_BLOCKS.to_vec()
    } else {
        vec![(dim, 1.0)]
    }
}

/// Decodes `bytes` into an upright RGB thumbnail whose longest side is at most `max_side`.
pub fn decode_thumbnail(
    bytes: &[u8],
    kind: ImageKind,
    orientation: u16,
    max_side: u32,
) -> Result<RgbImage, String> {
    let img = match kind {
        ImageKind::Jpeg => decode_jpeg_scaled(bytes, max_side)?,
        ImageKind::Png => decode_png(bytes)?,
    };
    Ok(apply_orientation(shrink(&img, max_side), orientation))
}

/// A copy whose longest side is at most `max_side` (the same image when already small).
pub fn shrink(img: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w.max(h) <= max_side {
        return img.clone();
    }
    let scale = f64::from(max_side) / f64::from(w.max(h));
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    imageops::resize(img, nw, nh, imageops::FilterType::Triangle)
}

fn decode_jpeg_scaled(bytes: &[u8], max_side: u32) -> Result<RgbImage, String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|e| format!("JPEG header: {e}"))?;
    let info = decoder.info().ok_or("JPEG header: no frame")?;
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels == 0 || pixels > MAX_PIXELS {
        return Err(format!(
            "JPEG of {}x{} pixels refused",
            info.width, info.height
        ));
    }
    let req = max_side.min(u32::from(u16::MAX)) as u16;
    let (w, h) = decoder
        .scale(req, req)
        .map_err(|e| format!("JPEG scale: {e}"))?;
    let data = decoder.decode().map_err(|e| format!("JPEG data: {e}"))?;
    let info = decoder.info().ok_or("JPEG: no frame after decode")?;
    let (w, h) = (u32::from(w), u32::from(h));
    let n = (w * h) as usize;
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => data
            .chunks_exact(2)
            .flat_map(|c| [c[0], c[0], c[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs are stored inverted; a plain multiply is close enough here.
                let k = u16::from(c[3]);
                [c[0], c[1], c[2]].map(|x| ((u16::from(x) * k) / 255) as u8)
            })
            .collect(),
    };
    if rgb.len() < n * 3 {
        return Err(format!("JPEG data: {} bytes for {w}x{h}", rgb.len()));
    }
    ImageBuffer::from_raw(w, h, rgb).ok_or_else(|| "JPEG: buffer size mismatch".to_string())
}

fn decode_png(bytes: &[u8]) -> Result<RgbImage, String> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("PNG header: {e}"))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("PNG of {w}x{h} pixels refused"));
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let img: DynamicImage = reader.decode().map_err(|e| format!("PNG data: {e}"))?;
    Ok(img.to_rgb8())
}

/// EXIF orientation 1..=8 to an upright image.
pub fn apply_orientation(img: RgbImage, orientation: u16) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&img),
        3 => imageops::rotate180(&img),
        4 => imageops::flip_vertical(&img),
        5 => imageops::flip_horizontal(&imageops::rotate90(&img)),
        6 => imageops::rotate90(&img),
        7 => imageops::flip_horizontal(&imageops::rotate270(&img)),
        8 => imageops::rotate270(&img),
        _ => img,
    }
}

/// What the content grouping needs from one image, computed from its thumbnail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentFeatures {
    /// [`embed`]'s model-free features (always computed: near-duplicate checks use them).
    pub embedding: Vec<f32>,
    /// What an image embedder computed (a model's embedding, tags, text, faces); its
    /// embedding is clustered instead of `embedding` when present.
    #[serde(default)]
    pub signals: Option<deepclust_embed::PhotoSignals>,
    /// Which embedder made the signals ([`BUILTIN_EMBEDDER`] or the embedder's id); the
    /// cache is only reused for the same one.
    #[serde(default)]
    pub embedder: String,
    /// 64-bit difference hash.
    pub dhash: u64,
    /// [`AE_SIDE`] x [`AE_SIDE`] grayscale pixels, row-major: the autoencoder's input (see
    /// [`crate::autoencode`]). Empty in caches of older versions.
    #[serde(default)]
    pub pixels: Vec<u8>,
}

/// Side of the grayscale thumbnail the autoencoder learns from: 28, as MNIST in the DEC
/// tutorial, so the tutorial's architecture applies unchanged.
pub const AE_SIDE: u32 = 28;

/// The autoencoder's input: the whole thumbnail squeezed to [`AE_SIDE`] x [`AE_SIDE`] gray.
pub fn ae_pixels(img: &RgbImage) -> Vec<u8> {
    imageops::resize(
        &to_gray(img),
        AE_SIDE,
        AE_SIDE,
        imageops::FilterType::Triangle,
    )
    .into_raw()
}

fn to_gray(img: &RgbImage) -> GrayImage {
    DynamicImage::ImageRgb8(img.clone()).to_luma8()
}

/// dHash: grayscale 9x8, one bit per horizontally adjacent pair (left brighter than right).
pub fn dhash(img: &RgbImage) -> u64 {
    let g = imageops::resize(&to_gray(img), 9, 8, imageops::FilterType::Triangle);
    let mut hash = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let bit = g.get_pixel(x, y)[0] > g.get_pixel(x + 1, y)[0];
            hash = (hash << 1) | u64::from(bit);
        }
    }
    hash
}

/// Length of [`embed`]'s vector: 16x16 grid, 64 colour bins, 9 texture values, 6 tone values.
pub const EMBEDDING_DIM: usize = (GRAY_GRID * GRAY_GRID) as usize + 64 + 9 + 6;

/// The model-free embedding of a thumbnail, in four blocks:
/// 1. a 16x16 grayscale grid, each image standardised to zero mean and unit variance
///    (layout and shape, independent of exposure), weight 1 per value;
/// 2. a 4x4x4 RGB colour histogram (fractions of pixels);
/// 3. an 8-bin gradient-orientation histogram weighted by magnitude plus mean gradient
///    magnitude (texture: foliage and text vs sky and walls);
/// 4. mean and standard deviation of each RGB channel (overall tone).
///
/// Blocks 2-4 are scaled so that each block's typical spread is comparable to block 1's; the
/// caller standardises each dimension over the library before clustering anyway.
pub fn embed(img: &RgbImage) -> Vec<f32> {
    let gray = to_gray(img);
    let mut out = Vec::with_capacity(EMBEDDING_DIM);

    let small = imageops::resize(&gray, GRAY_GRID, GRAY_GRID, imageops::FilterType::Triangle);
    let vals: Vec<f32> = small.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let mean = vals.iter().sum::<f32>() / vals.len() as f32;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / vals.len() as f32;
    let sd = var.sqrt().max(1e-3);
    out.extend(vals.iter().map(|v| (v - mean) / sd));

    let mut hist = [0f32; 64];
    let n = (img.width() * img.height()).max(1) as f32;
    for p in img.pixels() {
        let bin = usize::from(p[0] >> 6) * 16 + usize::from(p[1] >> 6) * 4 + usize::from(p[2] >> 6);
        hist[bin] += 1.0;
    }
    out.extend(hist.iter().map(|h| h / n * 8.0));

    let (w, h) = gray.dimensions();
    let mut orient = [0f32; 8];
    let mut total_mag = 0f32;
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let px = |xx: u32, yy: u32| f32::from(gray.get_pixel(xx, yy)[0]) / 255.0;
            let gx = px(x + 1, y) - px(x - 1, y);
            let gy = px(x, y + 1) - px(x, y - 1);
            let mag = (gx * gx + gy * gy).sqrt();
            // Unsigned orientation in [0, pi) split into 8 bins.
            let angle = gy.atan2(gx).rem_euclid(std::f32::consts::PI);
            let bin = ((angle / std::f32::consts::PI * 8.0) as usize).min(7);
            orient[bin] += mag;
            total_mag += mag;
        }
    }
    let inner = (w.saturating_sub(2) * h.saturating_sub(2)).max(1) as f32;
    out.extend(orient.iter().map(|o| o / total_mag.max(1e-6) * 4.0));
    out.push(total_mag / inner * 8.0);

    for c in 0..3 {
        let vals: Vec<f32> = img.pixels().map(|p| f32::from(p[c]) / 255.0).collect();
        let m = vals.iter().sum::<f32>() / n;
        let v = vals.iter().map(|x| (x - m).powi(2)).sum::<f32>() / n;
        out.push(m * 4.0);
        out.push(v.sqrt() * 4.0);
    }
    out
}

/// Id of the model-free embedding in caches and manifests (v2: with the autoencoder's
/// pixels, so caches of v1 are re-read once).
pub const BUILTIN_EMBEDDER: &str = "builtin-v2";

impl ContentFeatures {
    /// The embedding clustering uses.
    pub fn clustering_embedding(&self) -> &[f32] {
        self.signals
            .as_ref()
            .map_or(&self.embedding, |s| &s.embedding)
    }
}

pub fn features(img: &RgbImage) -> ContentFeatures {
    ContentFeatures {
        embedding: embed(img),
        signals: None,
        embedder: BUILTIN_EMBEDDER.to_string(),
        dhash: dhash(img),
        pixels: ae_pixels(img),
    }
}

/// Writes a thumbnail as a JPEG (quality 80).
pub fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 80);
    img.write_with_encoder(enc).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// A solid-colour image, used by tests.
pub fn solid(w: u32, h: u32, rgb: [u8; 3]) -> RgbImage {
    ImageBuffer::from_pixel(w, h, Rgb(rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, horizontal: bool) -> RgbImage {
        ImageBuffer::from_fn(w, h, |x, y| {
            let v = if horizontal {
                x * 255 / (w - 1)
            } else {
                y * 255 / (h - 1)
            } as u8;
            Rgb([v, v, v])
        })
    }

    #[test]
    fn dhash_of_gradients() {
        // Brightness rises to the right: no left pixel is brighter than its right neighbour.
        assert_eq!(dhash(&gradient(90, 80, true)), 0);
        let falling = imageops::flip_horizontal(&gradient(90, 80, true));
        assert_eq!(dhash(&falling), u64::MAX);
        // Re-encoding barely moves the hash.
        let jpeg = encode_jpeg(&falling).unwrap();
        let back = decode_thumbnail(&jpeg, ImageKind::Jpeg, 1, 160).unwrap();
        assert!((dhash(&back) ^ u64::MAX).count_ones() <= 2);
    }

    #[test]
    fn orientation_six_rotates_clockwise() {
        let mut img = solid(4, 2, [0, 0, 0]);
        img.put_pixel(0, 0, Rgb([255, 0, 0]));
        let up = apply_orientation(img, 6);
        assert_eq!(up.dimensions(), (2, 4));
        // The top-left pixel of the stored image ends up top-right after a 90 degree turn.
        assert_eq!(up.get_pixel(1, 0)[0], 255);
    }

    #[test]
    fn scaled_decode_bounds_size() {
        let big = gradient(1280, 960, false);
        let jpeg = encode_jpeg(&big).unwrap();
        let t = decode_thumbnail(&jpeg, ImageKind::Jpeg, 1, 160).unwrap();
        assert_eq!(t.dimensions(), (160, 120));
        assert!(decode_thumbnail(b"\xFF\xD8\xFF\xE0garbage", ImageKind::Jpeg, 1, 160).is_err());
    }

    #[test]
    fn embedding_separates_texture_and_colour() {
        let red = embed(&solid(64, 64, [220, 20, 20]));
        let red2 = embed(&solid(64, 64, [210, 25, 22]));
        let blue = embed(&solid(64, 64, [20, 20, 220]));
        let d = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
        assert!(d(&red, &red2) < d(&red, &blue));
        assert_eq!(red.len(), 256 + 64 + 9 + 6);
    }
}
