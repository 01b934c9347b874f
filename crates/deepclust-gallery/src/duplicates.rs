//! Duplicates in three tiers that are never merged (people resent bursts flagged as copies):
//!
//! 1. **exact**: the same bytes (size and content hash);
//! 2. **same picture**: one picture re-encoded or resized (a messenger's copy): perceptual hashes
//!    within a few bits, the same grayscale layout, and, with the content models, nearly the
//!    same embedding; two photos that both carry EXIF capture times and differ in them are
//!    never the same picture (that is a burst);
//! 3. **similar**: bursts and retakes, shot within seconds of each other (EXIF capture times)
//!    and alike.
//!
//! A photo is in at most one tier (the first that holds it). Nothing is ever deleted: each
//! group becomes a folder of links under `near-duplicates/<tier>/group-NNNN`.

use crate::content::near_duplicate_groups;
use crate::exif_meta::TimeSource;
use crate::scan::PhotoRecord;
use crate::thumbs::GRAY_GRID;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateTier {
    Exact,
    SamePicture,
    Similar,
}

impl DuplicateTier {
    pub fn folder(self) -> &'static str {
        match self {
            DuplicateTier::Exact => "exact",
            DuplicateTier::SamePicture => "same-picture",
            DuplicateTier::Similar => "similar",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DuplicateParams {
    /// Largest dHash difference (bits of 64) of the same picture.
    pub same_bits: u32,
    /// Smallest correlation of the 16x16 grayscale layouts of the same picture.
    pub same_correlation: f32,
    /// Smallest cosine similarity of model embeddings of the same picture.
    pub same_cosine: f32,
    /// Largest time between two shots of a burst.
    pub similar_seconds: i64,
    /// Largest dHash difference of similar shots.
    pub similar_bits: u32,
    pub similar_correlation: f32,
    pub similar_cosine: f32,
}

impl Default for DuplicateParams {
    fn default() -> Self {
        DuplicateParams {
            same_bits: 4,
            same_correlation: 0.9,
            same_cosine: 0.95,
            similar_seconds: 30,
            similar_bits: 12,
            similar_correlation: 0.6,
            similar_cosine: 0.85,
        }
    }
}

/// One photo's duplicate group: its tier and the group's number within the tier.
pub type DuplicateGroup = Option<(DuplicateTier, usize)>;

fn correlation(a: &PhotoRecord, b: &PhotoRecord) -> Option<f32> {
    let (x, y) = (a.content.as_ref()?, b.content.as_ref()?);
    let grid = (GRAY_GRID * GRAY_GRID) as usize;
    if x.embedding.len() < grid || y.embedding.len() < grid {
        return None;
    }
    Some(
        x.embedding[..grid]
            .iter()
            .zip(&y.embedding[..grid])
            .map(|(p, q)| p * q)
            .sum::<f32>()
            / grid as f32,
    )
}

/// Cosine similarity of the model embeddings, when both photos have one.
fn cosine(a: &PhotoRecord, b: &PhotoRecord) -> Option<f32> {
    let ea = &a.content.as_ref()?.signals.as_ref()?.embedding;
    let eb = &b.content.as_ref()?.signals.as_ref()?.embedding;
    if ea.len() != eb.len() || ea.is_empty() {
        return None;
    }
    let dot: f32 = ea.iter().zip(eb).map(|(x, y)| x * y).sum();
    let na = ea.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = eb.iter().map(|x| x * x).sum::<f32>().sqrt();
    Some(dot / (na * nb).max(1e-12))
}

fn exif_time(p: &PhotoRecord) -> Option<i64> {
    (p.time_source != TimeSource::FileMtime).then(|| p.taken.timeline_seconds())
}

/// The duplicate group of every photo (`None`: no twin in any tier).
pub fn duplicate_groups(photos: &[PhotoRecord], params: &DuplicateParams) -> Vec<DuplicateGroup> {
    let n = photos.len();
    let mut out: Vec<DuplicateGroup> = vec![None; n];
    // Tier 1: same size and hash, confirmed on the bytes' hash only (64-bit FNV over whole
    // files; a collision between two different photos of the same size is not a practical risk).
    let mut by_bytes: std::collections::BTreeMap<(u64, u64), Vec<usize>> = Default::default();
    for (i, p) in photos.iter().enumerate() {
        by_bytes
            .entry((p.size, p.content_hash))
            .or_default()
            .push(i);
    }
    let mut exact: Vec<Vec<usize>> = by_bytes.into_values().filter(|g| g.len() > 1).collect();
    exact.sort_by(|a, b| photos[a[0]].rel_path.cmp(&photos[b[0]].rel_path));
    for (g, members) in exact.iter().enumerate() {
        for &i in members {
            out[i] = Some((DuplicateTier::Exact, g));
        }
    }
    // Tiers 2 and 3 by leader clustering in time order over the photos not yet grouped (only
    // the photos in `order` are visited).
    let hashes: Vec<u64> = photos
        .iter()
        .map(|p| p.content.as_ref().map_or(0, |c| c.dhash))
        .collect();
    let mut order: Vec<usize> = (0..n)
        .filter(|&i| out[i].is_none() && photos[i].content.is_some())
        .collect();
    order.sort_by_key(|&i| (photos[i].taken.timeline_seconds(), i));
    let same = |a: usize, b: usize| -> bool {
        let (pa, pb) = (&photos[a], &photos[b]);
        if let (Some(ta), Some(tb)) = (exif_time(pa), exif_time(pb)) {
            if ta != tb {
                return false;
            }
        }
        correlation(pa, pb).is_some_and(|c| c >= params.same_correlation)
            && cosine(pa, pb).is_none_or(|c| c >= params.same_cosine)
    };
    let tier2 = near_duplicate_groups(&hashes, &order, params.same_bits, &same);
    for (i, g) in tier2.iter().enumerate() {
        if let Some(g) = g {
            out[i] = Some((DuplicateTier::SamePicture, *g));
        }
    }
    order.retain(|&i| out[i].is_none());
    let similar = |a: usize, b: usize| -> bool {
        let (pa, pb) = (&photos[a], &photos[b]);
        // Capture times only: file times of downloaded or copied pictures are often one and
        // the same moment (gallery-dev's EXIF-less images made 15 false "bursts" by mtime).
        let close_in_time = match (exif_time(pa), exif_time(pb)) {
            (Some(ta), Some(tb)) => (ta - tb).abs() <= params.similar_seconds,
            _ => false,
        };
        close_in_time
            && correlation(pa, pb).is_some_and(|c| c >= params.similar_correlation)
            && cosine(pa, pb).is_none_or(|c| c >= params.similar_cosine)
    };
    let tier3 = near_duplicate_groups(&hashes, &order, params.similar_bits, &similar);
    for (i, g) in tier3.iter().enumerate() {
        if let Some(g) = g {
            out[i] = Some((DuplicateTier::Similar, *g));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::WallClock;
    use crate::sniff::ImageKind;
    use crate::thumbs::ContentFeatures;

    /// A photo with a 16x16 layout made from `pattern`, a dHash, and a capture time.
    fn shot(
        name: &str,
        pattern: u32,
        dhash: u64,
        secs: i64,
        exif: bool,
        bytes: (u64, u64),
    ) -> PhotoRecord {
        let grid: Vec<f32> = (0..256u32)
            .map(|i| {
                if (i * 7 + pattern) % 5 < 2 {
                    1.2247
                } else {
                    -0.8165
                }
            })
            .collect();
        PhotoRecord {
            rel_path: name.into(),
            size: bytes.0,
            mtime_secs: 0,
            mtime_nanos: 0,
            kind: ImageKind::Jpeg,
            taken: WallClock::from_unix_utc(1_600_000_000 + secs),
            time_source: if exif {
                TimeSource::ExifOriginal
            } else {
                TimeSource::FileMtime
            },
            gps: None,
            orientation: 1,
            camera: None,
            thumb_width: 160,
            thumb_height: 120,
            content: Some(ContentFeatures {
                embedding: grid,
                signals: None,
                embedder: String::new(),
                dhash,
                pixels: vec![],
            }),
            notes: vec![],
            content_hash: bytes.1,
        }
    }

    #[test]
    fn three_tiers_never_merge() {
        let h = 0xF0F0_F0F0_0F0F_0F0Fu64;
        let photos = vec![
            // An exact copy pair (same bytes).
            shot("a.jpg", 0, h, 0, true, (1000, 42)),
            shot("backup/a.jpg", 0, h, 0, true, (1000, 42)),
            // A messenger's copy of b: one bit off, no EXIF.
            shot("b.jpg", 1, !h, 100, true, (2000, 1)),
            shot("wa/b-small.jpg", 1, !h ^ 1, 5000, false, (700, 2)),
            // A burst: two shots 3 s apart, a little different.
            shot("c1.jpg", 2, h ^ 0xFF00, 200, true, (3000, 3)),
            shot("c2.jpg", 2, h ^ 0xFF00 ^ 0b111, 203, true, (3001, 4)),
            // The same scene an hour later: alike, but no burst.
            shot("c3.jpg", 2, h ^ 0xFF00 ^ 0b11, 3800, true, (3002, 5)),
        ];
        let g = duplicate_groups(&photos, &DuplicateParams::default());
        assert_eq!(g[0], Some((DuplicateTier::Exact, 0)));
        assert_eq!(g[1], g[0]);
        assert_eq!(g[2].map(|x| x.0), Some(DuplicateTier::SamePicture));
        assert_eq!(g[3], g[2]);
        // Two EXIF times that differ are never the same picture: c1/c2 are a burst.
        assert_eq!(g[4].map(|x| x.0), Some(DuplicateTier::Similar));
        assert_eq!(g[5], g[4]);
        assert_eq!(g[6], None, "an hour later is not a burst");
        // Two alike pictures without capture times (same file time) are no burst either.
        let photos = vec![
            shot("x.png", 3, h, 0, false, (10, 8)),
            shot("y.png", 3, h ^ 0b1111_1100_0000, 0, false, (11, 9)),
        ];
        let g = duplicate_groups(&photos, &DuplicateParams::default());
        assert_eq!(g, vec![None, None]);
    }
}
