//! Fully connected autoencoder: `dims[0] -> ... -> dims[last]` (the code) and the mirror
//! image back to `dims[0]`, ReLU inside, linear code and linear output, MSE loss.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::augment::Augmentation;
use crate::error::{NnError, Result};
use crate::init::Initializer;
use crate::loss::mse_with_gradient;
use crate::mlp::{Activation, Mlp, Workspace};
use crate::optim::{Optimizer, OptimizerState};
use crate::weights;

/// Version of the on-disk layout written by [`Autoencoder::save`].
pub const AUTOENCODER_FORMAT_VERSION: u32 = 1;

/// Mixed into the seed of the augmentation stream, so it differs from the shuffling stream.
pub(crate) const AUGMENT_SEED_SALT: u64 = 0x5eed_a0a0_d0c0_da7a;

/// Rows per forward pass in inference ([`Autoencoder::encode`] and friends).
const INFERENCE_BATCH: usize = 2048;

/// Hyper-parameters of an autoencoder and its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoencoderConfig {
    /// Encoder widths from the input to the code, e.g. `[784, 500, 500, 2000, 10]`;
    /// the decoder mirrors them.
    pub dims: Vec<usize>,
    /// Epochs per call to [`Autoencoder::train`].
    pub epochs: usize,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Optimiser (its learning rate is `lr`).
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f32,
    /// Seed of the weight initialisation and of the batch shuffling.
    pub seed: u64,
    /// Weight initialiser.
    pub init: Initializer,
    /// Random shifts and rotations of each training batch (DEC-DA); `None` trains on the
    /// images as they are. The reconstruction target is the augmented image itself.
    pub augmentation: Option<Augmentation>,
}

impl Default for AutoencoderConfig {
    /// The DEC architecture for MNIST, pretrained with Adam (lr 1e-3, batch 256, 200 epochs,
    /// as in the DEC-keras reference code) and the VarianceScaling(1/3) initialiser.
    fn default() -> Self {
        Self {
            dims: vec![784, 500, 500, 2000, 10],
            epochs: 200,
            batch_size: 256,
            optimizer: Optimizer::adam(),
            lr: 1e-3,
            seed: 0,
            init: Initializer::VarianceScalingThirdFanIn,
            augmentation: None,
        }
    }
}

impl AutoencoderConfig {
    /// Set the encoder widths.
    pub fn dims(mut self, dims: Vec<usize>) -> Self {
        self.dims = dims;
        self
    }
    /// Set the number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
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
    /// Set the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Set the initialiser.
    pub fn init(mut self, init: Initializer) -> Self {
        self.init = init;
        self
    }

    /// Augment every training batch with random shifts and rotations (DEC-DA).
    pub fn augmentation(mut self, augmentation: Option<Augmentation>) -> Self {
        self.augmentation = augmentation;
        self
    }

    /// Check every value; the error says which one is wrong.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(NnError::InvalidConfig(m));
        if let Some(augmentation) = &self.augmentation {
            augmentation.validate()?;
            augmentation.check_width(self.input_dim())?;
        }
        if self.dims.len() < 2 {
            return fail(format!(
                "autoencoder dims need at least an input and a code width, got {:?}",
                self.dims
            ));
        }
        if self.dims.contains(&0) {
            return fail(format!(
                "autoencoder dims must be positive, got {:?}",
                self.dims
            ));
        }
        if self.batch_size == 0 {
            return fail("batch_size must be at least 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return fail(format!("lr must be positive and finite, got {}", self.lr));
        }
        if let Some(problem) = self.optimizer.problem() {
            return fail(problem);
        }
        Ok(())
    }

    /// Input (and output) width.
    pub fn input_dim(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }
    /// Code width.
    pub fn code_dim(&self) -> usize {
        self.dims.last().copied().unwrap_or(0)
    }
}

/// What one training epoch achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch index over the model's whole life (resumed training continues it).
    pub epoch: usize,
    /// Last epoch index of this training run.
    pub last_epoch: usize,
    /// Mean training loss over the epoch's batches (weighted by batch size).
    pub train_loss: f64,
    /// Validation MSE after the epoch, when validation data was given.
    pub val_loss: Option<f64>,
    /// Wall time of the epoch (training only), seconds.
    pub seconds: f64,
    /// Training throughput of the epoch.
    pub samples_per_second: f64,
}

