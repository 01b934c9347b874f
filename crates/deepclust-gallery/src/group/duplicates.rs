//! `near-duplicates/<tier>/group-NNNN`: exact copies, the same picture re-encoded or resized,
//! and similar shots of a burst.

use super::{Grouping, Library};
use crate::duplicates::{duplicate_groups, DuplicateParams, DuplicateTier};
use crate::error::GalleryError;
use crate::plan::{Assignment, GroupKind};

pub(crate) struct NearDuplicates;

impl Grouping for NearDuplicates {
    fn kind(&self) -> GroupKind {
        GroupKind::NearDuplicates
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        let dup = DuplicateParams {
            same_bits: library.params.duplicate_threshold,
            ..DuplicateParams::default()
        };
        let groups = duplicate_groups(library.photos, &dup);
        Ok(groups
            .iter()
            .map(|g| {
                let Some((tier, g)) = g else {
                    return Vec::new();
                };
                let why = match tier {
                    DuplicateTier::Exact => "the same bytes as another photo".to_string(),
                    DuplicateTier::SamePicture => format!(
                        "the same picture as another, re-encoded or resized (dHash within {} of 64 bits, layout correlation >= {})",
                        dup.same_bits, dup.same_correlation
                    ),
                    DuplicateTier::Similar => format!(
                        "a similar shot within {} s of another (burst or retake)",
                        dup.similar_seconds
                    ),
                };
                vec![Assignment {
                    kind: GroupKind::NearDuplicates,
                    group: format!("{}/group-{:04}", tier.folder(), g + 1),
                    reason: why,
                }]
            })
            .collect())
    }
}
