//! deepclust: unsupervised deep clustering of images, and a photo organizer built on it.
//!
//! This crate re-exports the workspace's library crates under short names and adds the
//! multi-stage methods of [`pipeline`]; the `deepclust` binary (`crates/deepclust-cli`) is a
//! thin command line over them. The library has no command-line dependencies.

pub use deepclust_cluster as cluster;
pub use deepclust_data as data;
pub use deepclust_embed as embed;
pub use deepclust_gallery as gallery;
pub use deepclust_manifold as manifold;
pub use deepclust_metrics as metrics;
pub use deepclust_nn as nn;
pub use deepclust_report as report;

pub mod control;
pub mod experiment;
pub mod method;
pub mod pipeline;
pub mod run;
