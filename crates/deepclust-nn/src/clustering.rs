//! The DEC clustering layer: Student's t soft assignment, the sharpened target
//! distribution and the KL(P || Q) loss with its gradients.
//!
//! For an embedding `z_i` and centroids `mu_j`:
//! `q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2) / sum_k (same for k)`,
//! `p_ij = (q_ij^2 / f_j) / sum_k (q_ik^2 / f_k)` with `f_j = sum_i q_ij`,
//! `L = (1/n) sum_i sum_j p_ij log(p_ij / q_ij)` (Keras `kld` averaged over the batch).
//!
//! Gradients (DEC paper, eq. 4-5, generalised to rows of P that need not sum to one,
//! `P_i = sum_j p_ij`), with `c_ij = (alpha+1)/alpha * (p_ij - P_i q_ij) / (1 + d_ij/alpha)`:
//! `dL/dz_i = (1/n) sum_j c_ij (z_i - mu_j)` and `dL/dmu_j = -(1/n) sum_i c_ij (z_i - mu_j)`.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Unnormalised Student's t kernels of one row, in f64; returns their sum.
fn kernel_row(z: &[f32], centroids: &[f32], alpha: f64, out: &mut [f64], dist: &mut [f64]) -> f64 {
    let d = z.len();
    let exponent = -(alpha + 1.0) / 2.0;
    let mut total = 0.0;
    for (j, (w, dj)) in out.iter_mut().zip(dist.iter_mut()).enumerate() {
        let mu = &centroids[j * d..(j + 1) * d];
        let sq: f64 = z
            .iter()
            .zip(mu)
            .map(|(&a, &b)| ((a - b) as f64).powi(2))
            .sum();
        *dj = sq;
        let base = 1.0 + sq / alpha;
        // alpha = 1 (the default) gives exponent -1: avoid powf.
        *w = if exponent == -1.0 {
            1.0 / base
        } else {
            base.powf(exponent)
        };
        total += *w;
    }
    total
}

/// Soft assignments `q` (n x k) of the rows of `z` (n x d) to `centroids` (k x d).
/// Rows are processed in parallel.
pub fn soft_assignment(
    z: ArrayView2<'_, f32>,
    centroids: ArrayView2<'_, f32>,
    alpha: f32,
) -> Array2<f32> {
    let (n, d) = z.dim();
    let k = centroids.nrows();
    assert_eq!(
        centroids.ncols(),
        d,
        "centroids and embeddings differ in width"
    );
    let z = z.as_standard_layout();
    let mu = centroids.as_standard_layout();
    let (Some(z), Some(mu)) = (z.as_slice(), mu.as_slice()) else {
        unreachable!("standard layout arrays are contiguous")
    };
    let mut q = Array2::<f32>::zeros((n, k));
    if n == 0 || k == 0 {
        return q;
    }
    let alpha = alpha as f64;
    q.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(z.par_chunks(d.max(1)))
        .for_each_init(
            || (vec![0.0f64; k], vec![0.0f64; k]),
            |(w, dist), (mut q_row, z_row)| {
                let total = kernel_row(z_row, mu, alpha, w, dist);
                for (q, &w) in q_row.iter_mut().zip(w.iter()) {
                    *q = (w / total) as f32;
                }
            },
        );
    q
}

/// The DEC target distribution: `p_ij = (q_ij^2 / f_j)` normalised per row, with cluster
/// frequencies `f_j = sum_i q_ij` over all rows of `q`.
pub fn target_distribution(q: ArrayView2<'_, f32>) -> Array2<f32> {
    let frequencies: Vec<f64> = q
        .axis_iter(Axis(1))
        .map(|col| col.iter().map(|&v| v as f64).sum())
        .collect();
    let mut p = Array2::<f32>::zeros(q.dim());
    p.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(q.axis_iter(Axis(0)).into_par_iter())
        .for_each(|(mut p_row, q_row)| {
            let weights: Vec<f64> = q_row
                .iter()
                .zip(&frequencies)
                .map(|(&v, &f)| if f > 0.0 { (v as f64).powi(2) / f } else { 0.0 })
                .collect();
            let total: f64 = weights.iter().sum();
            for (p, w) in p_row.iter_mut().zip(weights) {
                *p = if total > 0.0 { (w / total) as f32 } else { 0.0 };
            }
        });
    p
}

