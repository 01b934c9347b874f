//! The content models together: one decode, every signal.

use crate::error::EmbedError;
use crate::faces::{face_chip, FaceDescriptor, FaceDetector};
use crate::imagenet::ImageNetModel;
use crate::models::{
    default_model_dir, locate, ModelFile, BLAZEFACE, EFFICIENTNET_LITE2, FACE_DESCRIPTOR,
    IMAGENET_CLASSES, PPOCR_DET,
};
use crate::runtime::OrtRuntime;
use crate::signals::{Face, FaceSignals, PhotoSignals};
use crate::text::TextDetector;
use crate::ImageEmbedder;
use image::{imageops, RgbImage};
use std::path::PathBuf;

/// Where to look for the models and which signals to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSearch {
    /// Folders searched in order (the first holding a model wins).
    pub dirs: Vec<PathBuf>,
    pub text: bool,
    pub faces: bool,
    /// Face descriptors (for grouping people); needs `faces`.
    pub descriptors: bool,
}

impl Default for ModelSearch {
    /// The user's model cache ([`default_model_dir`]), every signal on.
    fn default() -> Self {
        ModelSearch {
            dirs: default_model_dir().into_iter().collect(),
            text: true,
            faces: true,
            descriptors: true,
        }
    }
}

impl ModelSearch {
    fn find(&self, m: &ModelFile) -> Option<PathBuf> {
        locate(m, &self.dirs)
    }

    fn searched(&self) -> String {
        if self.dirs.is_empty() {
            "no model folder (set DEEPCLUST_MODELS or --models)".into()
        } else {
            self.dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Faces looked for per photo at most (descriptors are the expensive part).
pub const MAX_FACES: usize = 12;
/// Longest side of the shared decode all content models read from.
pub const DECODE_SIDE: u32 = 640;

/// EfficientNet-Lite2 embedding + tags, and when present the text detector, the face detector
/// and the face descriptor, all on one reduced decode of the photo.
pub struct ContentModels {
    imagenet: ImageNetModel,
    text: Option<TextDetector>,
    faces: Option<FaceDetector>,
    descriptor: Option<FaceDescriptor>,
    id: String,
    /// Which optional models were not found (file and role): for the run log.
    pub missing: Vec<String>,
}

impl ContentModels {
    /// Loads what `search` finds. EfficientNet-Lite2 and its class names are required; the
    /// other models are optional (their signals are then absent and `missing` says so).
    pub fn load(rt: &OrtRuntime, search: &ModelSearch) -> Result<ContentModels, EmbedError> {
        let need = |m: &ModelFile| {
            search.find(m).ok_or_else(|| {
                EmbedError::model(
                    m.file,
                    format!(
                        "not found in {}; `deepclust models` says how to get it",
                        search.searched()
                    ),
                )
            })
        };
        let model = need(&EFFICIENTNET_LITE2)?;
        let classes = need(&IMAGENET_CLASSES)?;
        let mut missing = Vec::new();
        let imagenet = ImageNetModel::load(rt, &model, &classes)?;
        let mut optional = |want: bool, m: &ModelFile| -> Option<PathBuf> {
            if !want {
                return None;
            }
            let p = search.find(m);
            if p.is_none() {
                missing.push(format!("{} ({})", m.file, m.role));
            }
            p
        };
        let text_path = optional(search.text, &PPOCR_DET);
        let face_path = optional(search.faces, &BLAZEFACE);
        let desc_path = optional(search.faces && search.descriptors, &FACE_DESCRIPTOR);
        let text = text_path.map(|p| TextDetector::load(rt, &p)).transpose()?;
        let faces = face_path.map(|p| FaceDetector::load(rt, &p)).transpose()?;
        let descriptor = desc_path
            .map(|p| FaceDescriptor::load(rt, &p))
            .transpose()?;
        // The id names every model that contributes, so adding or removing one re-embeds.
        let id = format!(
            "content-v1:effl2{}{}{}",
            if text.is_some() { "+ppocr-det" } else { "" },
            if faces.is_some() { "+blazeface" } else { "" },
            if descriptor.is_some() { "+dlib128" } else { "" },
        );
        Ok(ContentModels {
            imagenet,
            text,
            faces,
            descriptor,
            id,
            missing,
        })
    }

    fn detect_faces(&self, det: &FaceDetector, img: &RgbImage) -> Result<Vec<Face>, EmbedError> {
        let mut faces = det.run(img)?;
        // BlazeFace short-range misses small faces: look again in four overlapping tiles
        // (each 60% of the sides), as its spec suggests for group photos.
        let (w, h) = img.dimensions();
        if w.min(h) >= 256 {
            let (tw, th) = (w * 3 / 5, h * 3 / 5);
            for (x0, y0) in [(0, 0), (w - tw, 0), (0, h - th), (w - tw, h - th)] {
                let tile = imageops::crop_imm(img, x0, y0, tw, th).to_image();
                for mut f in det.run(&tile)? {
                    let (dx, dy) = (x0 as f32, y0 as f32);
                    f.bbox = [
                        f.bbox[0] + dx,
                        f.bbox[1] + dy,
                        f.bbox[2] + dx,
                        f.bbox[3] + dy,
                    ];
                    for k in &mut f.keypoints {
                        k[0] += dx;
                        k[1] += dy;
                    }
                    faces.push(f);
                }
            }
        }
        Ok(crate::faces::suppress(faces, MAX_FACES))
    }
}

impl ImageEmbedder for ContentModels {
    fn id(&self) -> &str {
        &self.id
    }

    fn decode_side(&self) -> u32 {
        DECODE_SIDE
    }

    fn embed(&self, img: &RgbImage) -> Result<PhotoSignals, EmbedError> {
        let (embedding, tags) = self.imagenet.run(img)?;
        let text = self.text.as_ref().map(|t| t.run(img)).transpose()?;
        let faces = match &self.faces {
            Some(det) => {
                let mut faces = self.detect_faces(det, img)?;
                if let Some(desc) = &self.descriptor {
                    for f in &mut faces {
                        f.descriptor = Some(desc.run(&face_chip(img, f))?);
                    }
                }
                Some(FaceSignals {
                    width: img.width(),
                    height: img.height(),
                    faces,
                })
            }
            None => None,
        };
        Ok(PhotoSignals {
            embedding,
            tags,
            text,
            faces,
        })
    }

    fn describe(&self) -> String {
        let mut parts = vec!["EfficientNet-Lite2 (embedding, ImageNet tags)"];
        if self.text.is_some() {
            parts.push("PP-OCRv4 text detector");
        }
        if self.faces.is_some() {
            parts.push("BlazeFace");
        }
        if self.descriptor.is_some() {
            parts.push("dlib face descriptor");
        }
        parts.join(" + ")
    }

    fn class_name(&self, class: u16) -> Option<&str> {
        self.imagenet
            .classes
            .get(usize::from(class))
            .map(String::as_str)
    }
}
