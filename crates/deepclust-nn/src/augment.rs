//! Random affine augmentation of image rows (DEC-DA, Guo et al. 2018): each sample is
//! shifted by up to a fraction of its size and rotated by up to a few degrees before it
//! enters the network, so the learned code becomes invariant to small displacements.
//!
//! The transform follows Keras' `ImageDataGenerator(rotation_range, width_shift_range,
//! height_shift_range)` that the DEC-DA code uses: a rotation about the image centre and a
//! translation, sampled uniformly, applied with bilinear interpolation and the nearest edge
//! pixel outside the image (`fill_mode="nearest"`, Keras' default).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{NnError, Result};

/// Random shifts and rotations of grayscale images stored row by row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Image height in pixels (rows of the image).
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Largest shift as a fraction of the width (horizontal) and height (vertical).
    pub max_shift: f32,
    /// Largest rotation in degrees, either way.
    pub max_rotation_degrees: f32,
}

impl Augmentation {
    /// The DEC-DA setting: shifts up to 10% of the size, rotations up to 10 degrees.
    pub fn dec_da(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            max_shift: 0.1,
            max_rotation_degrees: 10.0,
        }
    }

    /// Set the largest shift (fraction of the image size).
    pub fn max_shift(mut self, fraction: f32) -> Self {
        self.max_shift = fraction;
        self
    }

    /// Set the largest rotation in degrees.
    pub fn max_rotation_degrees(mut self, degrees: f32) -> Self {
        self.max_rotation_degrees = degrees;
        self
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Check every value; the error says which one is wrong.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(NnError::InvalidConfig(m));
        if self.height == 0 || self.width == 0 {
            return fail(format!(
                "augmentation needs a positive image size, got {}x{}",
                self.height, self.width
            ));
        }
        if !(self.max_shift.is_finite() && (0.0..=0.5).contains(&self.max_shift)) {
            return fail(format!(
                "augmentation max_shift must be a fraction in [0, 0.5], got {}",
                self.max_shift
            ));
        }
        if !(self.max_rotation_degrees.is_finite()
            && (0.0..=180.0).contains(&self.max_rotation_degrees))
        {
            return fail(format!(
                "augmentation max_rotation_degrees must be in [0, 180], got {}",
                self.max_rotation_degrees
            ));
        }
        Ok(())
    }

    /// Check that rows of width `d` are images of this size.
    pub fn check_width(&self, d: usize) -> Result<()> {
        if d != self.pixels() {
            return Err(NnError::InvalidInput(format!(
                "augmentation is set for {}x{} images ({} values per row) but the rows have {d}",
                self.height,
                self.width,
                self.pixels()
            )));
        }
        Ok(())
    }

    /// Replace each of the `m` rows of `rows` (each `height * width` values) by a randomly
    /// shifted and rotated copy. `scratch` holds one image.
    pub fn apply_rows<R: Rng>(&self, rows: &mut [f32], rng: &mut R, scratch: &mut Vec<f32>) {
        let pixels = self.pixels();
        scratch.resize(pixels, 0.0);
        for image in rows.chunks_exact_mut(pixels) {
            let shift_x = self.max_shift * self.width as f32 * symmetric(rng);
            let shift_y = self.max_shift * self.height as f32 * symmetric(rng);
            let angle = self.max_rotation_degrees.to_radians() * symmetric(rng);
            scratch.copy_from_slice(image);
            self.transform(scratch, image, angle, shift_x, shift_y);
        }
    }

    /// Write into `dst` the image `src` rotated by `angle` radians (counter-clockwise on
    /// screen) about its centre and then moved by `(shift_x, shift_y)` pixels.
    pub fn transform(&self, src: &[f32], dst: &mut [f32], angle: f32, shift_x: f32, shift_y: f32) {
        let (h, w) = (self.height, self.width);
        let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
        let (sin, cos) = angle.sin_cos();
        for y in 0..h {
            for x in 0..w {
                // Inverse map: undo the shift, then rotate back about the centre. With y
                // pointing down, a counter-clockwise turn on screen is (x, y) ->
                // (cos x + sin y, -sin x + cos y); its inverse is the transpose.
                let dx = x as f32 - shift_x - cx;
                let dy = y as f32 - shift_y - cy;
                let sx = cos * dx - sin * dy + cx;
                let sy = sin * dx + cos * dy + cy;
                dst[y * w + x] = bilinear_nearest_edge(src, h, w, sy, sx);
            }
        }
    }
}

