//! Faces: MediaPipe BlazeFace (short range) boxes and keypoints, decoded as
//! ../shared/models/blazeface-short.txt specifies (896 anchors, score >= 0.5, weighted NMS at
//! IoU 0.3), and dlib's 128-d face descriptor on a chip aligned from BlazeFace's eye points.

use crate::error::EmbedError;
use crate::prep::{to_nchw, Channels};
use crate::runtime::OrtRuntime;
use crate::session::{run_f32, SessionPool};
use crate::signals::Face;
use image::{imageops, Rgb, RgbImage};
use std::path::Path;

pub const INPUT: u32 = 128;
pub const MIN_SCORE: f32 = 0.5;
pub const NMS_IOU: f32 = 0.3;

/// The 896 anchor centres, normalised to 0..1 (stride 8: 16x16 x 2, stride 16: 8x8 x 6).
pub fn anchors() -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(896);
    for (n, per) in [(16usize, 2usize), (8, 6)] {
        for y in 0..n {
            for x in 0..n {
                for _ in 0..per {
                    out.push(((x as f32 + 0.5) / n as f32, (y as f32 + 0.5) / n as f32));
                }
            }
        }
    }
    out
}

pub struct FaceDetector {
    pool: SessionPool,
    anchors: Vec<(f32, f32)>,
}

/// Letterbox geometry: image pixels = (u * 128 - ox) / s.
struct Letterbox {
    s: f32,
    ox: f32,
    oy: f32,
}

impl FaceDetector {
    pub fn load(rt: &OrtRuntime, model: &Path) -> Result<Self, EmbedError> {
        Ok(FaceDetector {
            pool: SessionPool::load(rt, "blazeface-short", model)?,
            anchors: anchors(),
        })
    }

    /// Faces in `img`, boxes and keypoints in `img`'s pixels, best first.
    pub fn run(&self, img: &RgbImage) -> Result<Vec<Face>, EmbedError> {
        let (w, h) = img.dimensions();
        let s = INPUT as f32 / w.max(h).max(1) as f32;
        let (nw, nh) = (
            ((w as f32 * s).round() as u32).clamp(1, INPUT),
            ((h as f32 * s).round() as u32).clamp(1, INPUT),
        );
        let (ox, oy) = ((INPUT - nw) / 2, (INPUT - nh) / 2);
        let mut canvas = RgbImage::from_pixel(INPUT, INPUT, Rgb([0, 0, 0]));
        let small = imageops::resize(img, nw, nh, imageops::FilterType::Triangle);
        imageops::replace(&mut canvas, &small, i64::from(ox), i64::from(oy));
        let input = to_nchw(&canvas, Channels::Rgb, [0.5; 3], [0.5; 3]);
        let shape = [1, 3, INPUT as usize, INPUT as usize];
        let out = self.pool.with(|sess| {
            run_f32(
                sess,
                self.pool.name,
                "input",
                shape,
                input,
                &["regressors", "classificators"],
            )
        })?;
        let (reg, cls) = (&out[0].1, &out[1].1);
        if reg.len() != 896 * 16 || cls.len() != 896 {
            return Err(EmbedError::Output {
                model: self.pool.name,
                problem: format!("{} regressors and {} scores", reg.len(), cls.len()),
            });
        }
        let lb = Letterbox {
            s,
            ox: ox as f32,
            oy: oy as f32,
        };
        Ok(decode(reg, cls, &self.anchors, &lb, w as f32, h as f32))
    }
}

