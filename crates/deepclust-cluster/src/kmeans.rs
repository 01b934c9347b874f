//! Lloyd's K-Means with k-means++ seeding and restarts.

use crate::assign::{assign_pass, make_scratch, row_sq_norms};
use crate::hamerly::{
    bounded_pass, full_pass, half_gaps, make_bound_scratch, BoundScratch, Samples,
};
use crate::init::{kmeans_plus_plus, random_rows};
use crate::{check_data, require_non_negative, require_positive, ClusterError};
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// How the initial centres of each restart are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KMeansInit {
    /// Greedy k-means++ (scikit-learn's default).
    #[default]
    KMeansPlusPlus,
    /// `k` distinct rows drawn uniformly.
    Random,
}

/// Hyper-parameters of [`KMeans`]. Build with [`KMeans::params`], then call [`KMeansParams::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// Number of clusters.
    pub n_clusters: usize,
    /// Independent restarts; the one with the lowest inertia is kept.
    pub n_init: usize,
    /// Maximum Lloyd iterations per restart.
    pub max_iter: usize,
    /// Convergence tolerance on the squared centre shift, relative to the mean feature
    /// variance (scikit-learn's definition).
    pub tol: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Initialisation method.
    pub init: KMeansInit,
}

impl Default for KMeansParams {
    fn default() -> Self {
        Self {
            n_clusters: 8,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            init: KMeansInit::KMeansPlusPlus,
        }
    }
}

/// Progress of a fit, reported after every Lloyd iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansProgress {
    /// Restart index, from 0.
    pub run: usize,
    pub n_init: usize,
    /// Iteration within the restart, from 1.
    pub iteration: usize,
    pub max_iter: usize,
    /// Inertia of the assignment made in this iteration.
    pub inertia: f64,
    /// Number of samples whose label changed in this iteration.
    pub changed: usize,
}

/// Entry point: `KMeans::params(k)`.
pub struct KMeans;

impl KMeans {
    /// Parameters with scikit-learn's defaults (`n_init` 10, `max_iter` 300, `tol` 1e-4).
    pub fn params(n_clusters: usize) -> KMeansParams {
        KMeansParams {
            n_clusters,
            ..KMeansParams::default()
        }
    }
}

impl KMeansParams {
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Checks the parameters alone (the data is checked in `fit`).
    pub fn validate(&self) -> Result<(), ClusterError> {
        require_positive("n_clusters", self.n_clusters)?;
        require_positive("n_init", self.n_init)?;
        require_positive("max_iter", self.max_iter)?;
        require_non_negative("tol", self.tol)
    }

    /// Fits on the rows of `x` (n samples x d features).
    pub fn fit(&self, x: ArrayView2<'_, f32>) -> Result<KMeansModel, ClusterError> {
        self.fit_with(x, &mut |_| {}, &AtomicBool::new(false))
    }

    /// Fits, reporting progress after each iteration and stopping with
    /// [`ClusterError::Cancelled`] as soon as `cancel` is set.
    pub fn fit_with(
        &self,
        x: ArrayView2<'_, f32>,
        progress: &mut dyn FnMut(KMeansProgress),
        cancel: &AtomicBool,
    ) -> Result<KMeansModel, ClusterError> {
        self.validate()?;
        check_data(x)?;
        let (n, d) = x.dim();
        let k = self.n_clusters;
        if k > n {
            return Err(ClusterError::TooManyClusters { k, n });
        }
        let x = x.as_standard_layout();
        let flat = x
            .as_slice()
            .ok_or(ClusterError::EmptyData { rows: n, cols: d })?;
        let x_sq = row_sq_norms(x.view());
        let tol = self.tol * mean_variance(x.view());
        // Fewer distinct rows than clusters: some clusters must stay empty and every restart
        // ends the same, so one restart is enough.
        let distinct = distinct_rows_up_to(flat, d, k);
        let n_init = if distinct < k { 1 } else { self.n_init };

        let mut best: Option<KMeansModel> = None;
        let mut scratch = make_bound_scratch(n, k, d);
        for run in 0..n_init {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            // One independent stream per restart, so restart r is the same whatever n_init is.
            rng.set_stream(run as u64);
            let init = match self.init {
                KMeansInit::KMeansPlusPlus => kmeans_plus_plus(x.view(), flat, &x_sq, k, &mut rng),
                KMeansInit::Random => random_rows(x.view(), k, &mut rng),
            };
            let model = lloyd(
                flat,
                d,
                &x_sq,
                init,
                self.max_iter,
                tol,
                &mut scratch,
                &mut |iteration, inertia, changed| {
                    progress(KMeansProgress {
                        run,
                        n_init: self.n_init,
                        iteration,
                        max_iter: self.max_iter,
                        inertia,
                        changed,
                    })
                },
                cancel,
            )?;
            if best.as_ref().is_none_or(|b| model.inertia < b.inertia) {
                best = Some(model);
            }
        }
        if let Some(model) = best.as_mut() {
            model.distinct_rows = (distinct < k).then_some(distinct);
            model.max_iter = self.max_iter;
        }
        best.ok_or(ClusterError::InvalidParam {
            name: "n_init",
            reason: "must be at least 1".into(),
        })
    }
}

