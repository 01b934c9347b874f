use thiserror::Error;

/// Everything that can go wrong when fitting or applying a clustering model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClusterError {
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("the number of clusters k = {k} is larger than the number of samples n = {n}")]
    TooManyClusters { k: usize, n: usize },
    #[error("the data is empty ({rows} rows x {cols} columns)")]
    EmptyData { rows: usize, cols: usize },
    #[error("the data contains NaN or infinite values (first at row {row})")]
    NonFinite { row: usize },
    #[error("dimension mismatch: the model has {expected} features, the data has {found}")]
    DimensionMismatch { expected: usize, found: usize },
    #[error("cancelled")]
    Cancelled,
}
