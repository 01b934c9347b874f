//! Multi-stage clustering methods built from the workspace crates.
//!
//! * [`n2d`]: N2D (McConville et al. 2020): UMAP of an embedding (min_dist 0, Euclidean),
//!   then a full-covariance Gaussian mixture; labels by highest responsibility. With
//!   [`KSelect::Auto`] the number of clusters is the one of highest silhouette of the
//!   mixture's labels on the UMAP embedding (on a seeded sample of at most 2,000 rows) — no
//!   labels. BIC is reported too, but on UMAP embeddings (min_dist 0 makes every sub-cluster
//!   a tight clump) it keeps falling as k grows, so it is not used to choose.
//!
//!   Restarts without labels: the mixture keeps its most likely of `gmm_n_init` fits; with
//!   `restarts > 1` the whole UMAP + mixture runs once per seed and the run kept is the
//!   consensus one, whose labels agree best (mean adjusted Rand index) with the other runs'.
//!   UMAP layouts of different seeds are not comparable by likelihood, but their partitions
//!   are comparable with each other, and an unlucky run (two classes merged, one split)
//!   disagrees with the rest.

use deepclust_cluster::{silhouette_score, ClusterError, GaussianMixture, GmmModel};
use deepclust_manifold::{ManifoldError, Umap, UmapProgress};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;
use std::sync::atomic::AtomicBool;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PipelineError {
    #[error("UMAP: {0}")]
    Umap(#[from] ManifoldError),
    #[error("Gaussian mixture: {0}")]
    Gmm(#[from] ClusterError),
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
}

pub use deepclust_cluster::KSelect;

/// Settings of [`n2d`]; defaults follow the N2D paper on MNIST.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct N2dParams {
    /// A fixed number of components, or (`Auto`) the highest silhouette of the mixture's
    /// labels among `min..=max` components.
    pub clusters: KSelect,
    /// UMAP neighbourhood (N2D: 20 for MNIST).
    pub n_neighbors: usize,
    /// UMAP output dimension; `None`: the number of clusters (N2D), or `max` with `Auto`.
    pub umap_dims: Option<usize>,
    /// Mixture restarts, kept by likelihood (never by labels).
    pub gmm_n_init: usize,
    /// Whole UMAP + mixture runs with seeds `seed`, `seed + 1`, ...; the consensus run is kept.
    pub restarts: usize,
    pub seed: u64,
}

impl Default for N2dParams {
    fn default() -> Self {
        Self {
            clusters: KSelect::Fixed(10),
            n_neighbors: 20,
            umap_dims: None,
            gmm_n_init: 1,
            restarts: 1,
            seed: 0,
        }
    }
}

/// What [`n2d`] found.
#[derive(Debug, Clone)]
pub struct N2dResult {
    pub labels: Vec<usize>,
    /// Highest responsibility of every row (a confidence).
    pub confidence: Vec<f64>,
    pub n_clusters: usize,
    /// `(k, BIC)` of every candidate tried (one entry for a fixed k).
    pub bic: Vec<(usize, f64)>,
    /// `(k, silhouette)` of every candidate tried with `Auto` (empty for a fixed k).
    pub silhouette: Vec<(usize, f64)>,
    pub embedding: Array2<f32>,
    pub mixture: GmmModel,
    /// Seconds of UMAP and of the mixtures, summed over every restart.
    pub umap_seconds: f64,
    pub gmm_seconds: f64,
    /// Mean adjusted Rand index of each restart's labels to the other restarts' (empty with
    /// one restart); the kept run is the highest.
    pub restart_agreement: Vec<f64>,
    /// Index of the kept restart (its seed is `params.seed + chosen_restart`).
    pub chosen_restart: usize,
}

/// N2D: UMAP of `codes`, then a Gaussian mixture; with `params.restarts > 1`, the consensus
/// of several seeded runs (see the module documentation). Labels are never used.
pub fn n2d(
    codes: ArrayView2<'_, f32>,
    params: &N2dParams,
    progress: &mut dyn FnMut(UmapProgress),
    cancel: &AtomicBool,
) -> Result<N2dResult, PipelineError> {
    if params.restarts == 0 {
        return Err(PipelineError::InvalidParam(
            "restarts must be at least 1".into(),
        ));
    }
    let mut runs = Vec::with_capacity(params.restarts);
    for restart in 0..params.restarts {
        let seeded = N2dParams {
            seed: params.seed.wrapping_add(restart as u64),
            ..params.clone()
        };
        runs.push(n2d_once(codes, &seeded, progress, cancel)?);
    }
    if runs.len() == 1 {
        return Ok(runs.remove(0));
    }
    let r = runs.len();
    let mut agreement = vec![0.0f64; r];
    for i in 0..r {
        for j in i + 1..r {
            let a = deepclust_metrics::ari(&runs[i].labels, &runs[j].labels)
                .map_err(|e| PipelineError::InvalidParam(e.to_string()))?;
            agreement[i] += a / (r - 1) as f64;
            agreement[j] += a / (r - 1) as f64;
        }
    }
    let chosen = (0..r).fold(0, |best, i| {
        if agreement[i] > agreement[best] {
            i
        } else {
            best
        }
    });
    let umap_seconds = runs.iter().map(|run| run.umap_seconds).sum();
    let gmm_seconds = runs.iter().map(|run| run.gmm_seconds).sum();
    let mut kept = runs.swap_remove(chosen);
    kept.umap_seconds = umap_seconds;
    kept.gmm_seconds = gmm_seconds;
    kept.restart_agreement = agreement;
    kept.chosen_restart = chosen;
    Ok(kept)
}

/// One seeded UMAP + mixture run.
fn n2d_once(
    codes: ArrayView2<'_, f32>,
    params: &N2dParams,
    progress: &mut dyn FnMut(UmapProgress),
    cancel: &AtomicBool,
) -> Result<N2dResult, PipelineError> {
    let (k_min, k_max) = params.clusters.bounds();
    if k_min == 0 || k_min > k_max {
        return Err(PipelineError::InvalidParam(format!(
            "cluster range {k_min}..={k_max} is empty or starts at 0"
        )));
    }
    let dims = params.umap_dims.unwrap_or(k_max).max(2);
    let start = std::time::Instant::now();
    let embedding = Umap::params()
        .n_components(dims)
        .n_neighbors(params.n_neighbors)
        .min_dist(0.0)
        .seed(params.seed)
        .fit_transform(codes, progress, cancel)?;
    let umap_seconds = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let auto = k_min < k_max;
    let sample = sample_rows(embedding.nrows(), 2000, params.seed);
    let sample_x = embedding.select(ndarray::Axis(0), &sample);
    // Higher is better for the selection score: silhouette with Auto, unused otherwise.
    let mut best: Option<(f64, usize, GmmModel)> = None;
    let mut bic = Vec::new();
    let mut silhouette = Vec::new();
    for k in k_min..=k_max {
        let model = GaussianMixture::params(k)
            .n_init(params.gmm_n_init)
            .seed(params.seed)
            .fit_with(embedding.view(), &mut |_| {}, cancel)?;
        bic.push((k, model.bic(embedding.nrows())));
        let score = if auto {
            let labels = model.predict(sample_x.view())?;
            let s = silhouette_score(sample_x.view(), &labels);
            silhouette.push((k, s));
            s
        } else {
            0.0
        };
        if best.as_ref().is_none_or(|(bs, _, _)| score > *bs) {
            best = Some((score, k, model));
        }
    }
    let (_, n_clusters, mixture) =
        best.ok_or_else(|| PipelineError::InvalidParam("no candidate number of clusters".into()))?;
    let proba = mixture.predict_proba(embedding.view())?;
    let mut labels = Vec::with_capacity(proba.nrows());
    let mut confidence = Vec::with_capacity(proba.nrows());
    for row in proba.outer_iter() {
        let (i, p) =
            row.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |b, (i, &p)| if p > b.1 { (i, p) } else { b },
            );
        labels.push(i);
        confidence.push(p);
    }
    Ok(N2dResult {
        labels,
        confidence,
        n_clusters,
        bic,
        silhouette,
        embedding,
        mixture,
        umap_seconds,
        gmm_seconds: start.elapsed().as_secs_f64(),
        restart_agreement: Vec::new(),
        chosen_restart: 0,
    })
}

