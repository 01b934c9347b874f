//! One contract for every clustering method: `Method::fit(&Dataset, &Control)`.
//!
//! | method | model | details |
//! |---|---|---|
//! | [`KMeans`], [`MiniBatchKMeans`] | `KMeansModel` | `()` |
//! | [`GaussianMixture`] | `GmmModel` | `()` |
//! | [`AeKMeans`] (autoencoder, then K-Means on the code) | [`AeKMeansModel`] | [`PretrainedSummary`] |
//! | [`Dec`] (DEC, or IDEC with a reconstruction weight) | `DecModel` | [`DecDetails`] |
//! | [`N2d`] (code, UMAP, Gaussian mixture) | [`N2dModel`] | [`N2dDetails`] |
//!
//! Every model predicts the clusters of new rows ([`Predict`]) and saves into a run folder
//! that [`crate::run::SavedModel::load`] reads back. Labels inside the [`Dataset`] are never
//! used to fit; methods that log scores while they train (DEC) use them for the log only.

mod dec;
mod error;
mod flat;
mod n2d;
mod pretrained;
mod select;

pub use dec::{AeKMeans, AeKMeansModel, Dec, DecDetails, PretrainedSummary};
pub use error::MethodError;
pub use flat::{GaussianMixture, KMeans, MiniBatchKMeans};
pub use n2d::{place_in_layout, N2d, N2dDetails, N2dModel};
pub use pretrained::{AeSource, Pretrained, ResumeEpochs};
pub use select::{select_k, Selected, SILHOUETTE_SAMPLE};

use crate::control::{Control, Stage};
use deepclust_data::Dataset;
use ndarray::{Array2, ArrayView2};

/// A clustering method with its parameters, ready to fit.
pub trait Method {
    /// What the fit learned, able to place new rows.
    type Model: Predict;
    /// What only this method reports (DEC's stop reason, N2D's silhouette per k, ...).
    type Details;

    /// Fits on the rows of `data`, checking `control`'s cancel flag between steps.
    fn fit(
        &self,
        data: &Dataset,
        control: &Control,
    ) -> Result<Fitted<Self::Model, Self::Details>, MethodError>;
}

/// A fitted model that assigns clusters to rows it has not seen.
pub trait Predict {
    /// The cluster of every row of `x` (as many columns as the fitted data).
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError>;
}

/// The result of [`Method::fit`].
#[derive(Debug, Clone)]
pub struct Fitted<M, D> {
    pub model: M,
    pub clustering: Clustering,
    pub details: D,
}

/// What every method gives about the fitted rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster of each fitted row, in `0..n_clusters`.
    pub labels: Vec<usize>,
    pub n_clusters: usize,
    /// How typical each row is of its cluster (higher = more) and what that number is,
    /// where the method computes it anyway (a mixture's responsibility); `None` elsewhere.
    pub confidence: Option<(Vec<f32>, &'static str)>,
    /// The space the clusters were found in, when not the input (a code, a UMAP layout),
    /// and its name.
    pub embedding: Option<(Array2<f32>, &'static str)>,
    /// Seconds of each stage, in order.
    pub timings: Vec<(Stage, f64)>,
}

impl Clustering {
    /// Seconds of every stage together.
    pub fn seconds(&self) -> f64 {
        self.timings.iter().map(|(_, s)| s).sum()
    }
}

/// `k` clusters need at least `k` rows.
fn check_k(k: usize, data: &Dataset) -> Result<(), MethodError> {
    if k > data.len() {
        return Err(MethodError::InvalidParam(format!(
            "k = {k} is larger than the number of items ({}) in {}",
            data.len(),
            data.source
        )));
    }
    Ok(())
}

/// The highest value of each row and its column.
fn row_argmax(p: ArrayView2<'_, f64>) -> (Vec<usize>, Vec<f32>) {
    let mut labels = Vec::with_capacity(p.nrows());
    let mut best = Vec::with_capacity(p.nrows());
    for row in p.outer_iter() {
        let (i, v) =
            row.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |b, (i, &v)| if v > b.1 { (i, v) } else { b },
            );
        labels.push(i);
        best.push(v as f32);
    }
    (labels, best)
}
