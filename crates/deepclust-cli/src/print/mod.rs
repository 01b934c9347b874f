//! How the longer commands print their results (the command files turn arguments into a
//! library call; these turn its result into text).

pub mod demo;
pub mod kmeans;
pub mod mnist;
pub mod organize;
