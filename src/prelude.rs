//! What a library user needs for the three entry points: `use deepclust::prelude::*;`.

pub use crate::control::{Control, Progress, Stage};
pub use crate::method::{
    AeKMeans, AeSource, Clustering, Dec, Fitted, GaussianMixture, KMeans, Method, MethodError,
    MiniBatchKMeans, N2d, Predict, ResumeEpochs,
};
pub use crate::organize::Organizer;
pub use crate::run::{RunDir, SaveRun, SavedModel};
pub use deepclust_cluster::KSelect;
pub use deepclust_data::Dataset;
pub use deepclust_gallery::{EmbedderSpec, GroupKind, OrganizeParams, OrganizeReport};
pub use deepclust_metrics::Scores;
pub use deepclust_nn::{AutoencoderConfig, DecConfig};
