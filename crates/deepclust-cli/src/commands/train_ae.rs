//! `deepclust train-ae`: train (or continue) an autoencoder and save it for dec/idec/n2d.

use crate::cli::{describe, DataArgs};
use crate::method_args::AeArgs;
use crate::progress::MethodBars;
use anyhow::{Context, Result};
use clap::Args;
use deepclust::control::Control;
use deepclust::data::Dataset;
use deepclust::method::{AeSource, ResumeEpochs};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

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

fn split_validation(ds: Dataset, fraction: Option<f64>) -> Result<(Dataset, Option<Dataset>)> {
    Ok(match fraction {
        Some(f) => {
            let (a, b) = deepclust::data::split_fraction(&ds, 1.0 - f).context("--val-fraction")?;
            (a, Some(b))
        }
        None => (ds, None),
    })
}

pub fn run(args: &TrainAeArgs, cancel: &AtomicBool) -> Result<()> {
    let ds = args.data.load()?;
    outln!("data: {}", describe(&ds));
    let (train, val) = split_validation(ds, args.val_fraction)?;
    let source = if args.resume {
        AeSource::Resume {
            dir: args.out.clone(),
            epochs: ResumeEpochs::More(args.ae.epochs),
        }
    } else {
        let config = args.ae.config(&train)?;
        logln!("config: {}", serde_json::to_string(&config)?);
        AeSource::Train(config)
    };
    crate::cli::check_writable(&args.out)?;
    let bars = MethodBars::new();
    let progress = |p: &_| bars.update(p);
    let control = Control::new(cancel).with_progress(&progress);
    let pretrained = source
        .obtain(&train, val.as_ref(), Some(&args.out), &control)
        .with_context(|| match args.resume {
            true => format!("cannot resume the autoencoder in {}", args.out.display()),
            false => "autoencoder training failed (pass --resume to continue a saved one)".into(),
        })?;
    let model = &pretrained.autoencoder;
    if let Some(before) = pretrained.epochs_before {
        outln!("resumed from {} after {before} epochs", args.out.display());
    }
    outln!(
        "autoencoder saved in {} ({} epochs in total)",
        args.out.display(),
        model.epochs_done()
    );
    outln!("trained in {:.1} s", pretrained.seconds);
    crate::output::json_result(&serde_json::json!({
        "method": "autoencoder",
        "items": train.len(),
        "validation_items": val.as_ref().map(|v| v.len()),
        "config": model.config(),
        "epochs_done": model.epochs_done(),
        "seconds": pretrained.seconds,
        "model_dir": args.out,
    }));
    Ok(())
}
