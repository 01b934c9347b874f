//! The content embedding learned from the library itself, with no pretrained model: a small
//! fully connected autoencoder trained on the photos' own 28x28 grayscale thumbnails (the DEC
//! tutorial's approach, on `deepclust-nn`), its code concatenated with the features of
//! [`crate::thumbs::embed`] (grayscale layout, by default, and the colour, texture and tone
//! statistics), then clustered like any other embedding.
//!
//! The trained network is kept in the output directory ([`AE_DIR`]); a re-run on a grown
//! library encodes with it instead of retraining, so unchanged photos get the same codes and,
//! with the cached centroids, the same clusters.

use crate::error::GalleryError;
use crate::scan::Progress;
use crate::thumbs::{AE_SIDE, EMBEDDING_BLOCKS};
use deepclust_nn::{Autoencoder, AutoencoderConfig, Optimizer};
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::index::sample;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Folder (inside the output directory) holding the trained autoencoder.
pub const AE_DIR: &str = ".deepclust-autoencoder";

/// Which embedding the content grouping clusters when no ONNX model is given.
///
/// The default is `Stats`: on the generated 2,000-photo libraries (`gallery_bench`, k = 10,
/// release build) it scored NMI 0.615 (Fashion-MNIST) / 0.505 (MNIST) with no training; the
/// best autoencoder variant (the default [`AutoencoderParams`]) 0.611 / 0.523 after 23 s of
/// training (docs/BENCHMARKS.md): no clear gain for the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingKind {
    /// The content models (EfficientNet-Lite2 with ImageNet tags, text and face detection)
    /// when onnxruntime and the models are found, else [`EmbeddingKind::Stats`], saying so.
    #[default]
    Auto,
    /// The content models, or an error when they cannot be used.
    Models,
    /// Hand-made features: 16x16 standardised grayscale layout plus colour, texture and tone
    /// statistics ([`crate::thumbs::embed`]). No training.
    Stats,
    /// An autoencoder's code of the 28x28 thumbnail plus the colour, texture and tone
    /// statistics.
    Autoencoder,
}

impl EmbeddingKind {
    /// `(kind, name, description)` for a command line's `--embedding`.
    pub const CHOICES: &'static [(EmbeddingKind, &'static str, &'static str)] = &[
        (
            EmbeddingKind::Auto,
            "auto",
            "The content models when present, else the statistics",
        ),
        (
            EmbeddingKind::Models,
            "models",
            "The content models (EfficientNet-Lite2, text and face detectors); error without them",
        ),
        (
            EmbeddingKind::Stats,
            "stats",
            "Thumbnail layout plus colour and texture statistics",
        ),
        (
            EmbeddingKind::Autoencoder,
            "autoencoder",
            "Autoencoder trained on the library's thumbnails, plus the statistics",
        ),
    ];
}

impl std::str::FromStr for EmbeddingKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(EmbeddingKind::Auto),
            "models" => Ok(EmbeddingKind::Models),
            "stats" => Ok(EmbeddingKind::Stats),
            "autoencoder" => Ok(EmbeddingKind::Autoencoder),
            _ => Err(format!(
                "embedding must be auto, models, stats or autoencoder, got {s:?}"
            )),
        }
    }
}

/// Architecture and training of the thumbnail autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoencoderParams {
    /// Hidden widths of the encoder (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Code width.
    pub code: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f32,
    /// Train on at most this many photos (a seeded sample), so a 100,000-photo library trains
    /// in bounded time; every photo is encoded.
    pub max_train: usize,
    /// Weight of the code block in distances (the statistics blocks keep theirs from
    /// [`EMBEDDING_BLOCKS`]).
    pub code_weight: f32,
    /// Weight of the 16x16 grayscale layout block of [`crate::thumbs::embed`] next to the
    /// code; 0 leaves it out (the code stands for the layout).
    pub layout_weight: f32,
}

impl Default for AutoencoderParams {
    fn default() -> Self {
        AutoencoderParams {
            hidden: vec![500, 500, 2000],
            code: 10,
            epochs: 30,
            batch_size: 64,
            lr: 1e-3,
            max_train: 20_000,
            // Measured best of the autoencoder variants on the gallery_bench libraries
            // (docs/BENCHMARKS.md): code at half the layout's weight, layout kept.
            code_weight: 0.5,
            layout_weight: 1.0,
        }
    }
}

