//! Principal component analysis down to two dimensions, so the embedding map works without
//! UMAP. The covariance (d x d) is built in f64 from the centred rows; its top eigenvectors
//! come from a cyclic Jacobi solver when d is small, and from subspace iteration with a
//! Rayleigh-Ritz step (the same Jacobi solver on a small matrix) when d is large, where a
//! full O(d^3) decomposition per sweep would be wasteful (d = 784 for raw MNIST pixels).

use crate::error::{ReportError, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Up to this dimension the covariance is decomposed exactly with Jacobi rotations.
const JACOBI_MAX_DIM: usize = 128;
/// Columns of the iterated block: more than the two wanted, so that convergence depends on
/// the gap to the 7th eigenvalue rather than the 3rd.
const SUBSPACE_BLOCK: usize = 6;
const SUBSPACE_MAX_ITER: usize = 500;

/// A fitted 2-D PCA: `project(x) = (x - mean) * components^T`.
#[derive(Debug, Clone)]
pub struct Pca2 {
    /// Column means of the fitted rows (length d).
    pub mean: Array1<f64>,
    /// `2 x d`, orthonormal rows, each with its largest-magnitude entry positive (a fixed
    /// sign makes maps of the same data look the same from run to run).
    pub components: Array2<f64>,
    /// Variance along each component (eigenvalues of the covariance, descending).
    pub explained_variance: [f64; 2],
    /// Sum of the variances of all features (trace of the covariance).
    pub total_variance: f64,
}

impl Pca2 {
    /// Fits the two leading principal axes of the rows of `x` (n x d, n >= 2, d >= 1).
    /// With d == 1 the second component is all zeros.
    pub fn fit(x: ArrayView2<f32>) -> Result<Self> {
        let (n, d) = x.dim();
        if n < 2 || d == 0 {
            return Err(ReportError::Invalid(format!(
                "PCA needs at least 2 rows and 1 column, got {n} x {d}"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(ReportError::Invalid(
                "the embedding contains NaN or infinite values".to_string(),
            ));
        }
        let xf = x.mapv(f64::from);
        let mean = xf.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
        let centred = &xf - &mean;
        let cov = centred.t().dot(&centred) / (n as f64 - 1.0);
        let total_variance = cov.diag().sum();
        let (values, vectors) = if d <= JACOBI_MAX_DIM {
            let (values, vectors) = jacobi_eigen(cov);
            (values, vectors)
        } else {
            top_eigen_subspace(&cov, SUBSPACE_BLOCK)
        };
        let mut components = Array2::zeros((2, d));
        let mut explained_variance = [0.0; 2];
        for k in 0..2.min(values.len()) {
            let mut v = vectors.column(k).to_owned();
            let largest = v
                .iter()
                .copied()
                .fold(0.0f64, |m, e| if e.abs() > m.abs() { e } else { m });
            if largest < 0.0 {
                v.mapv_inplace(|e| -e);
            }
            components.row_mut(k).assign(&v);
            explained_variance[k] = values[k].max(0.0);
        }
        Ok(Pca2 {
            mean,
            components,
            explained_variance,
            total_variance,
        })
    }

    /// Coordinates of the rows of `x` (n x d, same d as the fit) on the two axes.
    pub fn project(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.mean.len() {
            return Err(ReportError::Invalid(format!(
                "PCA was fitted on {} columns, asked to project {}",
                self.mean.len(),
                x.ncols()
            )));
        }
        let centred = &x.mapv(f64::from) - &self.mean;
        Ok(centred.dot(&self.components.t()).mapv(|v| v as f32))
    }

    /// Fraction of the total variance the two axes keep (0 when the data is constant).
    pub fn explained_ratio(&self) -> f64 {
        if self.total_variance > 0.0 {
            (self.explained_variance[0] + self.explained_variance[1]) / self.total_variance
        } else {
            0.0
        }
    }
}

/// Fits a 2-D PCA on `x` and returns the rows' coordinates (n x 2).
pub fn pca_2d(x: ArrayView2<f32>) -> Result<Array2<f32>> {
    Pca2::fit(x)?.project(x)
}

/// All eigenvalues (descending) and eigenvectors (columns, same order) of a symmetric
/// matrix by cyclic Jacobi rotations (Numerical Recipes' `jacobi`, with the rotation applied
/// to full rows and columns for clarity).
pub(crate) fn jacobi_eigen(mut a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut v = Array2::<f64>::eye(n);
    let scale: f64 = a.iter().map(|e| e * e).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += a[[p, q]] * a[[p, q]];
            }
        }
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A <- J^T A J, with J the identity except J_pp = J_qq = c, J_pq = s, J_qp = -s.
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[j, j]].total_cmp(&a[[i, i]]));
    let values = order.iter().map(|&i| a[[i, i]]).collect();
    let mut vectors = Array2::zeros((n, n));
    for (dst, &src) in order.iter().enumerate() {
        vectors.column_mut(dst).assign(&v.column(src));
    }
    (values, vectors)
}

