//! `by-event/YYYY/<name>`: runs of photos without a gap longer than the event gap, named by
//! their place and dates.

use super::{plural, Grouping, Library};
use crate::error::GalleryError;
use crate::events::split_events;
use crate::plan::{Assignment, GroupKind};

pub(crate) struct ByEvent;

impl Grouping for ByEvent {
    fn kind(&self) -> GroupKind {
        GroupKind::Event
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        let mut assignments = vec![Vec::new(); library.photos.len()];
        let times: Vec<_> = library.photos.iter().map(|p| p.taken).collect();
        let hours = library.params.event_gap_hours;
        let gap = (hours * 3600.0).round() as i64;
        for ev in split_events(&times, library.places, gap) {
            let group = format!("{:04}/{}", ev.first.day.year, ev.name);
            let reason = format!(
                "event of {} from {} to {}, no gap over {} h",
                plural(ev.members.len(), "photo"),
                ev.first,
                ev.last,
                hours
            );
            for &i in &ev.members {
                assignments[i].push(Assignment {
                    kind: GroupKind::Event,
                    group: group.clone(),
                    reason: reason.clone(),
                });
            }
        }
        Ok(assignments)
    }
}
