//! Self-contained HTML reports of clustering runs.
//!
//! [`ReportBuilder`] writes a folder with `index.html` and the pictures it shows (PNG
//! montages, SVG charts): opens from disk, needs no server and no network, and references
//! nothing outside the folder. Sections, each shown when its inputs are given:
//!
//! - per cluster: a montage of its most confident members and a few least confident ones,
//!   with its size (and purity when true labels are known);
//! - the confusion table after Hungarian matching, purity per cluster and per class;
//! - training curves (SVG): autoencoder loss per epoch, DEC loss, label change and
//!   ACC/NMI/ARI per update;
//! - a 2-D map of the embedding (its PCA, or a precomputed 2-D map such as UMAP) coloured
//!   by cluster and by true class, sampled to a few thousand points, plus a picture of
//!   thumbnails placed on the map;
//! - the run record: configuration (any JSON), seed, timings, data source.
//!
//! [`PhotoIndex`] writes the photo organizer's `index.html` with the same templates (one
//! layout, stylesheet and picture markup for every page).
//!
//! Everything user-provided (titles, file names, configuration) is HTML-escaped by the
//! template engine (minijinja's auto-escaping).

mod charts;
pub mod confidence;
mod confusion;
mod error;
mod images;
pub mod pca;
mod photo_index;
mod report;
mod templates;

pub use charts::{category_colour, css_colour};
pub use confusion::{ClusterPurity, ConfusionCell, ConfusionRow, ConfusionTable};
pub use error::{ReportError, Result};
pub use images::{write_rgb_png, ImageShape, ImageSource};
pub use pca::{pca_2d, Pca2};
pub use photo_index::{IndexGroup, IndexSection, PhotoIndex, SkippedItem, Thumbnail};
pub use report::{AeEpoch, DecUpdate, ReportBuilder, ReportOptions, ReportSummary, INDEX_FILE};
pub use templates::url_path;
