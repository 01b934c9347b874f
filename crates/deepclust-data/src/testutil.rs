//! Helpers shared by the unit tests: small generated files in the real formats.

use std::io::Write;

use flate2::{write::GzEncoder, Compression};

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// An IDX images file (`0x00000803`) of `count` images of `rows x cols`, byte `i` of the
/// data being `pixel(i)`.
pub(crate) fn idx_images_bytes(
    count: u32,
    rows: u32,
    cols: u32,
    pixel: impl Fn(usize) -> u8,
) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0x0803u32, count, rows, cols] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend((0..(count * rows * cols) as usize).map(pixel));
    out
}

/// An IDX labels file (`0x00000801`).
pub(crate) fn idx_labels_bytes(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0x0801u32, labels.len() as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(labels);
    out
}

/// A grayscale PNG of `height x width` with pixel `(y, x)` = `value(y, x)`.
pub(crate) fn write_gray_png(
    path: &std::path::Path,
    height: u32,
    width: u32,
    value: impl Fn(u32, u32) -> u8,
) {
    let img = image::GrayImage::from_fn(width, height, |x, y| image::Luma([value(y, x)]));
    img.save(path).unwrap();
}
