//! UMAP's fuzzy simplicial set, exactly as umap-learn's `fuzzy_simplicial_set`: per-point
//! `rho` (distance to the nearest neighbour) and `sigma` (binary search so that the memberships
//! sum to `log2 k`), memberships `exp(-(d - rho) / sigma)`, then the fuzzy union
//! `A + Aᵀ − A∘Aᵀ` (generally `mix·(A + Aᵀ − A∘Aᵀ) + (1 − mix)·A∘Aᵀ`).

use crate::knn::KnnGraph;
use crate::ManifoldError;
use ndarray::ArrayView2;
use rayon::prelude::*;

const SMOOTH_K_TOLERANCE: f64 = 1e-5;
const MIN_K_DIST_SCALE: f32 = 1e-3;

/// Symmetric sparse graph in CSR form (rows sorted by column, no explicit zeros).
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyGraph {
    pub n: usize,
    /// Row `i` occupies `indices[indptr[i]..indptr[i + 1]]`.
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub weights: Vec<f32>,
}

impl FuzzyGraph {
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
    /// Column indices and weights of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.weights[r])
    }
    /// Weight of entry `(i, j)`, 0 when absent.
    pub fn get(&self, i: usize, j: usize) -> f32 {
        let (c, w) = self.row(i);
        match c.binary_search(&(j as u32)) {
            Ok(p) => w[p],
            Err(_) => 0.0,
        }
    }
}

/// umap-learn's `smooth_knn_dist` on a sorted distance matrix whose column 0 is the point
/// itself: returns `(sigmas, rhos)`. `k` is the number of neighbours (self included) whose
/// `log2` is the target sum of memberships.
pub fn smooth_knn_dist(
    distances: ArrayView2<'_, f32>,
    k: f32,
    local_connectivity: f32,
) -> (Vec<f32>, Vec<f32>) {
    let target = (k as f64).log2();
    let n = distances.nrows();
    let mean_distances = if distances.is_empty() {
        0.0
    } else {
        (distances.iter().map(|&d| d as f64).sum::<f64>() / distances.len() as f64) as f32
    };
    let out: Vec<(f32, f32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let row = distances.row(i);
            let non_zero: Vec<f32> = row.iter().copied().filter(|&d| d > 0.0).collect();
            let mut rho = 0.0f32;
            if non_zero.len() as f32 >= local_connectivity {
                let index = local_connectivity.floor() as usize;
                let interpolation = local_connectivity - index as f32;
                if index > 0 {
                    rho = non_zero[index - 1];
                    if interpolation as f64 > SMOOTH_K_TOLERANCE {
                        rho += interpolation * (non_zero[index] - non_zero[index - 1]);
                    }
                } else {
                    rho = interpolation * non_zero[0];
                }
            } else if !non_zero.is_empty() {
                rho = non_zero.iter().copied().fold(f32::MIN, f32::max);
            }
            let (mut lo, mut hi, mut mid) = (0.0f64, f32::MAX as f64, 1.0f64);
            for _ in 0..64 {
                let mut psum = 0.0f64;
                for &dj in row.iter().skip(1) {
                    let d = dj - rho;
                    psum += if d > 0.0 {
                        (-(d as f64 / mid)).exp()
                    } else {
                        1.0
                    };
                }
                if (psum - target).abs() < SMOOTH_K_TOLERANCE {
                    break;
                }
                if psum > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    if hi >= f32::MAX as f64 {
                        mid *= 2.0;
                    } else {
                        mid = (lo + hi) / 2.0;
                    }
                }
            }
            let mut sigma = mid as f32;
            let floor = if rho > 0.0 {
                MIN_K_DIST_SCALE
                    * (row.iter().map(|&d| d as f64).sum::<f64>() / row.len() as f64) as f32
            } else {
                MIN_K_DIST_SCALE * mean_distances
            };
            if sigma < floor {
                sigma = floor;
            }
            (sigma, rho)
        })
        .collect();
    out.into_iter().unzip()
}

