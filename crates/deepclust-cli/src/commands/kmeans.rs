//! `deepclust kmeans`: K-Means on raw features.

use crate::cli::{describe, DataArgs};
use crate::print::kmeans::{results, RunConfig};
use crate::progress::MethodBars;
use crate::report::{ReportArgs, RunRecord};
use anyhow::{Context, Result};
use clap::Args;
use deepclust::cluster::KMeans;
use deepclust::control::Control;
use deepclust::experiment::holdout::fit_holdout;
use deepclust::method::{self, MiniBatchKMeans};
use deepclust::run::{RunDir, SaveRun};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct KmeansArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of clusters.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Restarts from different k-means++ seeds; the lowest inertia wins.
    #[arg(long, default_value_t = 10)]
    pub n_init: usize,
    /// Maximum Lloyd iterations per restart.
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// Stop when the squared centre shift falls below TOL x the mean feature variance.
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// Seed of every random choice (same seed, same result).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use mini-batch K-Means (for data too large for full passes).
    #[arg(long)]
    pub minibatch: bool,
    /// Mini-batch size (with --minibatch).
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Fit on the first FRACTION of the rows and score the rest too (the tutorial used 0.7).
    #[arg(long, value_name = "FRACTION")]
    pub split: Option<f64>,
    /// Write one line per item: id (file name or index), cluster.
    #[arg(long, value_name = "CSV")]
    pub output: Option<PathBuf>,
    /// Save the model (config.json, centroids.json, metrics.json) into this folder.
    #[arg(long, value_name = "DIR")]
    pub save_model: Option<PathBuf>,
    /// Also write the run's summary (config, time, inertia, scores) as JSON to this file.
    #[arg(long, value_name = "JSON")]
    pub summary_json: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: &KmeansArgs, cancel: Arc<AtomicBool>) -> Result<()> {
    let load_start = Instant::now();
    let dataset = args.data.load()?;
    outln!(
        "data: {} (loaded in {:.2} s)",
        describe(&dataset),
        load_start.elapsed().as_secs_f64()
    );
    let params = KMeans::params(args.k)
        .n_init(args.n_init)
        .max_iter(args.max_iter)
        .tol(args.tol)
        .seed(args.seed);
    params.validate().context("invalid K-Means parameters")?;
    let bars = MethodBars::new();
    let progress = |p: &_| bars.update(p);
    let control = Control::new(&cancel).with_progress(&progress);
    let run = if args.minibatch {
        let method = MiniBatchKMeans::params(args.k)
            .batch_size(args.batch_size)
            .n_init(args.n_init.clamp(1, 3))
            .seed(args.seed);
        fit_holdout(&method, dataset, args.split, &control)
    } else {
        fit_holdout(
            &method::KMeans::from(params.clone()),
            dataset,
            args.split,
            &control,
        )
    }
    .with_context(|| format!("K-Means with --k {} on {} failed", args.k, args.data.data))?;
    drop(bars);
    let (fit_set, model) = (&run.fit_set, &run.fitted.model);
    if let Some((rest, _)) = &run.held_out {
        outln!(
            "split: fit on the first {} rows, validate on the last {}",
            fit_set.len(),
            rest.len()
        );
    }
    let config = RunConfig {
        format_version: 1,
        command: "kmeans",
        data: &args.data.data,
        data_description: describe(fit_set),
        algorithm: if args.minibatch {
            "minibatch-kmeans"
        } else {
            "kmeans"
        },
        params: &params,
        batch_size: args.minibatch.then_some(args.batch_size),
        split: args.split,
    };
    logln!("config: {}", serde_json::to_string(&config)?);
    let summary = results(&run, &config)?;
    let seconds = summary.fit_seconds;
    if let Some(path) = &args.output {
        let (ids, labels) = run.assignments();
        deepclust::run::write_assignments(path, &ids, &labels)?;
        outln!("assignments written to {}", path.display());
    }
    if let Some(dir) = &args.save_model {
        model.save_run(dir, summary.config)?;
        RunDir::new(dir).write_metrics(&summary)?;
        outln!("model saved in {}", dir.display());
    }
    if args.report.report.is_some() {
        let confidence = deepclust::report::confidence::from_centroid_distance(
            fit_set.features.view(),
            model.centroids().view(),
            model.labels(),
        )?;
        args.report.write_if_requested(&RunRecord {
            confidence: Some((&confidence, "closeness to the centre")),
            timings: vec![("fit".into(), seconds)],
            ..RunRecord::new(
                "K-Means",
                fit_set,
                model.labels(),
                serde_json::to_value(&config)?,
                args.seed,
            )
        })?;
    }
    if let Some(path) = &args.summary_json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    crate::output::json_result(&serde_json::to_value(&summary)?);
    Ok(())
}
