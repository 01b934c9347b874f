use std::path::PathBuf;

/// Why the ONNX runtime could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No candidate location held a loadable onnxruntime library.
    #[error("onnxruntime was not found (tried: {tried}); install it with `pip install onnxruntime` or pass --ort-lib PATH")]
    NotFound { tried: String },
    /// A library was found but could not be used (not a library, wrong version).
    #[error("onnxruntime at {path} cannot be used: {reason}; `pip install onnxruntime` gives a recent one")]
    Unusable { path: PathBuf, reason: String },
    /// The first attempt in this process failed (the message says how); it is not retried.
    #[error("{message}")]
    Failed { message: String },
}

/// Errors of the models and signals.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{path}: {problem}")]
    Model { path: PathBuf, problem: String },
    #[error("{model}: inference failed: {source}")]
    Inference {
        model: &'static str,
        #[source]
        source: ort::Error,
    },
    #[error("{model}: unexpected output: {problem}")]
    Output {
        model: &'static str,
        problem: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EmbedError {
    pub(crate) fn model(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        EmbedError::Model {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
