//! N2D behind the contract: a code (an autoencoder's, or the features as given), UMAP of
//! it, a Gaussian mixture on the layout (the algorithm is [`crate::pipeline::n2d`]).
//!
//! UMAP as fitted cannot place new points, so the model keeps the fitted codes and layout
//! and places a new point as umap-learn's `transform` starts it: at the membership-weighted
//! mean of the layout positions of its `n_neighbors` nearest fitted codes (weights
//! `exp(-(d - rho) / sigma)` with UMAP's own `smooth_knn_dist`), then the mixture labels it.
//! umap-learn then refines that position with a few epochs of its layout optimisation; this
//! model does not.

use super::{AeSource, Clustering, Fitted, Method, MethodError, Predict, PretrainedSummary};
use crate::control::{Control, Progress, Stage};
use crate::pipeline::{n2d, KSelect, N2dParams};
use deepclust_cluster::GmmModel;
use deepclust_data::Dataset;
use deepclust_nn::Autoencoder;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::path::PathBuf;

/// N2D with its parameters and where its code comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct N2d {
    pub params: N2dParams,
    /// The autoencoder whose code is clustered; `None`: the features are the code.
    pub encoder: Option<AeSource>,
    /// Where a trained autoencoder is saved (see [`AeSource::obtain`]).
    pub save_encoder_to: Option<PathBuf>,
}

/// A fitted N2D: enough to place and label new rows.
#[derive(Debug, Clone)]
pub struct N2dModel {
    pub autoencoder: Option<Autoencoder>,
    /// The code of every fitted row.
    pub codes: Array2<f32>,
    /// Their UMAP layout.
    pub layout: Array2<f32>,
    pub mixture: GmmModel,
    /// Neighbours a new point is placed by (UMAP's `n_neighbors`).
    pub n_neighbors: usize,
}

/// What N2D reports beside its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct N2dDetails {
    /// `(k, BIC)` of every candidate tried.
    pub bic: Vec<(usize, f64)>,
    /// `(k, silhouette)` of every candidate with `KSelect::Auto`.
    pub silhouette: Vec<(usize, f64)>,
    /// Mean agreement (ARI) of each restart with the others; empty with one.
    pub restart_agreement: Vec<f64>,
    pub chosen_restart: usize,
    pub umap_seconds: f64,
    pub gmm_seconds: f64,
    /// The autoencoder's training in this run, when there is one.
    pub pretrained: Option<PretrainedSummary>,
}

impl N2d {
    /// N2D's MNIST settings with `clusters` on the features as given (call
    /// [`N2d::encoder`] to cluster an autoencoder's code instead).
    pub fn params(clusters: KSelect) -> Self {
        N2d {
            params: N2dParams {
                clusters,
                ..N2dParams::default()
            },
            encoder: None,
            save_encoder_to: None,
        }
    }
    pub fn encoder(mut self, encoder: AeSource) -> Self {
        self.encoder = Some(encoder);
        self
    }
    pub fn n_neighbors(mut self, n: usize) -> Self {
        self.params.n_neighbors = n;
        self
    }
    pub fn restarts(mut self, restarts: usize) -> Self {
        self.params.restarts = restarts;
        self
    }
    pub fn gmm_n_init(mut self, n: usize) -> Self {
        self.params.gmm_n_init = n;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }
    pub fn save_encoder_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.save_encoder_to = Some(dir.into());
        self
    }

    /// Checks the values alone (no data): a cluster range that starts at 1 or more and is
    /// not empty, at least one restart and two neighbours.
    pub fn validate(&self) -> Result<(), MethodError> {
        let (min, max) = self.params.clusters.bounds();
        if min == 0 || min > max {
            return Err(MethodError::InvalidParam(format!(
                "cluster range {min}..={max} is empty or starts at 0"
            )));
        }
        if self.params.restarts == 0 {
            return Err(MethodError::InvalidParam(
                "restarts must be at least 1".into(),
            ));
        }
        if self.params.n_neighbors < 2 {
            return Err(MethodError::InvalidParam(
                "n_neighbors must be at least 2".into(),
            ));
        }
        Ok(())
    }

    /// N2D on a code already at hand (the MNIST protocol reuses the autoencoder it scored
    /// with K-Means); `self.encoder` is not used and the model keeps `autoencoder`.
    pub fn fit_codes(
        &self,
        codes: Array2<f32>,
        autoencoder: Option<Autoencoder>,
        control: &Control,
    ) -> Result<Fitted<N2dModel, N2dDetails>, MethodError> {
        self.validate()?;
        if self.params.clusters.bounds().0 > codes.nrows() {
            return Err(MethodError::InvalidParam(format!(
                "{} clusters need at least as many items, there are {}",
                self.params.clusters.bounds().0,
                codes.nrows()
            )));
        }
        // One UMAP + mixture run per restart; UMAP's own steps come as Progress::Umap.
        control.report(Progress::Started {
            stage: Stage::Umap,
            total: self.params.restarts,
        });
        let result = n2d(
            codes.view(),
            &self.params,
            &mut |p| control.report(Progress::Umap(p)),
            control.cancel_flag(),
        )?;
        control.report(Progress::Finished {
            stage: Stage::Umap,
            seconds: result.umap_seconds,
        });
        let confidence = result.confidence.iter().map(|&p| p as f32).collect();
        Ok(Fitted {
            clustering: Clustering {
                labels: result.labels,
                n_clusters: result.n_clusters,
                confidence: Some((confidence, "mixture responsibility")),
                embedding: Some((result.embedding.clone(), "UMAP of the code")),
                timings: vec![
                    (Stage::Umap, result.umap_seconds),
                    (Stage::Mixture, result.gmm_seconds),
                ],
            },
            model: N2dModel {
                autoencoder,
                codes,
                layout: result.embedding,
                mixture: result.mixture,
                n_neighbors: self.params.n_neighbors,
            },
            details: N2dDetails {
                bic: result.bic,
                silhouette: result.silhouette,
                restart_agreement: result.restart_agreement,
                chosen_restart: result.chosen_restart,
                umap_seconds: result.umap_seconds,
                gmm_seconds: result.gmm_seconds,
                pretrained: None,
            },
        })
    }
}