/// Orthonormalises the columns of `q` in place (modified Gram-Schmidt). A column that
/// becomes numerically zero is replaced by a unit vector not yet spanned.
fn orthonormalise(q: &mut Array2<f64>) {
    let (d, b) = q.dim();
    for j in 0..b {
        for _pass in 0..2 {
            for i in 0..j {
                let proj = q.column(i).dot(&q.column(j));
                let qi = q.column(i).to_owned();
                q.column_mut(j).scaled_add(-proj, &qi);
            }
            let norm = q.column(j).dot(&q.column(j)).sqrt();
            if norm > 1e-12 {
                q.column_mut(j).mapv_inplace(|e| e / norm);
            } else {
                q.column_mut(j).fill(0.0);
                q[[j % d, j]] = 1.0;
            }
        }
    }
}

/// The top `block` eigenpairs of a symmetric positive semi-definite matrix by subspace
/// iteration; stops when the two leading Ritz pairs have relative residual below 1e-9.
fn top_eigen_subspace(c: &Array2<f64>, block: usize) -> (Vec<f64>, Array2<f64>) {
    let d = c.nrows();
    let b = block.min(d);
    // A fixed seed: the start vectors do not change the converged result, only its speed.
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let mut q = Array2::from_shape_fn((d, b), |_| rng.gen::<f64>() - 0.5);
    orthonormalise(&mut q);
    let mut result = (vec![0.0; b], q.clone());
    for iter in 0..SUBSPACE_MAX_ITER {
        let z = c.dot(&q);
        q = z;
        orthonormalise(&mut q);
        if iter % 5 == 4 || iter + 1 == SUBSPACE_MAX_ITER {
            let cq = c.dot(&q);
            let small = q.t().dot(&cq);
            let (values, w) = jacobi_eigen(small);
            let ritz = q.dot(&w);
            let c_ritz = cq.dot(&w);
            let scale = values[0].abs().max(f64::MIN_POSITIVE);
            let converged = (0..2.min(b)).all(|k| {
                let residual = &c_ritz.column(k) - &(&ritz.column(k) * values[k]);
                residual.dot(&residual).sqrt() <= 1e-9 * scale
            });
            result = (values, ritz);
            q = result.1.clone();
            if converged {
                break;
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn jacobi_matches_a_hand_computed_2x2() {
        // [[2, 1], [1, 2]] has eigenvalues 3 (along (1,1)/sqrt2) and 1 (along (1,-1)/sqrt2).
        let (values, vectors) = jacobi_eigen(array![[2.0, 1.0], [1.0, 2.0]]);
        assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vectors[[0, 0]].abs() - h).abs() < 1e-12);
        assert!((vectors[[0, 0]] - vectors[[1, 0]]).abs() < 1e-12);
        assert!((vectors[[0, 1]] + vectors[[1, 1]]).abs() < 1e-12);
    }

    #[test]
    fn jacobi_reconstructs_a_symmetric_matrix() {
        let a = array![[4.0, -2.0, 1.0], [-2.0, 3.0, 0.5], [1.0, 0.5, 1.0]];
        let (values, v) = jacobi_eigen(a.clone());
        let lambda = Array2::from_diag(&Array1::from(values));
        let back = v.dot(&lambda).dot(&v.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-10, "{back:?}");
        }
        let eye = v.t().dot(&v);
        for ((i, j), e) in eye.indexed_iter() {
            assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
        }
    }

    #[test]
    fn pca_finds_the_axes_of_points_on_a_known_ellipse() {
        // Points (3 cos t, 1 sin t) rotated by 30 degrees: the first axis is the rotated x
        // axis with variance 9/2, the second the rotated y axis with variance 1/2 (n -> inf;
        // with n equally spaced t the sample variance is exactly 9/2 * n/(n-1)).
        let n = 400;
        let (c30, s30) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            let (a, b) = (3.0 * t.cos(), t.sin());
            (if j == 0 {
                c30 * a - s30 * b
            } else {
                s30 * a + c30 * b
            }) as f32
                + 5.0
        });
        let pca = Pca2::fit(x.view()).expect("fit");
        let k = n as f64 / (n as f64 - 1.0);
        assert!(
            (pca.explained_variance[0] - 4.5 * k).abs() < 1e-4,
            "{pca:?}"
        );
        assert!(
            (pca.explained_variance[1] - 0.5 * k).abs() < 1e-4,
            "{pca:?}"
        );
        assert!((pca.components[[0, 0]] - c30).abs() < 1e-5);
        assert!((pca.components[[0, 1]] - s30).abs() < 1e-5);
        assert!((pca.explained_ratio() - 1.0).abs() < 1e-9);
        let y = pca.project(x.view()).expect("project");
        // First point: t = 0 -> (3, 0) in the ellipse's own frame.
        assert!(
            (y[[0, 0]] - 3.0).abs() < 1e-4 && y[[0, 1]].abs() < 1e-4,
            "{:?}",
            y.row(0)
        );
    }

    #[test]
    fn subspace_iteration_agrees_with_jacobi_on_a_large_covariance() {
        // d = 150 > JACOBI_MAX_DIM: three strong directions plus isotropic noise.
        let (n, d) = (300, 150);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let dirs = Array2::from_shape_fn((3, d), |_| rng.gen::<f64>() - 0.5);
        let x = Array2::from_shape_fn((n, d), |(_, _)| 0.0f64);
        let x = x + &Array2::from_shape_fn((n, 3), |(_, k)| {
            (rng.gen::<f64>() - 0.5) * [6.0, 3.0, 1.5][k]
        })
        .dot(&dirs);
        let noise = Array2::from_shape_fn((n, d), |_| (rng.gen::<f64>() - 0.5) * 0.1);
        let x = (x + noise).mapv(|v| v as f32);
        let xf = x.mapv(f64::from);
        let mean = xf.mean_axis(Axis(0)).expect("mean");
        let centred = &xf - &mean;
        let cov = centred.t().dot(&centred) / (n as f64 - 1.0);
        let (exact_values, exact_vectors) = jacobi_eigen(cov);
        let pca = Pca2::fit(x.view()).expect("fit");
        for (k, exact) in exact_values.iter().take(2).enumerate() {
            let got = pca.explained_variance[k];
            let rel = (got - exact).abs() / exact;
            assert!(rel < 1e-8, "component {k}: {got} vs {exact}");
            let cos = pca.components.row(k).dot(&exact_vectors.column(k)).abs();
            assert!((cos - 1.0).abs() < 1e-8, "component {k}: |cos| = {cos}");
        }
    }

    #[test]
    fn degenerate_inputs_are_errors_not_panics() {
        assert!(Pca2::fit(Array2::<f32>::zeros((1, 3)).view()).is_err());
        assert!(Pca2::fit(Array2::<f32>::zeros((3, 0)).view()).is_err());
        let mut bad = Array2::<f32>::zeros((3, 2));
        bad[[1, 1]] = f32::NAN;
        assert!(Pca2::fit(bad.view()).is_err());
        // Constant data: zero variance, projection all zeros, no panic.
        let constant = Array2::<f32>::from_elem((4, 3), 2.0);
        let y = pca_2d(constant.view()).expect("constant data");
        assert!(y.iter().all(|v| *v == 0.0));
        // One column: the second coordinate is zero.
        let one = array![[1.0f32], [2.0], [4.0]];
        let y = pca_2d(one.view()).expect("one column");
        assert!(y.column(1).iter().all(|v| *v == 0.0));
    }
}
