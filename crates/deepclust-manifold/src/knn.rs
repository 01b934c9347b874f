//! The k-nearest-neighbour graph type and exact (brute-force, GEMM) search.

use crate::{check_data, ManifoldError};
use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// k nearest neighbours of every row, the row itself first (as umap-learn's kNN graph:
/// `n_neighbors = 15` means the point and its 14 nearest others), sorted by distance.
/// A graph built elsewhere must follow the same layout (self in column 0, ascending
/// distances); [`KnnGraph::validate`] checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnGraph {
    /// `n x k` row indices; column 0 is the row itself.
    pub indices: Array2<u32>,
    /// `n x k` Euclidean (not squared) distances; column 0 is 0.
    pub distances: Array2<f32>,
}

impl KnnGraph {
    pub fn n_samples(&self) -> usize {
        self.indices.nrows()
    }
    /// Neighbours per row, the row itself included.
    pub fn n_neighbors(&self) -> usize {
        self.indices.ncols()
    }

    /// Checks shapes, index range, self in column 0 and finite, ascending distances.
    pub fn validate(&self) -> Result<(), ManifoldError> {
        let n = self.n_samples();
        if self.distances.dim() != self.indices.dim() {
            return Err(ManifoldError::DimensionMismatch {
                what: "kNN distances",
                expected: n,
                found: self.distances.nrows(),
            });
        }
        for (i, (idx, dist)) in self
            .indices
            .rows()
            .into_iter()
            .zip(self.distances.rows())
            .enumerate()
        {
            let bad = |reason: String| ManifoldError::InvalidParam {
                name: "knn graph",
                reason: format!("row {i}: {reason}"),
            };
            if idx.first().map(|&j| j as usize) != Some(i) {
                return Err(bad("column 0 must be the row itself".into()));
            }
            if let Some(&j) = idx.iter().find(|&&j| j as usize >= n) {
                return Err(bad(format!("neighbour index {j} out of range (n = {n})")));
            }
            if dist.iter().any(|d| !d.is_finite() || *d < 0.0) {
                return Err(bad("distances must be finite and >= 0".into()));
            }
            if dist.iter().zip(dist.iter().skip(1)).any(|(a, b)| a > b) {
                return Err(bad("distances must be sorted ascending".into()));
            }
        }
        Ok(())
    }

    /// Builds the graph from `others` nearest other rows per row (`n x (k-1)` row-major
    /// indices and squared distances, ascending), prepending each row itself.
    pub(crate) fn from_others(n: usize, k_others: usize, idx: &[u32], sq: &[f32]) -> Self {
        let k = k_others + 1;
        let mut indices = Array2::<u32>::zeros((n, k));
        let mut distances = Array2::<f32>::zeros((n, k));
        for i in 0..n {
            indices[[i, 0]] = i as u32;
            for j in 0..k_others {
                indices[[i, j + 1]] = idx[i * k_others + j];
                distances[[i, j + 1]] = sq[i * k_others + j].max(0.0).sqrt();
            }
        }
        Self { indices, distances }
    }
}

/// Checks `n_neighbors` (self included) against the number of rows.
pub(crate) fn check_k(n: usize, n_neighbors: usize) -> Result<(), ManifoldError> {
    if n_neighbors < 2 {
        return Err(ManifoldError::InvalidParam {
            name: "n_neighbors",
            reason: format!(
                "must be at least 2 (the point itself and one other), got {n_neighbors}"
            ),
        });
    }
    if n_neighbors >= n {
        return Err(ManifoldError::TooFewSamples { n_neighbors, n });
    }
    Ok(())
}

/// Keeps the `cap` smallest `(dist, index)` pairs of a stream in ascending order.
/// Insertion into a sorted array: `cap` is small (≤ 100) and most candidates are rejected
/// by the single comparison with the current worst.
pub(crate) struct SortedTopK {
    pub dist: Vec<f32>,
    pub idx: Vec<u32>,
    cap: usize,
}

impl SortedTopK {
    pub fn new(cap: usize) -> Self {
        Self {
            dist: Vec::with_capacity(cap + 1),
            idx: Vec::with_capacity(cap + 1),
            cap,
        }
    }
    pub fn clear(&mut self) {
        self.dist.clear();
        self.idx.clear();
    }
    #[inline]
    pub fn worst(&self) -> f32 {
        if self.dist.len() < self.cap {
            f32::INFINITY
        } else {
            self.dist[self.cap - 1]
        }
    }
    #[inline]
    pub fn push(&mut self, d: f32, i: u32) {
        if d >= self.worst() {
            return;
        }
        // Position after all entries <= d keeps ties in scan order (deterministic).
        let pos = self.dist.partition_point(|&v| v <= d);
        self.dist.insert(pos, d);
        self.idx.insert(pos, i);
        if self.dist.len() > self.cap {
            self.dist.pop();
            self.idx.pop();
        }
    }
}

/// Squared norms of the rows.
pub(crate) fn row_sq_norms(x: ArrayView2<'_, f32>) -> Vec<f32> {
    x.rows().into_iter().map(|r| r.dot(&r)).collect()
}

