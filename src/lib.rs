//! deepclust: unsupervised deep clustering of images, and a photo organizer built on it.
//!
//! Every method has one contract, [`Method::fit`](method::Method::fit) on a
//! [`Dataset`](data::Dataset) with a [`Control`](control::Control) (cancel flag + typed
//! progress); every fitted model predicts new rows and saves into a run folder that
//! [`SavedModel::load`](run::SavedModel::load) reads back. Labels inside a dataset only score.
//!
//! DEC on a dataset, its autoencoder trained first:
//!
//! ```
//! use deepclust::prelude::*;
//!
//! let data = deepclust::data::synthetic::digits(300, 0); // 28x28 digits, labelled
//! let encoder = AutoencoderConfig::default().dims(vec![784, 64, 10]).epochs(3).seed(0);
//! let dec = Dec::params(10)
//!     .config(DecConfig::dec(10).maxiter(200).seed(0))
//!     .encoder(AeSource::Train(encoder))
//!     .fit(&data, &Control::none())?;
//! let truth = data.labels.as_deref().expect("generated digits are labelled");
//! let scores = deepclust::metrics::scores(truth, &dec.clustering.labels)?;
//! assert_eq!(dec.clustering.labels.len(), 300);
//! assert!(scores.nmi > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! N2D choosing its number of clusters (highest silhouette, no labels), then placing new
//! rows:
//!
//! ```
//! use deepclust::prelude::*;
//!
//! let all = deepclust::data::synthetic::digits(400, 1);
//! let fit = all.select(&(0..300).collect::<Vec<_>>());
//! let new = all.select(&(300..400).collect::<Vec<_>>());
//! let encoder = AutoencoderConfig::default().dims(vec![784, 64, 10]).epochs(3).seed(0);
//! let n2d = N2d::params(KSelect::Auto { min: 2, max: 12 })
//!     .n_neighbors(10)
//!     .encoder(AeSource::Train(encoder))
//!     .fit(&fit, &Control::none())?;
//! assert!((2..=12).contains(&n2d.clustering.n_clusters));
//! let placed = n2d.model.predict(new.features.view())?;
//! assert!(placed.iter().all(|&c| c < n2d.clustering.n_clusters));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Organizing a photo folder (here a generated one) by date, event and place:
//!
//! ```
//! use deepclust::prelude::*;
//!
//! let tmp = tempfile::tempdir()?;
//! let photos = tmp.path().join("Photos");
//! deepclust::gallery::sample_library::write_sample_library(&photos, 24, 7)?;
//! let params = OrganizeParams::new(&photos, tmp.path().join("Organized"))
//!     .by(vec![GroupKind::Date, GroupKind::Event, GroupKind::Place]);
//! let report = Organizer::new(params).run(&Control::none())?;
//! assert!(report.photos.len() >= 16);
//! assert!(report.manifest.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout: [`method`] (the contract and its impls), [`run`] (saved runs), [`experiment`]
//! (the MNIST walkthrough as a call), [`organize`] and [`control`]; the engines are the
//! workspace crates re-exported below ([`nn`]'s `gemm`, `mlp`, `optim` and `weights` are
//! low-level building blocks of the autoencoder, not needed to use the methods). The
//! `deepclust` binary (`crates/deepclust-cli`) is a thin command line over this library,
//! which has no command-line dependencies.

pub use deepclust_cluster as cluster;
pub use deepclust_data as data;
pub use deepclust_embed as embed;
pub use deepclust_export as export;
pub use deepclust_gallery as gallery;
pub use deepclust_manifold as manifold;
pub use deepclust_metrics as metrics;
pub use deepclust_nn as nn;
pub use deepclust_report as report;

pub mod control;
pub mod experiment;
pub mod method;
pub mod organize;
pub mod pipeline;
pub mod prelude;
pub mod run;
