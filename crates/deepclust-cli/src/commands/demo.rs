//! `deepclust demo`: the product in a minute, offline. Generates a phone-style library
//! (scenes, documents, screenshots, cards, whiteboards, two damaged files; EXIF dates and GPS
//! over three trips and home), organizes it by date, event, place and content, prints what it
//! found, then shows deep clustering beating K-Means on generated digits.

use crate::cli::{progress_bar, StageBars};
use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::cluster::KMeans;
use deepclust::data::synthetic;
use deepclust::gallery::sample_library::{write_sample_library, SampleLibrary, DESCRIPTION_FILE};
use deepclust::gallery::{organize, GroupKind, OrganizeParams, OrganizeReport};
use deepclust::metrics::Scores;
use deepclust::nn::{Autoencoder, AutoencoderConfig, Optimizer};
use deepclust::pipeline::{n2d, N2dParams};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    let (library, photos) = sample_library(args)?;
    let report = organize_library(args, &photos, cancel)?;
    print_summary(&report, &library);
    if args.digits > 0 {
        outln!();
        let ae_dir = args
            .out
            .join(format!("digits-{}-seed-{}", args.digits, args.seed))
            .join("autoencoder");
        digits_table(args.digits, args.seed, &ae_dir, cancel)?;
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

/// The generated library in DIR/photos: reused when an earlier demo wrote it with the same
/// size and seed, generated when absent, refused otherwise.
fn sample_library(args: &DemoArgs) -> Result<(SampleLibrary, PathBuf)> {
    let photos = args.out.join("photos");
    let description = args.out.join(DESCRIPTION_FILE);
    if description.exists() {
        let text = std::fs::read_to_string(&description)
            .with_context(|| format!("cannot read {}", description.display()))?;
        let library: SampleLibrary = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a sample library description",
                description.display()
            )
        })?;
        if library.n != args.n || library.seed != args.seed {
            bail!(
                "{} holds a demo library of {} photos with seed {}; use another --out for --n {} --seed {}",
                args.out.display(),
                library.n,
                library.seed,
                args.n,
                args.seed
            );
        }
        outln!(
            "sample library: {} photos + {} damaged files in {} (from an earlier demo)",
            library.photos.len(),
            library.damaged.len(),
            photos.display()
        );
        return Ok((library, photos));
    }
    if photos.exists() {
        bail!(
            "{} exists but was not written by the demo ({} is missing): choose another --out",
            photos.display(),
            description.display()
        );
    }
    let start = Instant::now();
    let library = write_sample_library(&photos, args.n, args.seed)
        .with_context(|| format!("cannot write the sample library into {}", photos.display()))?;
    // The description (and the kinds, for scoring only) live beside the library, not in it.
    let json = serde_json::to_string_pretty(&library)?;
    std::fs::write(&description, json)
        .with_context(|| format!("cannot write {}", description.display()))?;
    outln!(
        "sample library: {} photos + {} damaged files written to {} in {:.1} s",
        library.photos.len(),
        library.damaged.len(),
        photos.display(),
        start.elapsed().as_secs_f64()
    );
    Ok((library, photos))
}

fn organize_library(args: &DemoArgs, photos: &Path, cancel: &AtomicBool) -> Result<OrganizeReport> {
    let out = args.out.join("organized");
    let params = OrganizeParams::new(photos, &out)
        .by(vec![
            GroupKind::Date,
            GroupKind::Event,
            GroupKind::Place,
            GroupKind::Content,
        ])
        .model_dirs(args.model_dirs.clone());
    params.validate().context("cannot organize")?;
    outln!(
        "organizing {} -> {} by date, event, place and content (the defaults of `deepclust organize`)",
        photos.display(),
        out.display()
    );
    let bars = StageBars::default();
    let start = Instant::now();
    let result = organize(&params, &|p| bars.update(p), cancel);
    bars.finish();
    let report = result.with_context(|| format!("organizing {}", photos.display()))?;
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
    Ok(report)
}

