//! Quality of an embedding: how well it keeps the neighbourhoods of the original data.

use crate::knn::exact_knn;
use crate::{check_data, sq_dist, ManifoldError};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::atomic::AtomicBool;

fn check_pair(
    x: ArrayView2<'_, f32>,
    emb: ArrayView2<'_, f32>,
    k: usize,
) -> Result<(), ManifoldError> {
    check_data(x)?;
    check_data(emb)?;
    if emb.nrows() != x.nrows() {
        return Err(ManifoldError::DimensionMismatch {
            what: "embedding",
            expected: x.nrows(),
            found: emb.nrows(),
        });
    }
    let n = x.nrows();
    if k == 0 || 2 * n < 3 * k + 2 {
        return Err(ManifoldError::InvalidParam {
            name: "n_neighbors",
            reason: format!("must be >= 1 and < n / 2 (n = {n}), got {k}"),
        });
    }
    Ok(())
}

/// Trustworthiness (Venna & Kaski), scikit-learn's `sklearn.manifold.trustworthiness`:
/// `1 − 2 / (n k (2n − 3k − 1)) · Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k)`, where `U_k(i)` are the
/// embedding's `k` nearest neighbours of `i` that are not among its `k` nearest in `x` and
/// `r(i, j)` is the rank of `j` by distance from `i` in `x`. 1 is perfect. O(n² log n): use a
/// sample of a few thousand rows.
pub fn trustworthiness(
    x: ArrayView2<'_, f32>,
    embedding: ArrayView2<'_, f32>,
    n_neighbors: usize,
) -> Result<f64, ManifoldError> {
    check_pair(x, embedding, n_neighbors)?;
    let n = x.nrows();
    let k = n_neighbors;
    let emb_knn = exact_knn(embedding, k + 1, &AtomicBool::new(false))?;
    let x = x.as_standard_layout();
    let penalty: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            let xi = x.row(i);
            let xi = xi.as_slice().unwrap_or(&[]);
            let dists: Vec<f32> = (0..n)
                .map(|j| {
                    if j == i {
                        f32::INFINITY
                    } else {
                        sq_dist(xi, x.row(j).as_slice().unwrap_or(&[]))
                    }
                })
                .collect();
            let mut order: Vec<u32> = (0..n as u32).collect();
            order.sort_by(|&a, &b| {
                dists[a as usize]
                    .total_cmp(&dists[b as usize])
                    .then(a.cmp(&b))
            });
            let mut rank = vec![0u32; n];
            for (r, &j) in order.iter().enumerate() {
                rank[j as usize] = r as u32 + 1;
            }
            emb_knn
                .indices
                .row(i)
                .iter()
                .skip(1)
                .map(|&j| (rank[j as usize] as f64 - k as f64).max(0.0))
                .sum::<f64>()
        })
        .sum();
    let (nf, kf) = (n as f64, k as f64);
    Ok(1.0 - penalty * 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0)))
}

/// Mean fraction of each row's `n_neighbors` nearest neighbours in `x` that are also among its
/// `n_neighbors` nearest in the embedding (exact search in both; self excluded).
pub fn knn_preservation(
    x: ArrayView2<'_, f32>,
    embedding: ArrayView2<'_, f32>,
    n_neighbors: usize,
) -> Result<f64, ManifoldError> {
    check_pair(x, embedding, n_neighbors)?;
    let cancel = AtomicBool::new(false);
    let a = exact_knn(x, n_neighbors + 1, &cancel)?;
    let b = exact_knn(embedding, n_neighbors + 1, &cancel)?;
    crate::knn::knn_recall(&b, &a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    #[test]
    fn identity_embedding_is_perfect() {
        let x = Array2::from_shape_fn((40, 3), |(i, j)| {
            (i as f32 * 1.3 + j as f32).sin() * (1.0 + j as f32)
        });
        assert!((trustworthiness(x.view(), x.view(), 5).unwrap() - 1.0).abs() < 1e-12);
        assert!((knn_preservation(x.view(), x.view(), 5).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn matches_sklearn() {
        // sklearn 1.9.1:
        //   i = np.arange(20)
        //   X = np.stack([np.sin(i*1.7+j*0.3)*(1+j) for j in range(3)], 1).astype(np.float32)
        //   E = np.stack([np.cos(i*0.9+j) for j in range(2)], 1).astype(np.float32)
        //   trustworthiness(X, E, n_neighbors=3) -> 0.5866666666666667, (..., 5) -> 0.5741666666666667
        let x: Array2<f32> = Array2::from_shape_fn((20, 3), |(i, j)| {
            ((i as f64 * 1.7 + j as f64 * 0.3).sin() * (1.0 + j as f64)) as f32
        });
        let e: Array2<f32> =
            Array2::from_shape_fn((20, 2), |(i, j)| (i as f64 * 0.9 + j as f64).cos() as f32);
        let t3 = trustworthiness(x.view(), e.view(), 3).unwrap();
        let t5 = trustworthiness(x.view(), e.view(), 5).unwrap();
        assert!((t3 - 0.5866666666666667).abs() < 1e-9, "{t3}");
        assert!((t5 - 0.5741666666666667).abs() < 1e-9, "{t5}");
        // Keeping one of three coordinates is worse than keeping all, better than noise.
        let first = x.slice(s![.., ..1]).to_owned();
        let t = trustworthiness(x.view(), first.view(), 3).unwrap();
        assert!(t < 1.0 && t > t3, "{t}");
    }

    #[test]
    fn rejects_mismatch() {
        let x = Array2::<f32>::zeros((10, 2));
        let e = Array2::<f32>::zeros((9, 2));
        assert!(trustworthiness(x.view(), e.view(), 2).is_err());
    }
}
