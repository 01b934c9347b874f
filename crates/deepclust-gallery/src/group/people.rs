//! `people/person-N`: faces grouped into persons by their descriptors; a photo goes into the
//! folder of every person in it. Person ids of an earlier run are kept.

use super::{Grouping, Library};
use crate::error::GalleryError;
use crate::people::{group_people, KnownPerson, People};
use crate::plan::{Assignment, GroupKind};

pub(crate) struct ByPeople<'a> {
    /// The persons of the earlier run.
    pub known: &'a [KnownPerson],
    /// What this run found (after `assign`).
    pub found: Option<People>,
}

impl Grouping for ByPeople<'_> {
    fn kind(&self) -> GroupKind {
        GroupKind::People
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        let params = &library.params.people;
        let found = group_people(library.photos, params, self.known);
        let mut assignments = vec![Vec::new(); library.photos.len()];
        for person in &found.persons {
            let reason = format!(
                "a face of {} ({} faces; faces closer than {} in dlib's 128-d descriptor space, at least {} of them)",
                person.folder(),
                person.faces.len(),
                params.max_distance,
                params.min_faces
            );
            let mut photos_of: Vec<usize> = person.faces.iter().map(|f| f.photo).collect();
            photos_of.dedup();
            for i in photos_of {
                assignments[i].push(Assignment {
                    kind: GroupKind::People,
                    group: person.folder(),
                    reason: reason.clone(),
                });
            }
        }
        self.found = Some(found);
        Ok(assignments)
    }
}
