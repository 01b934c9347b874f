//! Argument groups shared by the deep-clustering commands (train-ae, dec, idec, n2d, mnist):
//! the autoencoder, its augmentation and DEC's settings, each turned into the library's
//! configuration in one place.

use crate::choice::one_of;
use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::data::Dataset;
use deepclust::nn::{Augmentation, AutoencoderConfig, DecConfig, Optimizer};

/// Autoencoder architecture and training.
#[derive(Args, Debug, Clone)]
pub struct AeArgs {
    /// Widths after the input, the last is the code: the DEC architecture is 500,500,2000,10.
    #[arg(long, value_delimiter = ',', default_value = "500,500,2000,10")]
    pub dims: Vec<usize>,
    /// Training epochs (the DEC reference code pretrains for 200-300).
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    #[arg(long, value_parser = one_of(Optimizer::CHOICES), default_value = "adam")]
    pub optimizer: Optimizer,
    /// Learning rate (Adam 1e-3; the DEC paper's SGD used 1.0 with momentum 0.9).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Momentum of SGD.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub augment: AugmentArgs,
}

/// DEC-DA data augmentation.
#[derive(Args, Debug, Clone)]
pub struct AugmentArgs {
    /// Train on randomly shifted and rotated copies of the images (DEC-DA): in autoencoder
    /// pretraining and in DEC/IDEC, whose target distribution stays computed on the clean
    /// images. Needs image data (IDX, or a folder/CSV of images).
    #[arg(long)]
    pub augment: bool,
    /// Largest random shift with --augment, as a fraction of the image width/height.
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    pub augment_shift: f32,
    /// Largest random rotation with --augment, in degrees either way.
    #[arg(long, default_value_t = 10.0, value_name = "DEGREES")]
    pub augment_rotation: f32,
}

impl AugmentArgs {
    /// The augmentation for the images of `ds`, or `None` without --augment.
    pub fn augmentation(&self, ds: &Dataset) -> Result<Option<Augmentation>> {
        if !self.augment {
            return Ok(None);
        }
        let Some((height, width)) = ds.image_shape else {
            bail!(
                "--augment shifts and rotates images, but the rows of {} ({} values each) are not images of a known size",
                ds.source,
                ds.dim()
            );
        };
        let augmentation = Augmentation::dec_da(height, width)
            .max_shift(self.augment_shift)
            .max_rotation_degrees(self.augment_rotation);
        augmentation
            .validate()
            .context("invalid --augment-shift / --augment-rotation")?;
        Ok(Some(augmentation))
    }
}

impl AeArgs {
    /// The autoencoder settings for `ds` (its width, and its image size with --augment).
    pub fn config(&self, ds: &Dataset) -> Result<AutoencoderConfig> {
        let input_dim = ds.dim();
        let mut dims = vec![input_dim];
        dims.extend(&self.dims);
        let optimizer = self.optimizer.with_momentum(self.momentum);
        Ok(AutoencoderConfig::default()
            .dims(dims)
            .epochs(self.epochs)
            .batch_size(self.batch_size)
            .optimizer(optimizer, self.lr)
            .seed(self.seed)
            .augmentation(self.augment.augmentation(ds)?))
    }
}

/// DEC / IDEC fine-tuning settings.
#[derive(Args, Debug, Clone)]
pub struct DecArgs {
    /// Number of clusters.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Steps between two recomputations of the target distribution on the whole data.
    #[arg(long, default_value_t = 140)]
    pub update_interval: usize,
    /// Stop when fewer than this fraction of labels change between two updates.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Maximum number of gradient steps.
    #[arg(long, default_value_t = 20_000)]
    pub maxiter: usize,
    /// Learning rate of SGD (momentum 0.9).
    #[arg(long, default_value_t = 0.01)]
    pub dec_lr: f32,
    /// Degrees of freedom of the Student's t kernel.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f32,
    /// K-Means restarts for the initial centroids.
    #[arg(long, default_value_t = 20)]
    pub kmeans_n_init: usize,
}

impl DecArgs {
    pub fn config(&self, seed: u64, gamma: Option<f32>) -> DecConfig {
        let mut c = DecConfig::dec(self.k)
            .alpha(self.alpha)
            .update_interval(self.update_interval)
            .tol(self.tol)
            .maxiter(self.maxiter)
            .optimizer(Optimizer::sgd(0.9), self.dec_lr)
            .kmeans_n_init(self.kmeans_n_init)
            .seed(seed);
        c = c.gamma(gamma);
        c
    }
}
