use std::path::PathBuf;

/// Errors that stop an organize run (problems with single photos are reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    #[error("{path}: {problem}")]
    Path { path: PathBuf, problem: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Content grouping got values it cannot use (checked before any fitting).
    #[error("content grouping: {0}")]
    Content(String),
    #[error("content grouping: UMAP: {0}")]
    Umap(#[from] deepclust_manifold::ManifoldError),
    /// K-Means or the mixture failed; `what` says which fit ("k-means with k=6").
    #[error("content grouping: {what}: {source}")]
    Clustering {
        what: String,
        source: deepclust_cluster::ClusterError,
    },
    #[error("content grouping: autoencoder: {0}")]
    Autoencoder(#[from] deepclust_nn::NnError),
    #[error(transparent)]
    Embed(#[from] deepclust_embed::EmbedError),
    #[error("cancelled")]
    Cancelled,
    /// The catalogue could not be read or written (a full disk, a read-only folder, a file
    /// that is not a catalogue); what was committed before stays.
    #[error("catalogue {path}: {source}")]
    Catalog {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// Another run holds the output's lock.
    #[error("{path} is locked: another `deepclust organize` is writing into this output; wait for it to finish (a killed run's lock is released by the system)")]
    Locked { path: PathBuf },
}

impl GalleryError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GalleryError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn path(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        GalleryError::Path {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