fn decode(
    reg: &[f32],
    cls: &[f32],
    anchors: &[(f32, f32)],
    lb: &Letterbox,
    w: f32,
    h: f32,
) -> Vec<Face> {
    // Candidates in letterbox units (0..1): box, keypoints, score.
    let mut cands: Vec<([f32; 4], [[f32; 2]; 6], f32)> = Vec::new();
    for (i, &(ax, ay)) in anchors.iter().enumerate() {
        let score = 1.0 / (1.0 + (-cls[i].clamp(-100.0, 100.0)).exp());
        if score < MIN_SCORE {
            continue;
        }
        let r = &reg[i * 16..(i + 1) * 16];
        let (cx, cy) = (r[0] / 128.0 + ax, r[1] / 128.0 + ay);
        let (bw, bh) = (r[2] / 128.0, r[3] / 128.0);
        let mut kp = [[0f32; 2]; 6];
        for (k, p) in kp.iter_mut().enumerate() {
            *p = [r[4 + 2 * k] / 128.0 + ax, r[5 + 2 * k] / 128.0 + ay];
        }
        cands.push((
            [cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0],
            kp,
            score,
        ));
    }
    cands.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut used = vec![false; cands.len()];
    let mut faces = Vec::new();
    let to_px = |u: f32, v: f32| -> [f32; 2] {
        [
            ((u * INPUT as f32 - lb.ox) / lb.s).clamp(0.0, w),
            ((v * INPUT as f32 - lb.oy) / lb.s).clamp(0.0, h),
        ]
    };
    for i in 0..cands.len() {
        if used[i] {
            continue;
        }
        // MediaPipe's weighted NMS: the cluster's score-weighted mean box and keypoints.
        let (mut bsum, mut ksum, mut wsum) = ([0f32; 4], [[0f32; 2]; 6], 0f32);
        for j in i..cands.len() {
            if used[j] || iou(&cands[i].0, &cands[j].0) < NMS_IOU {
                continue;
            }
            used[j] = true;
            let wgt = cands[j].2;
            for (s, v) in bsum.iter_mut().zip(cands[j].0) {
                *s += wgt * v;
            }
            for (s, v) in ksum.iter_mut().zip(cands[j].1) {
                s[0] += wgt * v[0];
                s[1] += wgt * v[1];
            }
            wsum += wgt;
        }
        let b = bsum.map(|v| v / wsum);
        let p0 = to_px(b[0], b[1]);
        let p1 = to_px(b[2], b[3]);
        let keypoints = ksum.map(|k| to_px(k[0] / wsum, k[1] / wsum));
        faces.push(Face {
            score: cands[i].2,
            bbox: [p0[0], p0[1], p1[0], p1[1]],
            keypoints,
            descriptor: None,
        });
    }
    faces
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    inter / (area(a) + area(b) - inter).max(1e-12)
}

/// Where dlib's chip puts the eyes when aligned from BlazeFace: the subject's right eye (on
/// the image's left) and left eye (models/README.md, `face_chip_blazeface.py`).
pub const CHIP_RIGHT_EYE: [f32; 2] = [47.73, 47.14];
pub const CHIP_LEFT_EYE: [f32; 2] = [100.28, 47.12];
pub const CHIP: u32 = 150;
/// dlib's threshold: two descriptors closer than this are the same person.
pub const SAME_PERSON: f32 = 0.6;

/// Euclidean distance of two face descriptors (compare with [`SAME_PERSON`]).
pub fn descriptor_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f32>()
        .sqrt()
}

