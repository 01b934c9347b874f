//! How `deepclust kmeans` reports its run: the configuration it prints and saves, the fit,
//! its warnings and scores, and the summary written beside the model.

use crate::cli::print_scores;
use anyhow::Result;
use deepclust::cluster::{KMeansModel, KMeansParams};
use deepclust::experiment::holdout::HoldoutFit;
use deepclust::metrics::Scores;
use serde::Serialize;

/// Everything a run did, printed at the start and saved beside the model.
#[derive(Serialize)]
pub struct RunConfig<'a> {
    pub format_version: u32,
    pub command: &'static str,
    pub data: &'a str,
    pub data_description: String,
    pub algorithm: &'static str,
    pub params: &'a KMeansParams,
    pub batch_size: Option<usize>,
    pub split: Option<f64>,
}

/// The run's results: `--summary-json`, `metrics.json` beside the model and `--json`.
#[derive(Serialize)]
pub struct RunSummary<'a> {
    pub config: &'a RunConfig<'a>,
    pub fit_seconds: f64,
    pub inertia: f64,
    pub n_iter: usize,
    pub warnings: Vec<String>,
    pub fit_scores: Option<Scores>,
    pub validation_scores: Option<Scores>,
}

/// Prints the fit, its warnings and the scores of the fitted and held-out rows (where they
/// have labels); returns the summary.
pub fn results<'a, D>(
    run: &HoldoutFit<KMeansModel, D>,
    config: &'a RunConfig<'a>,
) -> Result<RunSummary<'a>> {
    let (fit_set, model) = (&run.fit_set, &run.fitted.model);
    let seconds = run.fitted.clustering.seconds();
    outln!(
        "fit: {:.3} s, inertia {:.4}, {} iterations in the kept run",
        seconds,
        model.inertia(),
        model.n_iter()
    );
    let warnings = model.warnings();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let fit_scores = print_scores(
        "scores (fitted rows)",
        fit_set.labels.as_deref(),
        model.labels(),
    )?;
    let validation_scores = match &run.held_out {
        Some((rest, placed)) => {
            print_scores("scores (validation rows)", rest.labels.as_deref(), placed)?
        }
        None => None,
    };
    Ok(RunSummary {
        config,
        fit_seconds: seconds,
        inertia: model.inertia(),
        n_iter: model.n_iter(),
        warnings,
        fit_scores,
        validation_scores,
    })
}