/// Uniform in [-1, 1].
fn symmetric<R: Rng>(rng: &mut R) -> f32 {
    rng.gen_range(-1.0f32..=1.0)
}

/// Bilinear sample of `src` (h x w) at (y, x), clamping coordinates to the image (Keras'
/// `fill_mode="nearest"`).
fn bilinear_nearest_edge(src: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    let y = y.clamp(0.0, (h - 1) as f32);
    let x = x.clamp(0.0, (w - 1) as f32);
    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
    let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
    let (fy, fx) = (y - y0 as f32, x - x0 as f32);
    let top = src[y0 * w + x0] * (1.0 - fx) + src[y0 * w + x1] * fx;
    let bottom = src[y1 * w + x0] * (1.0 - fx) + src[y1 * w + x1] * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn image_with_dot(h: usize, w: usize, y: usize, x: usize) -> Vec<f32> {
        let mut img = vec![0.0; h * w];
        img[y * w + x] = 1.0;
        img
    }

    #[test]
    fn identity_transform_keeps_the_image() {
        let aug = Augmentation::dec_da(5, 7);
        let src: Vec<f32> = (0..35).map(|v| v as f32 / 35.0).collect();
        let mut dst = vec![0.0; 35];
        aug.transform(&src, &mut dst, 0.0, 0.0, 0.0);
        for (a, b) in src.iter().zip(&dst) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn integer_shift_moves_a_dot_by_that_many_pixels() {
        let aug = Augmentation::dec_da(9, 9);
        let src = image_with_dot(9, 9, 4, 4);
        let mut dst = vec![0.0; 81];
        aug.transform(&src, &mut dst, 0.0, 2.0, -1.0);
        // Moved right by 2 and up by 1.
        assert!((dst[3 * 9 + 6] - 1.0).abs() < 1e-6);
        assert!((dst.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn quarter_turn_rotates_counter_clockwise_about_the_centre() {
        let aug = Augmentation::dec_da(5, 5);
        // Dot right of the centre (y 2, x 4): a counter-clockwise quarter turn on screen
        // puts it above the centre (y 0, x 2).
        let src = image_with_dot(5, 5, 2, 4);
        let mut dst = vec![0.0; 25];
        aug.transform(&src, &mut dst, std::f32::consts::FRAC_PI_2, 0.0, 0.0);
        assert!((dst[2] - 1.0).abs() < 1e-5, "{dst:?}");
        assert!((dst.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn outside_pixels_repeat_the_nearest_edge() {
        let aug = Augmentation::dec_da(3, 3);
        let src = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let mut dst = vec![0.0; 9];
        aug.transform(&src, &mut dst, 0.0, 1.0, 0.0);
        // Shifted right by one: the first column repeats the old first column.
        assert_eq!(dst, vec![1.0, 1.0, 2.0, 4.0, 4.0, 5.0, 7.0, 7.0, 8.0]);
    }

    #[test]
    fn random_rows_stay_in_range_and_follow_the_seed() {
        let aug = Augmentation::dec_da(28, 28);
        let original: Vec<f32> = (0..3 * 784)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let mut scratch = Vec::new();
        let mut a = original.clone();
        aug.apply_rows(&mut a, &mut ChaCha8Rng::seed_from_u64(3), &mut scratch);
        let mut b = original.clone();
        aug.apply_rows(&mut b, &mut ChaCha8Rng::seed_from_u64(3), &mut scratch);
        assert_eq!(a, b);
        assert_ne!(a, original);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn validation_names_the_bad_value() {
        let err = Augmentation::dec_da(28, 28).max_shift(0.9).validate();
        assert!(format!("{err:?}").contains("max_shift"));
        let err = Augmentation::dec_da(28, 28)
            .max_rotation_degrees(f32::NAN)
            .validate();
        assert!(format!("{err:?}").contains("max_rotation_degrees"));
        assert!(Augmentation::dec_da(0, 28).validate().is_err());
        assert!(Augmentation::dec_da(28, 28).check_width(780).is_err());
    }
}
