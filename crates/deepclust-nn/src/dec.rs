//! DEC (Xie et al. 2016) and IDEC (Guo et al. 2017) on a pretrained [`Autoencoder`].
//!
//! Both start from K-Means (`kmeans_n_init` restarts) on the codes, then fine-tune the
//! encoder and the centroids against the sharpened target distribution `P`, which is
//! recomputed on the whole dataset every `update_interval` steps. Training stops when the
//! fraction of samples whose label changed between two updates falls below `tol`, or after
//! `maxiter` steps. IDEC also keeps the decoder and minimises `MSE + gamma * KL`.
//!
//! Ground-truth labels, when given, are only scored for the observer and the log; no
//! decision depends on them.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use deepclust_cluster::KMeans;
use deepclust_metrics::Scores;
use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::augment::Augmentation;
use crate::autoencoder::{gather_rows, Autoencoder, AutoencoderConfig, AUGMENT_SEED_SALT};
use crate::clustering::{
    argmax_rows, kl_loss_with_gradients, soft_assignment, target_distribution, KlShape,
};
use crate::error::{NnError, Result};
use crate::loss::mse_with_gradient;
use crate::mlp::Workspace;
use crate::optim::{Optimizer, OptimizerState};
use crate::weights;

/// Version of the on-disk layout written by [`DecModel::save`].
pub const DEC_FORMAT_VERSION: u32 = 1;

/// Hyper-parameters of DEC / IDEC fine-tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecConfig {
    /// Number of clusters.
    pub n_clusters: usize,
    /// Degrees of freedom of the Student's t kernel.
    pub alpha: f32,
    /// Steps between two recomputations of the target distribution on the whole dataset.
    pub update_interval: usize,
    /// Stop when the fraction of changed labels between two updates is below this.
    pub tol: f64,
    /// Maximum number of gradient steps.
    pub maxiter: usize,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Optimiser of the encoder (and decoder for IDEC) and of the centroids.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f32,
    /// K-Means restarts for the initial centroids.
    pub kmeans_n_init: usize,
    /// Seed of K-Means and of the batch order.
    pub seed: u64,
    /// `None`: DEC. `Some(gamma)`: IDEC, loss = MSE(reconstruction) + gamma * KL.
    pub gamma: Option<f32>,
    /// Random shifts and rotations of each training batch (DEC-DA); the target
    /// distribution is always computed on the clean images.
    pub augmentation: Option<Augmentation>,
}

impl Default for DecConfig {
    /// DEC on 10 clusters with the published settings: alpha 1, update interval 140,
    /// tol 1e-3, at most 20,000 steps, batch 256, SGD lr 0.01 momentum 0.9, K-Means with
    /// 20 restarts.
    fn default() -> Self {
        Self {
            n_clusters: 10,
            alpha: 1.0,
            update_interval: 140,
            tol: 1e-3,
            maxiter: 20_000,
            batch_size: 256,
            optimizer: Optimizer::sgd(0.9),
            lr: 0.01,
            kmeans_n_init: 20,
            seed: 0,
            gamma: None,
            augmentation: None,
        }
    }
}

impl DecConfig {
    /// DEC with `n_clusters` clusters and the default settings.
    pub fn dec(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            ..Self::default()
        }
    }
    /// IDEC with `n_clusters` clusters, gamma 0.1, otherwise the DEC settings.
    pub fn idec(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            gamma: Some(0.1),
            ..Self::default()
        }
    }
    /// Set alpha.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }
    /// Set the update interval.
    pub fn update_interval(mut self, steps: usize) -> Self {
        self.update_interval = steps;
        self
    }
    /// Set the label-change tolerance.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    /// Set the maximum number of steps.
    pub fn maxiter(mut self, maxiter: usize) -> Self {
        self.maxiter = maxiter;
        self
    }
    /// Set the batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Set the optimiser and learning rate.
    pub fn optimizer(mut self, optimizer: Optimizer, lr: f32) -> Self {
        self.optimizer = optimizer;
        self.lr = lr;
        self
    }
    /// Set the K-Means restarts.
    pub fn kmeans_n_init(mut self, n_init: usize) -> Self {
        self.kmeans_n_init = n_init;
        self
    }
    /// Set the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Set gamma (`None` for DEC).
    pub fn gamma(mut self, gamma: Option<f32>) -> Self {
        self.gamma = gamma;
        self
    }
    /// "dec" or "idec".
    /// Augment every training batch with random shifts and rotations (DEC-DA).
    pub fn augmentation(mut self, augmentation: Option<Augmentation>) -> Self {
        self.augmentation = augmentation;
        self
    }
    pub fn method_name(&self) -> &'static str {
        if self.gamma.is_some() {
            "idec"
        } else {
            "dec"
        }
    }

    /// Check every value; the error says which one is wrong.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(NnError::InvalidConfig(m));
        if self.n_clusters < 2 {
            return fail(format!(
                "n_clusters must be at least 2, got {}",
                self.n_clusters
            ));
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return fail(format!("alpha must be positive, got {}", self.alpha));
        }
        if self.update_interval == 0 {
            return fail("update_interval must be at least 1".into());
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return fail(format!("tol must be non-negative, got {}", self.tol));
        }
        if self.batch_size == 0 {
            return fail("batch_size must be at least 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return fail(format!("lr must be positive and finite, got {}", self.lr));
        }
        if self.kmeans_n_init == 0 {
            return fail("kmeans_n_init must be at least 1".into());
        }
        if let Some(gamma) = self.gamma {
            if !(gamma >= 0.0 && gamma.is_finite()) {
                return fail(format!("gamma must be non-negative, got {gamma}"));
            }
        }
        if let Some(problem) = self.optimizer.problem() {
            return fail(problem);
        }
        if let Some(augmentation) = &self.augmentation {
            augmentation.validate()?;
        }
        Ok(())
    }
}