/// Albums with their names and sizes (and what the generator drew in each, for scoring only),
/// events, places, skipped files.
fn print_summary(report: &OrganizeReport, library: &SampleLibrary) {
    let kind_of: BTreeMap<&str, &str> = library
        .photos
        .iter()
        .map(|p| (p.rel_path.as_str(), p.kind.name()))
        .collect();
    let mut groups: BTreeMap<GroupKind, BTreeMap<&str, usize>> = BTreeMap::new();
    for assignments in &report.assignments {
        for a in assignments {
            *groups
                .entry(a.kind)
                .or_default()
                .entry(&a.group)
                .or_default() += 1;
        }
    }
    if let Some(content) = &report.content {
        outln!(
            "\nalbums (by-content/, {} from {}):",
            content.clusters.len(),
            content.embedder
        );
        for (c, cluster) in content.clusters.iter().enumerate() {
            let mut drawn: BTreeMap<&str, usize> = BTreeMap::new();
            for (photo, &label) in report.photos.iter().zip(&content.labels) {
                if label == c {
                    *drawn
                        .entry(kind_of.get(photo.rel_path.as_str()).copied().unwrap_or("?"))
                        .or_default() += 1;
                }
            }
            let mut drawn: Vec<(&str, usize)> = drawn.into_iter().collect();
            drawn.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let drawn: Vec<String> = drawn.iter().map(|(k, n)| format!("{n} {k}")).collect();
            outln!(
                "  {:<40} {:>4} photos   (generator drew: {})",
                cluster.folder,
                cluster.size,
                drawn.join(", ")
            );
        }
        let truth: Vec<usize> = report
            .photos
            .iter()
            .map(|p| {
                library
                    .photos
                    .iter()
                    .position(|s| s.rel_path == p.rel_path)
                    .map_or(usize::MAX, |i| library.photos[i].kind as usize)
            })
            .collect();
        if let Ok(nmi) = deepclust::metrics::nmi(&truth, &content.labels) {
            outln!("  albums vs the eight kinds drawn: NMI {nmi:.3} (the kinds are used only to score)");
        }
    }
    for (kind, title, limit) in [
        (GroupKind::Event, "events (by-event/)", 12),
        (GroupKind::Place, "places (by-place/)", 12),
        (GroupKind::Date, "days (by-date/)", 0),
    ] {
        let Some(list) = groups.get(&kind) else {
            continue;
        };
        outln!("\n{title}: {}", list.len());
        for (name, count) in list.iter().take(limit) {
            outln!("  {name:<48} {count:>4} photos");
        }
        if list.len() > limit && limit > 0 {
            outln!("  ... and {} more", list.len() - limit);
        }
    }
    outln!(
        "\nskipped (reported, never touched): {}",
        report.skipped.len()
    );
    for s in &report.skipped {
        outln!(
            "  {}: {}",
            deepclust::gallery::relpath::display(&s.rel_path),
            s.reason
        );
    }
}

/// Raw K-Means vs autoencoder + K-Means vs N2D on generated digits (labels only to score).
/// The autoencoder is saved in `ae_dir` and reused by a re-run with the same digits and seed.
fn digits_table(n: usize, seed: u64, ae_dir: &Path, cancel: &AtomicBool) -> Result<()> {
    let ds = synthetic::digits(n, seed);
    outln!("deep clustering on {n} generated 28x28 digits (10 classes; labels only to score):");
    let truth = ds.labels.clone().unwrap_or_default();
    let score =
        |pred: &[usize]| -> Result<Scores> { Ok(deepclust::metrics::scores(&truth, pred)?) };
    let mut rows: Vec<(&str, Scores, f64)> = Vec::new();

    let start = Instant::now();
    let kmeans = KMeans::params(10).n_init(10).seed(seed).fit_with(
        ds.features.view(),
        &mut |_| {},
        cancel,
    )?;
    rows.push((
        "K-Means on raw pixels",
        score(kmeans.labels())?,
        start.elapsed().as_secs_f64(),
    ));

    let start = Instant::now();
    let config = AutoencoderConfig::default()
        .dims(vec![ds.dim(), 500, 500, 2000, 10])
        .epochs(DIGITS_AE_EPOCHS)
        .batch_size(DIGITS_AE_BATCH)
        .optimizer(Optimizer::adam(), 1e-3)
        .seed(seed);
    let saved = ae_dir
        .join("config.json")
        .exists()
        .then(|| Autoencoder::load(ae_dir).ok())
        .flatten()
        .filter(|ae| ae.epochs_done() == DIGITS_AE_EPOCHS && ae.config().dims == config.dims);
    let (ae, trained) = match saved {
        Some(ae) => (ae, false),
        None => {
            let mut ae = Autoencoder::new(config)?;
            let bar = progress_bar(DIGITS_AE_EPOCHS as u64, "epochs");
            bar.set_message("autoencoder 784-500-500-2000-10");
            let outcome = ae.train(ds.features.view(), None, &mut |_| bar.inc(1), cancel);
            bar.finish_and_clear();
            if outcome?.cancelled {
                bail!("interrupted");
            }
            ae.save(ae_dir)
                .with_context(|| format!("cannot save the autoencoder in {}", ae_dir.display()))?;
            (ae, true)
        }
    };
    let codes = ae.encode(ds.features.view())?;
    let ae_seconds = start.elapsed().as_secs_f64();
    let code_kmeans = KMeans::params(10).n_init(20).seed(seed).fit(codes.view())?;
    rows.push((
        "autoencoder + K-Means",
        score(code_kmeans.labels())?,
        start.elapsed().as_secs_f64(),
    ));

    let start = Instant::now();
    let params = N2dParams {
        seed,
        ..N2dParams::default()
    };
    let result = n2d(codes.view(), &params, &mut |_| {}, cancel)?;
    rows.push((
        "N2D (autoencoder + UMAP + mixture)",
        score(&result.labels)?,
        ae_seconds + start.elapsed().as_secs_f64(),
    ));

    if !trained {
        outln!(
            "(the autoencoder of an earlier demo, {}: its training time is not counted)",
            ae_dir.display()
        );
    }
    outln!("| method | NMI | ACC | ARI | seconds |\n|---|---|---|---|---|");
    for (name, s, seconds) in &rows {
        outln!(
            "| {name} | {:.3} | {:.3} | {:.3} | {seconds:.1} |",
            s.nmi,
            s.acc,
            s.ari
        );
    }
    Ok(())
}

/// Autoencoder schedule of the digits table (measured: see docs/BENCHMARKS.md).
const DIGITS_AE_EPOCHS: usize = 30;
const DIGITS_AE_BATCH: usize = 128;