/// The number of distinct rows, counted up to `k` (it stops there: on real data after the
/// first few rows). Rows are compared by a 64-bit hash of their bits.
fn distinct_rows_up_to(flat: &[f32], d: usize, k: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for row in flat.chunks_exact(d.max(1)) {
        // FNV-1a over the bit patterns (+0.0 and -0.0 differ: harmless for a warning).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for v in row {
            h = (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3);
        }
        seen.insert(h);
        if seen.len() >= k {
            break;
        }
    }
    seen.len()
}

/// Mean over features of the per-feature variance (f64).
fn mean_variance(x: ArrayView2<'_, f32>) -> f64 {
    let n = x.nrows() as f64;
    let mut mean = vec![0.0f64; x.ncols()];
    let mut sq = vec![0.0f64; x.ncols()];
    for row in x.axis_iter(Axis(0)) {
        for ((m, s), &v) in mean.iter_mut().zip(sq.iter_mut()).zip(row) {
            let v = f64::from(v);
            *m += v;
            *s += v * v;
        }
    }
    let total: f64 = mean
        .iter()
        .zip(&sq)
        .map(|(&m, &s)| (s / n - (m / n) * (m / n)).max(0.0))
        .sum();
    total / x.ncols() as f64
}

#[allow(clippy::too_many_arguments)]
fn lloyd(
    flat: &[f32],
    d: usize,
    x_sq: &[f32],
    mut centers: Array2<f32>,
    max_iter: usize,
    tol: f64,
    scratch: &mut [BoundScratch],
    progress: &mut dyn FnMut(usize, f64, usize),
    cancel: &AtomicBool,
) -> Result<KMeansModel, ClusterError> {
    let n = x_sq.len();
    let k = centers.nrows();
    let mut samples = Samples::unassigned(n);
    let mut n_iter = 0;
    let mut converged = false;
    // Per cluster: Σx, count, Σ‖x‖² of the current assignment (see crate::hamerly).
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0i64; k];
    let mut sq_sums = vec![0.0f64; k];
    // The centres' move in the last update (per centre, Euclidean); None = assign in full.
    let mut moved: Option<Vec<f32>> = None;
    for iteration in 1..=max_iter {
        if cancel.load(Ordering::Relaxed) {
            return Err(ClusterError::Cancelled);
        }
        n_iter = iteration;
        let c_sq = row_sq_norms(centers.view());
        let flat_centers = centers.as_slice().unwrap_or(&[]);
        let changed = match &moved {
            None => {
                let changed = full_pass(flat, d, x_sq, flat_centers, &c_sq, &mut samples, scratch);
                sums.iter_mut().for_each(|v| *v = 0.0);
                counts.iter_mut().for_each(|v| *v = 0);
                sq_sums.iter_mut().for_each(|v| *v = 0.0);
                changed
            }
            Some(shift) => bounded_pass(
                flat,
                d,
                x_sq,
                flat_centers,
                &c_sq,
                shift,
                &half_gaps(flat_centers, d, k),
                &mut samples,
                scratch,
            ),
        };
        // Totals (after a full pass) or changes (after a bounded one), in block order.
        for s in scratch.iter() {
            for (t, v) in sums.iter_mut().zip(&s.sums) {
                *t += v;
            }
            for (t, v) in counts.iter_mut().zip(&s.counts) {
                *t += v;
            }
            for (t, v) in sq_sums.iter_mut().zip(&s.sq_sums) {
                *t += v;
            }
        }
        progress(
            iteration,
            inertia_from_totals(&centers, &sums, &counts, &sq_sums),
            changed,
        );
        if iteration > 1 && changed == 0 {
            converged = true;
            break;
        }
        let mut refill = false;
        if counts.contains(&0) {
            let mut counts_now: Vec<u64> = counts.iter().map(|&c| c.max(0) as u64).collect();
            relocate_empty_clusters(
                flat,
                d,
                x_sq,
                &centers,
                &samples.labels,
                &mut sums,
                &mut counts_now,
            );
            // The refilled centre comes from moved sums that no label records: the next
            // pass assigns every sample in full and rebuilds the totals.
            refill = counts_now.iter().zip(&counts).any(|(&a, &b)| a as i64 != b);
            counts = counts_now.iter().map(|&c| c as i64).collect();
        }
        let mut shift_total = 0.0f64;
        let mut shift = vec![0.0f32; k];
        for c in 0..k {
            if counts[c] <= 0 {
                // Nothing could be moved in: the centre stays where it is instead of
                // becoming 0/0.
                continue;
            }
            let count = counts[c] as f64;
            let mut moved_sq = 0.0f64;
            for j in 0..d {
                let new = (sums[c * d + j] / count) as f32;
                let old = &mut centers[[c, j]];
                moved_sq += f64::from(new - *old).powi(2);
                *old = new;
            }
            shift_total += moved_sq;
            shift[c] = moved_sq.sqrt() as f32;
        }
        moved = (!refill).then_some(shift);
        if shift_total <= tol {
            converged = true;
            break;
        }
    }
    // Labels and inertia must describe the final centres, exactly: one plain pass.
    let c_sq = row_sq_norms(centers.view());
    let mut scratch_final = make_scratch(n, k, d, false);
    let flat_centers = centers.as_slice().unwrap_or(&[]);
    let mut labels = samples.labels;
    let inertia = assign_pass(
        flat,
        d,
        x_sq,
        flat_centers,
        &c_sq,
        &mut labels,
        &mut scratch_final,
        false,
    )
    .inertia;
    // Counted on the final labels: a relocated centre that coincides with another one
    // (duplicate points) loses its samples again in the final assignment.
    let mut used = vec![false; k];
    for &l in &labels {
        used[l] = true;
    }
    let empty_clusters = used.iter().filter(|u| !**u).count();
    Ok(KMeansModel {
        centroids: centers,
        labels,
        inertia,
        n_iter,
        converged,
        empty_clusters,
        distinct_rows: None,
        max_iter,
    })
}

