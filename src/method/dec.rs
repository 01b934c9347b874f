//! The methods on an autoencoder's code: K-Means on it, and DEC / IDEC fine-tuning.

use super::{check_k, AeSource, Clustering, Fitted, Method, MethodError, Predict, Pretrained};
use crate::control::{Control, Progress, Stage};
use deepclust_cluster::{KMeansModel, KMeansParams};
use deepclust_data::Dataset;
use deepclust_nn::{Autoencoder, AutoencoderConfig, DecConfig, DecModel, DecOutcome};
use ndarray::ArrayView2;
use std::path::PathBuf;
use std::time::Instant;

/// An autoencoder, then K-Means on its code (the "AE + K-Means" baseline of the DEC papers).
#[derive(Debug, Clone, PartialEq)]
pub struct AeKMeans {
    pub encoder: AeSource,
    /// Where a trained autoencoder is saved (see [`AeSource::obtain`]).
    pub save_encoder_to: Option<PathBuf>,
    pub kmeans: KMeansParams,
}

/// The autoencoder and the K-Means model of its code.
#[derive(Debug, Clone)]
pub struct AeKMeansModel {
    pub autoencoder: Autoencoder,
    pub kmeans: KMeansModel,
}

/// DEC (Xie et al. 2016), or IDEC (Guo et al. 2017) when `config.gamma` is set: K-Means on
/// the code initialises the centroids, then the encoder and the centroids are fine-tuned
/// towards the sharpened target distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Dec {
    pub config: DecConfig,
    pub encoder: AeSource,
    /// Where a trained autoencoder is saved (see [`AeSource::obtain`]).
    pub save_encoder_to: Option<PathBuf>,
}

/// What a DEC/IDEC fit reports beside its labels.
#[derive(Debug, Clone)]
pub struct DecDetails {
    /// Steps, stop reason, the K-Means initialisation's labels and times.
    pub outcome: DecOutcome,
    /// The autoencoder it started from (trained, loaded or resumed in this run); its
    /// training history is kept, its weights are the fine-tuned model's starting point.
    pub pretrained: PretrainedSummary,
}

/// [`Pretrained`] without the network, which DEC fine-tunes into its model.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainedSummary {
    pub seconds: f64,
    pub epochs_trained: usize,
    pub epochs_before: Option<usize>,
    pub saved_in: Option<PathBuf>,
}

impl From<&Pretrained> for PretrainedSummary {
    fn from(p: &Pretrained) -> Self {
        PretrainedSummary {
            seconds: p.seconds,
            epochs_trained: p.epochs_trained,
            epochs_before: p.epochs_before,
            saved_in: p.saved_in.clone(),
        }
    }
}

impl AeKMeans {
    /// `k` clusters on the code of a new autoencoder of the DEC architecture.
    pub fn params(k: usize) -> Self {
        AeKMeans {
            encoder: AeSource::Train(AutoencoderConfig::default()),
            save_encoder_to: None,
            kmeans: deepclust_cluster::KMeans::params(k),
        }
    }
    pub fn encoder(mut self, encoder: AeSource) -> Self {
        self.encoder = encoder;
        self
    }
    pub fn kmeans(mut self, kmeans: KMeansParams) -> Self {
        self.kmeans = kmeans;
        self
    }
    pub fn save_encoder_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.save_encoder_to = Some(dir.into());
        self
    }
}

