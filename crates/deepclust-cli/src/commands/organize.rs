//! `deepclust organize`: sort a photo tree into dated, event, place and content folders made
//! of links, without ever touching the originals.

use crate::choice::one_of;
use crate::cli::StageBars;
use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::cluster::KSelect;
use deepclust::gallery::{
    organize, AutoencoderParams, EmbeddingKind, GroupKind, LinkMode, OrganizeParams,
};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct OrganizeArgs {
    /// The photo folder (read only: nothing in it is modified, moved or deleted).
    #[arg(value_name = "PHOTOS_DIR")]
    pub photos: PathBuf,
    /// Where the organized tree, manifest.json and index.html go. Must be new, empty, or an
    /// earlier output of this command; it may lie inside PHOTOS_DIR (it is never scanned).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Groupings to build; repeat or separate with commas (e.g. --by date,place).
    #[arg(long, value_parser = one_of(GroupKind::CHOICES), value_delimiter = ',', default_value = "date")]
    pub by: Vec<GroupKind>,
    /// How the output refers to the originals.
    #[arg(long, value_parser = one_of(LinkMode::CHOICES), default_value = "symlink")]
    pub link: LinkMode,
    /// Print the plan (every link that would be made, with its reason) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// --out holds another photo folder's organized links: replace them with this folder's
    /// (without it, such an output is refused).
    #[arg(long)]
    pub replace_source: bool,
    /// A gap longer than this many hours between consecutive photos starts a new event.
    #[arg(long, default_value_t = 36.0, value_name = "HOURS")]
    pub event_gap: f64,
    /// Number of content albums, or `auto` (lowest Davies-Bouldin index for k =
    /// --k-min..=--k-max, at most one album per 5 photos).
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub k: String,
    /// How albums are clustered: `auto` (N2D with the content models, K-Means otherwise, as
    /// measured in docs/BENCHMARKS.md), `kmeans`, or `n2d` (UMAP, then a Gaussian mixture).
    #[arg(long, default_value = "auto", value_name = "auto|kmeans|n2d")]
    pub content_method: String,
    /// Smallest k tried by --k auto.
    #[arg(long, default_value_t = 4)]
    pub k_min: usize,
    /// Largest k tried by --k auto.
    #[arg(long, default_value_t = 16)]
    pub k_max: usize,
    /// Seed of every random choice in content clustering.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Group duplicates into near-duplicates/<tier>/ in three tiers that are never merged:
    /// exact (same bytes), same-picture (re-encoded or resized copies) and similar (bursts
    /// and retakes within 30 s). Nothing is deleted.
    #[arg(long)]
    pub duplicates: bool,
    /// Largest difference (bits of 64) between the perceptual hashes of the same picture.
    #[arg(long, default_value_t = 4, value_name = "BITS")]
    pub duplicate_threshold: u32,
    /// Do not write index.html and thumbnails.
    #[arg(long)]
    pub no_html: bool,
    /// Follow symbolic links inside PHOTOS_DIR (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Re-read every photo and re-fit content clusters instead of reusing what the catalogue
    /// (catalog.sqlite in --out) holds from earlier runs.
    #[arg(long)]
    pub no_cache: bool,
    /// ONNX feature model for --by content embeddings instead of the content models
    /// (torchvision layout: [N,3,224,224] in, [N,D] out), e.g.
    /// ../shared/models/mobilenetv2-features.onnx; run by onnxruntime.
    #[arg(long, value_name = "PATH.onnx")]
    pub model: Option<PathBuf>,
    /// Folder with the content models (efficientnet-lite2.onnx, ppocr-v4-det.onnx,
    /// blazeface-short.onnx, ...), searched before $DEEPCLUST_MODELS and ~/.cache/deepclust/models.
    #[arg(long = "models", value_name = "DIR")]
    pub model_dirs: Vec<PathBuf>,
    /// The onnxruntime shared library (libonnxruntime.so...). Default: $ORT_DYLIB_PATH, next
    /// to this binary, a pip-installed onnxruntime, then the system loader path.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// With the content models: leave out text detection (faster; albums lose their text names).
    #[arg(long)]
    pub no_text: bool,
    /// With the content models: leave out face detection and descriptors (no --by people).
    #[arg(long)]
    pub no_faces: bool,
    /// Content embedding when no --model is given: `auto` (the content models when
    /// onnxruntime and the models are found, else `stats`, saying so), `models` (the same,
    /// but an error without them), `stats` (thumbnail layout, colour and texture statistics;
    /// no training) or `autoencoder` (a network trained on this library's own thumbnails,
    /// plus the statistics; kept in --out for re-runs).
    #[arg(long, value_parser = one_of(EmbeddingKind::CHOICES), default_value = "auto")]
    pub embedding: EmbeddingKind,
    /// Training epochs of the --embedding autoencoder network.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub ae_epochs: usize,
    /// Write an HTML report of the content clusters into DIR (needs --by content): per
    /// cluster the photos nearest its centre and the farthest, a 2-D map of the embedding
    /// with thumbnails, the parameters and timings. Open DIR/index.html; it needs no network.
    #[arg(long, value_name = "DIR", conflicts_with = "dry_run")]
    pub report: Option<PathBuf>,
}