/// [`lloyd`] with tol 0 and no progress, for the comparison with a plain Lloyd.
#[cfg(test)]
pub(crate) fn lloyd_for_tests(
    flat: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: Array2<f32>,
    max_iter: usize,
) -> KMeansModel {
    let (n, k) = (x_sq.len(), centers.nrows());
    let mut scratch = make_bound_scratch(n, k, d);
    lloyd(
        flat,
        d,
        x_sq,
        centers,
        max_iter,
        0.0,
        &mut scratch,
        &mut |_, _, _| {},
        &AtomicBool::new(false),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The inertia of an assignment from per-cluster totals: Σ_c (Σ‖x‖² − 2 c·Σx + n‖c‖²).
fn inertia_from_totals(centers: &Array2<f32>, sums: &[f64], counts: &[i64], sq: &[f64]) -> f64 {
    let d = centers.ncols();
    let mut total = 0.0f64;
    for (c, centre) in centers.outer_iter().enumerate() {
        let (mut dot, mut norm) = (0.0f64, 0.0f64);
        for (j, &v) in centre.iter().enumerate() {
            let v = f64::from(v);
            dot += v * sums[c * d + j];
            norm += v * v;
        }
        total += sq[c] - 2.0 * dot + counts[c] as f64 * norm;
    }
    total.max(0.0)
}

/// scikit-learn's rule: an empty cluster takes the sample farthest from its current centre.
fn relocate_empty_clusters(
    flat: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: &Array2<f32>,
    labels: &[usize],
    sums: &mut [f64],
    counts: &mut [u64],
) {
    let empty: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let dist = |i: usize| -> f32 {
        let row = &flat[i * d..(i + 1) * d];
        let c = centers.row(labels[i]);
        let dot: f32 = row.iter().zip(c.iter()).map(|(a, b)| a * b).sum();
        let c_sq: f32 = c.iter().map(|v| v * v).sum();
        x_sq[i] - 2.0 * dot + c_sq
    };
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let far: Vec<f32> = order.iter().map(|&i| dist(i)).collect();
    order.sort_by(|&a, &b| far[b].total_cmp(&far[a]).then(a.cmp(&b)));
    let mut candidates = order.into_iter();
    for c in empty {
        // The farthest sample whose own cluster would not become empty by losing it.
        let Some(i) = candidates.by_ref().find(|&i| counts[labels[i]] > 1) else {
            break;
        };
        let old = labels[i];
        let row = &flat[i * d..(i + 1) * d];
        for j in 0..d {
            sums[old * d + j] -= f64::from(row[j]);
            sums[c * d + j] = f64::from(row[j]);
        }
        counts[old] -= 1;
        counts[c] = 1;
    }
}

/// A fitted K-Means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModel {
    centroids: Array2<f32>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
    /// The kept restart met the tolerance (or no label changed) before `max_iter`.
    #[serde(default = "yes")]
    converged: bool,
    /// Clusters without any sample at the end of the kept restart.
    #[serde(default)]
    empty_clusters: usize,
    /// Set when the data has fewer distinct rows than clusters: that number.
    #[serde(default)]
    distinct_rows: Option<usize>,
    #[serde(default)]
    max_iter: usize,
}

fn yes() -> bool {
    true
}

impl KMeansModel {
    /// Builds a model from given centres (e.g. loaded from disk); `labels` is empty.
    pub fn from_centroids(centroids: Array2<f32>) -> Result<Self, ClusterError> {
        check_data(centroids.view())?;
        Ok(Self::from_parts(centroids, Vec::new(), f64::NAN, 0))
    }
    pub(crate) fn from_parts(
        centroids: Array2<f32>,
        labels: Vec<usize>,
        inertia: f64,
        n_iter: usize,
    ) -> Self {
        Self {
            centroids,
            labels,
            inertia,
            n_iter,
            converged: true,
            empty_clusters: 0,
            distinct_rows: None,
            max_iter: 0,
        }
    }
    /// Whether the kept restart converged before `max_iter`.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Clusters left without any sample.
    pub fn empty_clusters(&self) -> usize {
        self.empty_clusters
    }
    /// What a user should know about this fit, in words: empty clusters, fewer distinct
    /// points than clusters, no convergence. Empty when all is well.
    pub fn warnings(&self) -> Vec<String> {
        let k = self.n_clusters();
        let mut out = Vec::new();
        if let Some(distinct) = self.distinct_rows {
            out.push(format!(
                "the data has only {distinct} distinct row(s) for k = {k} clusters (duplicate \
                 points); ran one restart, as every restart would end the same"
            ));
        }
        if self.empty_clusters > 0 {
            out.push(format!(
                "{} of the {k} clusters are empty; choose a smaller k",
                self.empty_clusters
            ));
        }
        if !self.converged {
            out.push(format!(
                "the kept restart did not converge within max_iter = {} iterations; raise \
                 max_iter or tol",
                self.max_iter
            ));
        }
        out
    }
    /// Cluster centres, `k x d`.
    pub fn centroids(&self) -> &Array2<f32> {
        &self.centroids
    }
    /// Label of every training sample.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// Sum of squared distances of the training samples to their centre.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }
    /// Lloyd iterations of the kept restart.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }
    pub fn n_clusters(&self) -> usize {
        self.centroids.nrows()
    }

    /// Nearest centre of every row of `x`.
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, ClusterError> {
        Ok(self.predict_with_inertia(x)?.0)
    }

    /// Nearest centre of every row and the inertia of that assignment.
    pub fn predict_with_inertia(
        &self,
        x: ArrayView2<'_, f32>,
    ) -> Result<(Vec<usize>, f64), ClusterError> {
        check_data(x)?;
        let (n, d) = x.dim();
        if d != self.centroids.ncols() {
            return Err(ClusterError::DimensionMismatch {
                expected: self.centroids.ncols(),
                found: d,
            });
        }
        let x = x.as_standard_layout();
        let flat = x
            .as_slice()
            .ok_or(ClusterError::EmptyData { rows: n, cols: d })?;
        let x_sq = row_sq_norms(x.view());
        let centers = self.centroids.as_standard_layout();
        let c_sq = row_sq_norms(centers.view());
        let mut labels = vec![0usize; n];
        let mut scratch = make_scratch(n, self.n_clusters(), d, false);
        let stats = assign_pass(
            flat,
            d,
            &x_sq,
            centers.as_slice().unwrap_or(&[]),
            &c_sq,
            &mut labels,
            &mut scratch,
            false,
        );
        Ok((labels, stats.inertia))
    }
}