/// State of DEC/IDEC at one target-distribution update.
#[derive(Debug, Clone, PartialEq)]
pub struct DecReport {
    /// Gradient steps taken so far.
    pub iter: usize,
    /// Mean total loss of the steps since the previous update (`None` at step 0).
    pub loss: Option<f64>,
    /// Mean KL(P||Q) of those steps.
    pub kl_loss: Option<f64>,
    /// Mean reconstruction MSE of those steps (IDEC only).
    pub reconstruction_loss: Option<f64>,
    /// Fraction of samples whose label changed since the previous update (at step 0:
    /// relative to the K-Means labels).
    pub delta_label: f64,
    /// NMI/ACC/ARI against the ground truth, when it was given (logging only).
    pub scores: Option<Scores>,
    /// Seconds since fine-tuning started (K-Means included).
    pub seconds: f64,
}

/// Why fine-tuning stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The fraction of changed labels fell below `tol`.
    Converged,
    /// `maxiter` steps were taken.
    MaxIter,
    /// The cancel flag was raised.
    Cancelled,
}

/// How a fine-tuning run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct DecOutcome {
    /// Gradient steps taken.
    pub iterations: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// Labels of the training data under the final model.
    pub labels: Vec<usize>,
    /// Labels of the K-Means initialisation (the "AE + K-Means" result).
    pub kmeans_labels: Vec<usize>,
    /// Seconds spent in K-Means on the codes.
    pub kmeans_seconds: f64,
    /// Seconds of the whole run.
    pub seconds: f64,
}

/// Buffers of one fine-tuning step, allocated once per run.
struct StepBuffers {
    ws: Workspace,
    grads: Vec<f32>,
    centroid_grads: Vec<f32>,
    batch_rows: Vec<f32>,
    batch_p: Vec<f32>,
    code: Vec<f32>,
    code_grad: Vec<f32>,
}

impl StepBuffers {
    fn new(
        net: &crate::mlp::Mlp,
        batch: usize,
        input_dim: usize,
        code_dim: usize,
        k: usize,
    ) -> Self {
        Self {
            ws: Workspace::new(net, batch),
            grads: vec![0.0; net.n_params()],
            centroid_grads: vec![0.0; k * code_dim],
            batch_rows: vec![0.0; batch * input_dim],
            batch_p: vec![0.0; batch * k],
            code: vec![0.0; batch * code_dim],
            code_grad: vec![0.0; batch * code_dim],
        }
    }
}

/// The on-disk `config.json` of a saved DEC/IDEC model.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedDec {
    format_version: u32,
    kind: String,
    config: DecConfig,
    autoencoder: AutoencoderConfig,
    iterations: usize,
}

/// A fine-tuned DEC/IDEC model: the autoencoder (only the encoder matters for DEC) and
/// the cluster centroids in code space.
#[derive(Debug, Clone)]
pub struct DecModel {
    config: DecConfig,
    autoencoder: Autoencoder,
    centroids: Array2<f32>,
    iterations: usize,
    history: Vec<DecReport>,
}

fn scores_of(truth: Option<&[usize]>, labels: &[usize]) -> Result<Option<Scores>> {
    match truth {
        None => Ok(None),
        Some(t) => deepclust_metrics::scores(t, labels)
            .map(Some)
            .map_err(|e| NnError::InvalidInput(format!("ground-truth labels: {e}"))),
    }
}