/// The 150x150 chip of a face: the similarity transform that puts its eye keypoints on
/// [`CHIP_RIGHT_EYE`] and [`CHIP_LEFT_EYE`], sampled bilinearly (edges clamped).
pub fn face_chip(img: &RgbImage, face: &Face) -> RgbImage {
    let (src_r, src_l) = (face.keypoints[0], face.keypoints[1]);
    // Chip -> image: p_img = s R p_chip + t, from the two point pairs.
    let (dcx, dcy) = (
        CHIP_LEFT_EYE[0] - CHIP_RIGHT_EYE[0],
        CHIP_LEFT_EYE[1] - CHIP_RIGHT_EYE[1],
    );
    let (dix, diy) = (src_l[0] - src_r[0], src_l[1] - src_r[1]);
    let dc2 = (dcx * dcx + dcy * dcy).max(1e-6);
    // Complex division (di / dc) = s e^{i theta}.
    let a = (dix * dcx + diy * dcy) / dc2;
    let b = (diy * dcx - dix * dcy) / dc2;
    let tx = src_r[0] - (a * CHIP_RIGHT_EYE[0] - b * CHIP_RIGHT_EYE[1]);
    let ty = src_r[1] - (b * CHIP_RIGHT_EYE[0] + a * CHIP_RIGHT_EYE[1]);
    let (w, h) = img.dimensions();
    RgbImage::from_fn(CHIP, CHIP, |x, y| {
        let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
        let sx = a * cx - b * cy + tx - 0.5;
        let sy = b * cx + a * cy + ty - 0.5;
        bilinear(
            img,
            sx.clamp(0.0, (w - 1) as f32),
            sy.clamp(0.0, (h - 1) as f32),
        )
    })
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| img.get_pixel(xx, yy).0.map(f32::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bottom = c[k] + (d[k] - c[k]) * fx;
        out[k] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

/// dlib's face-recognition ResNet: 128-d descriptors, compared by Euclidean distance.
pub struct FaceDescriptor {
    pool: SessionPool,
}

impl FaceDescriptor {
    pub fn load(rt: &OrtRuntime, model: &Path) -> Result<Self, EmbedError> {
        Ok(FaceDescriptor {
            pool: SessionPool::load(rt, "dlib-face-resnet128", model)?,
        })
    }

    /// The descriptor of an aligned chip (values 0..255; the graph normalises itself).
    pub fn run(&self, chip: &RgbImage) -> Result<Vec<f32>, EmbedError> {
        let input = to_nchw(chip, Channels::Rgb, [0.0; 3], [1.0 / 255.0; 3]);
        let shape = [1, 3, CHIP as usize, CHIP as usize];
        let mut out = self
            .pool
            .with(|s| run_f32(s, self.pool.name, "input", shape, input, &["embedding"]))?;
        let (_, d) = out.pop().unwrap_or_default();
        if d.len() != 128 {
            return Err(EmbedError::Output {
                model: self.pool.name,
                problem: format!("descriptor of {} values", d.len()),
            });
        }
        Ok(d)
    }
}

/// Plain NMS over faces from several passes (whole image and tiles): best first, a face
/// overlapping a kept one at IoU >= [`NMS_IOU`] (or lying inside it) is dropped; at most `max`.
pub fn suppress(mut faces: Vec<Face>, max: usize) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        let inside = |k: &Face| {
            let ix = (f.bbox[2].min(k.bbox[2]) - f.bbox[0].max(k.bbox[0])).max(0.0);
            let iy = (f.bbox[3].min(k.bbox[3]) - f.bbox[1].max(k.bbox[1])).max(0.0);
            let area = ((f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1])).max(1e-6);
            ix * iy / area > 0.6
        };
        if kept
            .iter()
            .all(|k| iou(&k.bbox, &f.bbox) < NMS_IOU && !inside(k))
        {
            kept.push(f);
            if kept.len() == max {
                break;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_grid() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], (1.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(a[895], (7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn decode_merges_overlapping_anchors() {
        let anchors = anchors();
        let mut reg = vec![0f32; 896 * 16];
        let mut cls = vec![-10f32; 896];
        // Two neighbouring anchors fire on one face 32 px wide at the centre; one far away.
        for (i, score) in [(600usize, 3.0f32), (601, 2.0)] {
            let r = &mut reg[i * 16..(i + 1) * 16];
            let (ax, ay) = anchors[i];
            r[0] = (0.5 - ax) * 128.0;
            r[1] = (0.5 - ay) * 128.0;
            r[2] = 32.0;
            r[3] = 32.0;
            cls[i] = score;
        }
        cls[100] = 1.0; // a small second face elsewhere (box 0 x 0 around anchor 100)
        reg[100 * 16 + 2] = 8.0;
        reg[100 * 16 + 3] = 8.0;
        // A 256x128 image letterboxed: s = 0.5, oy = 32.
        let lb = Letterbox {
            s: 0.5,
            ox: 0.0,
            oy: 32.0,
        };
        let faces = decode(&reg, &cls, &anchors, &lb, 256.0, 128.0);
        assert_eq!(faces.len(), 2);
        // Centre of the letterbox (64, 64) -> image (128, 64); 32 px box -> 64 px.
        let f = &faces[0];
        assert!((f.bbox[0] - 96.0).abs() < 1e-3 && (f.bbox[2] - 160.0).abs() < 1e-3);
        assert!((f.bbox[1] - 32.0).abs() < 1e-3 && (f.bbox[3] - 96.0).abs() < 1e-3);
        assert!((f.score - 1.0 / (1.0 + (-3f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn chip_puts_eyes_on_their_places() {
        // An image with two marked eyes; the chip must have them at the chip eye points.
        let mut img = RgbImage::from_pixel(300, 300, Rgb([0, 0, 0]));
        let (re, le) = ([100.0f32, 120.0], [180.0f32, 110.0]);
        for (x, y) in [(re[0] as u32, re[1] as u32), (le[0] as u32, le[1] as u32)] {
            for dy in 0..2 {
                for dx in 0..2 {
                    img.put_pixel(x + dx - 1, y + dy - 1, Rgb([255, 255, 255]));
                }
            }
        }
        let face = Face {
            score: 1.0,
            bbox: [0.0; 4],
            keypoints: [re, le, [0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]],
            descriptor: None,
        };
        let chip = face_chip(&img, &face);
        for eye in [CHIP_RIGHT_EYE, CHIP_LEFT_EYE] {
            let p = chip.get_pixel(eye[0] as u32, eye[1] as u32);
            assert!(p[0] > 100, "eye at {eye:?} is {p:?}");
        }
        assert!(chip.get_pixel(75, 120)[0] < 10);
    }
}
