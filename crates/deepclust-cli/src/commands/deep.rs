//! `deepclust train-ae`, `deepclust dec`, `deepclust idec`: the deep clustering stages on any
//! dataset the loaders read. Each stage saves its model as a folder (config.json with a format
//! version + weights.safetensors + logs) so it can be resumed or reused.

use crate::cli::{describe, log_line, print_scores, progress_bar, DataArgs};
use crate::commands::report_args::{ReportArgs, RunRecord};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use deepclust::data::Dataset;
use deepclust::metrics::Scores;
use deepclust::nn::{
    Augmentation, Autoencoder, AutoencoderConfig, DecConfig, DecModel, DecOutcome, EpochReport,
    Optimizer,
};
use deepclust::report::{AeEpoch, DecUpdate};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
pub enum OptimizerArg {
    /// Adam (beta 0.9, 0.999)
    Adam,
    /// SGD with momentum (see --momentum)
    Sgd,
}

/// Autoencoder architecture and training.
#[derive(Args, Debug, Clone)]
pub struct AeArgs {
    /// Widths after the input, the last is the code: the DEC architecture is 500,500,2000,10.
    #[arg(long, value_delimiter = ',', default_value = "500,500,2000,10")]
    pub dims: Vec<usize>,
    /// Training epochs (the DEC reference code pretrains for 200-300).
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptimizerArg,
    /// Learning rate (Adam 1e-3; the DEC paper's SGD used 1.0 with momentum 0.9).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Momentum of SGD.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub augment: AugmentArgs,
}

/// DEC-DA data augmentation.
#[derive(Args, Debug, Clone)]
pub struct AugmentArgs {
    /// Train on randomly shifted and rotated copies of the images (DEC-DA): in autoencoder
    /// pretraining and in DEC/IDEC, whose target distribution stays computed on the clean
    /// images. Needs image data (IDX, or a folder/CSV of images).
    #[arg(long)]
    pub augment: bool,
    /// Largest random shift with --augment, as a fraction of the image width/height.
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    pub augment_shift: f32,
    /// Largest random rotation with --augment, in degrees either way.
    #[arg(long, default_value_t = 10.0, value_name = "DEGREES")]
    pub augment_rotation: f32,
}

impl AugmentArgs {
    /// The augmentation for the images of `ds`, or `None` without --augment.
    pub fn augmentation(&self, ds: &Dataset) -> Result<Option<Augmentation>> {
        if !self.augment {
            return Ok(None);
        }
        let Some((height, width)) = ds.image_shape else {
            bail!(
                "--augment shifts and rotates images, but the rows of {} ({} values each) are not images of a known size",
                ds.source,
                ds.dim()
            );
        };
        let augmentation = Augmentation::dec_da(height, width)
            .max_shift(self.augment_shift)
            .max_rotation_degrees(self.augment_rotation);
        augmentation
            .validate()
            .context("invalid --augment-shift / --augment-rotation")?;
        Ok(Some(augmentation))
    }
}

impl AeArgs {
    /// The autoencoder settings for `ds` (its width, and its image size with --augment).
    pub fn config(&self, ds: &Dataset) -> Result<AutoencoderConfig> {
        let input_dim = ds.dim();
        let mut dims = vec![input_dim];
        dims.extend(&self.dims);
        let optimizer = match self.optimizer {
            OptimizerArg::Adam => Optimizer::adam(),
            OptimizerArg::Sgd => Optimizer::sgd(self.momentum),
        };
        Ok(AutoencoderConfig::default()
            .dims(dims)
            .epochs(self.epochs)
            .batch_size(self.batch_size)
            .optimizer(optimizer, self.lr)
            .seed(self.seed)
            .augmentation(self.augment.augmentation(ds)?))
    }
}

#[derive(Args, Debug)]
pub struct TrainAeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub ae: AeArgs,
    /// Folder to save the model in (config.json, weights.safetensors, train_log.csv).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Continue training the model saved in --out for --epochs more epochs.
    #[arg(long)]
    pub resume: bool,
    /// Hold out the last FRACTION of the rows for the validation loss (e.g. 0.3).
    #[arg(long, value_name = "FRACTION")]
    pub val_fraction: Option<f64>,
}