impl AutoencoderParams {
    pub fn validate(&self) -> Result<(), GalleryError> {
        let bad = |m: String| Err(GalleryError::InvalidParams(m));
        if self.hidden.contains(&0) || self.code == 0 {
            return bad(format!(
                "autoencoder widths must be positive, got {:?} and code {}",
                self.hidden, self.code
            ));
        }
        if self.epochs == 0 || self.batch_size == 0 || self.max_train == 0 {
            return bad("autoencoder epochs, batch size and max_train must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "autoencoder learning rate must be positive, got {}",
                self.lr
            ));
        }
        if !(self.code_weight.is_finite() && self.code_weight > 0.0) {
            return bad(format!(
                "autoencoder code weight must be positive, got {}",
                self.code_weight
            ));
        }
        if !(self.layout_weight.is_finite() && self.layout_weight >= 0.0) {
            return bad(format!(
                "autoencoder layout weight must be 0 or positive, got {}",
                self.layout_weight
            ));
        }
        Ok(())
    }

    /// Length of [`combine`]'s rows.
    pub fn embedding_len(&self) -> usize {
        let layout = if self.layout_weight > 0.0 {
            EMBEDDING_BLOCKS[0].0
        } else {
            0
        };
        self.code + layout + stats_len()
    }

    fn config(&self, seed: u64) -> AutoencoderConfig {
        let mut dims = vec![(AE_SIDE * AE_SIDE) as usize];
        dims.extend(&self.hidden);
        dims.push(self.code);
        AutoencoderConfig::default()
            .dims(dims)
            .epochs(self.epochs)
            .batch_size(self.batch_size)
            .optimizer(Optimizer::adam(), self.lr)
            .seed(seed)
    }
}

/// Length of the statistics part of [`crate::thumbs::embed`] (everything after the grayscale
/// grid): colour histogram, texture, tone.
pub fn stats_len() -> usize {
    EMBEDDING_BLOCKS[1..].iter().map(|b| b.0).sum()
}

/// Block layout of [`combine`]'s rows: the code, the grayscale layout when weighted, then the
/// statistics blocks.
pub fn blocks(params: &AutoencoderParams) -> Vec<(usize, f32)> {
    let mut b = vec![(params.code, params.code_weight)];
    if params.layout_weight > 0.0 {
        b.push((EMBEDDING_BLOCKS[0].0, params.layout_weight));
    }
    b.extend_from_slice(&EMBEDDING_BLOCKS[1..]);
    b
}

/// Rows of pixels in [0, 1] (one per photo).
pub fn pixel_matrix(pixels: &[&[u8]]) -> Result<Array2<f32>, GalleryError> {
    let d = (AE_SIDE * AE_SIDE) as usize;
    if let Some(bad) = pixels.iter().position(|p| p.len() != d) {
        return Err(GalleryError::Content(format!(
            "photo {bad} has {} thumbnail pixels, expected {d} (a cache from an older version?)",
            pixels[bad].len()
        )));
    }
    Ok(Array2::from_shape_fn((pixels.len(), d), |(i, j)| {
        f32::from(pixels[i][j]) / 255.0
    }))
}

/// `[code | layout (with `with_layout`) | statistics]` per photo. `stats[i]` is photo i's
/// [`crate::thumbs::embed`] output.
pub fn combine(codes: &Array2<f32>, stats: &[&[f32]], with_layout: bool) -> Vec<Vec<f32>> {
    let skip = if with_layout {
        0
    } else {
        EMBEDDING_BLOCKS[0].0
    };
    codes
        .rows()
        .into_iter()
        .zip(stats)
        .map(|(code, s)| {
            let mut row = code.to_vec();
            row.extend_from_slice(s.get(skip..).unwrap_or(&[]));
            row
        })
        .collect()
}

/// Loads the autoencoder an earlier run kept in `dir`, if it fits `params`.
pub fn load_saved(dir: &Path, params: &AutoencoderParams) -> Option<Autoencoder> {
    let ae = Autoencoder::load(dir).ok()?;
    let expected = params.config(0);
    (ae.config().dims == expected.dims).then_some(ae)
}

/// Trains the autoencoder on (a seeded sample of at most `max_train` of) `x`. Progress is
/// reported per epoch as stage `"autoencoder"`.
pub fn train(
    x: ArrayView2<'_, f32>,
    params: &AutoencoderParams,
    seed: u64,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<Autoencoder, GalleryError> {
    params.validate()?;
    let nn = GalleryError::Autoencoder;
    let mut ae = Autoencoder::new(params.config(seed)).map_err(nn)?;
    let n = x.nrows();
    let sampled = (n > params.max_train).then(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut idx = sample(&mut rng, n, params.max_train).into_vec();
        idx.sort_unstable();
        x.select(Axis(0), &idx)
    });
    let train_x = match &sampled {
        Some(s) => s.view(),
        None => x.view(),
    };
    progress(Progress {
        stage: "autoencoder",
        done: 0,
        total: params.epochs,
    });
    let outcome = ae
        .train(
            train_x,
            None,
            &mut |r| {
                progress(Progress {
                    stage: "autoencoder",
                    done: r.epoch,
                    total: params.epochs,
                })
            },
            cancel,
        )
        .map_err(nn)?;
    if outcome.cancelled {
        return Err(GalleryError::Cancelled);
    }
    Ok(ae)
}

