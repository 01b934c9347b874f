//! Clustering algorithms for deepclust.
//!
//! * [`KMeans`]: Lloyd's algorithm with k-means++ seeding and restarts. Squared distances use
//!   the `||x||² − 2x·c + ||c||²` expansion on a real GEMM (the pure-Rust `gemm` crate), rows
//!   are processed in fixed blocks in parallel (rayon) and centroid sums accumulate in `f64`
//!   per block, so results are identical for a given seed whatever the thread count.
//! * [`MiniBatchKMeans`]: the mini-batch variant (Sculley 2010, scikit-learn's update rule) for
//!   data that does not fit comfortably in a full Lloyd pass.
//! * [`GaussianMixture`]: full-covariance Gaussian mixture by EM, K-Means initialised (the
//!   last step of N2D), with BIC for choosing the number of components without labels.
//! * [`silhouette_score`] and [`davies_bouldin_score`]: label-free scores of a partition, to
//!   choose k.
//!
//! ```
//! use deepclust_cluster::KMeans;
//! use ndarray::array;
//! let x = array![[0.0f32, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]];
//! let model = KMeans::params(2).n_init(3).seed(7).fit(x.view()).unwrap();
//! assert_eq!(model.labels()[0], model.labels()[1]);
//! assert_ne!(model.labels()[0], model.labels()[2]);
//! ```

mod assign;
mod davies_bouldin;
mod error;
mod gmm;
mod hamerly;
mod init;
mod kmeans;
mod kselect;
mod minibatch;
mod silhouette;

pub use davies_bouldin::davies_bouldin_score;
pub use error::ClusterError;
pub use gmm::{GaussianMixture, GmmModel, GmmParams, GmmProgress};
pub use kmeans::{KMeans, KMeansInit, KMeansModel, KMeansParams, KMeansProgress};
pub use kselect::KSelect;
pub use minibatch::{MiniBatchKMeans, MiniBatchKMeansParams};
pub use silhouette::silhouette_score;

/// `Err(InvalidParam)` unless `value >= 1`, for counts such as `n_clusters` or `n_init`.
pub(crate) fn require_positive(name: &'static str, value: usize) -> Result<(), ClusterError> {
    if value == 0 {
        return Err(ClusterError::InvalidParam {
            name,
            reason: "must be at least 1".into(),
        });
    }
    Ok(())
}

/// `Err(InvalidParam)` unless `value` is finite and `>= 0`, for tolerances.
pub(crate) fn require_non_negative(name: &'static str, value: f64) -> Result<(), ClusterError> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(ClusterError::InvalidParam {
            name,
            reason: format!("must be a finite number >= 0, got {value}"),
        });
    }
    Ok(())
}

/// Validates a data matrix: non-empty, finite. Returns the first offending row on NaN/inf.
pub(crate) fn check_data(x: ndarray::ArrayView2<'_, f32>) -> Result<(), ClusterError> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(ClusterError::EmptyData {
            rows: x.nrows(),
            cols: x.ncols(),
        });
    }
    for (row, values) in x.outer_iter().enumerate() {
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ClusterError::NonFinite { row });
        }
    }
    Ok(())
}
