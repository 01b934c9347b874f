//! `deepclust dec`, `deepclust idec`: DEC / IDEC on any dataset the loaders read, from a
//! saved autoencoder (`--ae`) or one trained first; the model is saved with `--out`.

use crate::cli::{describe, print_scores, DataArgs};
use crate::method_args::{AeArgs, DecArgs};
use crate::progress::MethodBars;
use crate::report::{write_dec_report, ReportArgs};
use anyhow::{Context, Result};
use clap::Args;
use deepclust::control::Control;
use deepclust::method::{AeSource, Dec, Method};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

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

/// Runs DEC (`gamma` None) or IDEC.
pub fn run(args: &DecCommandArgs, gamma: Option<f32>, cancel: &AtomicBool) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::cli::check_writable(dir)?;
    }
    let ds = args.data.load()?;
    outln!("data: {}", describe(&ds));
    let encoder = match &args.ae {
        Some(dir) => AeSource::Load(dir.clone()),
        None => {
            let config = args.ae_train.config(&ds)?;
            outln!("pretraining: {}", serde_json::to_string(&config)?);
            AeSource::Train(config)
        }
    };
    let config = args
        .dec
        .config(args.ae_train.seed, gamma)
        .augmentation(args.ae_train.augment.augmentation(&ds)?);
    logln!("config: {}", serde_json::to_string(&config)?);
    let name = config.method_name();
    let method = Dec {
        config,
        encoder,
        save_encoder_to: args.out.as_ref().map(|d| d.join("autoencoder")),
    };
    let bars = MethodBars::new();
    let progress = |p: &_| bars.update(p);
    let control = Control::new(cancel).with_progress(&progress);
    let fitted = method
        .fit(&ds, &control)
        .with_context(|| format!("{name} failed"))?;
    drop(bars);
    let (model, outcome) = (&fitted.model, &fitted.details.outcome);
    outln!(
        "{name}: {} steps ({:?}) in {:.1} s (K-Means init {:.1} s)",
        outcome.iterations,
        outcome.stop,
        outcome.seconds,
        outcome.kmeans_seconds
    );
    let labels = ds.labels.as_deref();
    let init_scores = print_scores(
        "AE + K-Means (the initialisation)",
        labels,
        &outcome.kmeans_labels,
    )?;
    let scores = print_scores(name, labels, &outcome.labels)?;
    if let Some(dir) = &args.out {
        model
            .save(dir)
            .with_context(|| format!("cannot save the model in {}", dir.display()))?;
        outln!("model saved in {}", dir.display());
    }
    if let Some(path) = &args.output {
        deepclust::run::write_assignments(path, &ds.ids, &outcome.labels)?;
        outln!("assignments written to {}", path.display());
    }
    write_dec_report(&args.report, model, outcome, &ds, &outcome.labels, 0.0)?;
    crate::output::json_result(&serde_json::json!({
        "method": name,
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
