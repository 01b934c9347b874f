//! deepclust: unsupervised deep clustering of images, and a photo organizer built on it.
//!
//! This crate re-exports the workspace's library crates under short names; the `deepclust`
//! binary is a thin command line over them.

pub use deepclust_cluster as cluster;
pub use deepclust_data as data;
pub use deepclust_metrics as metrics;
pub use deepclust_nn as nn;
pub use deepclust_gallery as gallery;