impl OrganizeArgs {
    pub fn params(&self) -> Result<OrganizeParams> {
        let auto = KSelect::Auto {
            min: self.k_min,
            max: self.k_max,
        };
        let k = KSelect::parse(&self.k, auto).map_err(anyhow::Error::msg)?;
        let mut by = self.by.clone();
        by.sort();
        by.dedup();
        if self.report.is_some() && !by.contains(&GroupKind::Content) {
            anyhow::bail!("--report shows the content clusters: add content to --by");
        }
        let params = OrganizeParams::new(&self.photos, &self.out)
            .by(by)
            .link(self.link)
            .dry_run(self.dry_run)
            .replace_source(self.replace_source)
            .event_gap_hours(self.event_gap)
            .k(k)
            .seed(self.seed)
            .near_duplicates(self.duplicates)
            .duplicate_threshold(self.duplicate_threshold)
            .html(!self.no_html)
            .follow_symlinks(self.follow_symlinks)
            .use_cache(!self.no_cache)
            .model(self.model.clone())
            .model_dirs(self.model_dirs.clone())
            .ort_lib(self.ort_lib.clone())
            .signals(!self.no_text, !self.no_faces)
            .content_method(self.content_method.parse().map_err(anyhow::Error::msg)?)
            .embedding(self.embedding)
            .autoencoder(AutoencoderParams {
                epochs: self.ae_epochs,
                ..AutoencoderParams::default()
            });
        params.validate().context("cannot organize")?;
        Ok(params)
    }
}

pub fn run(args: &OrganizeArgs, cancel: Arc<AtomicBool>) -> Result<()> {
    let params = args.params()?;
    let bars = StageBars::default();
    let started = std::time::Instant::now();
    let result = organize(&params, &|p| bars.update(p), &cancel);
    let organize_seconds = started.elapsed().as_secs_f64();
    bars.finish();
    let report = result.with_context(|| format!("organizing {}", args.photos.display()))?;
    crate::print::organize::report(&report, args.dry_run);
    if let Some(dir) = &args.report {
        crate::print::organize::content_report(dir, &report, &params, organize_seconds)?;
    }
    crate::output::json_result(&report.summary_json(args.dry_run));
    let failed = report.apply.as_ref().map_or(0, |a| a.failed);
    if failed > 0 {
        // Everything that could be done was done; the user still has to know it is not all.
        bail!(
            "{failed} of {} links could not be written (listed above as `failed`); \
             fix the cause and re-run: what is done is kept",
            report.plan.links.len()
        );
    }
    Ok(())
}
