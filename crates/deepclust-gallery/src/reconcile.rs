//! Bringing the output tree from an earlier run's links to this run's plan. Groupings are
//! recomputed over the whole library; the earlier manifest says which links that run made,
//! so the ones the new plan no longer wants can be taken away (only when provably ours, see
//! [`crate::prune`]), and an edited photo's old copies are set aside, never lost.

use crate::apply::{ApplyReport, LinkOutcome};
use crate::layout::MANIFEST_FILE;
use crate::plan::Plan;
use crate::prune::{
    remove_stale, set_aside_old_versions, LibraryBytes, PreviousLinks, PruneReport, SupersededCopy,
};
use crate::scan::PhotoRecord;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) struct Reconcile<'a> {
    input: &'a Path,
    output: &'a Path,
    photos: &'a [PhotoRecord],
    previous: Option<PreviousLinks>,
    /// Photos edited since the earlier run (size or time differ), with the links it made.
    edited: Vec<(String, Vec<PathBuf>)>,
    /// Only an earlier run's links can be a renamed photo's old copies.
    library: LibraryBytes,
}

impl<'a> Reconcile<'a> {
    /// Reads the earlier run's links of `input` in `output` (none on a first run).
    pub fn new(input: &'a Path, output: &'a Path, photos: &'a [PhotoRecord]) -> Self {
        let previous = PreviousLinks::read(&output.join(MANIFEST_FILE), input);
        let edited = previous
            .as_ref()
            .map(|prev| {
                photos
                    .iter()
                    .filter(|p| {
                        prev.versions
                            .get(&p.rel_path)
                            .is_some_and(|&v| v != (p.size, p.mtime_secs))
                    })
                    .filter_map(|p| {
                        Some((p.rel_path.clone(), prev.by_photo.get(&p.rel_path)?.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let library = match &previous {
            Some(_) => LibraryBytes::new(
                photos
                    .iter()
                    .map(|p| (crate::relpath::join(input, &p.rel_path), p.size)),
            ),
            None => LibraryBytes::default(),
        };
        Reconcile {
            input,
            output,
            photos,
            previous,
            edited,
            library,
        }
    }

    fn in_library(&self) -> HashSet<&'a str> {
        self.photos.iter().map(|p| p.rel_path.as_str()).collect()
    }

    /// Photos of the earlier run that are in the library, or were deleted from it (their
    /// dangling links go). A photo still there but skipped this run (unreadable now) keeps
    /// its links.
    fn tracked<'s>(&'s self, in_library: &'s HashSet<&'a str>) -> impl Fn(&str) -> bool + 's {
        move |p: &str| {
            in_library.contains(p)
                || fs::symlink_metadata(crate::relpath::join(self.input, p)).is_err()
        }
    }

    /// Old versions set aside by earlier runs and still there.
    pub fn superseded(&self) -> Vec<SupersededCopy> {
        self.previous
            .as_ref()
            .map(|prev| {
                prev.superseded
                    .iter()
                    .filter(|s| fs::symlink_metadata(self.output.join(&s.now)).is_ok())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What a real run would remove and set aside; touches nothing.
    pub fn dry_run(&self, plan: &Plan) -> PruneReport {
        let Some(prev) = &self.previous else {
            return PruneReport::default();
        };
        // Folders the plan puts each photo in: an old link in one of them is the photo's
        // link there (possibly under a name made unique by apply), not a stale one.
        let mut wanted: HashMap<&str, HashSet<&Path>> = HashMap::new();
        for link in &plan.links {
            if let Some(dir) = link.target.parent() {
                wanted
                    .entry(self.photos[link.photo].rel_path.as_str())
                    .or_default()
                    .insert(dir);
            }
        }
        let set_aside = set_aside_old_versions(&self.edited, self.input, self.output, true);
        let moved: HashSet<&Path> = set_aside
            .set_aside
            .iter()
            .map(|s| s.was.as_path())
            .collect();
        let in_library = self.in_library();
        let stale: Vec<(String, PathBuf)> = prev
            .pairs(self.tracked(&in_library))
            .into_iter()
            .filter(|(p, l)| {
                !moved.contains(l.as_path())
                    && !wanted
                        .get(p.as_str())
                        .is_some_and(|w| l.parent().is_some_and(|d| w.contains(d)))
            })
            .collect();
        let mut pruned = remove_stale(&stale, self.input, self.output, true, &self.library);
        pruned.merge(set_aside);
        pruned
    }

    /// The links the previous manifest lists for photos unchanged since it was written (see
    /// [`crate::apply::apply_plan`]).
    pub fn recorded(&self) -> HashSet<PathBuf> {
        let Some(prev) = &self.previous else {
            return HashSet::new();
        };
        self.photos
            .iter()
            .filter(|p| prev.versions.get(&p.rel_path) == Some(&(p.size, p.mtime_secs)))
            .filter_map(|p| prev.by_photo.get(&p.rel_path))
            .flatten()
            .cloned()
            .collect()
    }

    /// Before the links are written: an edited photo's old copies leave their group folders
    /// for superseded/ (they may be the only copy of the old version), then the planned names
    /// still held by another photo's old link are freed, so the plan lands on them.
    pub fn before_apply(&self, plan: &Plan) -> PruneReport {
        let mut pruned = set_aside_old_versions(&self.edited, self.input, self.output, false);
        if let Some(prev) = &self.previous {
            let planned_for: HashMap<&Path, usize> = plan
                .links
                .iter()
                .map(|l| (l.target.as_path(), l.photo))
                .collect();
            let in_library = self.in_library();
            let blocking: Vec<(String, PathBuf)> = prev
                .pairs(|p| in_library.contains(p))
                .into_iter()
                .filter(|(p, l)| {
                    planned_for
                        .get(l.as_path())
                        .is_some_and(|&i| self.photos[i].rel_path != *p)
                })
                .collect();
            let freed = remove_stale(&blocking, self.input, self.output, false, &self.library);
            pruned.merge(freed);
        }
        pruned
    }

    /// After: every old link of a photo still in the library that this run neither created
    /// nor found in place goes.
    pub fn after_apply(&self, plan: &Plan, applied: &ApplyReport) -> PruneReport {
        let Some(prev) = &self.previous else {
            return PruneReport::default();
        };
        let mut current: HashMap<&str, HashSet<&Path>> = HashMap::new();
        for (link, outcome) in plan.links.iter().zip(&applied.outcomes) {
            if let LinkOutcome::Created { target } | LinkOutcome::AlreadyPresent { target } =
                outcome
            {
                let rel = target.strip_prefix(self.output).unwrap_or(target);
                current
                    .entry(self.photos[link.photo].rel_path.as_str())
                    .or_default()
                    .insert(rel);
            }
        }
        let in_library = self.in_library();
        let stale: Vec<(String, PathBuf)> = prev
            .pairs(self.tracked(&in_library))
            .into_iter()
            .filter(|(p, l)| {
                !current
                    .get(p.as_str())
                    .is_some_and(|c| c.contains(l.as_path()))
            })
            .collect();
        remove_stale(&stale, self.input, self.output, false, &self.library)
    }
}