/// How a call to [`Autoencoder::train`] ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// Epochs completed in this call.
    pub epochs_completed: usize,
    /// True when the cancel flag stopped training (the model keeps the weights of the last
    /// completed step).
    pub cancelled: bool,
}

/// The on-disk `config.json` of a saved autoencoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedAutoencoder {
    format_version: u32,
    kind: String,
    config: AutoencoderConfig,
    epochs_done: usize,
    /// Optimiser steps behind the moments saved in `optimizer.safetensors` (absent in
    /// models saved before training or by older versions: they resume with fresh moments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    optimizer_steps: Option<u64>,
}

/// File of the optimiser's moments, beside the weights, so a resumed run continues exactly.
const OPTIMIZER_FILE: &str = "optimizer.safetensors";

/// A dense autoencoder and its training history.
#[derive(Debug, Clone)]
pub struct Autoencoder {
    config: AutoencoderConfig,
    net: Mlp,
    epochs_done: usize,
    history: Vec<EpochReport>,
    optimizer_state: Option<OptimizerState>,
}

/// Widths of the whole network and the activation of each layer.
fn architecture(dims: &[usize]) -> (Vec<usize>, Vec<Activation>) {
    let mut all = dims.to_vec();
    all.extend(dims.iter().rev().skip(1));
    let encoder_layers = dims.len() - 1;
    let activations = (0..2 * encoder_layers)
        .map(|l| {
            if l == encoder_layers - 1 || l == 2 * encoder_layers - 1 {
                Activation::Linear
            } else {
                Activation::Relu
            }
        })
        .collect();
    (all, activations)
}

/// Copy rows `indices` of `x` into `out` (row-major, `indices.len() x x.ncols()`).
pub(crate) fn gather_rows(x: ArrayView2<'_, f32>, indices: &[usize], out: &mut [f32]) {
    let d = x.ncols();
    for (dst, &i) in out.chunks_exact_mut(d).zip(indices) {
        let row = x.row(i);
        match row.as_slice() {
            Some(src) => dst.copy_from_slice(src),
            None => dst.iter_mut().zip(row.iter()).for_each(|(d, &s)| *d = s),
        }
    }
}

/// Copy rows `start..start + n` of `x` into `out`.
pub(crate) fn copy_row_block(x: ArrayView2<'_, f32>, start: usize, n: usize, out: &mut [f32]) {
    let indices: Vec<usize> = (start..start + n).collect();
    gather_rows(x, &indices, out);
}

