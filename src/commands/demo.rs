//! `deepclust demo`: the whole K-Means path on generated digits, no data or network needed.

use crate::cli::{describe, print_scores, progress_bar};
use anyhow::{Context, Result};
use clap::Args;
use deepclust::cluster::KMeans;
use deepclust::data::synthetic;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Number of generated 28x28 digits.
    #[arg(long, default_value_t = 5000)]
    pub n: usize,
    /// Seed of the generator and of K-Means.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// K-Means restarts.
    #[arg(long, default_value_t = 10)]
    pub n_init: usize,
}

pub fn run(args: &DemoArgs, cancel: Arc<AtomicBool>) -> Result<()> {
    anyhow::ensure!(
        args.n >= 10,
        "--n must be at least 10 (one per digit class)"
    );
    let start = Instant::now();
    let ds = synthetic::digits(args.n, args.seed);
    outln!(
        "data: {} (generated in {:.2} s)",
        describe(&ds),
        start.elapsed().as_secs_f64()
    );
    let params = KMeans::params(10).n_init(args.n_init).seed(args.seed);
    logln!("config: {}", serde_json::to_string(&params)?);
    let bar = progress_bar(params.n_init as u64, "restarts");
    let start = Instant::now();
    let model = params
        .fit_with(
            ds.features.view(),
            &mut |p| {
                bar.set_position(p.run as u64);
                bar.set_message(format!("iteration {:>3}", p.iteration));
            },
            &cancel,
        )
        .context("K-Means failed")?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    outln!(
        "K-Means on raw pixels: {seconds:.2} s, inertia {:.2}",
        model.inertia()
    );
    let scores = print_scores("K-Means (raw pixels)", ds.labels.as_deref(), model.labels())?;
    outln!("\n| method | NMI | ACC | ARI | time (s) |\n|---|---|---|---|---|");
    if let Some(s) = scores {
        outln!(
            "| K-Means, raw pixels | {:.4} | {:.4} | {:.4} | {seconds:.2} |",
            s.nmi,
            s.acc,
            s.ari
        );
    }
    Ok(())
}