/// The symmetric fuzzy graph of a kNN graph (umap-learn's `fuzzy_simplicial_set` with the
/// same `local_connectivity` and `set_op_mix_ratio`).
pub fn fuzzy_simplicial_set(
    knn: &KnnGraph,
    local_connectivity: f32,
    set_op_mix_ratio: f32,
) -> Result<FuzzyGraph, ManifoldError> {
    if !(local_connectivity.is_finite() && local_connectivity >= 0.0) {
        return Err(ManifoldError::InvalidParam {
            name: "local_connectivity",
            reason: format!("must be finite and >= 0, got {local_connectivity}"),
        });
    }
    if !(0.0..=1.0).contains(&set_op_mix_ratio) {
        return Err(ManifoldError::InvalidParam {
            name: "set_op_mix_ratio",
            reason: format!("must be in [0, 1], got {set_op_mix_ratio}"),
        });
    }
    let n = knn.n_samples();
    let k = knn.n_neighbors();
    let (sigmas, rhos) = smooth_knn_dist(knn.distances.view(), k as f32, local_connectivity);
    // Directed memberships as (row << 32 | col, value, is_transposed) triplets; both A and
    // Aᵀ go in, then sorting by key brings A[i,j] and A[j,i] together.
    let mut triplets: Vec<(u64, f32, bool)> = Vec::with_capacity(2 * n * k);
    for i in 0..n {
        for c in 0..k {
            let j = knn.indices[[i, c]] as usize;
            let d = knn.distances[[i, c]];
            let val = if j == i {
                0.0
            } else if d - rhos[i] <= 0.0 || sigmas[i] == 0.0 {
                1.0
            } else {
                (-((d - rhos[i]) / sigmas[i])).exp()
            };
            if val != 0.0 {
                triplets.push((((i as u64) << 32) | j as u64, val, false));
                triplets.push((((j as u64) << 32) | i as u64, val, true));
            }
        }
    }
    triplets.par_sort_unstable_by_key(|t| (t.0, t.2));
    let mut indptr = vec![0usize; n + 1];
    let mut indices = Vec::with_capacity(triplets.len() / 2 + n);
    let mut weights = Vec::with_capacity(triplets.len() / 2 + n);
    let mix = set_op_mix_ratio;
    let mut t = 0;
    while t < triplets.len() {
        let key = triplets[t].0;
        let (mut a, mut b) = (0.0f32, 0.0f32);
        while t < triplets.len() && triplets[t].0 == key {
            if triplets[t].2 {
                b += triplets[t].1;
            } else {
                a += triplets[t].1;
            }
            t += 1;
        }
        let prod = a * b;
        let w = mix * (a + b - prod) + (1.0 - mix) * prod;
        if w != 0.0 {
            let row = (key >> 32) as usize;
            indptr[row + 1] += 1;
            indices.push((key & 0xffff_ffff) as u32);
            weights.push(w);
        }
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    Ok(FuzzyGraph {
        n,
        indptr,
        indices,
        weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::exact_knn;
    use ndarray::{array, Array2};
    use std::sync::atomic::AtomicBool;

    #[test]
    fn sigma_solves_the_membership_equation() {
        let d = array![[0.0f32, 1.0, 1.5, 2.0, 3.0], [0.0, 0.5, 0.6, 2.5, 4.0]];
        let (sigmas, rhos) = smooth_knn_dist(d.view(), 5.0, 1.0);
        assert_eq!(rhos, vec![1.0, 0.5]);
        for i in 0..2 {
            let s: f64 = d
                .row(i)
                .iter()
                .skip(1)
                .map(|&x| (-(((x - rhos[i]).max(0.0)) as f64) / sigmas[i] as f64).exp())
                .sum();
            assert!((s - 5f64.log2()).abs() < 1e-4, "row {i}: {s}");
        }
    }

    #[test]
    fn matches_umap_learn_on_a_small_case() {
        // Reference from umap-learn 0.5.12 (exact kNN for n < 4096):
        //   X = np.array([[0,0],[1,0],[0,2],[3,3],[3,4],[5,5]], np.float32)
        //   g = umap.umap_.fuzzy_simplicial_set(X, 3, 0, "euclidean")[0].toarray()
        let x: Array2<f32> = array![[0., 0.], [1., 0.], [0., 2.], [3., 3.], [3., 4.], [5., 5.]];
        let knn = exact_knn(x.view(), 3, &AtomicBool::new(false)).unwrap();
        let g = fuzzy_simplicial_set(&knn, 1.0, 1.0).unwrap();
        for (i, ref_row) in REFERENCE_6X6.iter().enumerate() {
            for (j, &r) in ref_row.iter().enumerate() {
                let w = g.get(i, j);
                assert!((w - r).abs() < 1e-5, "({i},{j}) {w} vs {r}");
                assert_eq!(w, g.get(j, i));
            }
        }
    }

    #[rustfmt::skip]
    const REFERENCE_6X6: [[f32; 6]; 6] = [
        [0.000000000, 1.000000000, 0.99999994, 0.000000000, 0.000000000, 0.000000000],
        [1.000000000, 0.000000000, 0.82773983, 0.000000000, 0.000000000, 0.000000000],
        [0.99999994, 0.82773983, 0.000000000, 0.000000000, 0.000000000, 0.000000000],
        [0.000000000, 0.000000000, 0.000000000, 0.000000000, 1.000000000, 0.8277453],
        [0.000000000, 0.000000000, 0.000000000, 1.000000000, 0.000000000, 1.000000000],
        [0.000000000, 0.000000000, 0.000000000, 0.8277453, 1.000000000, 0.000000000],
    ];
}
