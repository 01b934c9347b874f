//! The one-stage methods on the features as given: K-Means, mini-batch K-Means, a Gaussian
//! mixture. The algorithms are in `deepclust-cluster`; here they meet the contract.

use super::{check_k, row_argmax, Clustering, Fitted, Method, MethodError, Predict};
use crate::control::{Control, Progress, Stage};
use deepclust_cluster::{
    ClusterError, GmmModel, GmmParams, KMeansModel, KMeansParams, KMeansProgress,
    MiniBatchKMeansParams,
};
use deepclust_data::Dataset;
use ndarray::ArrayView2;
use serde::Serialize;
use std::time::Instant;

/// K-Means (k-means++ restarts, Hamerly's Lloyd iterations) on the features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KMeans {
    pub params: KMeansParams,
}

/// Mini-batch K-Means, for data too large for full passes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiniBatchKMeans {
    pub params: MiniBatchKMeansParams,
}

/// A full-covariance Gaussian mixture; labels by highest responsibility.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaussianMixture {
    pub params: GmmParams,
}

impl KMeans {
    /// `k` clusters, 10 restarts, 300 iterations, tol 1e-4, seed 0 (scikit-learn's defaults).
    pub fn params(k: usize) -> Self {
        KMeans {
            params: deepclust_cluster::KMeans::params(k),
        }
    }
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.params.n_init = n_init;
        self
    }
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.params.max_iter = max_iter;
        self
    }
    pub fn tol(mut self, tol: f64) -> Self {
        self.params.tol = tol;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }
}

impl MiniBatchKMeans {
    pub fn params(k: usize) -> Self {
        MiniBatchKMeans {
            params: deepclust_cluster::MiniBatchKMeans::params(k),
        }
    }
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.params.batch_size = batch_size;
        self
    }
    pub fn max_epochs(mut self, max_epochs: usize) -> Self {
        self.params.max_epochs = max_epochs;
        self
    }
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.params.n_init = n_init;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }
}

impl GaussianMixture {
    pub fn params(k: usize) -> Self {
        GaussianMixture {
            params: deepclust_cluster::GaussianMixture::params(k),
        }
    }
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.params.n_init = n_init;
        self
    }
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.params.max_iter = max_iter;
        self
    }
    pub fn tol(mut self, tol: f64) -> Self {
        self.params.tol = tol;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }
}

impl From<KMeansParams> for KMeans {
    fn from(params: KMeansParams) -> Self {
        KMeans { params }
    }
}

impl From<MiniBatchKMeansParams> for MiniBatchKMeans {
    fn from(params: MiniBatchKMeansParams) -> Self {
        MiniBatchKMeans { params }
    }
}

impl From<GmmParams> for GaussianMixture {
    fn from(params: GmmParams) -> Self {
        GaussianMixture { params }
    }
}

/// Runs one K-Means-like fit as `stage`: started, its iterations, finished, its seconds.
pub(super) fn fit_stage<M>(
    control: &Control,
    stage: Stage,
    total: usize,
    fit: impl FnOnce(&mut dyn FnMut(KMeansProgress)) -> Result<M, ClusterError>,
) -> Result<(M, f64), MethodError> {
    control.report(Progress::Started { stage, total });
    let start = Instant::now();
    let model = fit(&mut |report| control.report(Progress::KMeans { stage, report }))?;
    let seconds = start.elapsed().as_secs_f64();
    control.report(Progress::Finished { stage, seconds });
    Ok((model, seconds))
}

/// A K-Means model's clustering of the rows it was fitted on.
fn centroid_clustering(model: &KMeansModel, stage: Stage, seconds: f64) -> Clustering {
    Clustering {
        labels: model.labels().to_vec(),
        n_clusters: model.n_clusters(),
        confidence: None,
        embedding: None,
        timings: vec![(stage, seconds)],
    }
}

impl Method for KMeans {
    type Model = KMeansModel;
    type Details = ();

    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<KMeansModel, ()>, MethodError> {
        check_k(self.params.n_clusters, data)?;
        self.params.validate()?;
        let (model, seconds) = fit_stage(control, Stage::KMeans, self.params.n_init, |p| {
            self.params
                .fit_with(data.features.view(), p, control.cancel_flag())
        })?;
        Ok(Fitted {
            clustering: centroid_clustering(&model, Stage::KMeans, seconds),
            model,
            details: (),
        })
    }
}

impl Method for MiniBatchKMeans {
    type Model = KMeansModel;
    type Details = ();

    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<KMeansModel, ()>, MethodError> {
        check_k(self.params.n_clusters, data)?;
        self.params.validate()?;
        let steps = (self.params.max_epochs * data.len()).div_ceil(self.params.batch_size.max(1));
        let (model, seconds) = fit_stage(control, Stage::MiniBatchKMeans, steps, |p| {
            self.params
                .fit_with(data.features.view(), p, control.cancel_flag())
        })?;
        Ok(Fitted {
            clustering: centroid_clustering(&model, Stage::MiniBatchKMeans, seconds),
            model,
            details: (),
        })
    }
}

impl Method for GaussianMixture {
    type Model = GmmModel;
    type Details = ();

    fn fit(&self, data: &Dataset, control: &Control) -> Result<Fitted<GmmModel, ()>, MethodError> {
        check_k(self.params.n_components, data)?;
        control.report(Progress::Started {
            stage: Stage::Mixture,
            total: self.params.n_init,
        });
        let start = Instant::now();
        let model = self.params.fit_with(
            data.features.view(),
            &mut |p| control.report(Progress::Mixture(p)),
            control.cancel_flag(),
        )?;
        let proba = model.predict_proba(data.features.view())?;
        let (labels, confidence) = row_argmax(proba.view());
        let seconds = start.elapsed().as_secs_f64();
        control.report(Progress::Finished {
            stage: Stage::Mixture,
            seconds,
        });
        Ok(Fitted {
            clustering: Clustering {
                labels,
                n_clusters: model.n_components(),
                confidence: Some((confidence, "mixture responsibility")),
                embedding: None,
                timings: vec![(Stage::Mixture, seconds)],
            },
            model,
            details: (),
        })
    }
}

impl Predict for KMeansModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        Ok(KMeansModel::predict(self, x)?)
    }
}

impl Predict for GmmModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        Ok(GmmModel::predict(self, x)?)
    }
}
