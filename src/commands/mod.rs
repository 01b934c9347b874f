pub mod demo;
pub mod download;
pub mod kmeans;