/// At most `max` distinct row indices, sorted, chosen by a seeded shuffle.
pub(crate) fn sample_rows(n: usize, max: usize, seed: u64) -> Vec<usize> {
    use rand::SeedableRng;
    if n <= max {
        return (0..n).collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, n, max).into_vec();
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Four separated blobs in 8-D.
    fn blobs(per: usize) -> (Array2<f32>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut x = Array2::zeros((4 * per, 8));
        let mut truth = Vec::new();
        for i in 0..4 * per {
            let c = i % 4;
            truth.push(c);
            for j in 0..8 {
                let center = if j % 4 == c { 6.0 } else { 0.0 };
                x[[i, j]] = center + rng.gen_range(-1.0f32..1.0);
            }
        }
        (x, truth)
    }

    #[test]
    fn restarts_keep_the_consensus_run_and_sum_their_times() {
        let (x, truth) = blobs(40);
        let never = AtomicBool::new(false);
        let params = N2dParams {
            clusters: KSelect::Fixed(4),
            n_neighbors: 10,
            umap_dims: Some(3),
            restarts: 3,
            seed: 5,
            ..N2dParams::default()
        };
        let result = n2d(x.view(), &params, &mut |_| {}, &never).unwrap();
        assert_eq!(result.restart_agreement.len(), 3);
        let best = result
            .restart_agreement
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(result.restart_agreement[result.chosen_restart], best);
        // The kept run is the single run of its seed.
        let single = n2d(
            x.view(),
            &N2dParams {
                restarts: 1,
                seed: 5 + result.chosen_restart as u64,
                ..params.clone()
            },
            &mut |_| {},
            &never,
        )
        .unwrap();
        assert_eq!(single.labels, result.labels);
        assert!(result.umap_seconds >= single.umap_seconds * 0.5);
        let scores = deepclust_metrics::scores(&truth, &result.labels).unwrap();
        assert!(scores.acc > 0.95, "{scores}");
        let zero = N2dParams {
            restarts: 0,
            ..params
        };
        assert!(n2d(x.view(), &zero, &mut |_| {}, &never).is_err());
    }

    #[test]
    fn n2d_finds_blobs_and_auto_picks_their_number() {
        let (x, truth) = blobs(60);
        let never = AtomicBool::new(false);
        let params = N2dParams {
            clusters: KSelect::Auto { min: 2, max: 6 },
            n_neighbors: 10,
            umap_dims: Some(4),
            ..N2dParams::default()
        };
        let result = n2d(x.view(), &params, &mut |_| {}, &never).unwrap();
        assert_eq!(result.n_clusters, 4, "BIC per k: {:?}", result.bic);
        let scores = deepclust_metrics::scores(&truth, &result.labels).unwrap();
        assert!(scores.acc > 0.95, "{scores}");
        assert_eq!(result.bic.len(), 5);
        assert!(result
            .confidence
            .iter()
            .all(|&p| (0.0..=1.0 + 1e-9).contains(&p)));
    }
}
