//! `--report DIR`, shared by the clustering subcommands: writes the run's HTML report
//! (`index.html` plus PNG/SVG files, opens from disk, no network) with the library crate
//! `deepclust-report`.
//!
//! A command flattens [`ReportArgs`] into its arguments and, once it has its clusters,
//! fills a [`RunRecord`] and calls [`ReportArgs::write_if_requested`]:
//!
//! ```ignore
//! #[command(flatten)]
//! pub report: ReportArgs,
//! ...
//! let confidence = deepclust::report::confidence::from_centroid_distance(
//!     fit_set.features.view(), model.centroids().view(), model.labels())?;
//! args.report.write_if_requested(&RunRecord {
//!     confidence: Some((&confidence, "closeness to the centre")),
//!     timings: vec![("load".into(), load_s), ("fit".into(), seconds)],
//!     ..RunRecord::new("K-Means", &fit_set, model.labels(), serde_json::to_value(&config)?, args.seed)
//! })?;
//! ```

use anyhow::{Context, Result};
use clap::Args;
use deepclust::data::Dataset;
use deepclust::nn::{Autoencoder, DecModel, DecOutcome};
use deepclust::report::{
    AeEpoch, DecUpdate, ImageShape, ReportBuilder, ReportOptions, ReportSummary,
};
use ndarray::ArrayView2;
use std::path::PathBuf;

#[derive(Args, Debug, Clone, Default)]
pub struct ReportArgs {
    /// Write an HTML report of the run into DIR: cluster montages, confusion table (when
    /// labels are known), training curves, a 2-D map, the configuration. Open
    /// DIR/index.html in a browser; it needs no network.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Points drawn on the report's maps (a random sample of the items).
    #[arg(long, value_name = "N", default_value_t = 5000, requires = "report")]
    pub report_map_points: usize,
    /// Most confident members shown per cluster in the report.
    #[arg(long, value_name = "N", default_value_t = 32, requires = "report")]
    pub report_members: usize,
}

/// What a finished run gives its report. Build with [`RunRecord::new`], then set the
/// optional parts with struct-update syntax.
pub struct RunRecord<'a> {
    /// Page title, e.g. "DEC on MNIST".
    pub title: String,
    /// The clustered items: pictures (when `image_shape` is set), ids, true labels, source.
    pub dataset: &'a Dataset,
    /// Cluster of each row of `dataset`.
    pub labels: &'a [usize],
    /// How typical each item is of its cluster (higher = more), and the name to show:
    /// DEC's `max q`, or `deepclust::report::confidence::from_centroid_distance` for K-Means.
    pub confidence: Option<(&'a [f32], &'a str)>,
    /// An embedding to map (e.g. the autoencoder's code) and its name; without one the
    /// map is the PCA of the features.
    pub embedding: Option<(ArrayView2<'a, f32>, &'a str)>,
    /// A 2-D map computed elsewhere (UMAP) and its method name; wins over `embedding`.
    pub map_2d: Option<(ArrayView2<'a, f32>, &'a str)>,
    /// How rows are pictures when the dataset does not say (RGB folders: `ImageShape::rgb(side, side)`).
    pub image_shape: Option<ImageShape>,
    /// The run's configuration, as saved beside the model.
    pub config: serde_json::Value,
    pub seed: u64,
    /// Named steps and their seconds, in order.
    pub timings: Vec<(String, f64)>,
    /// Autoencoder loss per epoch (from `EpochReport`: epoch, train_loss, val_loss).
    pub ae_curve: Vec<AeEpoch>,
    /// DEC/IDEC updates (from `DecReport`: iter, loss, kl_loss, reconstruction_loss,
    /// delta_label, scores).
    pub dec_curve: Vec<DecUpdate>,
    /// Free-text lines for the overview (e.g. why training stopped).
    pub notes: Vec<String>,
}

impl<'a> RunRecord<'a> {
    pub fn new(
        title: impl Into<String>,
        dataset: &'a Dataset,
        labels: &'a [usize],
        config: serde_json::Value,
        seed: u64,
    ) -> Self {
        RunRecord {
            title: title.into(),
            dataset,
            labels,
            confidence: None,
            embedding: None,
            map_2d: None,
            image_shape: dataset.image_shape.map(|(h, w)| ImageShape::gray(h, w)),
            config,
            seed,
            timings: Vec::new(),
            ae_curve: Vec::new(),
            dec_curve: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl ReportArgs {
    /// The same options with the report folder moved to `DIR/<name>` (for commands that
    /// write one report per stage or protocol).
    pub fn for_subfolder(&self, name: &str) -> ReportArgs {
        ReportArgs {
            report: self.report.as_ref().map(|d| d.join(name)),
            ..self.clone()
        }
    }

    /// Writes the report when `--report DIR` was given and prints where it is; does
    /// nothing otherwise. Problems that did not stop the report (an unreadable picture)
    /// are printed as warnings.
    pub fn write_if_requested(&self, run: &RunRecord) -> Result<Option<ReportSummary>> {
        let Some(dir) = &self.report else {
            return Ok(None);
        };
        let summary = self.write(run, dir)?;
        outln!(
            "report: {} ({} files, {:.1} MB)",
            summary.index.display(),
            summary.files.len(),
            summary.bytes as f64 / 1e6
        );
        for warning in &summary.warnings {
            eprintln!("warning: report: {warning}");
        }
        Ok(Some(summary))
    }

    fn write(&self, run: &RunRecord, dir: &std::path::Path) -> Result<ReportSummary> {
        let ds = run.dataset;
        let options = ReportOptions {
            map_points: self.report_map_points,
            top_members: self.report_members,
            seed: run.seed,
            ..ReportOptions::default()
        };
        let mut builder = ReportBuilder::new(run.title.clone())
            .data_source(ds.source.clone())
            .config(run.config.clone())
            .seed(run.seed)
            .timings(run.timings.iter().cloned())
            .clusters(run.labels)
            .ids(&ds.ids)
            .ae_curve(run.ae_curve.clone())
            .dec_curve(run.dec_curve.clone())
            .options(options);
        for note in &run.notes {
            builder = builder.note(note.clone());
        }
        if let Some((confidence, name)) = run.confidence {
            builder = builder.confidence_named(confidence, name);
        }
        if let Some(truth) = &ds.labels {
            builder = builder.truth(truth);
        }
        if let Some(shape) = run.image_shape {
            builder = builder.images(ds.features.view(), shape);
        }
        builder = match (run.map_2d, run.embedding) {
            (Some((points, method)), _) => builder.embedding_2d(points, method),
            (None, Some((rows, name))) => builder.embedding(rows, name),
            // Pictures are mapped by the PCA of their pixels without being told.
            (None, None) if run.image_shape.is_none() => {
                builder.embedding(ds.features.view(), "features")
            }
            (None, None) => builder,
        };
        builder
            .write(dir)
            .with_context(|| format!("cannot write the report into {}", dir.display()))
    }
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
