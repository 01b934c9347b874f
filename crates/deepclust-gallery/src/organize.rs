//! The whole run: validate -> scan (with cache) -> group -> plan -> apply -> manifest, cache,
//! HTML index. The library never prints; progress goes through a callback and cancellation
//! through an `AtomicBool`.

use crate::apply::{apply_plan, ApplyReport, LinkMode, LinkOutcome};
use crate::autoencode::{self, AutoencoderParams, EmbeddingKind, AE_DIR};
use crate::content::{cluster_embeddings_in_blocks, cluster_name, ContentModel, KSelect};
use crate::error::GalleryError;
use crate::events::{day_folder, split_events, DEFAULT_EVENT_GAP_HOURS};
use crate::exif_meta::TimeSource;
use crate::html::write_index;
use crate::manifest::{write_json_atomic, Manifest};
use crate::places::{Geocoder, Place};
use crate::plan::{build_plan, Assignment, GroupKind, Plan};
use crate::prune::{
    remove_stale, set_aside_old_versions, LibraryBytes, PreviousLinks, PruneReport, SupersededCopy,
};
use crate::scan::{scan, PhotoRecord, Progress, ScanParams, SkippedFile, OUTPUT_MARKER};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Cache file in the output directory.
pub const CACHE_FILE: &str = ".deepclust-cache.json";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const INDEX_FILE: &str = "index.html";
pub const THUMBS_DIR: &str = "thumbs";
/// v2: model signals (embedding, tags, text, faces) instead of a bare model embedding.
const CACHE_VERSION: u32 = 2;

/// Group name for photos without GPS.
pub const UNKNOWN_PLACE: &str = "unknown-place";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizeParams {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Groupings to build (any of date, event, place, content).
    pub by: Vec<GroupKind>,
    pub link: LinkMode,
    /// Build and return the plan; write nothing at all.
    pub dry_run: bool,
    /// The output was made for another photo folder: organize this one into it anyway,
    /// removing the other folder's links that are provably ours (off: refuse).
    pub replace_source: bool,
    /// A gap longer than this between consecutive photos starts a new event.
    pub event_gap_hours: f64,
    pub k: KSelect,
    pub seed: u64,
    /// Also group near-duplicates / bursts (dHash) into `near-duplicates/`.
    pub near_duplicates: bool,
    /// Largest dHash Hamming distance (of 64 bits) counted as a near-duplicate.
    pub duplicate_threshold: u32,
    pub html: bool,
    pub follow_symlinks: bool,
    /// Reuse the per-photo cache and content model of an earlier run in the same output.
    pub use_cache: bool,
    /// ONNX feature model for content embeddings (torchvision layout), run by onnxruntime;
    /// `None` uses `embedding`.
    pub model: Option<PathBuf>,
    /// Folders searched first for the content models (then `$DEEPCLUST_MODELS` or the user's
    /// cache, then `models/` beside the binary).
    pub model_dirs: Vec<PathBuf>,
    /// The onnxruntime library to load (else it is searched for; see deepclust_embed::runtime).
    pub ort_lib: Option<PathBuf>,
    /// With the content models: detect text (PP-OCR) and faces (BlazeFace + descriptors).
    pub text_signals: bool,
    pub face_signals: bool,
    /// Content embedding without a model: statistics only, or an autoencoder trained on the
    /// library's thumbnails plus the statistics (see [`crate::autoencode`]).
    pub embedding: EmbeddingKind,
    /// The autoencoder's architecture and training (with `embedding` autoencoder).
    pub autoencoder: AutoencoderParams,
    /// How faces are grouped into persons (with `--by people`).
    pub people: crate::people::PeopleParams,
    /// How content albums are clustered.
    pub content_method: crate::content::ContentMethod,
}

impl Default for OrganizeParams {
    fn default() -> Self {
        OrganizeParams {
            input: PathBuf::new(),
            output: PathBuf::new(),
            by: vec![GroupKind::Date],
            link: LinkMode::Symlink,
            dry_run: false,
            replace_source: false,
            event_gap_hours: DEFAULT_EVENT_GAP_HOURS,
            k: crate::content::AUTO_K,
            seed: 7,
            near_duplicates: false,
            duplicate_threshold: 4,
            html: true,
            follow_symlinks: false,
            use_cache: true,
            model: None,
            model_dirs: Vec::new(),
            ort_lib: None,
            text_signals: true,
            face_signals: true,
            embedding: EmbeddingKind::default(),
            autoencoder: AutoencoderParams::default(),
            people: crate::people::PeopleParams::default(),
            content_method: crate::content::ContentMethod::default(),
        }
    }
}

