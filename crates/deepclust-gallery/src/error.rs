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
    #[error("content grouping: {0}")]
    Content(String),
    #[error(transparent)]
    Embed(#[from] deepclust_embed::EmbedError),
    #[error("cancelled")]
    Cancelled,
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
