//! `deepclust n2d`: autoencoder code -> UMAP -> Gaussian mixture (N2D), with `--k auto`.

use crate::cli::{describe, print_n2d_details, print_scores, DataArgs};
use crate::exit::UsageError;
use crate::method_args::AeArgs;
use crate::progress::MethodBars;
use anyhow::{Context, Result};
use clap::Args;
use deepclust::control::Control;
use deepclust::method::{AeSource, Method, N2d};
use deepclust::pipeline::{KSelect, N2dParams};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Args, Debug)]
pub struct N2dArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of clusters, or `auto` (highest silhouette of the mixture's labels on the UMAP
    /// embedding, k in 2..=--k-max; no labels used).
    #[arg(long, default_value = "10", value_name = "N|auto")]
    pub k: String,
    /// Largest k tried by `--k auto`.
    #[arg(long, default_value_t = 15)]
    pub k_max: usize,
    /// UMAP neighbourhood size (N2D used 20 on MNIST).
    #[arg(long, default_value_t = 20)]
    pub n_neighbors: usize,
    /// Mixture restarts (the highest likelihood is kept; labels are never used).
    #[arg(long, default_value_t = 1)]
    pub gmm_n_init: usize,
    /// Whole UMAP + mixture runs (seeds --seed, --seed + 1, ...); the one whose labels agree
    /// best with the others' (mean adjusted Rand index) is kept. No labels used.
    #[arg(long, default_value_t = 1)]
    pub restarts: usize,
    /// A pretrained autoencoder (from `deepclust train-ae --out DIR`); without it one is
    /// trained first with the autoencoder options.
    #[arg(long, value_name = "DIR")]
    pub ae: Option<PathBuf>,
    #[command(flatten)]
    pub ae_train: AeArgs,
    /// Write one line per item: id, cluster.
    #[arg(long, value_name = "CSV")]
    pub output: Option<PathBuf>,
    /// Save the fitted N2D (autoencoder, code, layout, mixture) into DIR; it places and
    /// labels new images (`deepclust::run::SavedModel::load`).
    #[arg(long, value_name = "DIR")]
    pub save_model: Option<PathBuf>,
}

pub fn run(args: &N2dArgs, cancel: &AtomicBool) -> Result<()> {
    let clusters = KSelect::parse(
        &args.k,
        KSelect::Auto {
            min: 2,
            max: args.k_max,
        },
    )
    .map_err(UsageError)?;
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
    let method = N2d {
        params: N2dParams {
            clusters,
            n_neighbors: args.n_neighbors,
            umap_dims: None,
            gmm_n_init: args.gmm_n_init,
            restarts: args.restarts,
            seed: args.ae_train.seed,
        },
        encoder: Some(encoder),
        save_encoder_to: None,
    };
    method.validate().context("--k / --k-max / --restarts")?;
    logln!("config: {}", serde_json::to_string(&method.params)?);
    if let Some(dir) = &args.save_model {
        crate::cli::check_writable(dir)?;
    }
    let bars = MethodBars::new();
    let progress = |p: &_| bars.update(p);
    let control = Control::new(cancel).with_progress(&progress);
    let fitted = method.fit(&ds, &control).context("N2D failed")?;
    drop(bars);
    let details = &fitted.details;
    print_n2d_details(details, fitted.clustering.n_clusters);
    let total_seconds = details.umap_seconds + details.gmm_seconds;
    outln!("total {total_seconds:.1} s");
    let labels = &fitted.clustering.labels;
    let scores = print_scores("N2D", ds.labels.as_deref(), labels)?;
    if let Some(path) = &args.output {
        deepclust::run::write_assignments(path, &ds.ids, labels)?;
        outln!("assignments written to {}", path.display());
    }
    if let Some(dir) = &args.save_model {
        use deepclust::run::SaveRun;
        fitted.model.save_run(dir, &method.params)?;
        outln!("model saved in {}", dir.display());
    }
    crate::output::json_result(&serde_json::json!({
        "method": "N2D",
        "items": ds.len(),
        "config": method.params,
        "n_clusters": fitted.clustering.n_clusters,
        "scores": scores,
        "bic_per_k": details.bic,
        "silhouette_per_k": details.silhouette,
        "restart_agreement": details.restart_agreement,
        "chosen_restart": details.chosen_restart,
        "umap_seconds": details.umap_seconds,
        "gmm_seconds": details.gmm_seconds,
        "total_seconds": total_seconds,
        "labels_csv": args.output,
        "model_dir": args.save_model,
    }));
    Ok(())
}
