//! Photo-gallery organizer: reads a photo tree (never writing to it), groups photos by day,
//! event, place and content, and builds a plan of links into an output tree that is applied
//! without ever overwriting anything.
//!
//! Data flows one way: [`scan`] (walk, sniff, EXIF, thumbnail, features; parallel, cached)
//! -> grouping ([`events`], [`places`], [`content`]) -> [`plan`] (pure) -> [`apply`] (links)
//! -> [`manifest`], cache and [`html`] index. [`organize()`] runs all of it:
//!
//! ```no_run
//! use deepclust_gallery::{organize, GroupKind, LinkMode, OrganizeParams};
//! use std::sync::atomic::AtomicBool;
//! let params = OrganizeParams::new("Photos", "Organized")
//!     .by(vec![GroupKind::Date, GroupKind::Event, GroupKind::Place])
//!     .link(LinkMode::Symlink);
//! let report = organize(&params, &|_progress| {}, &AtomicBool::new(false))?;
//! println!("{} photos, {} skipped", report.photos.len(), report.skipped.len());
//! # Ok::<(), deepclust_gallery::GalleryError>(())
//! ```
//!
//! Output layout: `by-date/YYYY/YYYY-MM-DD/`, `by-event/YYYY/<first day>[ to <last day>] <city>/`,
//! `by-place/<Country>/<Region>/<City>/` (or `unknown-place/`), `by-content/<name>/`,
//! `near-duplicates/group-NNNN/`, plus `manifest.json`, `index.html`, `thumbs/`, the catalogue
//! `catalog.sqlite` (with its lock `catalog.lock`; see [`catalog`]) and the marker
//! `.deepclust-organized`.

pub mod autoencode;
pub mod civil;
pub mod content;
pub mod error;
pub mod events;
pub mod exif_meta;
pub mod places;
pub mod scan;
pub mod sniff;
pub mod thumbs;

pub use civil::{Day, WallClock};
pub use error::GalleryError;
pub use exif_meta::{ExifInfo, GpsPoint, TimeSource};
pub use places::{Geocoder, Place};
pub use sniff::ImageKind;
pub mod albums;
pub mod apply;
mod cache;
pub mod catalog;
pub mod duplicates;
pub mod embedder;
mod group;
pub mod html;
pub mod layout;
pub mod manifest;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod organize;
pub mod outcome;
mod outputs;
pub mod params;
pub mod people;
pub mod plan;
pub mod prune;
mod reconcile;
pub mod relpath;
mod store;

pub use apply::LinkMode;
pub use autoencode::{AutoencoderParams, EmbeddingKind};
pub use content::KSelect;
pub use organize::organize;
pub use outcome::{ContentCluster, ContentSummary, OrganizeReport};
pub use params::{EmbedderSpec, OrganizeParams};
pub use plan::GroupKind;
pub use scan::Progress;
pub mod sample_library;
pub mod synth;