/// Exact k nearest neighbours (Euclidean), `n_neighbors` counting the row itself.
///
/// Squared distances come from `||a||² − 2a·b + ||b||²` on GEMM blocks of 128 query rows
/// (ndarray's `dot`, i.e. matrixmultiply), blocks run in parallel; ties keep the lower index,
/// so the result does not depend on the thread count. Cost O(n² d): use it up to ~20k rows.
pub fn exact_knn(
    x: ArrayView2<'_, f32>,
    n_neighbors: usize,
    cancel: &AtomicBool,
) -> Result<KnnGraph, ManifoldError> {
    check_data(x)?;
    let n = x.nrows();
    check_k(n, n_neighbors)?;
    let x = x.as_standard_layout();
    let norms = row_sq_norms(x.view());
    let k_others = n_neighbors - 1;
    const BLOCK: usize = 128;
    let xt = x.t();
    let blocks: Vec<(Vec<u32>, Vec<f32>)> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let start = b * BLOCK;
            let end = (start + BLOCK).min(n);
            let mut idx = Vec::with_capacity((end - start) * k_others);
            let mut dist = Vec::with_capacity((end - start) * k_others);
            if cancel.load(Ordering::Relaxed) {
                return (idx, dist);
            }
            let gram = x.slice(s![start..end, ..]).dot(&xt);
            let mut top = SortedTopK::new(k_others);
            for (r, g) in gram.axis_iter(Axis(0)).enumerate() {
                let i = start + r;
                top.clear();
                let ni = norms[i];
                for (j, (&gij, &nj)) in g.iter().zip(&norms).enumerate() {
                    if j != i {
                        top.push((ni + nj - 2.0 * gij).max(0.0), j as u32);
                    }
                }
                idx.extend_from_slice(&top.idx);
                dist.extend_from_slice(&top.dist);
            }
            (idx, dist)
        })
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return Err(ManifoldError::Cancelled);
    }
    let mut idx = Vec::with_capacity(n * k_others);
    let mut sq = Vec::with_capacity(n * k_others);
    for (i, d) in blocks {
        idx.extend(i);
        sq.extend(d);
    }
    Ok(KnnGraph::from_others(n, k_others, &idx, &sq))
}

/// Fraction of the true neighbours (self excluded) that `approx` found, averaged over rows.
/// Both graphs must have the same shape.
pub fn knn_recall(approx: &KnnGraph, exact: &KnnGraph) -> Result<f64, ManifoldError> {
    if approx.indices.dim() != exact.indices.dim() {
        return Err(ManifoldError::DimensionMismatch {
            what: "approximate kNN graph",
            expected: exact.n_samples(),
            found: approx.n_samples(),
        });
    }
    let k = exact.n_neighbors();
    if k < 2 {
        return Ok(1.0);
    }
    let mut hits = 0usize;
    for (a, e) in approx.indices.rows().into_iter().zip(exact.indices.rows()) {
        let a = a.as_slice().unwrap_or(&[]);
        for j in e.iter().skip(1) {
            if a[1..].contains(j) {
                hits += 1;
            }
        }
    }
    Ok(hits as f64 / (exact.n_samples() * (k - 1)) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    pub(crate) fn random_data(n: usize, d: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0f32..1.0))
    }

    #[test]
    fn exact_matches_naive_sort() {
        let x = random_data(300, 7, 1);
        let cancel = AtomicBool::new(false);
        let g = exact_knn(x.view(), 6, &cancel).unwrap();
        for i in 0..x.nrows() {
            let mut all: Vec<(f32, usize)> = (0..x.nrows())
                .filter(|&j| j != i)
                .map(|j| {
                    let d = x.row(i).to_owned() - x.row(j);
                    (d.dot(&d).sqrt(), j)
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(g.indices[[i, 0]] as usize, i);
            assert_eq!(g.distances[[i, 0]], 0.0);
            for (c, &(d, j)) in all.iter().take(5).enumerate() {
                assert_eq!(g.indices[[i, c + 1]] as usize, j, "row {i} col {c}");
                assert!((g.distances[[i, c + 1]] - d).abs() < 1e-4);
            }
        }
        assert_eq!(knn_recall(&g, &g).unwrap(), 1.0);
    }

    #[test]
    fn validate_rejects_malformed_graphs() {
        let x = random_data(20, 3, 1);
        let g = exact_knn(x.view(), 4, &AtomicBool::new(false)).unwrap();
        assert!(g.validate().is_ok());
        let mut out_of_range = g.clone();
        out_of_range.indices[[3, 2]] = 99;
        assert!(out_of_range.validate().is_err());
        let mut no_self = g.clone();
        no_self.indices[[5, 0]] = 6;
        assert!(no_self.validate().is_err());
        let mut unsorted = g;
        unsorted.distances[[2, 1]] = 50.0;
        assert!(unsorted.validate().is_err());
    }

    #[test]
    fn too_few_samples_and_nan_are_errors() {
        let cancel = AtomicBool::new(false);
        let x = random_data(5, 2, 0);
        assert_eq!(
            exact_knn(x.view(), 5, &cancel),
            Err(ManifoldError::TooFewSamples {
                n_neighbors: 5,
                n: 5
            })
        );
        let mut y = random_data(10, 2, 0);
        y[[3, 1]] = f32::NAN;
        assert_eq!(
            exact_knn(y.view(), 3, &cancel),
            Err(ManifoldError::NonFinite { row: 3 })
        );
    }
}
