//! The one error type of the crate: every variant names the file or the input at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Two inputs that describe the same items disagree on how many items there are.
    #[error("{what} has {got} entries but the cluster labels have {expected}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// The image shape does not fit the rows of the image matrix.
    #[error("image shape {height} x {width} x {channels} needs {needed} values per row, the image matrix has {got}")]
    ImageShape {
        height: usize,
        width: usize,
        channels: usize,
        needed: usize,
        got: usize,
    },
    /// Any other input the report cannot use, with the reason.
    #[error("invalid report input: {0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    /// Drawing a chart failed (plotters reports it as text).
    #[error("cannot draw chart {name}: {message}")]
    Chart { name: String, message: String },
    #[error("cannot render the HTML template: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Metrics(#[from] deepclust_metrics::MetricsError),
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.into();
    move |source| ReportError::Io { path, source }
}
