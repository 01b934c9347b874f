//! The groupings of the organizer, each behind one trait: a photo library in, the folders
//! each photo goes into (with the reason) out. The order in which they run is the order of
//! the assignments in the plan and the manifest.

mod content;
mod date;
mod duplicates;
mod event;
mod imported;
mod people;
mod place;

pub(crate) use content::ByContent;
pub(crate) use date::ByDate;
pub(crate) use duplicates::NearDuplicates;
pub(crate) use event::ByEvent;
pub(crate) use imported::ByImported;
pub(crate) use people::ByPeople;
pub(crate) use place::ByPlace;

use crate::error::GalleryError;
use crate::params::OrganizeParams;
use crate::places::Place;
use crate::plan::{Assignment, GroupKind};
use crate::scan::PhotoRecord;

/// What every grouping sees: the scanned photos, their places (when geocoded) and the run's
/// parameters.
pub(crate) struct Library<'a> {
    pub photos: &'a [PhotoRecord],
    pub places: &'a [Option<Place>],
    pub params: &'a OrganizeParams,
}

/// One way of grouping photos into folders.
pub(crate) trait Grouping {
    /// The kind it builds (its top folder).
    fn kind(&self) -> GroupKind;

    /// The assignments of every photo (same order as `library.photos`; none, one or several
    /// per photo).
    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError>;
}

/// "1 photo", "3 photos".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
