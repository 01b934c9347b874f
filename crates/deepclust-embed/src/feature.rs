//! Any ONNX feature extractor in torchvision's layout: `[N,3,224,224]` RGB normalised with
//! the ImageNet mean and std, one `[N,D]` output (e.g. MobileNetV2's 1280-d pool).

use crate::error::EmbedError;
use crate::prep::{to_nchw, Channels};
use crate::runtime::OrtRuntime;
use crate::session::{run_f32, SessionPool};
use crate::signals::PhotoSignals;
use crate::ImageEmbedder;
use image::{imageops, RgbImage};
use std::path::Path;

pub const SIDE: u32 = 224;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// torchvision's resize-and-crop: the shorter side scaled to `side` (bilinear), then the
/// centre `side` x `side` square.
pub fn centre_crop(img: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let scale = side as f32 / w.min(h).max(1) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(side),
        ((h as f32 * scale).round() as u32).max(side),
    );
    let resized = imageops::resize(img, nw, nh, imageops::FilterType::Triangle);
    imageops::crop_imm(&resized, (nw - side) / 2, (nh - side) / 2, side, side).to_image()
}

pub struct FeatureModel {
    pool: SessionPool,
    input: String,
    output: String,
    id: String,
}

impl FeatureModel {
    pub fn load(rt: &OrtRuntime, path: &Path) -> Result<FeatureModel, EmbedError> {
        let size = std::fs::metadata(path)
            .map_err(|source| EmbedError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let pool = SessionPool::load(rt, "feature model", path)?;
        let (inputs, outputs) = pool.io_names();
        let (Some(input), Some(output)) = (inputs.first(), outputs.first()) else {
            return Err(EmbedError::model(
                path,
                "the model has no input or no output",
            ));
        };
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        Ok(FeatureModel {
            input: input.clone(),
            output: output.clone(),
            pool,
            id: format!("onnx:{name}:{size}"),
        })
    }
}

impl ImageEmbedder for FeatureModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn decode_side(&self) -> u32 {
        // A little above the network's side so the centre crop is sharp.
        256
    }

    /// Shorter side to 224, centre crop, ImageNet normalisation.
    fn embed(&self, img: &RgbImage) -> Result<PhotoSignals, EmbedError> {
        let crop = centre_crop(img, SIDE);
        let data = to_nchw(&crop, Channels::Rgb, MEAN, STD);
        let shape = [1, 3, SIDE as usize, SIDE as usize];
        let mut out = self.pool.with(|s| {
            run_f32(
                s,
                self.pool.name,
                &self.input,
                shape,
                data,
                &[self.output.as_str()],
            )
        })?;
        let (_, embedding) = out.pop().unwrap_or_default();
        if embedding.is_empty() {
            return Err(EmbedError::Output {
                model: self.pool.name,
                problem: "empty output".into(),
            });
        }
        Ok(PhotoSignals {
            embedding,
            ..PhotoSignals::default()
        })
    }

    fn describe(&self) -> String {
        format!("ONNX feature model {}", self.pool.path.display())
    }
}