fn fraction_changed(a: &[usize], b: &[usize]) -> f64 {
    let changed = a.iter().zip(b).filter(|(x, y)| x != y).count();
    changed as f64 / a.len().max(1) as f64
}

impl DecModel {
    /// Fine-tune `autoencoder` on `x` with DEC (or IDEC when `config.gamma` is set).
    ///
    /// `truth`, when given, must have one label per row of `x`; it is used only to
    /// score the labels in the reports. `observer` receives a [`DecReport`] at every
    /// target update; `cancel` is checked before every step.
    pub fn fit(
        autoencoder: Autoencoder,
        x: ArrayView2<'_, f32>,
        truth: Option<&[usize]>,
        config: DecConfig,
        observer: &mut dyn FnMut(DecReport),
        cancel: &AtomicBool,
    ) -> Result<(DecModel, DecOutcome)> {
        config.validate()?;
        let started = Instant::now();
        let n = x.nrows();
        let input_dim = autoencoder.config().input_dim();
        if x.ncols() != input_dim {
            return Err(NnError::InvalidInput(format!(
                "data has {} columns, the autoencoder expects {input_dim}",
                x.ncols()
            )));
        }
        if let Some(augmentation) = &config.augmentation {
            augmentation.check_width(input_dim)?;
        }
        if n < config.n_clusters {
            return Err(NnError::InvalidInput(format!(
                "{n} rows cannot form {} clusters",
                config.n_clusters
            )));
        }
        if let Some(t) = truth {
            if t.len() != n {
                return Err(NnError::InvalidInput(format!(
                    "{} ground-truth labels for {n} rows",
                    t.len()
                )));
            }
        }

        // 1. K-Means on the codes.
        let codes = autoencoder.encode(x)?;
        let kmeans = KMeans::params(config.n_clusters)
            .n_init(config.kmeans_n_init)
            .seed(config.seed)
            .fit(codes.view())
            .map_err(NnError::KMeans)?;
        let kmeans_seconds = started.elapsed().as_secs_f64();
        let kmeans_labels = kmeans.labels().to_vec();
        let mut model = DecModel {
            centroids: kmeans.centroids().clone(),
            config,
            autoencoder,
            iterations: 0,
            history: Vec::new(),
        };
        drop(codes);

        // 2. Fine-tuning.
        let stop = model.fine_tune(x, truth, &kmeans_labels, observer, cancel)?;
        let labels = model.predict(x)?;
        let outcome = DecOutcome {
            iterations: model.iterations,
            stop,
            labels,
            kmeans_labels,
            kmeans_seconds,
            seconds: started.elapsed().as_secs_f64(),
        };
        Ok((model, outcome))
    }