impl Autoencoder {
    /// A freshly initialised autoencoder (weights drawn from `config.init` with
    /// `config.seed`).
    pub fn new(config: AutoencoderConfig) -> Result<Self> {
        config.validate()?;
        let (dims, activations) = architecture(&config.dims);
        let mut net = Mlp::new(&dims, &activations);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        net.initialize(config.init, &mut rng);
        Ok(Self {
            config,
            net,
            epochs_done: 0,
            history: Vec::new(),
            optimizer_state: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AutoencoderConfig {
        &self.config
    }
    /// Change the training settings (epochs, batch size, optimiser, lr, seed) of a model,
    /// e.g. to resume a loaded one differently. The architecture cannot change.
    pub fn set_training(&mut self, config: AutoencoderConfig) -> Result<()> {
        config.validate()?;
        if config.dims != self.config.dims {
            return Err(NnError::InvalidConfig(format!(
                "cannot change the architecture of a trained model from {:?} to {:?}",
                self.config.dims, config.dims
            )));
        }
        if config.optimizer != self.config.optimizer {
            self.optimizer_state = None;
        }
        self.config = config;
        Ok(())
    }
    /// The network (encoder layers first, then decoder layers).
    pub fn network(&self) -> &Mlp {
        &self.net
    }
    pub(crate) fn network_mut(&mut self) -> &mut Mlp {
        &mut self.net
    }
    /// Number of encoder layers (the decoder has as many).
    pub fn encoder_layers(&self) -> usize {
        self.config.dims.len() - 1
    }
    /// Epochs trained so far, over all calls and across save/load.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }
    /// Per-epoch reports of every training run of this model (not kept across save/load;
    /// the saved `train_log.csv` has them).
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    fn check_input(&self, x: ArrayView2<'_, f32>, what: &str) -> Result<()> {
        if x.ncols() != self.config.input_dim() {
            return Err(NnError::InvalidInput(format!(
                "{what} has {} columns, the autoencoder expects {}",
                x.ncols(),
                self.config.input_dim()
            )));
        }
        Ok(())
    }

    /// Train for `config.epochs` epochs on `x` (rows are samples) with shuffled batches.
    ///
    /// After each epoch `observer` receives an [`EpochReport`] (with the validation MSE on
    /// `val` when given). The `cancel` flag is checked before every batch. Optimiser state
    /// is kept in the model, so a second call continues where the first stopped; a model
    /// loaded from disk resumes from its weights with fresh optimiser moments.
    pub fn train(
        &mut self,
        x: ArrayView2<'_, f32>,
        val: Option<ArrayView2<'_, f32>>,
        observer: &mut dyn FnMut(EpochReport),
        cancel: &AtomicBool,
    ) -> Result<TrainOutcome> {
        self.config.validate()?;
        self.check_input(x, "training data")?;
        if let Some(v) = val {
            self.check_input(v, "validation data")?;
        }
        let n = x.nrows();
        if n == 0 {
            return Err(NnError::InvalidInput("training data has no rows".into()));
        }
        let d = x.ncols();
        let batch = self.config.batch_size.min(n);
        let layers = self.net.layers().len();
        let mut ws = Workspace::new(&self.net, batch);
        let mut batch_rows = vec![0.0f32; batch * d];
        let mut grads = vec![0.0f32; self.net.n_params()];
        let mut state = match self.optimizer_state.take() {
            Some(state) => state,
            None => OptimizerState::new(self.config.optimizer, self.net.n_params()),
        };
        let mut order: Vec<usize> = (0..n).collect();
        let mut scratch = Vec::new();
        let last_epoch = self.epochs_done + self.config.epochs;
        let mut outcome = TrainOutcome {
            epochs_completed: 0,
            cancelled: false,
        };

        'epochs: for _ in 0..self.config.epochs {
            let epoch = self.epochs_done + 1;
            // One stream per epoch: resumed training shuffles like uninterrupted training.
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
            rng.set_stream(epoch as u64);
            order.sort_unstable();
            order.shuffle(&mut rng);
            // Augmentation draws from its own stream so that switching it on keeps the
            // batch order of the same seed.
            let mut augment_rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ AUGMENT_SEED_SALT);
            augment_rng.set_stream(epoch as u64);
            let started = Instant::now();
            let mut loss_sum = 0.0f64;
            for indices in order.chunks(batch) {
                if cancel.load(Ordering::Relaxed) {
                    outcome.cancelled = true;
                    break 'epochs;
                }
                let m = indices.len();
                gather_rows(x, indices, &mut batch_rows[..m * d]);
                if let Some(augmentation) = &self.config.augmentation {
                    augmentation.apply_rows(
                        &mut batch_rows[..m * d],
                        &mut augment_rng,
                        &mut scratch,
                    );
                }
                self.net.forward(0..layers, &batch_rows, m, &mut ws);
                let (out, grad) = ws.activation_and_gradient_mut(layers - 1);
                let loss =
                    mse_with_gradient(&out[..m * d], &batch_rows[..m * d], &mut grad[..m * d], 1.0);
                if !loss.is_finite() {
                    self.optimizer_state = Some(state);
                    return Err(NnError::Diverged(format!(
                        "autoencoder loss became {loss} in epoch {epoch}; lower the learning rate"
                    )));
                }
                loss_sum += loss * m as f64;
                self.net
                    .backward(0..layers, &batch_rows, m, &mut ws, &mut grads, false);
                state.step(self.net.params_mut(), &grads, self.config.lr);
            }
            let seconds = started.elapsed().as_secs_f64();
            let val_loss = match val {
                Some(v) => Some(self.reconstruction_loss(v)?),
                None => None,
            };
            self.epochs_done = epoch;
            outcome.epochs_completed += 1;
            let report = EpochReport {
                epoch,
                last_epoch,
                train_loss: loss_sum / n as f64,
                val_loss,
                seconds,
                samples_per_second: n as f64 / seconds.max(1e-12),
            };
            self.history.push(report.clone());
            observer(report);
        }
        self.optimizer_state = Some(state);
        Ok(outcome)
    }

    /// Run layers `layers` over `x` in inference batches and collect the output of the last
    /// one (`x.nrows() x width`).
    fn run_layers(&self, layers: std::ops::Range<usize>, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let n = x.nrows();
        let d = x.ncols();
        let last = layers.end - 1;
        let width = self.net.width_out(last);
        let mut out = Array2::<f32>::zeros((n, width));
        if n == 0 {
            return out;
        }
        let batch = INFERENCE_BATCH.min(n);
        let mut ws = Workspace::for_inference(&self.net, layers.clone(), batch);
        let mut rows = vec![0.0f32; batch * d];
        let out_slice = out.as_slice_mut();
        // Safe: Array2::zeros is in standard (row-major, contiguous) layout.
        let Some(out_slice) = out_slice else {
            return out;
        };
        let mut start = 0;
        while start < n {
            let m = batch.min(n - start);
            copy_row_block(x, start, m, &mut rows[..m * d]);
            self.net.forward(layers.clone(), &rows, m, &mut ws);
            out_slice[start * width..(start + m) * width]
                .copy_from_slice(&ws.activation(last)[..m * width]);
            start += m;
        }
        out
    }

    /// The codes of `x` (`n x code_dim`), computed in batches; each GEMM uses all threads.
    pub fn encode(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_input(x, "data to encode")?;
        Ok(self.run_layers(0..self.encoder_layers(), x))
    }

    /// Reconstructions of `x` (`n x input_dim`).
    pub fn reconstruct(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_input(x, "data to reconstruct")?;
        Ok(self.run_layers(0..self.net.layers().len(), x))
    }

    /// Mean squared reconstruction error over all elements of `x`.
    pub fn reconstruction_loss(&self, x: ArrayView2<'_, f32>) -> Result<f64> {
        self.check_input(x, "data to score")?;
        if x.nrows() == 0 {
            return Ok(0.0);
        }
        let layers = self.net.layers().len();
        let n = x.nrows();
        let d = x.ncols();
        let batch = INFERENCE_BATCH.min(n);
        let mut ws = Workspace::for_inference(&self.net, 0..layers, batch);
        let mut rows = vec![0.0f32; batch * d];
        let mut sum = 0.0f64;
        let mut start = 0;
        while start < n {
            let m = batch.min(n - start);
            copy_row_block(x, start, m, &mut rows[..m * d]);
            self.net.forward(0..layers, &rows, m, &mut ws);
            sum += crate::loss::mse(&ws.activation(layers - 1)[..m * d], &rows[..m * d])
                * (m * d) as f64;
            start += m;
        }
        Ok(sum / (n * d) as f64)
    }

    /// The loss history as CSV: `epoch,train_loss,val_loss,seconds,samples_per_second`.
    pub fn loss_csv(&self) -> String {
        let mut csv = String::from("epoch,train_loss,val_loss,seconds,samples_per_second\n");
        for r in &self.history {
            let val = r.val_loss.map(|v| v.to_string()).unwrap_or_default();
            let _ = writeln!(
                csv,
                "{},{},{},{:.3},{:.1}",
                r.epoch, r.train_loss, val, r.seconds, r.samples_per_second
            );
        }
        csv
    }

    /// Names, shapes and values of the weights, in the safetensors layout
    /// (`layers.{l}.weight` is fan_in x fan_out, `layers.{l}.bias` is fan_out).
    pub(crate) fn named_tensors(&self) -> Vec<(String, Vec<usize>, &[f32])> {
        let mut tensors = Vec::new();
        for (l, layer) in self.net.layers().iter().enumerate() {
            tensors.push((
                format!("layers.{l}.weight"),
                vec![layer.fan_in, layer.fan_out],
                self.net.weight(l),
            ));
            tensors.push((
                format!("layers.{l}.bias"),
                vec![layer.fan_out],
                self.net.bias(l),
            ));
        }
        tensors
    }

    /// Fill the weights from loaded tensors (shapes checked; `path` names the file in errors).
    pub(crate) fn load_named_tensors(
        &mut self,
        tensors: &mut std::collections::BTreeMap<String, weights::Tensor>,
        path: &Path,
    ) -> Result<()> {
        let layers: Vec<_> = self.net.layers().to_vec();
        for (l, layer) in layers.iter().enumerate() {
            let w = weights::take_tensor(
                tensors,
                &format!("layers.{l}.weight"),
                &[layer.fan_in, layer.fan_out],
                path,
            )?;
            let b =
                weights::take_tensor(tensors, &format!("layers.{l}.bias"), &[layer.fan_out], path)?;
            let params = self.net.params_mut();
            params[layer.weight_offset..layer.weight_offset + w.len()].copy_from_slice(&w);
            params[layer.bias_offset..layer.bias_offset + b.len()].copy_from_slice(&b);
        }
        Ok(())
    }

    /// Save to directory `dir` (created if needed): `config.json` (with `format_version`),
    /// `weights.safetensors`, `optimizer.safetensors` (the optimiser's moments, once trained)
    /// and `train_log.csv`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.save_with(dir, true)
    }