/// The codes of every row of `x`.
pub fn encode(ae: &Autoencoder, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, GalleryError> {
    Ok(ae.encode(x)?)
}

/// Saves `ae` to `dir`, replacing an earlier one: written beside it first, then renamed, so
/// an interrupted save leaves the old network or none, never half of one.
pub fn save(ae: &Autoencoder, dir: &Path) -> Result<(), GalleryError> {
    let tmp = dir.with_extension("partial");
    let _ = fs::remove_dir_all(&tmp);
    // Kept only to encode later photos: no optimiser moments.
    ae.save_for_inference(&tmp)
        .map_err(|e| GalleryError::path(&tmp, format!("cannot save the autoencoder: {e}")))?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| GalleryError::io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| GalleryError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_code_with_statistics_only() {
        let codes = Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let full: Vec<f32> = (0..256 + stats_len()).map(|v| v as f32).collect();
        let rows = combine(&codes, &[&full, &full], false);
        assert_eq!(rows[1].len(), 2 + stats_len());
        assert_eq!(&rows[1][..3], &[3.0, 4.0, 256.0]);
        let params = AutoencoderParams {
            code: 2,
            layout_weight: 0.0,
            ..AutoencoderParams::default()
        };
        assert_eq!(params.embedding_len(), rows[0].len());
        assert_eq!(
            blocks(&params).iter().map(|b| b.0).sum::<usize>(),
            rows[0].len()
        );
        let with = AutoencoderParams {
            layout_weight: 0.5,
            ..params
        };
        let rows = combine(&codes, &[&full, &full], true);
        assert_eq!(&rows[0][..3], &[1.0, 2.0, 0.0]);
        assert_eq!(with.embedding_len(), rows[0].len());
        assert_eq!(blocks(&with)[1], (256, 0.5));
        assert!(pixel_matrix(&[&[0u8; 5]]).is_err());
        assert_eq!("stats".parse::<EmbeddingKind>(), Ok(EmbeddingKind::Stats));
        assert!("pca".parse::<EmbeddingKind>().is_err());
    }

    #[test]
    fn trains_saves_and_reloads_to_the_same_codes() {
        // Two kinds of 28x28 images: left half bright vs bottom half bright, with noise.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        use rand::Rng;
        let d = (AE_SIDE * AE_SIDE) as usize;
        let rows: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                (0..d)
                    .map(|j| {
                        let (x, y) = (j % 28, j / 28);
                        let on = if i % 2 == 0 { x < 14 } else { y >= 14 };
                        (if on { 200 } else { 20 }) + rng.gen_range(0..30u8)
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
        let x = pixel_matrix(&refs).unwrap();
        let params = AutoencoderParams {
            hidden: vec![32],
            code: 2,
            epochs: 30,
            batch_size: 8,
            ..AutoencoderParams::default()
        };
        let epochs = std::sync::Mutex::new(Vec::new());
        let ae = train(
            x.view(),
            &params,
            3,
            &|p| epochs.lock().unwrap().push(p.done),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(*epochs.lock().unwrap(), (0..=30).collect::<Vec<_>>());
        let first = ae.history()[0].train_loss;
        let last = ae.history()[29].train_loss;
        assert!(last < first * 0.5, "loss {first} -> {last}");
        let codes = encode(&ae, x.view()).unwrap();
        // The two kinds are apart in code space: each code is nearer its kind's mean.
        let mean = |parity: usize| -> Vec<f32> {
            let sel: Vec<usize> = (0..40).filter(|i| i % 2 == parity).collect();
            let m = codes.select(Axis(0), &sel).mean_axis(Axis(0)).unwrap();
            m.to_vec()
        };
        let (m0, m1) = (mean(0), mean(1));
        let dist =
            |a: &[f32], b: &[f32]| -> f32 { a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum() };
        for (i, row) in codes.rows().into_iter().enumerate() {
            let r = row.to_vec();
            let (own, other) = if i % 2 == 0 { (&m0, &m1) } else { (&m1, &m0) };
            assert!(dist(&r, own) < dist(&r, other), "row {i}");
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AE_DIR);
        save(&ae, &path).unwrap();
        save(&ae, &path).unwrap(); // replaces
        let back = load_saved(&path, &params).unwrap();
        assert_eq!(encode(&back, x.view()).unwrap(), codes);
        let other = AutoencoderParams {
            code: 3,
            ..params.clone()
        };
        assert!(load_saved(&path, &other).is_none());
        let cancelled = train(x.view(), &params, 3, &|_| {}, &AtomicBool::new(true));
        assert!(matches!(cancelled, Err(GalleryError::Cancelled)));
    }
}