    fn fine_tune(
        &mut self,
        x: ArrayView2<'_, f32>,
        truth: Option<&[usize]>,
        initial_labels: &[usize],
        observer: &mut dyn FnMut(DecReport),
        cancel: &AtomicBool,
    ) -> Result<StopReason> {
        let started = Instant::now();
        let config = self.config.clone();
        let n = x.nrows();
        let input_dim = x.ncols();
        let k = config.n_clusters;
        let code_dim = self.autoencoder.config().code_dim();
        let encoder_layers = self.autoencoder.encoder_layers();
        let all_layers = self.autoencoder.network().layers().len();
        let batch = config.batch_size.min(n);
        let gamma = config.gamma;
        // DEC trains the encoder only; IDEC the whole autoencoder.
        let trained_layers = if gamma.is_some() {
            0..all_layers
        } else {
            0..encoder_layers
        };
        let trained_params = self.autoencoder.network().param_range(trained_layers);

        let mut bufs = StepBuffers::new(self.autoencoder.network(), batch, input_dim, code_dim, k);
        let mut net_state = OptimizerState::new(config.optimizer, trained_params.len());
        let mut centroid_state = OptimizerState::new(config.optimizer, k * code_dim);

        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut augment_rng = ChaCha8Rng::seed_from_u64(config.seed ^ AUGMENT_SEED_SALT);
        let mut scratch = Vec::new();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut position = 0;
        let mut labels_last = initial_labels.to_vec();
        let mut p = Array2::<f32>::zeros((0, k));
        let (mut loss_sum, mut kl_sum, mut mse_sum, mut steps_since) =
            (0.0f64, 0.0f64, 0.0f64, 0usize);

        for iter in 0..=config.maxiter {
            if iter % config.update_interval == 0 || iter == config.maxiter {
                let q = self.soft_assign(x)?;
                let labels = argmax_rows(q.view());
                let delta_label = fraction_changed(&labels, &labels_last);
                let mean = |s: f64| (steps_since > 0).then(|| s / steps_since as f64);
                let report = DecReport {
                    iter,
                    loss: mean(loss_sum),
                    kl_loss: mean(kl_sum),
                    reconstruction_loss: if gamma.is_some() { mean(mse_sum) } else { None },
                    delta_label,
                    scores: scores_of(truth, &labels)?,
                    seconds: started.elapsed().as_secs_f64(),
                };
                (loss_sum, kl_sum, mse_sum, steps_since) = (0.0, 0.0, 0.0, 0);
                self.history.push(report.clone());
                observer(report);
                labels_last = labels;
                if iter > 0 && delta_label < config.tol {
                    return Ok(StopReason::Converged);
                }
                if iter == config.maxiter {
                    return Ok(StopReason::MaxIter);
                }
                p = target_distribution(q.view());
            }
            if cancel.load(Ordering::Relaxed) {
                return Ok(StopReason::Cancelled);
            }

            // One step on the next batch of the (per pass reshuffled) order.
            if position + batch > n {
                order.shuffle(&mut rng);
                position = 0;
            }
            let indices = &order[position..position + batch];
            position += batch;
            let m = indices.len();
            gather_rows(x, indices, &mut bufs.batch_rows[..m * input_dim]);
            if let Some(augmentation) = &config.augmentation {
                augmentation.apply_rows(
                    &mut bufs.batch_rows[..m * input_dim],
                    &mut augment_rng,
                    &mut scratch,
                );
            }
            gather_rows(p.view(), indices, &mut bufs.batch_p[..m * k]);
            let (total, kl, mse) = self.batch_gradients(m, &mut bufs);
            if !total.is_finite() {
                return Err(NnError::Diverged(format!(
                    "{} loss became {total} at step {iter}; lower the learning rate",
                    config.method_name()
                )));
            }
            mse_sum += mse.unwrap_or(0.0);
            net_state.step(
                &mut self.autoencoder.network_mut().params_mut()[trained_params.clone()],
                &bufs.grads[trained_params.clone()],
                config.lr,
            );
            let Some(centroids) = self.centroids.as_slice_mut() else {
                unreachable!("centroids are kept in standard layout")
            };
            centroid_state.step(centroids, &bufs.centroid_grads, config.lr);
            self.iterations = iter + 1;
            loss_sum += total;
            kl_sum += kl;
            steps_since += 1;
        }
        Ok(StopReason::MaxIter)
    }

    /// Loss of one batch (`m` rows in `bufs.batch_rows`, their targets in `bufs.batch_p`)
    /// and the gradients of the trained parameters (`bufs.grads` over the encoder, or the
    /// whole autoencoder for IDEC, and `bufs.centroid_grads`).
    /// Returns (total loss, KL, reconstruction MSE for IDEC).
    fn batch_gradients(&self, m: usize, bufs: &mut StepBuffers) -> (f64, f64, Option<f64>) {
        let net = self.autoencoder.network();
        let encoder_layers = self.autoencoder.encoder_layers();
        let all_layers = net.layers().len();
        let input_dim = self.autoencoder.config().input_dim();
        let code_dim = self.autoencoder.config().code_dim();
        let k = self.config.n_clusters;
        let gamma = self.config.gamma;
        let StepBuffers {
            ws,
            grads,
            centroid_grads,
            batch_rows,
            batch_p,
            code,
            code_grad,
        } = bufs;
        net.forward(0..encoder_layers, batch_rows, m, ws);
        code[..m * code_dim].copy_from_slice(&ws.activation(encoder_layers - 1)[..m * code_dim]);
        let Some(centroids) = self.centroids.as_slice() else {
            unreachable!("centroids are kept in standard layout")
        };
        let kl = kl_loss_with_gradients(
            KlShape {
                n: m,
                d: code_dim,
                k,
            },
            code,
            centroids,
            batch_p,
            self.config.alpha,
            gamma.unwrap_or(1.0),
            code_grad,
            centroid_grads,
        );
        let (total, mse) = if let Some(gamma) = gamma {
            // Decoder: reconstruction loss, back to the code, plus gamma * dKL/dcode.
            net.forward(encoder_layers..all_layers, code, m, ws);
            let (out, grad) = ws.activation_and_gradient_mut(all_layers - 1);
            let mse = mse_with_gradient(
                &out[..m * input_dim],
                &batch_rows[..m * input_dim],
                &mut grad[..m * input_dim],
                1.0,
            );
            net.backward(encoder_layers..all_layers, code, m, ws, grads, true);
            for (g, &c) in ws.gradient_mut()[..m * code_dim]
                .iter_mut()
                .zip(code_grad.iter())
            {
                *g += c;
            }
            (mse + gamma as f64 * kl, Some(mse))
        } else {
            ws.gradient_mut()[..m * code_dim].copy_from_slice(&code_grad[..m * code_dim]);
            (kl, None)
        };
        net.backward(0..encoder_layers, batch_rows, m, ws, grads, false);
        (total, kl, mse)
    }

