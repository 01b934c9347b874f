//! `deepclust export`: an organized folder's catalogue out to Parquet (photo ids, paths,
//! times, places, signals, embeddings) for Spark and other engines.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The organized folder (the --out of `deepclust organize`, holding catalog.sqlite).
    #[arg(value_name = "ORGANIZED_DIR")]
    pub organized: PathBuf,
    /// Write DIR/photos.parquet: one row per photo with its clustered embedding
    /// (array<float>) and signals.
    #[arg(long, value_name = "DIR")]
    pub parquet: PathBuf,
}

pub fn run(args: &ExportArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let summary = deepclust::export::export_parquet(&args.organized, &args.parquet)
        .with_context(|| format!("exporting the catalogue of {}", args.organized.display()))?;
    outln!(
        "exported {} photos to {} ({:.1} MB) in {:.1} s",
        summary.rows,
        summary.file.display(),
        summary.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for (embedder, n) in &summary.embedders {
        outln!("  embedding {embedder}: {n} photos");
    }
    Ok(())
}
