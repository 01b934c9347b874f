//! The names of what the organizer writes into its output folder, in one place.

/// Cache file in the output directory.
pub const CACHE_FILE: &str = ".deepclust-cache.json";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const INDEX_FILE: &str = "index.html";
pub const THUMBS_DIR: &str = "thumbs";

/// Group name for photos without GPS.
pub const UNKNOWN_PLACE: &str = "unknown-place";

pub use crate::autoencode::AE_DIR;
pub use crate::prune::SUPERSEDED_DIR;
pub use crate::scan::OUTPUT_MARKER;
