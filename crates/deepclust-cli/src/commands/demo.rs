//! `deepclust demo`: the product in a minute, offline. Generates a phone-style library
//! (scenes, documents, screenshots, cards, whiteboards, two damaged files; EXIF dates and GPS
//! over three trips and home), organizes it by date, event, place and content, prints what it
//! found, then shows deep clustering beating K-Means on generated digits.

use crate::cli::StageBars;
use crate::progress::MethodBars;
use anyhow::{Context, Result};
use clap::Args;
use deepclust::control::Control;
use deepclust::experiment::demo::{self, LibrarySummary};
use deepclust::gallery::organize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the generated library (DIR/photos) and the organized tree (DIR/organized) go.
    /// Re-running with the same folder reuses both (incremental).
    #[arg(long, value_name = "DIR", default_value = "deepclust-demo")]
    pub out: PathBuf,
    /// Number of generated photos (eight kinds in equal shares), plus two damaged files.
    #[arg(long, default_value_t = 320)]
    pub n: usize,
    /// Number of generated 28x28 digits for the deep-clustering table (0 skips it).
    #[arg(long, default_value_t = 3000)]
    pub digits: usize,
    /// Seed of the generators and of every method.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder with the content models (see `deepclust models`); without them, the organizer
    /// says so and uses its model-free embedding.
    #[arg(long = "models", value_name = "DIR")]
    pub model_dirs: Vec<PathBuf>,
}

pub fn run(args: &DemoArgs, cancel: &AtomicBool) -> Result<()> {
    let started = Instant::now();
    let sample = demo::sample_library(&args.out, args.n, args.seed)?;
    let (n_photos, n_damaged) = (sample.library.photos.len(), sample.library.damaged.len());
    match sample.written_in {
        Some(s) => outln!("sample library: {n_photos} photos + {n_damaged} damaged files written to {} in {s:.1} s", sample.photos.display()),
        None => outln!("sample library: {n_photos} photos + {n_damaged} damaged files in {} (from an earlier demo)", sample.photos.display()),
    }
    let params = demo::organize_params(&args.out, &sample.photos, args.model_dirs.clone());
    params.validate().context("cannot organize")?;
    outln!(
        "organizing {} -> {} by date, event, place and content (the defaults of `deepclust organize`)",
        sample.photos.display(),
        params.output.display()
    );
    let (bars, start) = (StageBars::default(), Instant::now());
    let result = organize(&params, &|p| bars.update(p), cancel);
    bars.finish();
    let report = result.with_context(|| format!("organizing {}", sample.photos.display()))?;
    for note in &report.notes {
        outln!("note: {note}");
    }
    outln!(
        "organized in {:.1} s: {} photos ({} from the cache of an earlier run), {} skipped",
        start.elapsed().as_secs_f64(),
        report.photos.len(),
        report.from_cache,
        report.skipped.len()
    );
    crate::print::demo::summary(&report, &LibrarySummary::new(&report, &sample.library));
    if args.digits > 0 {
        outln!(
            "\ndeep clustering on {} generated 28x28 digits (10 classes; labels only to score):",
            args.digits
        );
        let ae_dir = args
            .out
            .join(format!("digits-{}-seed-{}", args.digits, args.seed));
        let bars = MethodBars::bars_only();
        let progress = |p: &_| bars.update(p);
        let control = Control::new(cancel).with_progress(&progress);
        let table = demo::digits_table(
            args.digits,
            args.seed,
            &ae_dir.join("autoencoder"),
            &control,
        )?;
        drop(bars);
        crate::print::demo::digits_table(&table, &ae_dir);
    }
    outln!(
        "\ndemo finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(index) = &report.index_html {
        outln!("open {}", index.display());
    }
    Ok(())
}