/// Trains (or continues) an autoencoder with a progress bar; saves it on success and on
/// Ctrl-C so the run can be resumed with `--resume`.
pub fn train_ae_with_progress(
    model: &mut Autoencoder,
    train: &Dataset,
    val: Option<&Dataset>,
    out: Option<&Path>,
    cancel: &AtomicBool,
) -> Result<f64> {
    let epochs = model.config().epochs as u64;
    let bar = progress_bar(epochs, "epochs");
    bar.set_message("autoencoder");
    let start = Instant::now();
    let outcome = model
        .train(
            train.features.view(),
            val.map(|v| v.features.view()),
            &mut |r: EpochReport| {
                bar.inc(1);
                let val = r
                    .val_loss
                    .map_or(String::new(), |v| format!(", val {v:.5}"));
                bar.set_message(format!(
                    "loss {:.5}{val}, {:.0} samples/s",
                    r.train_loss, r.samples_per_second
                ));
                log_line(
                    &bar,
                    format!(
                        "epoch {:>4}: train loss {:.6}{val} ({:.1} s, {:.0} samples/s)",
                        r.epoch, r.train_loss, r.seconds, r.samples_per_second
                    ),
                );
            },
            cancel,
        )
        .context("autoencoder training failed")?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    if let Some(dir) = out {
        save_ae(model, dir)?;
        outln!(
            "autoencoder saved in {} ({} epochs in total)",
            dir.display(),
            model.epochs_done()
        );
    }
    if outcome.cancelled {
        bail!(
            "interrupted after {} epochs{}",
            outcome.epochs_completed,
            out.map_or(String::new(), |d| format!(
                "; resume with --resume --out {}",
                d.display()
            ))
        );
    }
    Ok(seconds)
}

/// The library's save writes the one training log (`train_log.csv`) with the weights.
fn save_ae(model: &Autoencoder, dir: &Path) -> Result<()> {
    model
        .save(dir)
        .with_context(|| format!("cannot save the autoencoder in {}", dir.display()))
}

fn split_validation(ds: Dataset, fraction: Option<f64>) -> Result<(Dataset, Option<Dataset>)> {
    Ok(match fraction {
        Some(f) => {
            let (a, b) = deepclust::data::split_fraction(&ds, 1.0 - f).context("--val-fraction")?;
            (a, Some(b))
        }
        None => (ds, None),
    })
}

pub fn run_train_ae(args: &TrainAeArgs, cancel: &AtomicBool) -> Result<()> {
    let ds = args.data.load()?;
    outln!("data: {}", describe(&ds));
    let (train, val) = split_validation(ds, args.val_fraction)?;
    let mut model = if args.resume {
        let mut model = Autoencoder::load(&args.out)
            .with_context(|| format!("cannot resume from {}", args.out.display()))?;
        let mut config = model.config().clone();
        config.epochs = args.ae.epochs;
        model
            .set_training(config)
            .context("invalid training settings")?;
        outln!(
            "resuming from {} after {} epochs",
            args.out.display(),
            model.epochs_done()
        );
        model
    } else {
        if args.out.join("config.json").exists() {
            bail!(
                "{} already holds a model; pass --resume to continue it or choose another --out",
                args.out.display()
            );
        }
        Autoencoder::new(args.ae.config(&train)?).context("invalid autoencoder settings")?
    };
    logln!("config: {}", serde_json::to_string(model.config())?);
    crate::cli::check_writable(&args.out)?;
    let seconds =
        train_ae_with_progress(&mut model, &train, val.as_ref(), Some(&args.out), cancel)?;
    outln!("trained in {seconds:.1} s");
    crate::output::json_result(&serde_json::json!({
        "method": "autoencoder",
        "items": train.len(),
        "validation_items": val.as_ref().map(|v| v.len()),
        "config": model.config(),
        "epochs_done": model.epochs_done(),
        "seconds": seconds,
        "model_dir": args.out,
    }));
    Ok(())
}

/// DEC / IDEC fine-tuning settings.
#[derive(Args, Debug, Clone)]
pub struct DecArgs {
    /// Number of clusters.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Steps between two recomputations of the target distribution on the whole data.
    #[arg(long, default_value_t = 140)]
    pub update_interval: usize,
    /// Stop when fewer than this fraction of labels change between two updates.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Maximum number of gradient steps.
    #[arg(long, default_value_t = 20_000)]
    pub maxiter: usize,
    /// Learning rate of SGD (momentum 0.9).
    #[arg(long, default_value_t = 0.01)]
    pub dec_lr: f32,
    /// Degrees of freedom of the Student's t kernel.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f32,
    /// K-Means restarts for the initial centroids.
    #[arg(long, default_value_t = 20)]
    pub kmeans_n_init: usize,
}

