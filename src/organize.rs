//! The photo organizer behind the same [`Control`] as the methods: a folder of photos in, a
//! separate tree of links grouped by date, event, place and content out (the originals are
//! never modified). The work is `deepclust-gallery`'s; this is its front door.

use crate::control::{Control, Progress};
use deepclust_gallery::{organize, GalleryError, OrganizeParams, OrganizeReport};

/// Organizes one photo folder into one output folder.
#[derive(Debug, Clone)]
pub struct Organizer {
    pub params: OrganizeParams,
}

impl Organizer {
    pub fn new(params: OrganizeParams) -> Self {
        Organizer { params }
    }

    /// Scans, groups and links (or, with `dry_run`, only plans); the cancel flag is checked
    /// between photos and stages, and the progress comes as [`Progress::Organize`].
    pub fn run(&self, control: &Control) -> Result<OrganizeReport, GalleryError> {
        organize(
            &self.params,
            &|p| control.report(Progress::Organize(p)),
            control.cancel_flag(),
        )
    }
}
