//! Photo-gallery organizer: reads a photo tree (never writing to it), groups photos by day,
//! event, place and content, and builds a plan of links into an output tree that is applied
//! without ever overwriting anything.

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
pub mod apply;
pub mod html;
pub mod manifest;
pub mod organize;
pub mod plan;

pub use apply::LinkMode;
pub use content::KChoice;
pub use organize::{organize, OrganizeParams, OrganizeReport};
pub use plan::GroupKind;
pub use scan::Progress;
pub mod synth;