impl DecArgs {
    pub fn config(&self, seed: u64, gamma: Option<f32>) -> DecConfig {
        let mut c = DecConfig::dec(self.k)
            .alpha(self.alpha)
            .update_interval(self.update_interval)
            .tol(self.tol)
            .maxiter(self.maxiter)
            .optimizer(Optimizer::sgd(0.9), self.dec_lr)
            .kmeans_n_init(self.kmeans_n_init)
            .seed(seed);
        c = c.gamma(gamma);
        c
    }
}

#[derive(Args, Debug)]
pub struct DecCommandArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub dec: DecArgs,
    /// A pretrained autoencoder (from `deepclust train-ae --out DIR`); without it one is
    /// trained first with the autoencoder options below.
    #[arg(long, value_name = "DIR")]
    pub ae: Option<PathBuf>,
    #[command(flatten)]
    pub ae_train: AeArgs,
    /// Folder to save the fine-tuned model in (config.json, weights.safetensors, centroids.json, train_log.csv).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write one line per item: id, cluster.
    #[arg(long, value_name = "CSV")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs DEC (gamma None) or IDEC with a progress bar over the gradient steps.
pub fn fine_tune(
    ae: Autoencoder,
    ds: &Dataset,
    config: DecConfig,
    cancel: &AtomicBool,
) -> Result<(DecModel, DecOutcome)> {
    let name = config.method_name();
    let bar = progress_bar(config.maxiter as u64, "steps");
    bar.set_message(name);
    let result = DecModel::fit(
        ae,
        ds.features.view(),
        ds.labels.as_deref(),
        config,
        &mut |r| {
            bar.set_position(r.iter as u64);
            let scores = r.scores.map_or(String::new(), |s| format!(", {s}"));
            let loss = r.loss.map_or(String::new(), |l| format!(", loss {l:.5}"));
            log_line(
                &bar,
                format!(
                    "{name} step {:>6}: changed {:.4}{loss}{scores}",
                    r.iter, r.delta_label
                ),
            );
        },
        cancel,
    )
    .with_context(|| format!("{name} failed"));
    bar.finish_and_clear();
    result
}

pub fn run_dec_command(
    args: &DecCommandArgs,
    gamma: Option<f32>,
    cancel: &AtomicBool,
) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::cli::check_writable(dir)?;
    }
    let ds = args.data.load()?;
    outln!("data: {}", describe(&ds));
    if args.dec.k > ds.len() {
        bail!(
            "--k {} is larger than the number of items ({})",
            args.dec.k,
            ds.len()
        );
    }
    let ae_dir = args.out.as_ref().map(|d| d.join("autoencoder"));
    let ae = load_or_train_ae(
        args.ae.as_deref(),
        &args.ae_train,
        &ds,
        ae_dir.as_deref(),
        cancel,
    )?;
    let config = args
        .dec
        .config(args.ae_train.seed, gamma)
        .augmentation(args.ae_train.augment.augmentation(&ds)?);
    logln!("config: {}", serde_json::to_string(&config)?);
    let (model, outcome) = fine_tune(ae, &ds, config, cancel)?;
    outln!(
        "{}: {} steps ({:?}) in {:.1} s (K-Means init {:.1} s)",
        model.config().method_name(),
        outcome.iterations,
        outcome.stop,
        outcome.seconds,
        outcome.kmeans_seconds
    );
    let init_scores = print_scores(
        "AE + K-Means (the initialisation)",
        ds.labels.as_deref(),
        &outcome.kmeans_labels,
    )?;
    let scores = print_scores(
        model.config().method_name(),
        ds.labels.as_deref(),
        &outcome.labels,
    )?;
    if let Some(dir) = &args.out {
        model
            .save(dir)
            .with_context(|| format!("cannot save the model in {}", dir.display()))?;
        outln!("model saved in {}", dir.display());
    }
    if let Some(path) = &args.output {
        write_labels(path, &ds, &outcome.labels)?;
    }
    write_dec_report(&args.report, &model, &outcome, &ds, &outcome.labels, 0.0)?;
    crate::output::json_result(&serde_json::json!({
        "method": model.config().method_name(),
        "items": ds.len(),
        "config": model.config(),
        "steps": outcome.iterations,
        "stop": format!("{:?}", outcome.stop),
        "seconds": outcome.seconds,
        "kmeans_seconds": outcome.kmeans_seconds,
        "initialisation_scores": init_scores,
        "scores": scores,
        "model_dir": args.out,
        "labels_csv": args.output,
    }));
    Ok(())
}

