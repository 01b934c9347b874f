//! Text detection with the PP-OCRv4 detector (DB): how much of the picture is text, in how
//! many separate boxes, and where. Pre- and post-processing as ../shared/models/README.md
//! (RapidOCR's values): longer side scaled to [`MAX_SIDE`], each side rounded to a multiple
//! of 32, BGR, `(x/255 - 0.5) / 0.5`; text pixels are those with probability > 0.3; a box is
//! a connected region (8-neighbour, after a 2x2 dilation) whose short side is at least 3 px
//! and whose mean probability is at least 0.5.

use crate::error::EmbedError;
use crate::prep::{resize, to_nchw, Channels};
use crate::runtime::OrtRuntime;
use crate::session::{run_f32, SessionPool};
use crate::signals::TextSignals;
use image::RgbImage;
use std::path::Path;

/// Longer side of the detector's input (the README's choice for photo collections).
pub const MAX_SIDE: u32 = 640;
pub const PIXEL_THRESHOLD: f32 = 0.3;
pub const BOX_THRESHOLD: f32 = 0.5;
/// Side of the text-layout grid.
pub const GRID: usize = 4;

pub struct TextDetector {
    pool: SessionPool,
}

/// Network input size for an image: longer side [`MAX_SIDE`], multiples of 32, at least 32.
pub fn input_size(w: u32, h: u32) -> (u32, u32) {
    let r = f64::from(MAX_SIDE) / f64::from(w.max(h).max(1));
    let round32 = |v: u32| ((f64::from(v) * r / 32.0).round() as u32 * 32).max(32);
    (round32(w), round32(h))
}

impl TextDetector {
    pub fn load(rt: &OrtRuntime, model: &Path) -> Result<Self, EmbedError> {
        Ok(TextDetector {
            pool: SessionPool::load(rt, "ppocr-v4-det", model)?,
        })
    }

    pub fn run(&self, img: &RgbImage) -> Result<TextSignals, EmbedError> {
        let (w, h) = input_size(img.width(), img.height());
        let input = to_nchw(&resize(img, w, h), Channels::Bgr, [0.5; 3], [0.5; 3]);
        let shape = [1, 3, h as usize, w as usize];
        let mut out = self
            .pool
            .with(|s| run_f32(s, self.pool.name, "x", shape, input, &["sigmoid_0.tmp_0"]))?;
        let (_, prob) = out.pop().unwrap_or_default();
        if prob.len() != (w * h) as usize {
            return Err(EmbedError::Output {
                model: self.pool.name,
                problem: format!("{} probabilities for a {w}x{h} input", prob.len()),
            });
        }
        Ok(text_signals(&prob, w as usize, h as usize))
    }
}

/// The signals of a probability map of `w` x `h` (row-major).
pub fn text_signals(prob: &[f32], w: usize, h: usize) -> TextSignals {
    let n = (w * h).max(1);
    let mask: Vec<bool> = prob.iter().map(|&p| p > PIXEL_THRESHOLD).collect();
    let area = mask.iter().filter(|&&m| m).count() as f32 / n as f32;
    let mut grid = vec![0f32; GRID * GRID];
    let mut cell_px = vec![0usize; GRID * GRID];
    for y in 0..h {
        for x in 0..w {
            let c = (y * GRID / h) * GRID + x * GRID / w;
            cell_px[c] += 1;
            grid[c] += f32::from(u8::from(mask[y * w + x]));
        }
    }
    for (g, &c) in grid.iter_mut().zip(&cell_px) {
        *g /= c.max(1) as f32;
    }
    // 2x2 dilation (a pixel is set when it or its upper/left neighbours are).
    let dilated: Vec<bool> = (0..h * w)
        .map(|i| {
            let (y, x) = (i / w, i % w);
            mask[i]
                || (x > 0 && mask[i - 1])
                || (y > 0 && mask[i - w])
                || (x > 0 && y > 0 && mask[i - w - 1])
        })
        .collect();
    let (boxes, covered) = count_boxes(&dilated, prob, w, h);
    TextSignals {
        area,
        boxes,
        box_cover: covered as f32 / n as f32,
        grid,
    }
}

/// Connected regions (8-neighbour) kept as boxes, and the pixels their bounding boxes cover.
fn count_boxes(mask: &[bool], prob: &[f32], w: usize, h: usize) -> (u32, usize) {
    let mut seen = vec![false; mask.len()];
    let mut stack = Vec::new();
    let (mut boxes, mut covered) = (0u32, 0usize);
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        let (mut sum, mut count) = (0f64, 0usize);
        while let Some(i) = stack.pop() {
            let (y, x) = (i / w, i % w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            sum += f64::from(prob[i]);
            count += 1;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
        if bw.min(bh) >= 3 && sum / count as f64 >= f64::from(BOX_THRESHOLD) {
            boxes += 1;
            covered += bw * bh;
        }
    }
    (boxes, covered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_multiples_of_32() {
        assert_eq!(input_size(1080, 1920), (352, 640));
        assert_eq!(input_size(4000, 3000), (640, 480));
        assert_eq!(input_size(10, 1000), (32, 640));
    }

    #[test]
    fn boxes_by_hand() {
        // 12x8 map: a 4x3 and a 3x3 block of 0.9 (boxes: after the dilation their mean
        // probabilities are 10.8/20 and 8.1/16), a 5x3 block of 0.35 (text pixels, but a mean
        // probability under 0.5: no box).
        let (w, h) = (12, 8);
        let mut p = vec![0f32; w * h];
        let mut fill = |x0: usize, y0: usize, bw: usize, bh: usize, v: f32| {
            for y in y0..y0 + bh {
                for x in x0..x0 + bw {
                    p[y * w + x] = v;
                }
            }
        };
        fill(0, 0, 4, 3, 0.9);
        fill(8, 0, 3, 3, 0.9);
        fill(0, 5, 5, 3, 0.35);
        let t = text_signals(&p, w, h);
        assert_eq!(t.boxes, 2);
        assert!((t.area - (12.0 + 9.0 + 15.0) / 96.0).abs() < 1e-6);
        // Dilated boxes: 5x4 and 4x4 pixels.
        assert!((t.box_cover - (20.0 + 16.0) / 96.0).abs() < 1e-6);
        // The top-left cell (3x2 pixels) is all text.
        assert!((t.grid[0] - 1.0).abs() < 1e-6);
        assert_eq!(t.grid.len(), 16);
    }
}
