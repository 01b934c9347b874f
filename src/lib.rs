pub use deepclust_cluster as cluster;
pub use deepclust_data as data;
pub use deepclust_metrics as metrics;