    /// The configuration.
    pub fn config(&self) -> &DecConfig {
        &self.config
    }
    /// The fine-tuned autoencoder.
    pub fn autoencoder(&self) -> &Autoencoder {
        &self.autoencoder
    }
    /// Cluster centroids in code space (k x code_dim).
    pub fn centroids(&self) -> &Array2<f32> {
        &self.centroids
    }
    /// Gradient steps taken.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Reports of every target update of the fit (not kept across save/load; the saved
    /// `train_log.csv` has them).
    pub fn history(&self) -> &[DecReport] {
        &self.history
    }

    /// Codes of `x` under the fine-tuned encoder.
    pub fn embed(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.autoencoder.encode(x)
    }
    /// Soft assignments `q` (n x k).
    pub fn soft_assign(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let codes = self.autoencoder.encode(x)?;
        Ok(soft_assignment(
            codes.view(),
            self.centroids.view(),
            self.config.alpha,
        ))
    }
    /// Hard cluster labels (argmax of `q`).
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>> {
        Ok(argmax_rows(self.soft_assign(x)?.view()))
    }

    /// The update log as CSV: `iter,loss,kl_loss,reconstruction_loss,delta_label,nmi,acc,ari,seconds`.
    pub fn log_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut csv =
            String::from("iter,loss,kl_loss,reconstruction_loss,delta_label,nmi,acc,ari,seconds\n");
        for r in &self.history {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{:.3}",
                r.iter,
                opt(r.loss),
                opt(r.kl_loss),
                opt(r.reconstruction_loss),
                r.delta_label,
                opt(r.scores.map(|s| s.nmi)),
                opt(r.scores.map(|s| s.acc)),
                opt(r.scores.map(|s| s.ari)),
                r.seconds
            );
        }
        csv
    }

    /// Save to directory `dir`: `config.json` (format version, DEC and autoencoder
    /// configs), `weights.safetensors` (autoencoder layers and `clustering.centroids`),
    /// `centroids.json` and `train_log.csv`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        weights::create_dir(dir)?;
        let saved = SavedDec {
            format_version: DEC_FORMAT_VERSION,
            kind: self.config.method_name().into(),
            config: self.config.clone(),
            autoencoder: self.autoencoder.config().clone(),
            iterations: self.iterations,
        };
        weights::write_json(&dir.join("config.json"), &saved)?;
        let mut tensors = self.autoencoder.named_tensors();
        let Some(centroids) = self.centroids.as_slice() else {
            unreachable!("centroids are kept in standard layout")
        };
        tensors.push((
            "clustering.centroids".into(),
            self.centroids.shape().to_vec(),
            centroids,
        ));
        weights::save_tensors(&dir.join("weights.safetensors"), &tensors)?;
        let rows: Vec<Vec<f32>> = self
            .centroids
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect();
        weights::write_json(&dir.join("centroids.json"), &rows)?;
        weights::write_file(&dir.join("train_log.csv"), self.log_csv().as_bytes())
    }

    /// Load a model saved by [`DecModel::save`].
    pub fn load(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        let saved: SavedDec = weights::read_json(&config_path)?;
        let bad = |problem: String| NnError::BadModelFile {
            path: config_path.clone(),
            problem,
        };
        if saved.format_version != DEC_FORMAT_VERSION
            || !(saved.kind == "dec" || saved.kind == "idec")
        {
            return Err(bad(format!(
                "expected a dec/idec model of format version {DEC_FORMAT_VERSION}, found a {} of version {}",
                saved.kind, saved.format_version
            )));
        }
        saved.config.validate().map_err(|e| bad(e.to_string()))?;
        saved
            .autoencoder
            .validate()
            .map_err(|e| bad(e.to_string()))?;
        let weights_path = dir.join("weights.safetensors");
        let mut tensors = weights::load_tensors(&weights_path)?;
        crate::autoencoder::check_shapes_before_allocating(
            &saved.autoencoder.dims,
            &tensors,
            &weights_path,
        )?;
        let mut autoencoder = Autoencoder::new(saved.autoencoder.clone())?;
        autoencoder.load_named_tensors(&mut tensors, &weights_path)?;
        let shape = [saved.config.n_clusters, saved.autoencoder.code_dim()];
        let centroids =
            weights::take_tensor(&mut tensors, "clustering.centroids", &shape, &weights_path)?;
        let centroids = Array2::from_shape_vec((shape[0], shape[1]), centroids)
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            config: saved.config,
            autoencoder,
            centroids,
            iterations: saved.iterations,
            history: Vec::new(),
        })
    }
}

