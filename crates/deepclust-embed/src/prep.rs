//! Image to tensor conversions shared by the models.

use image::{imageops, RgbImage};

/// Channel order of a network's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channels {
    Rgb,
    /// What OpenCV-fed models (PP-OCR) expect.
    Bgr,
}

/// NCHW float data of `img` (already at the network's size), `(v/255 - mean[c]) / std[c]`.
pub(crate) fn to_nchw(img: &RgbImage, order: Channels, mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            let src = match order {
                Channels::Rgb => c,
                Channels::Bgr => 2 - c,
            };
            out[c * plane + i] = (f32::from(p[src]) / 255.0 - mean[c]) / std[c];
        }
    }
    out
}

/// Bilinear resize to exactly `w` x `h` (the aspect ratio is not kept).
pub(crate) fn resize(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    imageops::resize(img, w, h, imageops::FilterType::Triangle)
}
