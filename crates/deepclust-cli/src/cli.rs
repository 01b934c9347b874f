//! Helpers shared by the subcommands: data arguments, progress bars, result printing.

use crate::choice::one_of;
use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::data::{self, Dataset, Format, IdxSubset, LoadOptions};
use deepclust::metrics::{Contingency, Scores};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Sets a flag on the first Ctrl-C so long work stops cleanly (saving what it can); a
/// second Ctrl-C ends the process at once.
pub fn install_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping after the current step (Ctrl-C again to quit now)");
    });
    if let Err(err) = installed {
        eprintln!("warning: cannot catch Ctrl-C ({err}); interrupting will not save progress");
    }
    flag
}

/// Where the data comes from; shared by every subcommand that clusters.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The dataset: an MNIST-style IDX folder or file, a `train.csv` (with its PNG folder),
    /// a folder of images, the 8x8 digits CSV, or `synthetic[:N]` for N generated digits.
    #[arg(long, value_name = "PATH")]
    pub data: String,
    /// Force the format instead of detecting it from the content.
    #[arg(long, value_parser = one_of(Format::CHOICES))]
    pub format: Option<Format>,
    /// Which part of an IDX folder to use.
    #[arg(long, value_parser = one_of(IdxSubset::CHOICES), default_value = "all")]
    pub subset: IdxSubset,
    /// Folder of the PNGs named in a CSV (default: Images/train next to the CSV).
    #[arg(long, value_name = "DIR")]
    pub images_dir: Option<PathBuf>,
    /// Images of a folder are resized to SIDE x SIDE.
    #[arg(long, default_value_t = 28, value_name = "SIDE")]
    pub side: usize,
    /// Keep the three colour channels of folder images (default: grayscale).
    #[arg(long)]
    pub rgb: bool,
    /// Skip unreadable images of a folder (listed at the end) instead of stopping.
    #[arg(long)]
    pub lenient: bool,
    /// Folder images are labelled by their sub-folder (for scoring only).
    #[arg(long)]
    pub labels_from_subfolders: bool,
}

impl DataArgs {
    pub fn load(&self) -> Result<Dataset> {
        if let Some(rest) = self.data.strip_prefix("synthetic") {
            let n = match rest.strip_prefix(':') {
                Some(n) => n.parse().with_context(|| {
                    format!("`{}`: expected synthetic:N with N a number", self.data)
                })?,
                None if rest.is_empty() => 5000,
                None => bail!("`{}`: expected synthetic or synthetic:N", self.data),
            };
            if n == 0 {
                bail!(
                    "`{}`: the number of generated digits must be at least 1",
                    self.data
                );
            }
            return Ok(data::synthetic::digits(n, 0));
        }
        let path = Path::new(&self.data);
        let opts = LoadOptions::default()
            .image_side(self.side)
            .grayscale(!self.rgb)
            .idx_subset(self.subset)
            .lenient(self.lenient)
            .labels_from_subfolders(self.labels_from_subfolders);
        let opts = match &self.images_dir {
            Some(dir) => opts.images_dir(dir),
            None => opts,
        };
        let loaded =
            data::load_with_report(path, self.format, &opts).context("cannot load the dataset")?;
        for skipped in &loaded.skipped {
            logln!("skipped {}: {}", skipped.path.display(), skipped.reason);
        }
        Ok(loaded.dataset)
    }
}

