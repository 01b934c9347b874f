//! Mini-batch K-Means (Sculley 2010) with scikit-learn's per-centre learning rate: each centre
//! moves to the running mean of every sample ever assigned to it.

use crate::assign::{assign_pass, make_scratch, row_sq_norms};
use crate::init::kmeans_plus_plus;
use crate::kmeans::{KMeansModel, KMeansProgress};
use crate::{check_data, require_positive, ClusterError};
use ndarray::{Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Hyper-parameters of [`MiniBatchKMeans`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MiniBatchKMeansParams {
    pub n_clusters: usize,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Passes over the data (the number of steps is `max_epochs * n / batch_size`).
    pub max_epochs: usize,
    /// Stop after this many steps without improvement of the smoothed batch inertia.
    pub max_no_improvement: usize,
    /// Candidate initialisations (k-means++ on a subsample); the lowest inertia on that
    /// subsample is kept.
    pub n_init: usize,
    pub seed: u64,
}

impl Default for MiniBatchKMeansParams {
    fn default() -> Self {
        Self {
            n_clusters: 8,
            batch_size: 1024,
            max_epochs: 100,
            max_no_improvement: 10,
            n_init: 3,
            seed: 0,
        }
    }
}

/// Entry point: `MiniBatchKMeans::params(k)`.
pub struct MiniBatchKMeans;

impl MiniBatchKMeans {
    pub fn params(n_clusters: usize) -> MiniBatchKMeansParams {
        MiniBatchKMeansParams {
            n_clusters,
            ..MiniBatchKMeansParams::default()
        }
    }
}

impl MiniBatchKMeansParams {
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    pub fn max_epochs(mut self, max_epochs: usize) -> Self {
        self.max_epochs = max_epochs;
        self
    }
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn validate(&self) -> Result<(), ClusterError> {
        require_positive("n_clusters", self.n_clusters)?;
        require_positive("batch_size", self.batch_size)?;
        require_positive("max_epochs", self.max_epochs)?;
        require_positive("n_init", self.n_init)
    }

    pub fn fit(&self, x: ArrayView2<'_, f32>) -> Result<KMeansModel, ClusterError> {
        self.fit_with(x, &mut |_| {}, &AtomicBool::new(false))
    }

    /// Fits; `progress` is called after every step (`iteration` counts steps).
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
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let batch = self.batch_size.min(n);

        // Initialise on a subsample of 3 batches (at least k rows), as scikit-learn does.
        let init_size = (3 * batch).max(k).min(n);
        let init_rows = rand::seq::index::sample(&mut rng, n, init_size).into_vec();
        let init_x = x.select(Axis(0), &init_rows);
        let init_flat = init_x.as_slice().unwrap_or(&[]);
        let init_sq = row_sq_norms(init_x.view());
        let mut centers: Option<(f64, Array2<f32>)> = None;
        for _ in 0..self.n_init {
            let candidate = kmeans_plus_plus(init_x.view(), init_flat, &init_sq, k, &mut rng);
            let inertia = KMeansModel::from_centroids(candidate.clone())?
                .predict_with_inertia(init_x.view())?
                .1;
            if centers.as_ref().is_none_or(|(best, _)| inertia < *best) {
                centers = Some((inertia, candidate));
            }
        }
        let mut centers = centers
            .map(|(_, c)| c)
            .unwrap_or_else(|| Array2::zeros((k, d)));

        let mut counts = vec![0u64; k];
        let steps = (self.max_epochs * n).div_ceil(batch);
        let mut smoothed: Option<f64> = None;
        let mut best_smoothed = f64::INFINITY;
        let mut no_improvement = 0;
        let mut labels = vec![usize::MAX; batch];
        let mut scratch = make_scratch(batch, k, d, true);
        let mut batch_x = Array2::<f32>::zeros((batch, d));
        let mut n_steps = 0;
        for step in 1..=steps {
            if cancel.load(Ordering::Relaxed) {
                return Err(ClusterError::Cancelled);
            }
            n_steps = step;
            for mut row in batch_x.axis_iter_mut(Axis(0)) {
                row.assign(&x.row(rng.gen_range(0..n)));
            }
            let flat = batch_x.as_slice().unwrap_or(&[]);
            let x_sq = row_sq_norms(batch_x.view());
            let c_sq = row_sq_norms(centers.view());
            let stats = assign_pass(
                flat,
                d,
                &x_sq,
                centers.as_slice().unwrap_or(&[]),
                &c_sq,
                &mut labels,
                &mut scratch,
                true,
            );
            for c in 0..k {
                let batch_count: u64 = scratch.iter().map(|s| s.counts[c]).sum();
                if batch_count == 0 {
                    continue;
                }
                counts[c] += batch_count;
                let total = counts[c] as f64;
                let keep = (counts[c] - batch_count) as f64 / total;
                for j in 0..d {
                    let sum: f64 = scratch.iter().map(|s| s.sums[c * d + j]).sum();
                    let v = &mut centers[[c, j]];
                    *v = (f64::from(*v) * keep + sum / total) as f32;
                }
            }
            let batch_inertia = stats.inertia / batch as f64;
            progress(KMeansProgress {
                run: 0,
                n_init: 1,
                iteration: step,
                max_iter: steps,
                inertia: stats.inertia,
                changed: stats.changed,
            });
            // Early stopping on an exponentially weighted average of the batch inertia.
            let alpha = (2.0 * batch as f64 / (n as f64 + 1.0)).min(1.0);
            let ewa = smoothed.map_or(batch_inertia, |s| s * (1.0 - alpha) + batch_inertia * alpha);
            smoothed = Some(ewa);
            if ewa < best_smoothed {
                best_smoothed = ewa;
                no_improvement = 0;
            } else {
                no_improvement += 1;
                if no_improvement >= self.max_no_improvement {
                    break;
                }
            }
        }
        let fitted = KMeansModel::from_centroids(centers)?;
        let (labels, inertia) = fitted.predict_with_inertia(x)?;
        Ok(KMeansModel::from_parts(
            fitted.centroids().clone(),
            labels,
            inertia,
            n_steps,
        ))
    }
}