    /// Like [`Autoencoder::save`] without the optimiser's moments (twice the weights' size):
    /// for a model kept only to encode; training it again after loading starts fresh moments.
    pub fn save_for_inference(&self, dir: &Path) -> Result<()> {
        self.save_with(dir, false)
    }

    fn save_with(&self, dir: &Path, with_optimizer: bool) -> Result<()> {
        weights::create_dir(dir)?;
        let state = self
            .optimizer_state
            .as_ref()
            .filter(|s| with_optimizer && s.optimizer() == self.config.optimizer);
        let saved = SavedAutoencoder {
            format_version: AUTOENCODER_FORMAT_VERSION,
            kind: "autoencoder".into(),
            config: self.config.clone(),
            epochs_done: self.epochs_done,
            optimizer_steps: state.map(OptimizerState::steps),
        };
        weights::save_tensors(&dir.join("weights.safetensors"), &self.named_tensors())?;
        let optimizer_path = dir.join(OPTIMIZER_FILE);
        match state {
            Some(state) => {
                let n = self.net.n_params();
                let tensors: Vec<(String, Vec<usize>, &[f32])> = state
                    .buffers()
                    .into_iter()
                    .map(|(name, values)| (name.to_string(), vec![n], values))
                    .collect();
                weights::save_tensors(&optimizer_path, &tensors)?;
            }
            // No moments to go with these weights: a stale file must not be picked up.
            None if optimizer_path.exists() => {
                std::fs::remove_file(&optimizer_path).map_err(|e| NnError::Io {
                    path: optimizer_path.clone(),
                    source: e,
                })?
            }
            None => {}
        }
        // The config last: it says which optimiser file belongs to the weights.
        weights::write_json(&dir.join("config.json"), &saved)?;
        weights::write_file(&dir.join("train_log.csv"), self.loss_csv().as_bytes())
    }

