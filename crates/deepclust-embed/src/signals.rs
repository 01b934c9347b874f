//! What the models say about one photo.

use serde::{Deserialize, Serialize};

/// One ImageNet class with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub class: u16,
    pub prob: f32,
}

/// Text detector output for one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSignals {
    /// Fraction of pixels that are text (probability > 0.3).
    pub area: f32,
    /// Separate text regions (lines or blocks): many in screenshots and documents.
    pub boxes: u32,
    /// Fraction of the picture covered by the text boxes.
    pub box_cover: f32,
    /// Text fraction in each cell of a 4x4 grid, row-major: where the text is (captions at
    /// the top and bottom of memes, a centred block on quotes, full pages on documents).
    pub grid: Vec<f32>,
}

/// One detected face, in the pixels of the image the signals were computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub score: f32,
    /// x0, y0, x1, y1.
    pub bbox: [f32; 4],
    /// Subject's right eye, left eye, nose tip, mouth, right ear, left ear.
    pub keypoints: [[f32; 2]; 6],
    /// 128-d descriptor (dlib), when the descriptor model ran.
    #[serde(default)]
    pub descriptor: Option<Vec<f32>>,
}

/// Faces found in one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSignals {
    /// Width and height of the image the boxes refer to.
    pub width: u32,
    pub height: u32,
    pub faces: Vec<Face>,
}

impl FaceSignals {
    /// Share of the picture covered by `face`'s box.
    pub fn share(&self, face: &Face) -> f32 {
        let area = (self.width as f32 * self.height as f32).max(1.0);
        (face.bbox[2] - face.bbox[0]).max(0.0) * (face.bbox[3] - face.bbox[1]).max(0.0) / area
    }
}

/// Everything an embedder computed for one photo.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PhotoSignals {
    /// The image embedding (a model's feature vector).
    pub embedding: Vec<f32>,
    /// Most probable ImageNet classes, most probable first (empty without a classifier).
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub text: Option<TextSignals>,
    #[serde(default)]
    pub faces: Option<FaceSignals>,
}