/// High-level stage for the CLI: DEC (or IDEC if `config.gamma` is set) on a pretrained
/// autoencoder. See [`DecModel::fit`].
pub fn run_dec(
    autoencoder: Autoencoder,
    x: ArrayView2<'_, f32>,
    truth: Option<&[usize]>,
    config: DecConfig,
    observer: &mut dyn FnMut(DecReport),
    cancel: &AtomicBool,
) -> Result<(DecModel, DecOutcome)> {
    DecModel::fit(autoencoder, x, truth, config, observer, cancel)
}

/// High-level stage for the CLI: IDEC with `gamma` (the rest of `config` as given).
pub fn run_idec(
    autoencoder: Autoencoder,
    x: ArrayView2<'_, f32>,
    truth: Option<&[usize]>,
    config: DecConfig,
    gamma: f32,
    observer: &mut dyn FnMut(DecReport),
    cancel: &AtomicBool,
) -> Result<(DecModel, DecOutcome)> {
    DecModel::fit(
        autoencoder,
        x,
        truth,
        config.gamma(Some(gamma)),
        observer,
        cancel,
    )
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Three well separated blobs in 6 dimensions (a fast problem for mechanics tests).
    fn blobs(n_per: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centers = [[2.0f32, 0.0], [-1.0, 1.7], [-1.0, -1.7]];
        let mut x = Array2::<f32>::zeros((3 * n_per, 6));
        let mut y = Vec::new();
        for (i, mut row) in x.rows_mut().into_iter().enumerate() {
            let c = i % 3;
            y.push(c);
            let a = centers[c][0] + rng.gen_range(-0.4..0.4);
            let b = centers[c][1] + rng.gen_range(-0.4..0.4);
            let values = [a, b, a * b * 0.3, (a + b).tanh(), a - b, 0.5 * a];
            for (v, w) in row.iter_mut().zip(values) {
                *v = w;
            }
        }
        (x, y)
    }

    fn pretrained(x: &Array2<f32>) -> Autoencoder {
        let cfg = AutoencoderConfig::default()
            .dims(vec![6, 16, 2])
            .epochs(20)
            .batch_size(16)
            .seed(1);
        let mut ae = Autoencoder::new(cfg).unwrap();
        ae.train(x.view(), None, &mut |_| {}, &AtomicBool::new(false))
            .unwrap();
        ae
    }

    /// Total loss of one batch under the model's current parameters.
    fn batch_loss(model: &DecModel, m: usize, bufs: &mut StepBuffers) -> f64 {
        model.batch_gradients(m, bufs).0
    }

    #[test]
    fn dec_and_idec_step_gradients_match_finite_differences() {
        let (x, _) = blobs(4, 9);
        let m = x.nrows();
        for gamma in [None, Some(0.3f32)] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let cfg = AutoencoderConfig::default().dims(vec![6, 5, 3]).seed(2);
            let ae = Autoencoder::new(cfg).unwrap();
            let centroids = Array2::from_shape_fn((3, 3), |_| rng.gen_range(-1.0f32..1.0));
            let mut model = DecModel {
                config: DecConfig::dec(3).gamma(gamma),
                autoencoder: ae,
                centroids,
                iterations: 0,
                history: Vec::new(),
            };
            let mut bufs = StepBuffers::new(model.autoencoder.network(), m, 6, 3, 3);
            gather_rows(x.view(), &(0..m).collect::<Vec<_>>(), &mut bufs.batch_rows);
            for v in bufs.batch_p.iter_mut() {
                *v = rng.gen_range(0.05f32..1.0);
            }
            for row in bufs.batch_p.chunks_mut(3) {
                let total: f32 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= total);
            }
            bufs.grads.fill(f32::NAN);
            model.batch_gradients(m, &mut bufs);
            let grads = bufs.grads.clone();
            let centroid_grads = bufs.centroid_grads.clone();
            let trained = if gamma.is_some() { 0..4 } else { 0..2 };
            let range = model.autoencoder.network().param_range(trained);
            assert!(grads[range.clone()].iter().all(|g| g.is_finite()));
            let eps = 1e-3f32;
            let check = |analytic: f32, numeric: f64, what: &str| {
                assert!(
                    (analytic as f64 - numeric).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "gamma {gamma:?} {what}: analytic {analytic} vs numeric {numeric}"
                );
            };
            for i in range {
                let original = model.autoencoder.network().params()[i];
                model.autoencoder.network_mut().params_mut()[i] = original + eps;
                let plus = batch_loss(&model, m, &mut bufs);
                model.autoencoder.network_mut().params_mut()[i] = original - eps;
                let minus = batch_loss(&model, m, &mut bufs);
                model.autoencoder.network_mut().params_mut()[i] = original;
                check(
                    grads[i],
                    (plus - minus) / (2.0 * eps as f64),
                    &format!("param {i}"),
                );
            }
            for i in 0..9 {
                let (r, c) = (i / 3, i % 3);
                let original = model.centroids[[r, c]];
                model.centroids[[r, c]] = original + eps;
                let plus = batch_loss(&model, m, &mut bufs);
                model.centroids[[r, c]] = original - eps;
                let minus = batch_loss(&model, m, &mut bufs);
                model.centroids[[r, c]] = original;
                check(
                    centroid_grads[i],
                    (plus - minus) / (2.0 * eps as f64),
                    &format!("centroid {i}"),
                );
            }
        }
    }

    #[test]
    fn validate_rejects_bad_values() {
        assert!(DecConfig::dec(10).validate().is_ok());
        assert!(DecConfig::idec(10).validate().is_ok());
        assert!(DecConfig::dec(1).validate().is_err());
        assert!(DecConfig::dec(3).alpha(0.0).validate().is_err());
        assert!(DecConfig::dec(3).update_interval(0).validate().is_err());
        assert!(DecConfig::dec(3).tol(-1.0).validate().is_err());
        assert!(DecConfig::dec(3).gamma(Some(f32::NAN)).validate().is_err());
        assert!(DecConfig::dec(3).kmeans_n_init(0).validate().is_err());
    }

    #[test]
    fn runs_reports_and_stops_at_maxiter_or_cancel() {
        let (x, y) = blobs(30, 2);
        let ae = pretrained(&x);
        let cfg = DecConfig::dec(3)
            .maxiter(25)
            .update_interval(10)
            .tol(0.0)
            .batch_size(16)
            .kmeans_n_init(3);
        let mut reports = Vec::new();
        let never = AtomicBool::new(false);
        let (model, outcome) = run_dec(
            ae.clone(),
            x.view(),
            Some(&y),
            cfg.clone(),
            &mut |r| reports.push(r),
            &never,
        )
        .unwrap();
        assert_eq!(outcome.stop, StopReason::MaxIter);
        assert_eq!(outcome.iterations, 25);
        assert_eq!(
            reports.iter().map(|r| r.iter).collect::<Vec<_>>(),
            vec![0, 10, 20, 25]
        );
        assert!(reports[0].loss.is_none() && reports[1].loss.is_some());
        assert!(reports.iter().all(|r| r.scores.is_some()));
        assert_eq!(outcome.labels, model.predict(x.view()).unwrap());
        assert_eq!(model.log_csv().lines().count(), 5);
        // The decoder is untouched by DEC.
        let dec_range = ae
            .network()
            .param_range(ae.encoder_layers()..2 * ae.encoder_layers());
        assert_eq!(
            ae.network().params()[dec_range.clone()],
            model.autoencoder().network().params()[dec_range]
        );

        let stop = AtomicBool::new(true);
        let (_, outcome) =
            run_dec(ae.clone(), x.view(), None, cfg.clone(), &mut |_| {}, &stop).unwrap();
        assert_eq!(outcome.stop, StopReason::Cancelled);
        assert_eq!(outcome.iterations, 0);

        // A generous tolerance converges at the first update after step 0.
        let (_, outcome) = run_dec(
            ae.clone(),
            x.view(),
            None,
            cfg.clone().tol(1.1),
            &mut |_| {},
            &never,
        )
        .unwrap();
        assert_eq!(outcome.stop, StopReason::Converged);
        assert_eq!(outcome.iterations, 10);

        let err = run_dec(ae, x.view(), Some(&y[..5]), cfg, &mut |_| {}, &never).unwrap_err();
        assert!(matches!(err, NnError::InvalidInput(_)), "{err}");
    }

    /// 6 x 6 images of a horizontal (class 0) or vertical (class 1) bar at a random place.
    fn bars(n: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::<f32>::zeros((n, 36));
        let mut y = Vec::new();
        for (i, mut row) in x.rows_mut().into_iter().enumerate() {
            let (class, at) = (i % 2, rng.gen_range(1..5));
            for j in 1..5 {
                let (r, c) = if class == 0 { (at, j) } else { (j, at) };
                row[r * 6 + c] = 1.0;
            }
            y.push(class);
        }
        (x, y)
    }

    #[test]
    fn augmented_dec_is_seeded_uses_the_augmentation_and_saves_it() {
        let (x, y) = bars(80, 5);
        let cfg = AutoencoderConfig::default()
            .dims(vec![36, 24, 2])
            .epochs(30)
            .batch_size(16)
            .seed(1);
        let mut ae = Autoencoder::new(cfg).unwrap();
        let never = AtomicBool::new(false);
        ae.train(x.view(), None, &mut |_| {}, &never).unwrap();
        let plain = DecConfig::dec(2)
            .maxiter(60)
            .update_interval(20)
            .tol(0.0)
            .batch_size(16)
            .kmeans_n_init(3);
        let augmented = plain.clone().augmentation(Some(Augmentation::dec_da(6, 6)));
        let fit = |cfg: &DecConfig| {
            run_dec(
                ae.clone(),
                x.view(),
                Some(&y),
                cfg.clone(),
                &mut |_| {},
                &never,
            )
            .unwrap()
            .0
        };
        let (a, b, c) = (fit(&augmented), fit(&augmented), fit(&plain));
        assert_eq!(a.centroids(), b.centroids());
        assert_ne!(a.centroids(), c.centroids());
        // The target is computed on the clean images: the first report scores the
        // K-Means labels of the clean codes, identical with and without augmentation.
        assert_eq!(a.history()[0].scores, c.history()[0].scores);
        let dir = tempfile::tempdir().unwrap();
        a.save(dir.path()).unwrap();
        let loaded = DecModel::load(dir.path()).unwrap();
        assert_eq!(loaded.config().augmentation, augmented.augmentation);
        // Wrongly sized images are refused with the size in the message.
        let err = run_dec(
            ae.clone(),
            x.view(),
            None,
            plain.augmentation(Some(Augmentation::dec_da(5, 5))),
            &mut |_| {},
            &never,
        )
        .unwrap_err();
        assert!(err.to_string().contains("5x5"), "{err}");
    }

    #[test]
    fn idec_trains_the_decoder_and_reports_reconstruction() {
        let (x, _) = blobs(30, 3);
        let ae = pretrained(&x);
        let cfg = DecConfig::idec(3)
            .maxiter(20)
            .update_interval(10)
            .tol(0.0)
            .batch_size(16)
            .kmeans_n_init(2);
        let mut reports = Vec::new();
        let (model, outcome) = run_idec(
            ae.clone(),
            x.view(),
            None,
            cfg,
            0.1,
            &mut |r| reports.push(r),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(outcome.iterations, 20);
        assert!(reports[1].reconstruction_loss.is_some());
        let r = &reports[1];
        let total = r.reconstruction_loss.unwrap() + 0.1 * r.kl_loss.unwrap();
        assert!((r.loss.unwrap() - total).abs() < 1e-9);
        let dec_range = ae
            .network()
            .param_range(ae.encoder_layers()..2 * ae.encoder_layers());
        assert_ne!(
            ae.network().params()[dec_range.clone()],
            model.autoencoder().network().params()[dec_range]
        );
        assert_eq!(model.config().method_name(), "idec");
    }

    #[test]
    fn save_load_round_trip_gives_identical_predictions() {
        let (x, _) = blobs(20, 4);
        let ae = pretrained(&x);
        let cfg = DecConfig::dec(3)
            .maxiter(10)
            .update_interval(5)
            .batch_size(16)
            .kmeans_n_init(2);
        let (model, _) = run_dec(
            ae,
            x.view(),
            None,
            cfg,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        for file in [
            "config.json",
            "weights.safetensors",
            "centroids.json",
            "train_log.csv",
        ] {
            assert!(dir.path().join(file).exists(), "{file}");
        }
        let loaded = DecModel::load(dir.path()).unwrap();
        assert_eq!(loaded.centroids(), model.centroids());
        assert_eq!(
            loaded.soft_assign(x.view()).unwrap(),
            model.soft_assign(x.view()).unwrap()
        );
        assert_eq!(
            loaded.predict(x.view()).unwrap(),
            model.predict(x.view()).unwrap()
        );
        assert_eq!(loaded.iterations(), model.iterations());
        // An autoencoder directory is not a DEC model.
        let ae_dir = tempfile::tempdir().unwrap();
        model.autoencoder().save(ae_dir.path()).unwrap();
        let err = DecModel::load(ae_dir.path()).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
    }
}