    /// Load a model saved by [`Autoencoder::save`]: the config rebuilds the network, then
    /// the weights fill it, and the optimiser's moments when they were saved, so training
    /// resumes exactly where it stopped.
    pub fn load(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        let saved: SavedAutoencoder = weights::read_json(&config_path)?;
        if saved.format_version != AUTOENCODER_FORMAT_VERSION || saved.kind != "autoencoder" {
            return Err(NnError::BadModelFile {
                path: config_path,
                problem: format!(
                    "expected an autoencoder of format version {AUTOENCODER_FORMAT_VERSION}, found a {} of version {}",
                    saved.kind, saved.format_version
                ),
            });
        }
        saved.config.validate().map_err(|e| NnError::BadModelFile {
            path: config_path.clone(),
            problem: e.to_string(),
        })?;
        let weights_path = dir.join("weights.safetensors");
        let mut tensors = weights::load_tensors(&weights_path)?;
        check_shapes_before_allocating(&saved.config.dims, &tensors, &weights_path)?;
        let mut model = Self::new(saved.config)?;
        model.epochs_done = saved.epochs_done;
        model.load_named_tensors(&mut tensors, &weights_path)?;
        let optimizer_path = dir.join(OPTIMIZER_FILE);
        if let (Some(steps), true) = (saved.optimizer_steps, optimizer_path.exists()) {
            let n = model.net.n_params();
            let mut moments = weights::load_tensors(&optimizer_path)?;
            let first = weights::take_tensor(&mut moments, "first", &[n], &optimizer_path)?;
            let second = match model.config.optimizer {
                Optimizer::Adam { .. } => {
                    weights::take_tensor(&mut moments, "second", &[n], &optimizer_path)?
                }
                Optimizer::Sgd { .. } => Vec::new(),
            };
            let state =
                OptimizerState::from_buffers(model.config.optimizer, n, steps, first, second)
                    .ok_or_else(|| NnError::BadModelFile {
                        path: optimizer_path.clone(),
                        problem: "optimiser moments do not fit the model".into(),
                    })?;
            model.optimizer_state = Some(state);
        }
        Ok(model)
    }
}