/// The HTML report of a DEC/IDEC run on `ds` (when `--report` was given): montages ranked
/// by max q, the code mapped by PCA, the autoencoder and DEC curves.
pub fn write_dec_report(
    report: &ReportArgs,
    model: &DecModel,
    outcome: &DecOutcome,
    ds: &Dataset,
    labels: &[usize],
    ae_seconds: f64,
) -> Result<()> {
    if report.report.is_none() {
        return Ok(());
    }
    let q = model.soft_assign(ds.features.view())?;
    let confidence: Vec<f32> = q
        .outer_iter()
        .map(|r| r.iter().copied().fold(0.0, f32::max))
        .collect();
    let codes = model.embed(ds.features.view())?;
    let name = model.config().method_name();
    let dec_curve = model
        .history()
        .iter()
        .map(|r| DecUpdate {
            iteration: r.iter,
            loss: r.loss,
            kl_loss: r.kl_loss,
            reconstruction_loss: r.reconstruction_loss,
            label_change: r.delta_label,
            scores: r.scores,
        })
        .collect();
    report.write_if_requested(&RunRecord {
        confidence: Some((&confidence, "max q")),
        embedding: Some((codes.view(), "code")),
        timings: vec![
            ("autoencoder".into(), ae_seconds),
            (name.into(), outcome.seconds),
        ],
        ae_curve: ae_curve(model.autoencoder()),
        dec_curve,
        notes: vec![format!(
            "{name} stopped after {} steps ({:?})",
            outcome.iterations, outcome.stop
        )],
        ..RunRecord::new(
            format!("{name} on {}", ds.source),
            ds,
            labels,
            serde_json::to_value(model.config())?,
            model.config().seed,
        )
    })?;
    Ok(())
}

/// Loads the autoencoder saved in `dir` (checking it fits the data), or trains a new one
/// with `train_args` (saved into `save_to` when given).
pub fn load_or_train_ae(
    dir: Option<&Path>,
    train_args: &AeArgs,
    ds: &Dataset,
    save_to: Option<&Path>,
    cancel: &AtomicBool,
) -> Result<Autoencoder> {
    let ae = match dir {
        Some(dir) => Autoencoder::load(dir)
            .with_context(|| format!("cannot load the autoencoder in {}", dir.display()))?,
        None => {
            let mut ae =
                Autoencoder::new(train_args.config(ds)?).context("invalid autoencoder settings")?;
            outln!("pretraining: {}", serde_json::to_string(ae.config())?);
            train_ae_with_progress(&mut ae, ds, None, save_to, cancel)?;
            ae
        }
    };
    if ae.config().input_dim() != ds.dim() {
        bail!(
            "the autoencoder{} expects {} features, the data has {}",
            dir.map_or(String::new(), |d| format!(" in {}", d.display())),
            ae.config().input_dim(),
            ds.dim()
        );
    }
    Ok(ae)
}

/// Writes `id,cluster` lines for every item of `ds`.
pub fn write_labels(path: &Path, ds: &Dataset, labels: &[usize]) -> Result<()> {
    let rows: Vec<(&str, usize)> = ds
        .ids
        .iter()
        .map(String::as_str)
        .zip(labels.iter().copied())
        .collect();
    crate::commands::kmeans::write_assignments(path, &rows)?;
    outln!("assignments written to {}", path.display());
    Ok(())
}

/// One row of a results table.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub method: String,
    pub protocol: String,
    pub scores: Option<Scores>,
    pub seconds: f64,
}

/// The autoencoder's loss per epoch, for the report.
pub fn ae_curve(ae: &Autoencoder) -> Vec<AeEpoch> {
    ae.history()
        .iter()
        .map(|e| AeEpoch {
            epoch: e.epoch,
            train_loss: e.train_loss,
            val_loss: e.val_loss,
        })
        .collect()
}
