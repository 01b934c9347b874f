//! Pretrained embeddings from an ONNX image model run with the pure-Rust `tract-onnx` (cargo
//! feature `onnx`). Expects torchvision-style input: `[1, 3, 224, 224]` RGB in [0, 1]
//! normalised with ImageNet mean/std, and one output `[1, D]` (e.g. MobileNetV2's 1280-d
//! global average pool).

use image::RgbImage;
use std::path::Path;
use std::sync::Arc;
use tract_onnx::prelude::*;

/// Input side of the network.
pub const INPUT_SIDE: u32 = 224;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

pub struct OnnxEmbedder {
    plan: Arc<TypedRunnableModel>,
    /// Identifies the model in the cache (path and file size), so embeddings of different
    /// models are never mixed.
    pub id: String,
}

impl OnnxEmbedder {
    pub fn load(path: &Path) -> Result<OnnxEmbedder, String> {
        let err = |e: TractError| format!("{}: {e}", path.display());
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let plan = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(err)?
            .with_input_fact(
                0,
                f32::fact([1, 3, INPUT_SIDE as usize, INPUT_SIDE as usize]).into(),
            )
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        Ok(OnnxEmbedder {
            plan,
            id: format!("onnx:{}:{size}", path.display()),
        })
    }

    /// Resizes the short side to 224, centre-crops, normalises and runs the network.
    pub fn embed_vec(&self, img: &RgbImage) -> Result<Vec<f32>, String> {
        let crop = deepclust_embed::centre_crop(img, INPUT_SIDE);
        let side = INPUT_SIDE as usize;
        let input = tract_ndarray::Array4::from_shape_fn((1, 3, side, side), |(_, c, y, x)| {
            let p = crop.get_pixel(x as u32, y as u32)[c];
            (f32::from(p) / 255.0 - MEAN[c]) / STD[c]
        });
        let outputs = self
            .plan
            .run(tvec!(Tensor::from(input).into()))
            .map_err(|e| e.to_string())?;
        let out = outputs.first().ok_or("model has no output")?;
        let view = out
            .to_plain_array_view::<f32>()
            .map_err(|e| e.to_string())?;
        Ok(view.iter().copied().collect())
    }
}

impl deepclust_embed::ImageEmbedder for OnnxEmbedder {
    fn id(&self) -> &str {
        &self.id
    }
    fn decode_side(&self) -> u32 {
        256
    }
    fn embed(
        &self,
        img: &RgbImage,
    ) -> Result<deepclust_embed::PhotoSignals, deepclust_embed::EmbedError> {
        let embedding =
            self.embed_vec(img)
                .map_err(|problem| deepclust_embed::EmbedError::Output {
                    model: "tract feature model",
                    problem,
                })?;
        Ok(deepclust_embed::PhotoSignals {
            embedding,
            ..Default::default()
        })
    }
    fn describe(&self) -> String {
        format!("ONNX feature model {}", self.id)
    }
}
