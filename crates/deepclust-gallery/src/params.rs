//! What an organizer run is asked to do ([`OrganizeParams`]), and the checks of those values
//! and of the two folders before anything is read or written.

use crate::apply::LinkMode;
use crate::autoencode::{AutoencoderParams, EmbeddingKind};
use crate::content::KSelect;
use crate::error::GalleryError;
use crate::events::DEFAULT_EVENT_GAP_HOURS;
use crate::layout::{MANIFEST_FILE, OUTPUT_MARKER};
use crate::plan::GroupKind;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// What the photos are embedded with for the content albums, as one value: a new image model
/// is a new variant here and an [`deepclust_embed::ImageEmbedder`] in `deepclust-embed`.
/// [`OrganizeParams`] keeps it in the fields its saved form has always had
/// ([`OrganizeParams::embedder`] reads them as one, [`OrganizeParams::with_embedder`] sets them).
#[derive(Debug, Clone, PartialEq)]
pub enum EmbedderSpec {
    /// The content models (EfficientNet-Lite2 with tags, text, faces) when onnxruntime and the
    /// models are found, else the statistics, saying so.
    Auto,
    /// The content models, or an error without them.
    ContentModels,
    /// An ONNX feature model (torchvision layout: [N,3,224,224] in, [N,D] out).
    FeatureModel(PathBuf),
    /// The model-free thumbnail layout, colour and texture statistics.
    Stats,
    /// An autoencoder trained on the library's own thumbnails, plus the statistics.
    ThumbnailAutoencoder(AutoencoderParams),
}

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

    /// The embedder the run asks for (`model` wins over `embedding`).
    pub fn embedder(&self) -> EmbedderSpec {
        if let Some(path) = &self.model {
            return EmbedderSpec::FeatureModel(path.clone());
        }
        match self.embedding {
            EmbeddingKind::Auto => EmbedderSpec::Auto,
            EmbeddingKind::Models => EmbedderSpec::ContentModels,
            EmbeddingKind::Stats => EmbedderSpec::Stats,
            EmbeddingKind::Autoencoder => {
                EmbedderSpec::ThumbnailAutoencoder(self.autoencoder.clone())
            }
        }
    }

    /// Asks for `spec` (model search folders, onnxruntime and signals are set apart).
    pub fn with_embedder(mut self, spec: EmbedderSpec) -> Self {
        self.model = None;
        match spec {
            EmbedderSpec::Auto => self.embedding = EmbeddingKind::Auto,
            EmbedderSpec::ContentModels => self.embedding = EmbeddingKind::Models,
            EmbedderSpec::Stats => self.embedding = EmbeddingKind::Stats,
            EmbedderSpec::FeatureModel(path) => self.model = Some(path),
            EmbedderSpec::ThumbnailAutoencoder(p) => {
                self.embedding = EmbeddingKind::Autoencoder;
                self.autoencoder = p;
            }
        }
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
        match self.embedder() {
            EmbedderSpec::FeatureModel(m) if !m.is_file() => {
                return Err(GalleryError::path(&m, "model file not found"))
            }
            EmbedderSpec::ThumbnailAutoencoder(p) => p.validate()?,
            _ => {}
        }
        if let Some(lib) = self.ort_lib.as_ref().filter(|l| !l.is_file()) {
            return Err(GalleryError::path(lib, "onnxruntime library not found"));
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

/// The photo folder an earlier run organized into `output`, from its manifest.
pub(crate) fn previous_source(output: &Path) -> Option<PathBuf> {
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
pub(crate) fn absolute_normalised(p: &Path) -> Result<PathBuf, GalleryError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedder_spec_reads_and_sets_the_saved_fields() {
        let p = OrganizeParams::new("in", "out");
        assert_eq!(p.embedder(), EmbedderSpec::Auto);
        for spec in [
            EmbedderSpec::Auto,
            EmbedderSpec::ContentModels,
            EmbedderSpec::Stats,
            EmbedderSpec::FeatureModel("m.onnx".into()),
            EmbedderSpec::ThumbnailAutoencoder(AutoencoderParams {
                epochs: 3,
                ..AutoencoderParams::default()
            }),
        ] {
            let set = p.clone().with_embedder(spec.clone());
            assert_eq!(set.embedder(), spec);
            // The saved form is unchanged: the same fields as before, read back the same.
            let json = serde_json::to_string(&set).expect("json");
            let back: OrganizeParams = serde_json::from_str(&json).expect("read");
            assert_eq!(back.embedder(), spec);
        }
        // A model file given beside an embedding kind wins, as --model always did.
        let both = p
            .embedding(EmbeddingKind::Stats)
            .model(Some("m.onnx".into()));
        assert_eq!(both.embedder(), EmbedderSpec::FeatureModel("m.onnx".into()));
    }
}
