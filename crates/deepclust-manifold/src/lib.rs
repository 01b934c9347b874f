//! Manifold learning for deepclust: UMAP (McConville et al.'s N2D uses it on the autoencoder
//! code), reproducing umap-learn's algorithm step by step.
//!
//! * [`exact_knn`]: brute-force k nearest neighbours on GEMM blocks (the test oracle, and the
//!   method for small data, as umap-learn uses exact search under 4096 rows).
//! * [`nn_descent`]: approximate kNN by NN-descent (Dong et al. 2011) initialised from a forest
//!   of random-projection trees, as pynndescent does; parallel and deterministic for a seed.
//! * [`fuzzy_simplicial_set`]: umap-learn's `smooth_knn_dist`, membership strengths and fuzzy
//!   union symmetrisation.
//! * [`find_ab_params`]: the `a`, `b` curve fit from `min_dist` and `spread`.
//! * [`Umap`]: the whole pipeline, spectral initialisation and negative-sampling SGD layout.
//! * [`trustworthiness`], [`knn_preservation`]: quality measures of an embedding.
//!
//! ```
//! use deepclust_manifold::Umap;
//! use ndarray::Array2;
//! use std::sync::atomic::AtomicBool;
//! // Two tight groups of 30 points in 5 dimensions.
//! let x = Array2::from_shape_fn((60, 5), |(i, j)| (if i < 30 { 0.0 } else { 10.0 }) + ((i * 7 + j * 3) % 11) as f32 * 0.01);
//! let cancel = AtomicBool::new(false);
//! let emb = Umap::params().n_components(2).n_neighbors(10).n_epochs(50).seed(7)
//!     .fit_transform(x.view(), &mut |_| {}, &cancel).unwrap();
//! assert_eq!(emb.dim(), (60, 2));
//! ```

mod curve;
mod error;
mod fuzzy;
mod knn;
mod layout;
mod nndescent;
mod quality;
mod rptree;
mod spectral;
mod umap;

pub use curve::find_ab_params;
pub use error::ManifoldError;
pub use fuzzy::{fuzzy_simplicial_set, smooth_knn_dist, FuzzyGraph};
pub use knn::{exact_knn, knn_recall, KnnGraph};
pub use nndescent::{nn_descent, NnDescentParams};
pub use quality::{knn_preservation, trustworthiness};
pub use umap::{KnnMethod, SgdOrder, Umap, UmapInit, UmapParams, UmapProgress, UmapStage};

use ndarray::ArrayView2;

/// Validates a data matrix: non-empty, finite. Returns the first offending row on NaN/inf.
pub(crate) fn check_data(x: ArrayView2<'_, f32>) -> Result<(), ManifoldError> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(ManifoldError::EmptyData {
            rows: x.nrows(),
            cols: x.ncols(),
        });
    }
    for (row, values) in x.rows().into_iter().enumerate() {
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ManifoldError::NonFinite { row });
        }
    }
    Ok(())
}

/// Squared Euclidean distance of two equally long slices.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}