impl Dec {
    /// DEC with `k` clusters (the paper's settings) on a new autoencoder of the DEC
    /// architecture.
    pub fn params(k: usize) -> Self {
        Dec {
            config: DecConfig::dec(k),
            encoder: AeSource::Train(AutoencoderConfig::default()),
            save_encoder_to: None,
        }
    }
    /// IDEC with `k` clusters (reconstruction weight 0.1).
    pub fn idec(k: usize) -> Self {
        Dec {
            config: DecConfig::idec(k),
            ..Dec::params(k)
        }
    }
    pub fn config(mut self, config: DecConfig) -> Self {
        self.config = config;
        self
    }
    pub fn encoder(mut self, encoder: AeSource) -> Self {
        self.encoder = encoder;
        self
    }
    pub fn save_encoder_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.save_encoder_to = Some(dir.into());
        self
    }

    fn stage(&self) -> Stage {
        if self.config.gamma.is_some() {
            Stage::Idec
        } else {
            Stage::Dec
        }
    }

    /// Fine-tunes an autoencoder already at hand (the MNIST protocol reuses the one it
    /// scored with K-Means); `self.encoder` is not used.
    pub fn fit_from(
        &self,
        pretrained: Pretrained,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<DecModel, DecDetails>, MethodError> {
        check_k(self.config.n_clusters, data)?;
        let stage = self.stage();
        control.report(Progress::Started {
            stage,
            total: self.config.maxiter,
        });
        let summary = PretrainedSummary::from(&pretrained);
        let (model, outcome) = DecModel::fit(
            pretrained.autoencoder,
            data.features.view(),
            data.labels.as_deref(),
            self.config.clone(),
            &mut |report| control.report(Progress::Dec { stage, report }),
            control.cancel_flag(),
        )?;
        control.report(Progress::Finished {
            stage,
            seconds: outcome.seconds,
        });
        let mut timings = Vec::new();
        if summary.seconds > 0.0 {
            timings.push((Stage::Autoencoder, summary.seconds));
        }
        timings.push((stage, outcome.seconds));
        Ok(Fitted {
            clustering: Clustering {
                labels: outcome.labels.clone(),
                n_clusters: self.config.n_clusters,
                confidence: None,
                embedding: None,
                timings,
            },
            model,
            details: DecDetails {
                outcome,
                pretrained: summary,
            },
        })
    }
}

impl Method for AeKMeans {
    type Model = AeKMeansModel;
    type Details = PretrainedSummary;

    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<AeKMeansModel, PretrainedSummary>, MethodError> {
        check_k(self.kmeans.n_clusters, data)?;
        self.kmeans.validate()?;
        let pretrained =
            self.encoder
                .obtain(data, None, self.save_encoder_to.as_deref(), control)?;
        let start = Instant::now();
        let codes = pretrained.autoencoder.encode(data.features.view())?;
        let (kmeans, kmeans_seconds) =
            super::flat::fit_stage(control, Stage::KMeans, self.kmeans.n_init, |p| {
                self.kmeans.fit_with(codes.view(), p, control.cancel_flag())
            })?;
        let seconds = start.elapsed().as_secs_f64().max(kmeans_seconds);
        let mut timings = Vec::new();
        if pretrained.seconds > 0.0 {
            timings.push((Stage::Autoencoder, pretrained.seconds));
        }
        timings.push((Stage::KMeans, seconds));
        Ok(Fitted {
            clustering: Clustering {
                labels: kmeans.labels().to_vec(),
                n_clusters: kmeans.n_clusters(),
                confidence: None,
                embedding: Some((codes, "autoencoder code")),
                timings,
            },
            details: PretrainedSummary::from(&pretrained),
            model: AeKMeansModel {
                autoencoder: pretrained.autoencoder,
                kmeans,
            },
        })
    }
}

impl Method for Dec {
    type Model = DecModel;
    type Details = DecDetails;

    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<DecModel, DecDetails>, MethodError> {
        check_k(self.config.n_clusters, data)?;
        self.config.validate()?;
        let pretrained =
            self.encoder
                .obtain(data, None, self.save_encoder_to.as_deref(), control)?;
        self.fit_from(pretrained, data, control)
    }
}

impl Predict for AeKMeansModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        let codes = self.autoencoder.encode(x)?;
        Ok(self.kmeans.predict(codes.view())?)
    }
}

impl Predict for DecModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        Ok(DecModel::predict(self, x)?)
    }
}
