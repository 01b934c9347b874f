//! Images to vectors and signals: the embedder slot of deepclust.
//!
//! An [`ImageEmbedder`] turns one decoded image into [`PhotoSignals`]: an embedding, and, when
//! the models are there, ImageNet tags, text areas and faces. Two embedders live here:
//! [`ContentModels`] (EfficientNet-Lite2 + PP-OCRv4 text detector + BlazeFace + dlib face
//! descriptor, each optional) and [`FeatureModel`] (any torchvision-style ONNX feature
//! extractor). Both run on onnxruntime, loaded at run time by [`OrtRuntime::init`]; without
//! it they are an error value and the caller falls back to the model-free embedding.
//!
//! ```no_run
//! use deepclust_embed::{ContentModels, ImageEmbedder, ModelSearch, OrtRuntime};
//! let rt = OrtRuntime::init(None)?;
//! let models = ContentModels::load(&rt, &ModelSearch::default())?;
//! let img = image::RgbImage::new(640, 480);
//! let signals = models.embed(&img)?;
//! println!("{} values, {:?} tags", signals.embedding.len(), signals.tags);
//! # Ok::<(), deepclust_embed::EmbedError>(())
//! ```

mod content;
pub mod error;
pub mod faces;
mod feature;
pub mod imagenet;
pub mod models;
mod prep;
pub mod runtime;
mod session;
pub mod signals;
pub mod text;

pub use content::{ContentModels, ModelSearch};
pub use error::{EmbedError, RuntimeError};
pub use feature::{centre_crop, FeatureModel};
pub use runtime::OrtRuntime;
pub use signals::{Face, FaceSignals, PhotoSignals, Tag, TextSignals};

use image::RgbImage;

/// Images to vectors: one trait for every embedding of photos.
pub trait ImageEmbedder: Send + Sync {
    /// Identifies the embedder and its models in caches: signals of another id are recomputed.
    fn id(&self) -> &str;
    /// Longest side the image should be decoded at for this embedder.
    fn decode_side(&self) -> u32;
    /// The signals of one upright RGB image.
    fn embed(&self, img: &RgbImage) -> Result<PhotoSignals, EmbedError>;
    /// Human-readable description for run logs ("EfficientNet-Lite2 + text + faces").
    fn describe(&self) -> String;
    /// Name of an ImageNet class index, when the embedder has a classifier.
    fn class_name(&self, _class: u16) -> Option<&str> {
        None
    }
}
