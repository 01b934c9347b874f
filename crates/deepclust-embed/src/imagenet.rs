//! EfficientNet-Lite2 (ImageNet): a 1280-d embedding and the 1000 ImageNet logits, from which
//! the top tags are kept. Preprocessing per ../shared/models/README.md: the whole image resized
//! to 260x260 (the README's alternative to the centre crop, which would cut off the edges of
//! screenshots and documents), then `(x/255 - 0.5) / 0.5`.

use crate::error::EmbedError;
use crate::prep::{resize, to_nchw, Channels};
use crate::runtime::OrtRuntime;
use crate::session::{run_f32, SessionPool};
use crate::signals::Tag;
use image::RgbImage;
use std::path::Path;

pub const SIDE: u32 = 260;
/// Tags kept per photo.
pub const TOP_TAGS: usize = 5;

pub struct ImageNetModel {
    pool: SessionPool,
    /// Class names, index = logit.
    pub classes: Vec<String>,
}

impl ImageNetModel {
    pub fn load(rt: &OrtRuntime, model: &Path, classes: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(classes).map_err(|source| EmbedError::Io {
            path: classes.to_path_buf(),
            source,
        })?;
        let names: Vec<String> = text.lines().map(str::to_string).collect();
        if names.len() != 1000 {
            return Err(EmbedError::model(
                classes,
                format!("expected 1000 ImageNet class names, found {}", names.len()),
            ));
        }
        let pool = SessionPool::load(rt, "efficientnet-lite2", model)?;
        let (_, outputs) = pool.io_names();
        for want in ["embedding", "logits"] {
            if !outputs.iter().any(|o| o == want) {
                return Err(EmbedError::model(
                    model,
                    format!("has no output {want:?} (outputs: {outputs:?})"),
                ));
            }
        }
        Ok(ImageNetModel {
            pool,
            classes: names,
        })
    }

    /// The embedding and the top tags (softmax probabilities) of `img`.
    pub fn run(&self, img: &RgbImage) -> Result<(Vec<f32>, Vec<Tag>), EmbedError> {
        let input = to_nchw(&resize(img, SIDE, SIDE), Channels::Rgb, [0.5; 3], [0.5; 3]);
        let shape = [1, 3, SIDE as usize, SIDE as usize];
        let mut out = self.pool.with(|s| {
            run_f32(
                s,
                self.pool.name,
                "input",
                shape,
                input,
                &["embedding", "logits"],
            )
        })?;
        let (_, logits) = out.pop().unwrap_or_default();
        let (_, embedding) = out.pop().unwrap_or_default();
        if embedding.len() != 1280 || logits.len() != 1000 {
            return Err(EmbedError::Output {
                model: self.pool.name,
                problem: format!(
                    "embedding of {} and logits of {} values (expected 1280 and 1000)",
                    embedding.len(),
                    logits.len()
                ),
            });
        }
        Ok((embedding, top_tags(&logits, TOP_TAGS)))
    }
}

/// The `k` most probable classes of a logit vector (softmax), most probable first.
pub fn top_tags(logits: &[f32], k: usize) -> Vec<Tag> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    idx.sort_by(|&a, &b| exp[b].total_cmp(&exp[a]).then(a.cmp(&b)));
    idx.into_iter()
        .take(k)
        .map(|i| Tag {
            class: i as u16,
            prob: exp[i] / sum,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_tags_are_softmax_ordered() {
        // softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]
        let t = top_tags(&[0.0, 2f32.ln(), 3f32.ln()], 2);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].class, t[1].class), (2, 1));
        assert!((t[0].prob - 0.5).abs() < 1e-6 && (t[1].prob - 1.0 / 3.0).abs() < 1e-6);
    }
}