impl Method for N2d {
    type Model = N2dModel;
    type Details = N2dDetails;

    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<N2dModel, N2dDetails>, MethodError> {
        self.validate()?;
        let Some(source) = &self.encoder else {
            return self.fit_codes(data.features.clone(), None, control);
        };
        let pretrained = source.obtain(data, None, self.save_encoder_to.as_deref(), control)?;
        let summary = PretrainedSummary::from(&pretrained);
        let codes = pretrained.autoencoder.encode(data.features.view())?;
        let mut fitted = self.fit_codes(codes, Some(pretrained.autoencoder), control)?;
        if summary.seconds > 0.0 {
            fitted
                .clustering
                .timings
                .insert(0, (Stage::Autoencoder, summary.seconds));
        }
        fitted.details.pretrained = Some(summary);
        Ok(fitted)
    }
}

impl N2dModel {
    /// The code of new rows: the autoencoder's, or the rows as given.
    pub fn encode(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, MethodError> {
        match &self.autoencoder {
            Some(ae) => Ok(ae.encode(x)?),
            None => Ok(x.to_owned()),
        }
    }

    /// Positions of new codes in the fitted layout (see the module documentation).
    pub fn place(&self, codes: ArrayView2<'_, f32>) -> Result<Array2<f32>, MethodError> {
        place_in_layout(
            self.codes.view(),
            self.layout.view(),
            self.n_neighbors,
            codes,
        )
    }
}

/// Positions of `new` rows in the UMAP `layout` fitted on the rows `fitted`, as umap-learn's
/// `transform` starts them (see the module documentation): the membership-weighted mean of
/// the layout positions of their `n_neighbors` nearest fitted rows. A row equal to a fitted
/// row gets that row's position.
pub fn place_in_layout(
    fitted: ArrayView2<'_, f32>,
    layout: ArrayView2<'_, f32>,
    n_neighbors: usize,
    new: ArrayView2<'_, f32>,
) -> Result<Array2<f32>, MethodError> {
    let codes = new;
    if layout.nrows() != fitted.nrows() {
        return Err(MethodError::InvalidParam(format!(
            "the layout has {} rows, the fitted data {}",
            layout.nrows(),
            fitted.nrows()
        )));
    }
    if codes.ncols() != fitted.ncols() {
        return Err(MethodError::InputMismatch {
            dir: None,
            expected: fitted.ncols(),
            found: codes.ncols(),
        });
    }
    if let Some(row) = codes
        .outer_iter()
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        return Err(deepclust_cluster::ClusterError::NonFinite { row }.into());
    }
    let k = n_neighbors.clamp(1, fitted.nrows());
    let neighbours: Vec<Vec<(f32, usize)>> = codes
        .outer_iter()
        .into_par_iter()
        .map(|q| nearest(fitted.view(), q, k))
        .collect();
    // Column 0 is the point itself (distance 0), as smooth_knn_dist expects.
    let mut distances = Array2::<f32>::zeros((codes.nrows(), k + 1));
    for (i, row) in neighbours.iter().enumerate() {
        for (j, &(d, _)) in row.iter().enumerate() {
            distances[[i, j + 1]] = d;
        }
    }
    let (sigmas, rhos) = deepclust_manifold::smooth_knn_dist(distances.view(), k as f32, 1.0);
    let dims = layout.ncols();
    let mut placed = Array2::<f32>::zeros((codes.nrows(), dims));
    for (i, row) in neighbours.iter().enumerate() {
        // A row identical to a fitted one already has a position: its own (so placing the
        // fitted rows gives back their layout).
        if let Some(&(d, j)) = row.first() {
            if d == 0.0 {
                placed.row_mut(i).assign(&layout.row(j));
                continue;
            }
        }
        let mut total = 0.0f64;
        let mut sum = vec![0.0f64; dims];
        for &(d, j) in row {
            let over = (d - rhos[i]).max(0.0) as f64;
            let w = if sigmas[i] > 0.0 {
                (-over / sigmas[i] as f64).exp()
            } else {
                1.0
            };
            total += w;
            for (s, &e) in sum.iter_mut().zip(layout.row(j)) {
                *s += w * e as f64;
            }
        }
        for (p, s) in placed.row_mut(i).iter_mut().zip(&sum) {
            *p = (s / total.max(f64::MIN_POSITIVE)) as f32;
        }
    }
    Ok(placed)
}

