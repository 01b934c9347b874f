pub mod deep;
pub mod demo;
pub mod download;
pub mod kmeans;
pub mod mnist;
pub mod n2d;
pub mod organize;
pub mod report_args;
