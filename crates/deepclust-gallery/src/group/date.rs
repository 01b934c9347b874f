//! `by-date/YYYY/MM/DD`: the day a photo was taken, in its own time zone.

use super::{Grouping, Library};
use crate::error::GalleryError;
use crate::events::day_folder;
use crate::exif_meta::TimeSource;
use crate::plan::{Assignment, GroupKind};
use crate::scan::PhotoRecord;

pub(crate) struct ByDate;

fn time_reason(p: &PhotoRecord) -> String {
    let source = match p.time_source {
        TimeSource::ExifOriginal => "EXIF DateTimeOriginal",
        TimeSource::ExifDigitized => "EXIF DateTimeDigitized (no DateTimeOriginal)",
        TimeSource::ExifModified => "EXIF DateTime (no DateTimeOriginal)",
        TimeSource::FileMtime => "file modification time, UTC (no EXIF date)",
    };
    format!("taken {} ({source})", p.taken)
}

impl Grouping for ByDate {
    fn kind(&self) -> GroupKind {
        GroupKind::Date
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        Ok(library
            .photos
            .iter()
            .map(|p| {
                vec![Assignment {
                    kind: GroupKind::Date,
                    group: day_folder(p.taken.day),
                    reason: time_reason(p),
                }]
            })
            .collect())
    }
}
