//! `deepclust n2d`: autoencoder code -> UMAP -> Gaussian mixture (N2D), with `--k auto`.

use crate::cli::{describe, print_scores, progress_bar, DataArgs};
use crate::commands::deep::{load_or_train_ae, write_labels, AeArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::manifold::UmapProgress;
use deepclust::pipeline::{n2d, KSelect, N2dParams, N2dResult};
use indicatif::ProgressBar;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

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
}

pub fn parse_k(k: &str, k_max: usize) -> Result<KSelect> {
    if k.eq_ignore_ascii_case("auto") {
        if k_max < 2 {
            bail!("--k-max must be at least 2 for --k auto");
        }
        return Ok(KSelect::Auto { min: 2, max: k_max });
    }
    let k: usize = k
        .parse()
        .with_context(|| format!("--k {k}: expected a number or `auto`"))?;
    if k == 0 {
        bail!("--k must be at least 1");
    }
    Ok(KSelect::Fixed(k))
}

/// Runs N2D on `codes` with a progress bar over UMAP's stages.
pub fn n2d_with_progress(
    codes: ndarray::ArrayView2<'_, f32>,
    params: &N2dParams,
    cancel: &AtomicBool,
) -> Result<N2dResult> {
    let bar: ProgressBar = progress_bar(1, "steps");
    let result = n2d(
        codes,
        params,
        &mut |p: UmapProgress| {
            bar.set_length(p.total as u64);
            bar.set_position(p.step as u64);
            bar.set_message(format!("UMAP {:?}", p.stage));
        },
        cancel,
    );
    bar.finish_and_clear();
    let result = result.context("N2D failed")?;
    if result.bic.len() > 1 {
        let list: Vec<String> = result
            .bic
            .iter()
            .map(|(k, b)| format!("k={k}: {b:.0}"))
            .collect();
        outln!(
            "BIC per k (reported, not used to choose): {}",
            list.join(", ")
        );
        let list: Vec<String> = result
            .silhouette
            .iter()
            .map(|(k, s)| format!("k={k}: {s:.4}"))
            .collect();
        outln!("silhouette per k (highest chosen): {}", list.join(", "));
    }
    if result.restart_agreement.len() > 1 {
        let list: Vec<String> = result
            .restart_agreement
            .iter()
            .enumerate()
            .map(|(i, a)| format!("seed +{i}: {a:.4}"))
            .collect();
        outln!(
            "restarts, mean agreement (ARI) with the others: {}; kept seed +{}",
            list.join(", "),
            result.chosen_restart
        );
    }
    outln!(
        "N2D: {} clusters; UMAP {:.1} s, mixture {:.1} s",
        result.n_clusters,
        result.umap_seconds,
        result.gmm_seconds
    );
    Ok(result)
}

pub fn run(args: &N2dArgs, cancel: &AtomicBool) -> Result<()> {
    let ds = args.data.load()?;
    outln!("data: {}", describe(&ds));
    let clusters = parse_k(&args.k, args.k_max)?;
    let ae = load_or_train_ae(args.ae.as_deref(), &args.ae_train, &ds, None, cancel)?;
    let params = N2dParams {
        clusters,
        n_neighbors: args.n_neighbors,
        umap_dims: None,
        gmm_n_init: args.gmm_n_init,
        restarts: args.restarts,
        seed: args.ae_train.seed,
    };
    logln!("config: {}", serde_json::to_string(&params)?);
    let start = Instant::now();
    let codes = ae.encode(ds.features.view())?;
    let result = n2d_with_progress(codes.view(), &params, cancel)?;
    let total_seconds = start.elapsed().as_secs_f64();
    outln!("total {total_seconds:.1} s");
    let scores = print_scores("N2D", ds.labels.as_deref(), &result.labels)?;
    if let Some(path) = &args.output {
        write_labels(path, &ds, &result.labels)?;
    }
    crate::output::json_result(&serde_json::json!({
        "method": "N2D",
        "items": ds.len(),
        "config": params,
        "n_clusters": result.n_clusters,
        "scores": scores,
        "bic_per_k": result.bic,
        "silhouette_per_k": result.silhouette,
        "restart_agreement": result.restart_agreement,
        "chosen_restart": result.chosen_restart,
        "umap_seconds": result.umap_seconds,
        "gmm_seconds": result.gmm_seconds,
        "total_seconds": total_seconds,
        "labels_csv": args.output,
    }));
    Ok(())
}
