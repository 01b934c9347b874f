//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in training, inference and model files.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Input data does not fit the model.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Training produced a non-finite loss.
    #[error("training diverged: {0}")]
    Diverged(String),
    /// Reading or writing a model file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A model file exists but its content is wrong.
    #[error("{path}: {problem}")]
    BadModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// K-Means on the embedding failed (the cause kept as the source).
    #[error("k-means on the embedding failed: {0}")]
    KMeans(#[from] deepclust_cluster::ClusterError),
}

/// Result with [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;