/// Checks that the weights file holds every layer the config's `dims` describe, with the
/// right shape, before the network is allocated: a hand-edited or corrupt config.json
/// (`[784, 4000000000, 10]`) must be an error naming the files, not a terabyte allocation.
/// The weights file is real bytes on disk, so shapes that match it are safe to allocate.
pub(crate) fn check_shapes_before_allocating(
    dims: &[usize],
    tensors: &std::collections::BTreeMap<String, weights::Tensor>,
    weights_path: &Path,
) -> Result<()> {
    let (widths, _) = architecture(dims);
    for (l, pair) in widths.windows(2).enumerate() {
        for (name, shape) in [
            (format!("layers.{l}.weight"), vec![pair[0], pair[1]]),
            (format!("layers.{l}.bias"), vec![pair[1]]),
        ] {
            let found = tensors.get(&name).map(|t| &t.shape);
            if found != Some(&shape) {
                return Err(NnError::BadModelFile {
                    path: weights_path.to_path_buf(),
                    problem: format!(
                        "config.json describes layers {dims:?}, so tensor {name} should have \
                         shape {shape:?}, but the weights file {}",
                        match found {
                            Some(s) => format!("has it with shape {s:?}"),
                            None => "does not hold it".to_string(),
                        }
                    ),
                });
            }
        }
    }
    Ok(())
}

