use crate::control::Stage;
use deepclust_cluster::ClusterError;
use deepclust_data::DataError;
use deepclust_manifold::ManifoldError;
use deepclust_nn::NnError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a method could not fit, predict, save or load. Parameter problems
/// ([`MethodError::is_param_error`]) are apart from problems of the data and the disk.
#[derive(Debug, Error)]
pub enum MethodError {
    /// A parameter value, or a combination of values, that cannot work.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Nn(#[from] NnError),
    #[error("UMAP: {0}")]
    Umap(#[from] ManifoldError),
    #[error(transparent)]
    Data(#[from] DataError),
    /// Scoring against the labels failed (their number is not the rows').
    #[error("scoring: {0}")]
    Metrics(#[from] deepclust_metrics::MetricsError),
    /// The autoencoder's input width is not the data's.
    #[error("the autoencoder{} expects {expected} features, the data has {found}", .dir.as_ref().map_or(String::new(), |d| format!(" in {}", d.display())))]
    InputMismatch {
        dir: Option<PathBuf>,
        expected: usize,
        found: usize,
    },
    /// A folder meant for a new model already holds one.
    #[error("{} already holds a model; resume it or choose another folder", .0.display())]
    AlreadyExists(PathBuf),
    /// A saved model could not be read.
    #[error("cannot load the model in {}", .dir.display())]
    Load {
        dir: PathBuf,
        #[source]
        source: Box<MethodError>,
    },
    /// A model or run file could not be written.
    #[error("cannot save into {}", .dir.display())]
    Save {
        dir: PathBuf,
        #[source]
        source: Box<MethodError>,
    },
    /// A run folder whose `config.json` names no method this version knows.
    #[error("{}: {problem}", .path.display())]
    BadRunFile { path: PathBuf, problem: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The cancel flag stopped `stage` after `completed` steps; what could be saved was
    /// saved in `saved_to`.
    #[error("interrupted after {completed} {} of the {}{}", if *.stage == Stage::Autoencoder { "epochs" } else { "steps" }, .stage.name(), .saved_to.as_ref().map_or(String::new(), |d| format!("; saved in {} (resume from there)", d.display())))]
    Interrupted {
        stage: Stage,
        completed: usize,
        saved_to: Option<PathBuf>,
    },
}

impl MethodError {
    /// True when the caller's parameters are at fault (not the data, the disk or a stop).
    pub fn is_param_error(&self) -> bool {
        match self {
            MethodError::InvalidParam(_) => true,
            MethodError::Cluster(e) => matches!(e, ClusterError::InvalidParam { .. }),
            MethodError::Nn(e) => matches!(e, NnError::InvalidConfig(_)),
            MethodError::Umap(e) => matches!(e, ManifoldError::InvalidParam { .. }),
            MethodError::Data(e) => matches!(e, DataError::InvalidOptions { .. }),
            _ => false,
        }
    }

    /// True when the cancel flag stopped the run.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            MethodError::Interrupted { .. }
                | MethodError::Cluster(ClusterError::Cancelled)
                | MethodError::Umap(ManifoldError::Cancelled)
        )
    }

    pub(crate) fn load(dir: &std::path::Path, source: impl Into<MethodError>) -> MethodError {
        MethodError::Load {
            dir: dir.to_path_buf(),
            source: Box::new(source.into()),
        }
    }

    pub(crate) fn save(dir: &std::path::Path, source: impl Into<MethodError>) -> MethodError {
        MethodError::Save {
            dir: dir.to_path_buf(),
            source: Box::new(source.into()),
        }
    }
}

impl From<crate::pipeline::PipelineError> for MethodError {
    fn from(e: crate::pipeline::PipelineError) -> Self {
        use crate::pipeline::PipelineError;
        match e {
            PipelineError::Umap(e) => MethodError::Umap(e),
            PipelineError::Gmm(e) => MethodError::Cluster(e),
            PipelineError::InvalidParam(p) => MethodError::InvalidParam(p),
        }
    }
}