/// The `k` nearest rows of `base` to `query` (Euclidean), nearest first.
fn nearest(
    base: ArrayView2<'_, f32>,
    query: ndarray::ArrayView1<'_, f32>,
    k: usize,
) -> Vec<(f32, usize)> {
    let mut all: Vec<(f32, usize)> = base
        .outer_iter()
        .enumerate()
        .map(|(j, b)| {
            let d2: f32 = b.iter().zip(query).map(|(x, y)| (x - y) * (x - y)).sum();
            (d2, j)
        })
        .collect();
    let k = k.min(all.len());
    if k < all.len() {
        all.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().map(|(d2, j)| (d2.sqrt(), j)).collect()
}

impl Predict for N2dModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        let codes = self.encode(x)?;
        let placed = self.place(codes.view())?;
        Ok(self.mixture.predict(placed.view())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Four separated blobs in 8-D; `offset` seeds a different draw of the same blobs.
    fn blobs(per: usize, offset: u64) -> Dataset {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3 + offset);
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
        Dataset::from_features(x, Some(truth), "blobs").expect("dataset")
    }

    #[test]
    fn new_points_of_the_same_blobs_get_their_blobs_cluster() {
        let train = blobs(50, 0);
        let fitted = N2d::params(KSelect::Fixed(4))
            .n_neighbors(10)
            .seed(2)
            .fit(&train, &Control::none())
            .expect("fit");
        // Placing the fitted points themselves gives back their labels.
        let again = fitted
            .model
            .predict(train.features.view())
            .expect("predict");
        let same = again
            .iter()
            .zip(&fitted.clustering.labels)
            .filter(|(a, b)| a == b)
            .count();
        assert_eq!(same, train.len());
        let layout = fitted
            .model
            .place(fitted.model.codes.view())
            .expect("place");
        assert_eq!(layout, fitted.model.layout);
        let test = blobs(30, 1);
        let pred = fitted.model.predict(test.features.view()).expect("predict");
        let truth = test.labels.as_deref().expect("labels");
        let scores = deepclust_metrics::scores(truth, &pred).expect("scores");
        assert!(scores.acc > 0.97, "{scores}");
        let wrong = Array2::<f32>::zeros((2, 7));
        assert!(matches!(
            fitted.model.predict(wrong.view()),
            Err(MethodError::InputMismatch { .. })
        ));
    }

    #[test]
    fn validate_rejects_values_before_any_work() {
        assert!(N2d::params(KSelect::Fixed(0)).validate().is_err());
        assert!(N2d::params(KSelect::Auto { min: 5, max: 3 })
            .validate()
            .is_err());
        assert!(N2d::params(KSelect::Fixed(3))
            .restarts(0)
            .validate()
            .is_err());
        assert!(N2d::params(KSelect::Fixed(3)).validate().is_ok());
    }
}