/// High-level stage for the CLI: build an autoencoder from `config` and train it on `x`.
pub fn train_autoencoder(
    config: AutoencoderConfig,
    x: ArrayView2<'_, f32>,
    val: Option<ArrayView2<'_, f32>>,
    observer: &mut dyn FnMut(EpochReport),
    cancel: &AtomicBool,
) -> Result<(Autoencoder, TrainOutcome)> {
    let mut model = Autoencoder::new(config)?;
    let outcome = model.train(x, val, observer, cancel)?;
    Ok((model, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Points on a 2-D manifold embedded nonlinearly in 12 dimensions.
    fn manifold_data(n: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut a = Array2::<f32>::zeros((n, 12));
        for mut row in a.rows_mut() {
            let (s, t): (f32, f32) = (rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
            for (j, v) in row.iter_mut().enumerate() {
                let j = j as f32;
                *v = (s * (j + 1.0) * 0.5).sin() + t * (j * 0.3).cos() + 0.1 * s * t;
            }
        }
        a
    }

    fn small_config() -> AutoencoderConfig {
        AutoencoderConfig::default()
            .dims(vec![12, 32, 2])
            .epochs(30)
            .batch_size(32)
            .seed(3)
    }

    /// `cfg` trained to the end on `x`, without validation, observer or cancellation.
    fn fit(cfg: AutoencoderConfig, x: ArrayView2<'_, f32>) -> Autoencoder {
        train_autoencoder(cfg, x, None, &mut |_| {}, &AtomicBool::new(false))
            .unwrap()
            .0
    }

    #[test]
    fn architecture_mirrors_the_encoder() {
        let (dims, acts) = architecture(&[784, 500, 500, 2000, 10]);
        assert_eq!(dims, vec![784, 500, 500, 2000, 10, 2000, 500, 500, 784]);
        use Activation::*;
        assert_eq!(
            acts,
            vec![Relu, Relu, Relu, Linear, Relu, Relu, Relu, Linear]
        );
    }

    #[test]
    fn validate_rejects_bad_values() {
        assert!(AutoencoderConfig::default().validate().is_ok());
        assert!(AutoencoderConfig::default()
            .dims(vec![5])
            .validate()
            .is_err());
        assert!(AutoencoderConfig::default()
            .dims(vec![5, 0])
            .validate()
            .is_err());
        assert!(AutoencoderConfig::default()
            .batch_size(0)
            .validate()
            .is_err());
        assert!(AutoencoderConfig::default()
            .optimizer(Optimizer::adam(), -1.0)
            .validate()
            .is_err());
        assert!(AutoencoderConfig::default()
            .optimizer(Optimizer::sgd(1.5), 0.1)
            .validate()
            .is_err());
    }

    #[test]
    fn training_lowers_train_and_validation_loss() {
        let x = manifold_data(400, 1);
        let val = manifold_data(100, 2);
        let mut model = Autoencoder::new(small_config()).unwrap();
        let before = model.reconstruction_loss(val.view()).unwrap();
        let mut reports = Vec::new();
        let outcome = model
            .train(
                x.view(),
                Some(val.view()),
                &mut |r| reports.push(r),
                &AtomicBool::new(false),
            )
            .unwrap();
        assert_eq!(
            outcome,
            TrainOutcome {
                epochs_completed: 30,
                cancelled: false
            }
        );
        assert_eq!(reports.len(), 30);
        let last = reports.last().unwrap();
        assert!(last.train_loss < 0.5 * reports[0].train_loss, "{reports:?}");
        let after = last.val_loss.unwrap();
        assert!(after < 0.3 * before, "val loss {before} -> {after}");
        assert!((after - model.reconstruction_loss(val.view()).unwrap()).abs() < 1e-9);
        assert_eq!(model.loss_csv().lines().count(), 31);
    }

    #[test]
    fn augmented_training_is_seeded_changes_the_weights_and_is_saved() {
        // Rows of manifold_data read as 3 x 4 images.
        let x = manifold_data(96, 6);
        let plain = small_config().epochs(3);
        let augmented = plain
            .clone()
            .augmentation(Some(Augmentation::dec_da(3, 4).max_shift(0.25)));
        let (a, b, c) = (
            fit(augmented.clone(), x.view()),
            fit(augmented.clone(), x.view()),
            fit(plain.clone(), x.view()),
        );
        assert_eq!(a.network().params(), b.network().params());
        assert_ne!(a.network().params(), c.network().params());
        assert!(a.history().iter().all(|r| r.train_loss.is_finite()));
        let dir = tempfile::tempdir().unwrap();
        a.save(dir.path()).unwrap();
        let loaded = Autoencoder::load(dir.path()).unwrap();
        assert_eq!(loaded.config().augmentation, augmented.augmentation);
        // Images of the wrong size are refused before any training.
        let wrong = plain.augmentation(Some(Augmentation::dec_da(3, 3)));
        let err = Autoencoder::new(wrong).unwrap_err();
        assert!(err.to_string().contains("3x3"), "{err}");
    }

    #[test]
    fn same_seed_same_weights_and_cancel_stops() {
        let x = manifold_data(100, 4);
        let cfg = small_config().epochs(2);
        let (a, b) = (fit(cfg.clone(), x.view()), fit(cfg.clone(), x.view()));
        assert_eq!(a.network().params(), b.network().params());
        let stop = AtomicBool::new(true);
        let (c, outcome) = train_autoencoder(cfg, x.view(), None, &mut |_| {}, &stop).unwrap();
        assert!(outcome.cancelled);
        assert_eq!(outcome.epochs_completed, 0);
        assert_eq!(c.epochs_done(), 0);
    }

    #[test]
    fn save_load_round_trip_gives_identical_codes_and_can_resume() {
        let x = manifold_data(120, 5);
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let model = fit(small_config().epochs(3), x.view());
        model.save(dir.path()).unwrap();
        for file in ["config.json", "weights.safetensors", "train_log.csv"] {
            assert!(dir.path().join(file).exists(), "{file}");
        }
        let mut loaded = Autoencoder::load(dir.path()).unwrap();
        assert_eq!(loaded.epochs_done(), 3);
        assert_eq!(
            model.encode(x.view()).unwrap(),
            loaded.encode(x.view()).unwrap()
        );
        assert_eq!(
            model.reconstruct(x.view()).unwrap(),
            loaded.reconstruct(x.view()).unwrap()
        );
        // Resume: epochs continue from 4 and the loss keeps going down.
        let before = loaded.reconstruction_loss(x.view()).unwrap();
        let mut epochs = Vec::new();
        loaded
            .train(x.view(), None, &mut |r| epochs.push(r.epoch), &never)
            .unwrap();
        assert_eq!(epochs, vec![4, 5, 6]);
        assert!(loaded.reconstruction_loss(x.view()).unwrap() < before);
    }

    #[test]
    fn interrupted_and_resumed_training_equals_uninterrupted_training() {
        let x = manifold_data(96, 8);
        let never = AtomicBool::new(false);
        for optimizer in [Optimizer::adam(), Optimizer::sgd(0.9)] {
            let cfg = small_config().optimizer(optimizer, 0.01).epochs(4);
            let whole = fit(cfg.clone(), x.view());
            let half = fit(cfg.clone().epochs(2), x.view());
            let dir = tempfile::tempdir().unwrap();
            half.save(dir.path()).unwrap();
            assert!(dir.path().join(OPTIMIZER_FILE).exists());
            let mut resumed = Autoencoder::load(dir.path()).unwrap();
            resumed.set_training(cfg.clone().epochs(2)).unwrap();
            resumed.train(x.view(), None, &mut |_| {}, &never).unwrap();
            assert_eq!(resumed.epochs_done(), 4);
            assert_eq!(
                resumed.network().params(),
                whole.network().params(),
                "{optimizer:?}"
            );
        }
        // An untrained model has no moments, and saving it over a trained one removes them.
        let dir = tempfile::tempdir().unwrap();
        let trained = fit(small_config().epochs(1), x.view());
        trained.save(dir.path()).unwrap();
        Autoencoder::new(small_config())
            .unwrap()
            .save(dir.path())
            .unwrap();
        assert!(!dir.path().join(OPTIMIZER_FILE).exists());
        trained.save(dir.path()).unwrap();
        trained.save_for_inference(dir.path()).unwrap();
        assert!(!dir.path().join(OPTIMIZER_FILE).exists());
        assert_eq!(
            Autoencoder::load(dir.path()).unwrap().network().params(),
            trained.network().params()
        );
    }

    #[test]
    fn load_reports_the_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let model = Autoencoder::new(small_config()).unwrap();
        model.save(dir.path()).unwrap();
        std::fs::write(dir.path().join("weights.safetensors"), b"xx").unwrap();
        let err = Autoencoder::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("weights.safetensors"), "{err}");
        std::fs::write(dir.path().join("config.json"), b"{\"format_version\": 99}").unwrap();
        let err = Autoencoder::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
    }

    #[test]
    fn absurd_dims_in_config_are_an_error_before_any_allocation() {
        // config.json edited to a 4-billion-wide layer: the weights file (real bytes)
        // disagrees, and that is reported instead of a 25 TB allocation and an abort.
        let dir = tempfile::tempdir().unwrap();
        let model = Autoencoder::new(small_config()).unwrap();
        model.save(dir.path()).unwrap();
        let config_path = dir.path().join("config.json");
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        let code = json["config"]["dims"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        json["config"]["dims"] =
            serde_json::json!([model.config().input_dim(), 4_000_000_000u64, code]);
        std::fs::write(&config_path, serde_json::to_vec(&json).unwrap()).unwrap();
        let err = Autoencoder::load(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, NnError::BadModelFile { .. }) && msg.contains("4000000000"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_width_is_an_error_not_a_panic() {
        let model = Autoencoder::new(small_config()).unwrap();
        let x = Array2::<f32>::zeros((3, 5));
        assert!(matches!(
            model.encode(x.view()),
            Err(NnError::InvalidInput(_))
        ));
    }
}