impl OrganizeParams {
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        OrganizeParams {
            input: input.into(),
            output: output.into(),
            ..Self::default()
        }
    }
    pub fn by(mut self, by: Vec<GroupKind>) -> Self {
        self.by = by;
        self
    }
    pub fn link(mut self, link: LinkMode) -> Self {
        self.link = link;
        self
    }
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
    pub fn replace_source(mut self, replace: bool) -> Self {
        self.replace_source = replace;
        self
    }
    pub fn event_gap_hours(mut self, hours: f64) -> Self {
        self.event_gap_hours = hours;
        self
    }
    pub fn k(mut self, k: KSelect) -> Self {
        self.k = k;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn near_duplicates(mut self, on: bool) -> Self {
        self.near_duplicates = on;
        self
    }
    pub fn duplicate_threshold(mut self, bits: u32) -> Self {
        self.duplicate_threshold = bits;
        self
    }
    pub fn html(mut self, on: bool) -> Self {
        self.html = on;
        self
    }
    pub fn follow_symlinks(mut self, on: bool) -> Self {
        self.follow_symlinks = on;
        self
    }
    pub fn use_cache(mut self, on: bool) -> Self {
        self.use_cache = on;
        self
    }
    pub fn model(mut self, model: Option<PathBuf>) -> Self {
        self.model = model;
        self
    }
    pub fn model_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.model_dirs = dirs;
        self
    }
    pub fn content_method(mut self, method: crate::content::ContentMethod) -> Self {
        self.content_method = method;
        self
    }
    pub fn signals(mut self, text: bool, faces: bool) -> Self {
        self.text_signals = text;
        self.face_signals = faces;
        self
    }
    pub fn ort_lib(mut self, lib: Option<PathBuf>) -> Self {
        self.ort_lib = lib;
        self
    }
    pub fn embedding(mut self, embedding: EmbeddingKind) -> Self {
        self.embedding = embedding;
        self
    }
    pub fn autoencoder(mut self, autoencoder: AutoencoderParams) -> Self {
        self.autoencoder = autoencoder;
        self
    }

    /// Checks values and the safety rules on the two directories.
    pub fn validate(&self) -> Result<(), GalleryError> {
        let bad = |m: String| Err(GalleryError::InvalidParams(m));
        if self.by.is_empty() {
            return bad("at least one grouping (--by) is needed".into());
        }
        if self.by.contains(&GroupKind::NearDuplicates) {
            return bad("near-duplicates is switched on with near_duplicates, not --by".into());
        }
        if !(self.event_gap_hours.is_finite() && self.event_gap_hours > 0.0) {
            return bad(format!(
                "event gap must be a positive number of hours, got {}",
                self.event_gap_hours
            ));
        }
        match self.k {
            KSelect::Fixed(0) => return bad("k must be at least 1".into()),
            KSelect::Auto { min, max } if max < 2 || min > max => {
                return bad(format!(
                    "k=auto needs 2 <= minimum <= maximum, got {min} and {max}"
                ))
            }
            _ => {}
        }
        if let Some(m) = &self.model {
            if !m.is_file() {
                return Err(GalleryError::path(m, "model file not found"));
            }
        }
        if let Some(lib) = self.ort_lib.as_ref().filter(|l| !l.is_file()) {
            return Err(GalleryError::path(lib, "onnxruntime library not found"));
        }
        if self.embedding == EmbeddingKind::Autoencoder && self.model.is_none() {
            self.autoencoder.validate()?;
        }
        if self.duplicate_threshold > 32 {
            return bad(format!(
                "duplicate threshold {} of 64 bits would group unrelated photos",
                self.duplicate_threshold
            ));
        }
        let input = fs::canonicalize(&self.input).map_err(|e| GalleryError::io(&self.input, e))?;
        if !input.is_dir() {
            return Err(GalleryError::path(&self.input, "is not a directory"));
        }
        let output = absolute_normalised(&self.output)?;
        if output == input {
            return Err(GalleryError::path(
                &self.output,
                "the output directory cannot be the photo directory",
            ));
        }
        if input.starts_with(&output) {
            return Err(GalleryError::path(
                &self.output,
                format!(
                    "the photo directory {} lies inside the output directory",
                    input.display()
                ),
            ));
        }
        if output.is_file() {
            return Err(GalleryError::path(&self.output, "exists and is a file"));
        }
        if output.is_dir() && !output.join(OUTPUT_MARKER).exists() {
            let non_empty = fs::read_dir(&output)
                .map_err(|e| GalleryError::io(&output, e))?
                .next()
                .is_some();
            if non_empty {
                return Err(GalleryError::path(
                    &self.output,
                    format!("is not empty and was not made by the organizer (no {OUTPUT_MARKER}); refusing to write into it"),
                ));
            }
        }
        if let Some(previous) = previous_source(&output) {
            let same = fs::canonicalize(&previous).map_or(previous == input, |p| p == input);
            if !same && !self.replace_source {
                return Err(GalleryError::path(
                    &self.output,
                    format!(
                        "holds the organized photos of another folder ({}); refusing to mix {} \
                         into it. Choose another --out, or pass --replace-source to organize \
                         this folder there instead (the other folder's links are removed)",
                        previous.display(),
                        input.display()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `--replace-source`: the links the output holds for another photo folder go (those
/// provably ours, checked against that folder), before this folder's links are written.
fn replace_previous_source(output: &Path, input: &Path, dry_run: bool, notes: &mut Vec<String>) {
    let Some(previous) = previous_source(output) else {
        return;
    };
    let previous = fs::canonicalize(&previous).unwrap_or(previous);
    if previous == input {
        return;
    }
    let Some(links) = PreviousLinks::read(&output.join(MANIFEST_FILE), &previous) else {
        return;
    };
    let pruned = remove_stale(
        &links.pairs(|_| true),
        &previous,
        output,
        dry_run,
        &LibraryBytes::default(),
    );
    notes.push(format!(
        "--replace-source: {} {} links of {} (and {} emptied folders), kept {} not provably ours",
        if dry_run { "would remove" } else { "removed" },
        pruned.removed.len(),
        previous.display(),
        pruned.removed_folders,
        pruned.kept.len()
    ));
}

/// The photo folder an earlier run organized into `output`, from its manifest.
fn previous_source(output: &Path) -> Option<PathBuf> {
    #[derive(Deserialize)]
    struct Source {
        input: PathBuf,
    }
    let bytes = fs::read(output.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice::<Source>(&bytes)
        .ok()
        .map(|s| s.input)
}

/// Absolute path with the deepest existing ancestor canonicalised (the output may not exist).
fn absolute_normalised(p: &Path) -> Result<PathBuf, GalleryError> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| GalleryError::io(p, e))?
            .join(p)
    };
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while fs::canonicalize(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_path_buf();
            }
            _ => return Err(GalleryError::path(p, "cannot resolve")),
        }
    }
    let mut out = fs::canonicalize(&existing).map_err(|e| GalleryError::io(&existing, e))?;
    for name in rest.iter().rev() {
        if name == ".." {
            out.pop();
        } else if name != "." {
            out.push(name);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    photos: Vec<PhotoRecord>,
    content_model: Option<ContentModel>,
    /// Persons of the last run, so their ids stay.
    #[serde(default)]
    people: Vec<crate::people::KnownPerson>,
}

/// One content cluster as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentCluster {
    pub id: usize,
    pub name: String,
    pub folder: String,
    pub size: usize,
    /// Why it has its name (shares of text, camera, faces; leading tags).
    #[serde(default)]
    pub why: String,
    /// Leading ImageNet tags of its members.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContentSummary {
    pub k: usize,
    /// What the photos were embedded with.
    pub embedder: String,
    pub silhouette: Option<f64>,
    pub reused_previous_model: bool,
    /// Why the previous run's clusters were not reused although there were some: the
    /// parameters that changed (`seed 7 -> 8`). `None` when reused or when there were none.
    #[serde(default)]
    pub refit_because: Option<String>,
    pub clusters: Vec<ContentCluster>,
    /// Per photo (same order as `OrganizeReport::photos`).
    pub labels: Vec<usize>,
    /// The fitted (or reused) model: standardisation and centroids, for the clustering
    /// report's distances to the centre (see `html::content_space`). Not serialised: the
    /// cache keeps its own copy.
    #[serde(skip)]
    pub model: Option<ContentModel>,
    /// The rows the clusters were fitted on (before standardisation), per photo, when they
    /// are not stored with the photos (the autoencoder's code + statistics); `None` when
    /// each photo's `clustering_embedding()` is that row. Not serialised.
    #[serde(skip)]
    pub clustering_rows: Option<Vec<Vec<f32>>>,
}

/// Everything a run produced; the CLI prints from it.
#[derive(Debug, Clone, Default)]
pub struct OrganizeReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub photos: Vec<PhotoRecord>,
    pub places: Vec<Option<Place>>,
    pub assignments: Vec<Vec<Assignment>>,
    pub skipped: Vec<SkippedFile>,
    pub other_files: usize,
    pub from_cache: usize,
    pub plan: Plan,
    pub content: Option<ContentSummary>,
    pub apply: Option<ApplyReport>,
    pub manifest: Option<PathBuf>,
    pub index_html: Option<PathBuf>,
    /// Links of the previous run's grouping that this one no longer wants (events merged by
    /// a bridging photo, an edited photo's old day...): removed when provably ours, else kept
    /// (see [`crate::prune`]). In a dry run, what would be removed.
    pub pruned: PruneReport,
    /// Every old version of an edited photo set aside in `superseded/` and still there (this
    /// run's and earlier runs'), as the manifest lists them.
    pub superseded: Vec<SupersededCopy>,
    /// How the content embedder was chosen: fallbacks, missing models.
    pub notes: Vec<String>,
    /// Faces grouped into persons (with `--by people`).
    pub people: Option<crate::people::People>,
}

fn time_reason(p: &PhotoRecord) -> String {
    let source = match p.time_source {
        TimeSource::ExifOriginal => "EXIF DateTimeOriginal",
        TimeSource::ExifDigitized => "EXIF DateTimeDigitized (no DateTimeOriginal)",
        TimeSource::ExifModified => "EXIF DateTime (no DateTimeOriginal)",
        TimeSource::FileMtime => "file modification time, UTC (no EXIF date)",
    };
    format!("taken {} ({source})", p.taken)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn strip_count(name: &str) -> String {
    match name.rfind(" (") {
        Some(i) if name.ends_with(" photos)") => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// Labels, the fitted model, and the rows (code + statistics) the clusters were fitted on.
type AutoencoderClusters = (Vec<usize>, ContentModel, Vec<Vec<f32>>);

/// Content clusters on the autoencoder embedding. The network of an earlier run in `output`
/// is reused (no retraining) when the cached centroids were made with it, so unchanged photos
/// keep their codes and clusters; otherwise a new one is trained and, unless this is a dry
/// run, kept for the next run.
fn autoencoder_clusters(
    params: &OrganizeParams,
    photos: &[PhotoRecord],
    output: &Path,
    prev_model: Option<&ContentModel>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<AutoencoderClusters, GalleryError> {
    let ae_params = &params.autoencoder;
    let pixels: Vec<&[u8]> = photos
        .iter()
        .map(|p| p.content.as_ref().map_or(&[][..], |c| c.pixels.as_slice()))
        .collect();
    let stats: Vec<&[f32]> = photos
        .iter()
        .map(|p| {
            p.content
                .as_ref()
                .map_or(&[][..], |c| c.embedding.as_slice())
        })
        .collect();
    let x = autoencode::pixel_matrix(&pixels)?;
    let dim = ae_params.embedding_len();
    let ae_dir = output.join(AE_DIR);
    let saved = prev_model
        .filter(|m| params.use_cache && m.mean.len() == dim)
        .and_then(|_| autoencode::load_saved(&ae_dir, ae_params));
    let reuse = saved.is_some();
    let ae = match saved {
        Some(ae) => ae,
        None => autoencode::train(x.view(), ae_params, params.seed, progress, cancel)?,
    };
    let codes = autoencode::encode(&ae, x.view())?;
    let rows = autoencode::combine(&codes, &stats, ae_params.layout_weight > 0.0);
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let blocks = autoencode::blocks(ae_params);
    let result = cluster_embeddings_in_blocks(
        &refs,
        &blocks,
        params.k,
        params.seed,
        prev_model.filter(|_| reuse),
    )?;
    if !reuse && !params.dry_run && params.use_cache {
        autoencode::save(&ae, &ae_dir)?;
    }
    let (labels, model) = result;
    Ok((labels, model, rows))
}

/// The content albums: cluster (the model signals when every photo has them, else the
/// embeddings or the thumbnail autoencoder's code), name each album from what dominates it,
/// and say per photo why it is there. A cached model is reused only when it was fitted with
/// the same embedder, k and seed ([`ContentModel::key`]).
#[allow(clippy::too_many_arguments)]
fn content_albums(
    params: &OrganizeParams,
    chosen: &crate::embedder::ChosenEmbedder,
    photos: &[PhotoRecord],
    places: &[Option<Place>],
    output: &Path,
    prev_model: Option<&ContentModel>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(ContentSummary, ContentModel, Vec<Assignment>), GalleryError> {
    let n = photos.len();
    let use_autoencoder = chosen.embedder.is_none()
        && params.model.is_none()
        && params.embedding == EmbeddingKind::Autoencoder;
    let signal_rows = chosen
        .embedder
        .as_ref()
        .and_then(|_| crate::albums::signal_rows(photos, crate::albums::FACE_WEIGHT));
    let embedder_id = chosen.embedder.as_ref().map_or(
        if use_autoencoder {
            "autoencoder"
        } else {
            crate::thumbs::BUILTIN_EMBEDDER
        },
        |e| e.id(),
    );
    use crate::content::ContentMethod;
    let n2d = match params.content_method {
        ContentMethod::Auto => signal_rows.is_some(),
        ContentMethod::N2d => !use_autoencoder,
        ContentMethod::KMeans => false,
    };
    let key = format!(
        "{embedder_id}|k={:?}|seed={}|{}",
        params.k,
        params.seed,
        if n2d { "n2d" } else { "kmeans" }
    );
    let refit_because = prev_model
        .filter(|m| m.key != key)
        .map(|m| key_change(&m.key, &key));
    let prev_model = prev_model.filter(|m| m.key == key);
    let (labels, mut model, clustering_rows) = if use_autoencoder {
        let (labels, model, rows) =
            autoencoder_clusters(params, photos, output, prev_model, progress, cancel)?;
        (labels, model, Some(rows))
    } else {
        let (rows, blocks, keep_rows) = match signal_rows {
            Some((rows, blocks)) => (rows, blocks, true),
            None => {
                let rows: Vec<Vec<f32>> = photos
                    .iter()
                    .map(|p| {
                        p.content
                            .as_ref()
                            .map_or(Vec::new(), |c| c.clustering_embedding().to_vec())
                    })
                    .collect();
                let dim = rows.first().map_or(0, Vec::len);
                (rows, crate::thumbs::embedding_blocks(dim), false)
            }
        };
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let cluster = if n2d {
            crate::content::cluster_embeddings_n2d
        } else {
            cluster_embeddings_in_blocks
        };
        let (labels, model) = cluster(&refs, &blocks, params.k, params.seed, prev_model)?;
        (labels, model, keep_rows.then_some(rows))
    };
    model.key = key;
    let reused = prev_model.is_some_and(|m| m.centroids == model.centroids);
    // A reused model keeps every known photo in its album; new photos went to the nearest.
    let mut labels = labels;
    if reused {
        for (l, p) in labels.iter_mut().zip(photos) {
            if let Some(&known) = model.members.get(&p.rel_path) {
                if known < model.centroids.len() {
                    *l = known;
                }
            }
        }
    }
    model.members = photos
        .iter()
        .zip(&labels)
        .map(|(p, &l)| (p.rel_path.clone(), l))
        .collect();
    let method_label = if use_autoencoder || !n2d {
        "K-Means"
    } else {
        "N2D: UMAP, then a Gaussian mixture"
    };
    let embedding_label = if use_autoencoder {
        "an autoencoder's code of the thumbnail, colour and texture".to_string()
    } else {
        chosen.description.clone()
    };
    let class_name = |c: u16| {
        chosen
            .embedder
            .as_ref()
            .and_then(|e| e.class_name(c).map(str::to_string))
    };
    let k = model.centroids.len();
    let mut clusters: Vec<ContentCluster> = Vec::new();
    let mut bases: Vec<(String, Vec<String>)> = Vec::new();
    for c in 0..k {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        let cities: Vec<Option<&str>> = members
            .iter()
            .map(|&i| places[i].as_ref().map(|p| p.city.as_str()))
            .collect();
        let months: Vec<Option<(i32, u8)>> = members
            .iter()
            .map(|&i| {
                let p = &photos[i];
                (p.time_source != TimeSource::FileMtime)
                    .then_some((p.taken.day.year, p.taken.day.month))
            })
            .collect();
        let where_when = cluster_name(c, &cities, &months);
        let where_when = (!where_when.starts_with("cluster ")).then(|| strip_count(&where_when));
        let records: Vec<&PhotoRecord> = members.iter().map(|&i| &photos[i]).collect();
        let album = crate::albums::album_name(&records, &class_name)
            .or_else(|| crate::albums::plain_album_name(&records));
        let base = match (&album, &where_when) {
            (Some(a), Some(w)) => format!("{} - {w}", a.name),
            (Some(a), None) => a.name.clone(),
            (None, Some(w)) => w.clone(),
            (None, None) => format!("cluster {}", c + 1),
        };
        let distinguishers: Vec<String> = album
            .as_ref()
            .map(|a| {
                a.orientation
                    .map(str::to_string)
                    .into_iter()
                    .chain(
                        a.tags
                            .iter()
                            .map(|(t, _)| t.split(',').next().unwrap_or(t).trim().to_string()),
                    )
                    .collect()
            })
            .unwrap_or_default();
        bases.push((base, distinguishers));
        clusters.push(ContentCluster {
            id: c,
            name: String::new(),
            folder: String::new(),
            size: members.len(),
            why: album.as_ref().map_or(String::new(), |a| a.why.clone()),
            tags: album
                .map(|a| a.tags.into_iter().map(|(t, _)| t).collect())
                .unwrap_or_default(),
        });
    }
    // Albums sharing a name are told apart by their shape or leading tags (the first one
    // their twins do not lead with), then by number.
    let mut used_folders: HashSet<String> = HashSet::new();
    for (c, (base, marks)) in bases.iter().enumerate() {
        let twins: Vec<&Vec<String>> = bases
            .iter()
            .enumerate()
            .filter(|&(o, (b, _))| o != c && b == base)
            .map(|(_, (_, m))| m)
            .collect();
        let mark = marks
            .iter()
            .find(|m| !base.contains(m.as_str()) && twins.iter().all(|t| t.first() != Some(*m)));
        let mut name = match mark {
            Some(m) if !twins.is_empty() => format!("{base} ({m})"),
            _ => base.clone(),
        };
        let mut folder = name.replace(['/', '\\'], "-");
        if !used_folders.insert(folder.clone()) {
            folder = format!("{folder} #{}", c + 1);
            name = format!("{name} #{}", c + 1);
            used_folders.insert(folder.clone());
        }
        clusters[c].name = format!("{name} ({})", plural(clusters[c].size, "photo"));
        clusters[c].folder = folder;
    }
    let assignments = labels
        .iter()
        .map(|&l| Assignment {
            kind: GroupKind::Content,
            group: clusters[l].folder.clone(),
            reason: format!(
                "content album {} of {k} ({method_label} on {embedding_label}){}",
                l + 1,
                if clusters[l].why.is_empty() {
                    String::new()
                } else {
                    format!("; named from: {}", clusters[l].why)
                }
            ),
        })
        .collect();
    let summary = ContentSummary {
        k,
        embedder: embedding_label,
        silhouette: model.silhouette,
        reused_previous_model: reused,
        refit_because,
        clusters,
        labels,
        model: Some(model.clone()),
        clustering_rows,
    };
    Ok((summary, model, assignments))
}

/// What differs between a cached content model's key and this run's, in words: the
/// parameters that change the clusters (`seed 7 -> 8; k 5 -> auto`).
fn key_change(old: &str, new: &str) -> String {
    if old.is_empty() {
        return "the cached clusters record no parameters (an older version made them)".into();
    }
    // Keys are `embedder|k=..|seed=..|method`; a part is named by its `name=` prefix, or by
    // its position for the embedder and the method.
    let parts = |key: &str| -> Vec<(String, String)> {
        key.split('|')
            .enumerate()
            .map(|(i, part)| match part.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None if i == 0 => ("embedding".to_string(), part.to_string()),
                None => ("method".to_string(), part.to_string()),
            })
            .collect()
    };
    // The k part is written with Debug (`Fixed(5)`, `Auto { min: 2, max: 12 }`).
    let shown = |value: &str| -> String {
        if let Some(k) = value
            .strip_prefix("Fixed(")
            .and_then(|v| v.strip_suffix(')'))
        {
            return k.to_string();
        }
        if let Some(range) = value.strip_prefix("Auto { min: ") {
            return format!(
                "auto ({})",
                range.trim_end_matches(" }").replace(", max: ", "-")
            );
        }
        value.to_string()
    };
    let (old, new) = (parts(old), parts(new));
    let changes: Vec<String> = new
        .iter()
        .filter_map(|(name, value)| {
            let before = old
                .iter()
                .find(|(n, _)| n == name)
                .map_or("(none)", |(_, v)| v.as_str());
            (before != value).then(|| format!("{name} {} -> {}", shown(before), shown(value)))
        })
        .collect();
    if changes.is_empty() {
        "the cached clusters were made with other parameters".into()
    } else {
        changes.join("; ")
    }
}

/// Runs the organizer. See [`OrganizeParams`].
pub fn organize(
    params: &OrganizeParams,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<OrganizeReport, GalleryError> {
    params.validate()?;
    let input = fs::canonicalize(&params.input).map_err(|e| GalleryError::io(&params.input, e))?;
    let output = absolute_normalised(&params.output)?;
    let wants = |k: GroupKind| params.by.contains(&k);
    let need_content =
        wants(GroupKind::Content) || wants(GroupKind::People) || params.near_duplicates;

    let cache_path = output.join(CACHE_FILE);
    let previous: Option<CacheFile> = if params.use_cache {
        fs::read(&cache_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
    } else {
        None
    };
    let cache: HashMap<String, PhotoRecord> = previous
        .as_ref()
        .map(|c| {
            c.photos
                .iter()
                .map(|p| (p.rel_path.clone(), p.clone()))
                .collect()
        })
        .unwrap_or_default();

    let thumb_dir = (params.html && !params.dry_run).then(|| output.join(THUMBS_DIR));
    if !params.dry_run {
        fs::create_dir_all(&output).map_err(|e| GalleryError::io(&output, e))?;
        let marker = output.join(OUTPUT_MARKER);
        if !marker.exists() {
            fs::write(
                &marker,
                "Output of `deepclust organize`; the scanner never enters this folder.\n",
            )
            .map_err(|e| GalleryError::io(&marker, e))?;
        }
        if let Some(t) = &thumb_dir {
            fs::create_dir_all(t).map_err(|e| GalleryError::io(t, e))?;
        }
    }

    let chosen = if need_content {
        crate::embedder::choose(params)?
    } else {
        crate::embedder::ChosenEmbedder::default()
    };
    let scan_params = ScanParams {
        embedder: chosen.embedder.clone(),
        follow_symlinks: params.follow_symlinks,
        content: need_content,
        thumb_dir: thumb_dir.clone(),
        exclude: vec![output.clone()],
        ..ScanParams::default()
    };
    let scanned =
        scan(&input, &scan_params, &cache, progress, cancel).ok_or(GalleryError::Cancelled)?;
    let photos = scanned.photos;
    let n = photos.len();

    let geocoder = wants(GroupKind::Place) || wants(GroupKind::Event) || wants(GroupKind::Content);
    let places: Vec<Option<Place>> = photos
        .iter()
        .map(|p| {
            if geocoder {
                p.gps.and_then(|g| Geocoder::embedded().resolve(g))
            } else {
                None
            }
        })
        .collect();

    let mut assignments: Vec<Vec<Assignment>> = vec![Vec::new(); n];
    if wants(GroupKind::Date) {
        for (i, p) in photos.iter().enumerate() {
            assignments[i].push(Assignment {
                kind: GroupKind::Date,
                group: day_folder(p.taken.day),
                reason: time_reason(p),
            });
        }
    }
    if wants(GroupKind::Event) {
        let times: Vec<_> = photos.iter().map(|p| p.taken).collect();
        let gap = (params.event_gap_hours * 3600.0).round() as i64;
        for ev in split_events(&times, &places, gap) {
            let group = format!("{:04}/{}", ev.first.day.year, ev.name);
            let reason = format!(
                "event of {} from {} to {}, no gap over {} h",
                plural(ev.members.len(), "photo"),
                ev.first,
                ev.last,
                params.event_gap_hours
            );
            for &i in &ev.members {
                assignments[i].push(Assignment {
                    kind: GroupKind::Event,
                    group: group.clone(),
                    reason: reason.clone(),
                });
            }
        }
    }
    if wants(GroupKind::Place) {
        for (i, p) in photos.iter().enumerate() {
            let a = match (&places[i], p.gps) {
                (Some(place), Some(g)) => {
                    let (_, dist) = Geocoder::embedded()
                        .nearest(g)
                        .unwrap_or((place.clone(), f64::NAN));
                    Assignment {
                        kind: GroupKind::Place,
                        group: format!("{}/{}/{}", place.country, place.region, place.city),
                        reason: format!(
                            "GPS {:.5}, {:.5}: nearest place {} ({dist:.1} km)",
                            g.lat,
                            g.lon,
                            place.label()
                        ),
                    }
                }
                _ => Assignment {
                    kind: GroupKind::Place,
                    group: UNKNOWN_PLACE.into(),
                    reason: "no GPS position in EXIF".into(),
                },
            };
            assignments[i].push(a);
        }
    }

    let mut content_summary = None;
    let mut people: Option<crate::people::People> = None;
    if need_content {
        if wants(GroupKind::Content) && n > 0 {
            let prev_model = previous.as_ref().and_then(|c| c.content_model.as_ref());
            let (summary, model, content_assignments) = content_albums(
                params, &chosen, &photos, &places, &output, prev_model, progress, cancel,
            )?;
            for (a, c) in assignments.iter_mut().zip(content_assignments) {
                a.push(c);
            }
            content_summary = Some((summary, model));
        }
        if wants(GroupKind::People) {
            let known = previous.as_ref().map_or(&[][..], |c| c.people.as_slice());
            let found = crate::people::group_people(&photos, &params.people, known);
            for person in &found.persons {
                let reason = format!(
                    "a face of {} ({} faces; faces closer than {} in dlib's 128-d descriptor space, at least {} of them)",
                    person.folder(),
                    person.faces.len(),
                    params.people.max_distance,
                    params.people.min_faces
                );
                let mut photos_of: Vec<usize> = person.faces.iter().map(|f| f.photo).collect();
                photos_of.dedup();
                for i in photos_of {
                    assignments[i].push(Assignment {
                        kind: GroupKind::People,
                        group: person.folder(),
                        reason: reason.clone(),
                    });
                }
            }
            people = Some(found);
        }
        if params.near_duplicates {
            let dup = crate::duplicates::DuplicateParams {
                same_bits: params.duplicate_threshold,
                ..crate::duplicates::DuplicateParams::default()
            };
            let groups = crate::duplicates::duplicate_groups(&photos, &dup);
            for (i, g) in groups.iter().enumerate() {
                if let Some((tier, g)) = g {
                    let why = match tier {
                        crate::duplicates::DuplicateTier::Exact => "the same bytes as another photo".to_string(),
                        crate::duplicates::DuplicateTier::SamePicture => format!(
                            "the same picture as another, re-encoded or resized (dHash within {} of 64 bits, layout correlation >= {})",
                            dup.same_bits, dup.same_correlation
                        ),
                        crate::duplicates::DuplicateTier::Similar => format!(
                            "a similar shot within {} s of another (burst or retake)",
                            dup.similar_seconds
                        ),
                    };
                    assignments[i].push(Assignment {
                        kind: GroupKind::NearDuplicates,
                        group: format!("{}/group-{:04}", tier.folder(), g + 1),
                        reason: why,
                    });
                }
            }
        }
    }

    let plan = build_plan(&photos, &assignments);
    let (content, model) = match content_summary {
        Some((s, m)) => (Some(s), Some(m)),
        None => (
            None,
            previous.as_ref().and_then(|c| c.content_model.clone()),
        ),
    };
    let mut report = OrganizeReport {
        input: input.clone(),
        output: output.clone(),
        places,
        assignments,
        skipped: scanned.skipped,
        other_files: scanned.other_files,
        from_cache: scanned.from_cache,
        plan,
        content,
        notes: chosen.notes.clone(),
        people,
        ..OrganizeReport::default()
    };
    if wants(GroupKind::People) && chosen.embedder.is_none() {
        report
            .notes
            .push("--by people needs the face models: no faces were looked for".to_string());
    }
    // Groupings were recomputed over the whole library; the previous run's manifest says
    // which links it made, so the ones the new plan no longer wants can be taken away.
    let previous_links = PreviousLinks::read(&output.join(MANIFEST_FILE), &input);
    if params.replace_source {
        replace_previous_source(&output, &input, params.dry_run, &mut report.notes);
    }
    let in_library: HashSet<&str> = photos.iter().map(|p| p.rel_path.as_str()).collect();
    // Photos of the earlier run that are in the library, or were deleted from it (their
    // dangling links go; see prune). A photo still there but skipped this run (unreadable
    // now) keeps its links.
    let tracked = |p: &str| {
        in_library.contains(p) || fs::symlink_metadata(crate::relpath::join(&input, p)).is_err()
    };
    // Photos edited since the earlier run (size or time differ), with the links it made.
    let edited: Vec<(String, Vec<PathBuf>)> = previous_links
        .as_ref()
        .map(|prev| {
            photos
                .iter()
                .filter(|p| {
                    prev.versions
                        .get(&p.rel_path)
                        .is_some_and(|&v| v != (p.size, p.mtime_secs))
                })
                .filter_map(|p| Some((p.rel_path.clone(), prev.by_photo.get(&p.rel_path)?.clone())))
                .collect()
        })
        .unwrap_or_default();
    // Only an earlier run's links can be a renamed photo's old copies.
    let library = match &previous_links {
        Some(_) => LibraryBytes::new(
            photos
                .iter()
                .map(|p| (crate::relpath::join(&input, &p.rel_path), p.size)),
        ),
        None => LibraryBytes::default(),
    };
    // Old versions already set aside stay listed while they exist.
    report.superseded = previous_links
        .as_ref()
        .map(|prev| {
            prev.superseded
                .iter()
                .filter(|s| fs::symlink_metadata(output.join(&s.now)).is_ok())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if params.dry_run {
        if let Some(prev) = &previous_links {
            // Folders the plan puts each photo in: an old link in one of them is the photo's
            // link there (possibly under a name made unique by apply), not a stale one.
            let mut wanted: HashMap<&str, HashSet<&Path>> = HashMap::new();
            for link in &report.plan.links {
                if let Some(dir) = link.target.parent() {
                    wanted
                        .entry(photos[link.photo].rel_path.as_str())
                        .or_default()
                        .insert(dir);
                }
            }
            let set_aside = set_aside_old_versions(&edited, &input, &output, true);
            let moved: HashSet<&Path> = set_aside
                .set_aside
                .iter()
                .map(|s| s.was.as_path())
                .collect();
            let stale: Vec<(String, PathBuf)> = prev
                .pairs(tracked)
                .into_iter()
                .filter(|(p, l)| {
                    !moved.contains(l.as_path())
                        && !wanted
                            .get(p.as_str())
                            .is_some_and(|w| l.parent().is_some_and(|d| w.contains(d)))
                })
                .collect();
            report.pruned = remove_stale(&stale, &input, &output, true, &library);
            report.pruned.merge(set_aside);
        }
        report.photos = photos;
        return Ok(report);
    }

    // An edited photo's old copies leave their group folders for superseded/ (they may be
    // the only copy of the old version), so each group gets one up-to-date entry.
    report.pruned = set_aside_old_versions(&edited, &input, &output, false);
    report
        .superseded
        .extend(report.pruned.set_aside.iter().cloned());
    // Then free the planned names still held by another photo's old link (e.g. an event
    // folder whose name now belongs to a different run of photos), so the plan lands on them.
    if let Some(prev) = &previous_links {
        let planned_for: HashMap<&Path, usize> = report
            .plan
            .links
            .iter()
            .map(|l| (l.target.as_path(), l.photo))
            .collect();
        let blocking: Vec<(String, PathBuf)> = prev
            .pairs(|p| in_library.contains(p))
            .into_iter()
            .filter(|(p, l)| {
                planned_for
                    .get(l.as_path())
                    .is_some_and(|&i| photos[i].rel_path != *p)
            })
            .collect();
        let freed = remove_stale(&blocking, &input, &output, false, &library);
        report.pruned.merge(freed);
    }
    let applied = apply_plan(
        &report.plan,
        &photos,
        &input,
        &output,
        params.link,
        progress,
        cancel,
    )?;
    // Then remove every old link of a photo still in the library that this run neither
    // created nor found in place.
    if let Some(prev) = &previous_links {
        let mut current: HashMap<&str, HashSet<&Path>> = HashMap::new();
        for (link, outcome) in report.plan.links.iter().zip(&applied.outcomes) {
            if let LinkOutcome::Created { target } | LinkOutcome::AlreadyPresent { target } =
                outcome
            {
                let rel = target.strip_prefix(&output).unwrap_or(target);
                current
                    .entry(photos[link.photo].rel_path.as_str())
                    .or_default()
                    .insert(rel);
            }
        }
        let stale: Vec<(String, PathBuf)> = prev
            .pairs(tracked)
            .into_iter()
            .filter(|(p, l)| {
                !current
                    .get(p.as_str())
                    .is_some_and(|c| c.contains(l.as_path()))
            })
            .collect();
        let pruned = remove_stale(&stale, &input, &output, false, &library);
        report.pruned.merge(pruned);
    }
    report.photos = photos;
    report.apply = Some(applied);

    let manifest = Manifest::from_report(&report, params);
    let manifest_path = output.join(MANIFEST_FILE);
    write_json_atomic(&manifest_path, &manifest, true)?;
    report.manifest = Some(manifest_path);

    if params.use_cache {
        // Keep cache entries of photos not seen this time (e.g. a folder temporarily missing).
        let seen: HashSet<&str> = report.photos.iter().map(|p| p.rel_path.as_str()).collect();
        let mut cached: Vec<PhotoRecord> = report.photos.clone();
        cached.extend(
            cache
                .into_values()
                .filter(|p| !seen.contains(p.rel_path.as_str())),
        );
        cached.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        let people = match &report.people {
            Some(found) => found
                .persons
                .iter()
                .map(|p| crate::people::KnownPerson {
                    id: p.id,
                    centre: p.centre.clone(),
                })
                .collect(),
            None => previous.map(|c| c.people).unwrap_or_default(),
        };
        let cache_file = CacheFile {
            version: CACHE_VERSION,
            photos: cached,
            content_model: model,
            people,
        };
        write_json_atomic(&cache_path, &cache_file, false)?;
    }
    if let (Some(people), true) = (&report.people, params.html) {
        let decode_side = chosen
            .embedder
            .as_ref()
            .map_or(crate::thumbs::THUMB_SIZE, |e| {
                e.decode_side().max(crate::thumbs::THUMB_SIZE)
            });
        for person in &people.persons {
            let path = output
                .join(THUMBS_DIR)
                .join(format!("{}.jpg", person.folder()));
            let photo = &report.photos[person.cover.photo];
            if let Err(e) = crate::people::write_face_cover(
                &input,
                photo,
                person.cover.face,
                decode_side,
                &path,
            ) {
                report
                    .notes
                    .push(format!("{}: face cover not written: {e}", person.folder()));
            }
        }
    }
    if params.html {
        let path = output.join(INDEX_FILE);
        write_index(&path, &report, &manifest)?;
        report.index_html = Some(path);
    }
    Ok(report)
}

#[cfg(test)]
mod key_change_tests {
    use super::key_change;

    #[test]
    fn names_each_changed_parameter_in_words() {
        let old = "builtin|k=Fixed(5)|seed=7|kmeans";
        assert_eq!(
            key_change(old, "builtin|k=Fixed(5)|seed=8|kmeans"),
            "seed 7 -> 8"
        );
        assert_eq!(
            key_change(old, "onnx:lite2|k=Auto { min: 2, max: 12 }|seed=7|n2d"),
            "embedding builtin -> onnx:lite2; k 5 -> auto (2-12); method kmeans -> n2d"
        );
        assert!(key_change("", old).contains("older version"));
    }
}