/// Creates `dir` when needed and proves a file can be written in it, so that a read-only or
/// full output fails before hours of training, not after.
pub fn check_writable(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let probe = dir.join(format!(".deepclust-write-check-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"ok"));
    let _ = std::fs::remove_file(&probe);
    written.with_context(|| format!("cannot write into the output folder {}", dir.display()))
}

/// A bar for `total` steps that shows rate and ETA; hidden when stderr is not a terminal.
pub fn progress_bar(total: u64, unit: &str) -> ProgressBar {
    if crate::output::mode().quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = format!(
        "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{elapsed}} elapsed, ETA {{eta}})"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Prints a log line above the bar, or plainly when the bar is hidden (output redirected to
/// a file: indicatif drops `println` on hidden bars, and logs must not lose lines).
pub fn log_line(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        outln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

pub fn describe(ds: &Dataset) -> String {
    let classes = ds.num_classes().map_or("no labels".to_string(), |c| {
        format!("{c} classes (labels used for scoring only)")
    });
    let shape = ds
        .image_shape
        .map_or(String::new(), |(h, w)| format!(", images {h}x{w}"));
    format!(
        "{} ({} items x {} features{shape}, {classes})",
        ds.source,
        ds.len(),
        ds.dim()
    )
}

/// Prints the scores and the matched contingency table when labels are known.
pub fn print_scores(
    title: &str,
    truth: Option<&[usize]>,
    pred: &[usize],
) -> Result<Option<Scores>> {
    let Some(truth) = truth else {
        outln!("{title}: no labels, nothing to score");
        return Ok(None);
    };
    let table = Contingency::new(truth, pred).context("scoring")?;
    let scores = Scores {
        nmi: table.nmi(),
        acc: table.acc(),
        ari: table.ari(),
    };
    outln!("{title}: {scores}");
    outln!("contingency (rows: true class, columns: clusters in matched order)\n{table}");
    Ok(Some(scores))
}

/// One progress bar per stage of the organizer (scan, autoencoder, link), created when the
/// stage reports its first progress and cleared when the next one starts.
#[derive(Default)]
pub struct StageBars {
    current: std::sync::Mutex<Option<(&'static str, ProgressBar)>>,
}

impl StageBars {
    pub fn update(&self, p: deepclust::gallery::Progress) {
        let Ok(mut slot) = self.current.lock() else {
            return;
        };
        if slot.as_ref().is_none_or(|(stage, _)| *stage != p.stage) {
            if let Some((_, old)) = slot.take() {
                old.finish_and_clear();
            }
            let (unit, message) = match p.stage {
                "scan" => ("files", "reading photos"),
                "autoencoder" => ("epochs", "training the thumbnail autoencoder"),
                _ => ("links", "linking"),
            };
            let b = progress_bar(p.total as u64, unit);
            b.set_message(message);
            *slot = Some((p.stage, b));
        }
        if let Some((_, b)) = slot.as_ref() {
            b.set_position(p.done as u64);
        }
    }

    pub fn finish(&self) {
        if let Ok(mut slot) = self.current.lock() {
            if let Some((_, b)) = slot.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// N2D's choices: BIC and silhouette per k (with `auto`), the restarts' agreement, the times.
pub fn print_n2d_details(d: &deepclust::method::N2dDetails, n_clusters: usize) {
    if d.bic.len() > 1 {
        let list: Vec<String> = d
            .bic
            .iter()
            .map(|(k, b)| format!("k={k}: {b:.0}"))
            .collect();
        outln!(
            "BIC per k (reported, not used to choose): {}",
            list.join(", ")
        );
        let list: Vec<String> = d
            .silhouette
            .iter()
            .map(|(k, s)| format!("k={k}: {s:.4}"))
            .collect();
        outln!("silhouette per k (highest chosen): {}", list.join(", "));
    }
    if d.restart_agreement.len() > 1 {
        let list: Vec<String> = d
            .restart_agreement
            .iter()
            .enumerate()
            .map(|(i, a)| format!("seed +{i}: {a:.4}"))
            .collect();
        outln!(
            "restarts, mean agreement (ARI) with the others: {}; kept seed +{}",
            list.join(", "),
            d.chosen_restart
        );
    }
    outln!(
        "N2D: {n_clusters} clusters; UMAP {:.1} s, mixture {:.1} s",
        d.umap_seconds,
        d.gmm_seconds
    );
}