/// Index of the largest value of each row (ties: the first).
pub fn argmax_rows(q: ArrayView2<'_, f32>) -> Vec<usize> {
    q.axis_iter(Axis(0))
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Shapes of the KL loss inputs.
#[derive(Debug, Clone, Copy)]
pub struct KlShape {
    /// Rows (batch size).
    pub n: usize,
    /// Embedding width.
    pub d: usize,
    /// Number of clusters.
    pub k: usize,
}

/// `KL(P || Q)` averaged over the `n` rows of `z`, where `Q` is the soft assignment of `z`
/// to `centroids`, and the gradients of `weight * KL`:
/// `grad_z` (n x d) and `grad_centroids` (k x d) are overwritten.
///
/// All slices are row-major: `z` n x d, `centroids` k x d, `p` n x k. Returns the
/// unweighted loss. Terms with `p_ij = 0` contribute nothing (0 log 0 = 0).
#[allow(clippy::too_many_arguments)]
pub fn kl_loss_with_gradients(
    shape: KlShape,
    z: &[f32],
    centroids: &[f32],
    p: &[f32],
    alpha: f32,
    weight: f32,
    grad_z: &mut [f32],
    grad_centroids: &mut [f32],
) -> f64 {
    let KlShape { n, d, k } = shape;
    assert!(z.len() >= n * d && p.len() >= n * k && grad_z.len() >= n * d);
    assert!(centroids.len() >= k * d && grad_centroids.len() >= k * d);
    let alpha = alpha as f64;
    let factor = (alpha + 1.0) / alpha;
    let scale = weight as f64 / n.max(1) as f64;
    let mut w = vec![0.0f64; k];
    let mut dist = vec![0.0f64; k];
    let mut grad_mu = vec![0.0f64; k * d];
    let mut loss = 0.0f64;
    for i in 0..n {
        let z_row = &z[i * d..(i + 1) * d];
        let p_row = &p[i * k..(i + 1) * k];
        let total = kernel_row(z_row, centroids, alpha, &mut w, &mut dist);
        let p_sum: f64 = p_row.iter().map(|&v| v as f64).sum();
        let g_row = &mut grad_z[i * d..(i + 1) * d];
        g_row.fill(0.0);
        for j in 0..k {
            let q = w[j] / total;
            let pj = p_row[j] as f64;
            if pj > 0.0 {
                loss += pj * (pj / q).ln();
            }
            let c = scale * factor * (pj - p_sum * q) / (1.0 + dist[j] / alpha);
            let mu = &centroids[j * d..(j + 1) * d];
            for t in 0..d {
                let diff = (z_row[t] - mu[t]) as f64;
                g_row[t] += (c * diff) as f32;
                grad_mu[j * d + t] -= c * diff;
            }
        }
    }
    for (g, &v) in grad_centroids.iter_mut().zip(&grad_mu) {
        *g = v as f32;
    }
    loss / n.max(1) as f64
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn soft_assignment_hand_computed() {
        // z = (0, 0); mu_0 = (1, 0), mu_1 = (0, 2); alpha = 1:
        // kernels 1/(1+1) = 0.5 and 1/(1+4) = 0.2 -> q = (5/7, 2/7).
        let z = array![[0.0f32, 0.0]];
        let mu = array![[1.0f32, 0.0], [0.0, 2.0]];
        let q = soft_assignment(z.view(), mu.view(), 1.0);
        assert!((q[[0, 0]] - 5.0 / 7.0).abs() < 1e-6);
        assert!((q[[0, 1]] - 2.0 / 7.0).abs() < 1e-6);
        // alpha = 2: (1 + d/2)^(-1.5): 1.5^-1.5 = 0.5443311, 3^-1.5 = 0.1924501.
        let q = soft_assignment(z.view(), mu.view(), 2.0);
        let (a, b) = (1.5f64.powf(-1.5), 3.0f64.powf(-1.5));
        assert!((q[[0, 0]] as f64 - a / (a + b)).abs() < 1e-6);
    }

    #[test]
    fn target_distribution_hand_computed() {
        // q = [[0.8, 0.2], [0.4, 0.6]]: f = (1.2, 0.8).
        // row 0: 0.64/1.2 = 0.533333, 0.04/0.8 = 0.05 -> (0.914286, 0.085714)
        // row 1: 0.16/1.2 = 0.133333, 0.36/0.8 = 0.45 -> (0.228571, 0.771429)
        let q = array![[0.8f32, 0.2], [0.4, 0.6]];
        let p = target_distribution(q.view());
        let want = [
            [0.533333 / 0.583333, 0.05 / 0.583333],
            [0.133333 / 0.583333, 0.45 / 0.583333],
        ];
        for i in 0..2 {
            for j in 0..2 {
                assert!((p[[i, j]] as f64 - want[i][j]).abs() < 1e-5, "{p:?}");
            }
        }
        assert_eq!(argmax_rows(p.view()), vec![0, 1]);
    }

    /// f64 reference of the loss for finite differences.
    fn reference_loss(
        z: &[f64],
        mu: &[f64],
        p: &[f64],
        n: usize,
        d: usize,
        k: usize,
        alpha: f64,
    ) -> f64 {
        let mut loss = 0.0;
        for i in 0..n {
            let w: Vec<f64> = (0..k)
                .map(|j| {
                    let sq: f64 = (0..d).map(|t| (z[i * d + t] - mu[j * d + t]).powi(2)).sum();
                    (1.0 + sq / alpha).powf(-(alpha + 1.0) / 2.0)
                })
                .collect();
            let total: f64 = w.iter().sum();
            for j in 0..k {
                let pj = p[i * k + j];
                loss += pj * (pj / (w[j] / total)).ln();
            }
        }
        loss / n as f64
    }

    #[test]
    fn kl_gradients_match_finite_differences_for_embeddings_and_centroids() {
        let (n, d, k) = (6, 3, 4);
        for (seed, alpha) in [(1u64, 1.0f32), (2, 0.5), (3, 3.0)] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let z: Vec<f32> = (0..n * d).map(|_| rng.gen_range(-2.0..2.0)).collect();
            let mu: Vec<f32> = (0..k * d).map(|_| rng.gen_range(-2.0..2.0)).collect();
            // A real target: P from Q of a perturbed embedding.
            let z_arr =
                Array2::from_shape_vec((n, d), z.iter().map(|v| v + 0.3).collect()).unwrap();
            let mu_arr = Array2::from_shape_vec((k, d), mu.clone()).unwrap();
            let p = target_distribution(soft_assignment(z_arr.view(), mu_arr.view(), alpha).view());
            let p: Vec<f32> = p.iter().cloned().collect();
            let weight = 0.7;
            let mut gz = vec![0.0f32; n * d];
            let mut gmu = vec![0.0f32; k * d];
            let loss = kl_loss_with_gradients(
                KlShape { n, d, k },
                &z,
                &mu,
                &p,
                alpha,
                weight,
                &mut gz,
                &mut gmu,
            );

            let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
            let mu64: Vec<f64> = mu.iter().map(|&v| v as f64).collect();
            let p64: Vec<f64> = p.iter().map(|&v| v as f64).collect();
            let a = alpha as f64;
            assert!((loss - reference_loss(&z64, &mu64, &p64, n, d, k, a)).abs() < 1e-5);
            let eps = 1e-6;
            for i in 0..n * d {
                let (mut plus, mut minus) = (z64.clone(), z64.clone());
                plus[i] += eps;
                minus[i] -= eps;
                let fd = weight as f64
                    * (reference_loss(&plus, &mu64, &p64, n, d, k, a)
                        - reference_loss(&minus, &mu64, &p64, n, d, k, a))
                    / (2.0 * eps);
                assert!(
                    (gz[i] as f64 - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                    "z[{i}]: {} vs {fd}",
                    gz[i]
                );
            }
            for i in 0..k * d {
                let (mut plus, mut minus) = (mu64.clone(), mu64.clone());
                plus[i] += eps;
                minus[i] -= eps;
                let fd = weight as f64
                    * (reference_loss(&z64, &plus, &p64, n, d, k, a)
                        - reference_loss(&z64, &minus, &p64, n, d, k, a))
                    / (2.0 * eps);
                assert!(
                    (gmu[i] as f64 - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                    "mu[{i}]: {} vs {fd}",
                    gmu[i]
                );
            }
        }
    }

    #[test]
    fn loss_is_zero_when_p_equals_q() {
        let z = array![[0.1f32, 0.2], [1.0, -1.0], [0.5, 0.5]];
        let mu = array![[0.0f32, 0.0], [1.0, -1.0]];
        let q = soft_assignment(z.view(), mu.view(), 1.0);
        let q_flat: Vec<f32> = q.iter().cloned().collect();
        let z_flat: Vec<f32> = z.iter().cloned().collect();
        let mu_flat: Vec<f32> = mu.iter().cloned().collect();
        let (mut gz, mut gm) = (vec![0.0; 6], vec![0.0; 4]);
        let loss = kl_loss_with_gradients(
            KlShape { n: 3, d: 2, k: 2 },
            &z_flat,
            &mu_flat,
            &q_flat,
            1.0,
            1.0,
            &mut gz,
            &mut gm,
        );
        assert!(loss.abs() < 1e-6);
        assert!(gz.iter().chain(&gm).all(|g| g.abs() < 1e-6));
    }
}
