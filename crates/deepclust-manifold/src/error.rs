use thiserror::Error;

/// Everything that can go wrong when building a neighbour graph or a UMAP embedding.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ManifoldError {
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error(
        "n_neighbors = {n_neighbors} needs more samples: the data has only n = {n} rows \
         (n_neighbors counts the point itself and must be < n)"
    )]
    TooFewSamples { n_neighbors: usize, n: usize },
    #[error("the data is empty ({rows} rows x {cols} columns)")]
    EmptyData { rows: usize, cols: usize },
    #[error("the data contains NaN or infinite values (first at row {row})")]
    NonFinite { row: usize },
    #[error("dimension mismatch: {what} has {found} rows, expected {expected}")]
    DimensionMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("cancelled")]
    Cancelled,
}
