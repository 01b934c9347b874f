//! Which image embedder a run uses: the content models, an ONNX feature model, or none (the
//! model-free statistics), with the reasons when it fell back.

use crate::error::GalleryError;
use crate::params::EmbedderSpec;
use deepclust_embed::{
    models::default_model_dir, ContentModels, FeatureModel, ImageEmbedder, ModelSearch, OrtRuntime,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The embedder chosen for a run and what the user should be told about the choice.
#[derive(Clone, Default)]
pub struct ChosenEmbedder {
    /// `None`: the model-free statistics (or the thumbnail autoencoder on top of them).
    pub embedder: Option<Arc<dyn ImageEmbedder>>,
    /// What is used, in words ("EfficientNet-Lite2 ... via onnxruntime at ...").
    pub description: String,
    /// Fallbacks and missing models, one line each.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for ChosenEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChosenEmbedder")
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.id().to_string()),
            )
            .field("description", &self.description)
            .field("notes", &self.notes)
            .finish()
    }
}

/// Folders searched for the content models: `dirs` first, then `$DEEPCLUST_MODELS` or the
/// user's cache (`~/.cache/deepclust/models`), then `models/` next to the binary.
pub fn model_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = dirs.to_vec();
    out.extend(default_model_dir());
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(exe_dir.join("models"));
    }
    out
}

const STATS: &str = "thumbnail layout, colour and texture statistics (no model)";

/// Chooses the embedder for the run's [`EmbedderSpec`]. Only explicit requests fail: a
/// feature model with a bad file, or `ContentModels` without models; `Auto` falls back with
/// a note.
pub fn choose(params: &crate::params::OrganizeParams) -> Result<ChosenEmbedder, GalleryError> {
    let ort_lib = params.ort_lib.as_deref();
    let stats = |notes: Vec<String>| ChosenEmbedder {
        embedder: None,
        description: STATS.into(),
        notes,
    };
    let spec = params.embedder();
    let models_required = match spec {
        EmbedderSpec::Stats | EmbedderSpec::ThumbnailAutoencoder(_) => {
            return Ok(stats(Vec::new()))
        }
        EmbedderSpec::FeatureModel(path) => return feature_model(&path, ort_lib),
        EmbedderSpec::Auto => false,
        EmbedderSpec::ContentModels => true,
    };
    let search = ModelSearch {
        dirs: model_dirs(&params.model_dirs),
        text: params.text_signals,
        faces: params.face_signals,
        descriptors: params.face_signals,
    };
    let loaded = OrtRuntime::init(ort_lib)
        .map_err(deepclust_embed::EmbedError::from)
        .and_then(|rt| ContentModels::load(&rt, &search).map(|m| (rt, m)));
    match loaded {
        Ok((rt, m)) => {
            let notes = m
                .missing
                .iter()
                .map(|x| format!("model not found, its signal is left out: {x}"))
                .collect();
            Ok(ChosenEmbedder {
                description: format!(
                    "{} via onnxruntime {} ({})",
                    m.describe(),
                    rt.library.display(),
                    rt.found_by
                ),
                embedder: Some(Arc::new(m)),
                notes,
            })
        }
        Err(e) if !models_required => Ok(stats(vec![format!(
            "content models not used: {e}; falling back to the {STATS}"
        )])),
        Err(e) => Err(e.into()),
    }
}

/// An ONNX feature model given by its file, on onnxruntime (or, in a build with the `onnx`
/// feature, tract when onnxruntime is missing).
fn feature_model(path: &Path, ort_lib: Option<&Path>) -> Result<ChosenEmbedder, GalleryError> {
    if !path.is_file() {
        return Err(GalleryError::path(path, "model file not found"));
    }
    match OrtRuntime::init(ort_lib) {
        Ok(rt) => {
            let m = FeatureModel::load(&rt, path)?;
            Ok(ChosenEmbedder {
                description: format!("{} via onnxruntime {}", m.describe(), rt.library.display()),
                embedder: Some(Arc::new(m)),
                notes: Vec::new(),
            })
        }
        Err(e) => fallback_for_model(path, e.to_string()),
    }
}

#[cfg(feature = "onnx")]
fn fallback_for_model(path: &Path, why: String) -> Result<ChosenEmbedder, GalleryError> {
    let m = crate::onnx::OnnxEmbedder::load(path).map_err(|e| GalleryError::path(path, e))?;
    Ok(ChosenEmbedder {
        description: format!("{} with tract (pure Rust)", m.describe()),
        embedder: Some(Arc::new(m)),
        notes: vec![format!("{why}; using the pure-Rust engine (tract) instead")],
    })
}

#[cfg(not(feature = "onnx"))]
fn fallback_for_model(_path: &Path, why: String) -> Result<ChosenEmbedder, GalleryError> {
    Ok(ChosenEmbedder {
        embedder: None,
        description: STATS.into(),
        notes: vec![format!(
            "{why}; this build has no pure-Rust engine (feature `onnx`): falling back to the {STATS}"
        )],
    })
}
