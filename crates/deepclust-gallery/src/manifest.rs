//! The JSON manifest: every photo's groups, links and the reasons for each.

use crate::apply::LinkOutcome;
use crate::error::GalleryError;
use crate::exif_meta::{GpsPoint, TimeSource};
use crate::outcome::{ContentCluster, OrganizeReport};
use crate::params::OrganizeParams;
use crate::places::Place;
use crate::plan::Assignment;
use crate::scan::SkippedFile;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestPhoto {
    /// Relative to the input directory, lossless (see [`crate::relpath`]).
    pub path: String,
    /// `path` as people read it, written only when it differs: the name is not UTF-8 and
    /// `path` holds its stray bytes as U+10FF80-U+10FFFF (see [`crate::relpath`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_display: Option<String>,
    pub size: u64,
    pub mtime_unix: i64,
    pub taken: String,
    pub day: String,
    pub time_source: TimeSource,
    pub gps: Option<GpsPoint>,
    pub place: Option<Place>,
    pub camera: Option<String>,
    pub orientation: u16,
    /// 0-based id, as in `content_clusters[].id` (folder names count from 1).
    pub content_cluster: Option<usize>,
    pub dhash: Option<String>,
    pub groups: Vec<Assignment>,
    /// Links in the output tree (relative to it) as actually created or found.
    pub links: Vec<PathBuf>,
    /// Thumbnail file (relative to the output directory), when written.
    pub thumbnail: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub input: PathBuf,
    pub output: PathBuf,
    pub params: OrganizeParams,
    pub content_k: Option<usize>,
    pub content_silhouette: Option<f64>,
    pub content_clusters: Vec<ContentCluster>,
    pub photos: Vec<ManifestPhoto>,
    pub skipped: Vec<SkippedFile>,
    pub link_failures: Vec<(PathBuf, String)>,
    /// Old versions of edited photos moved to `superseded/` (see [`crate::prune`]).
    #[serde(default)]
    pub superseded: Vec<crate::prune::SupersededCopy>,
    /// Stale entries in the output tree kept because they are not provably ours to remove
    /// (a deleted photo's copy may be its last copy); the next run looks at them again.
    #[serde(default)]
    pub kept_links: Vec<crate::prune::KeptLink>,
}

impl Manifest {
    pub fn from_report(r: &OrganizeReport, params: &OrganizeParams) -> Manifest {
        let mut links: Vec<Vec<PathBuf>> = vec![Vec::new(); r.photos.len()];
        let mut failures = Vec::new();
        for (idx, link) in r.plan.links.iter().enumerate() {
            let outcome = r.apply.as_ref().and_then(|a| a.outcomes.get(idx));
            match outcome {
                Some(LinkOutcome::Created { target })
                | Some(LinkOutcome::AlreadyPresent { target }) => links[link.photo].push(
                    target
                        .strip_prefix(&r.output)
                        .unwrap_or(target)
                        .to_path_buf(),
                ),
                Some(LinkOutcome::Failed { reason }) => {
                    failures.push((link.target.clone(), reason.clone()))
                }
                None => links[link.photo].push(link.target.clone()),
            }
        }
        let thumbs = params.html && !params.dry_run;
        let photos = r
            .photos
            .iter()
            .enumerate()
            .map(|(i, p)| ManifestPhoto {
                path: p.rel_path.clone(),
                size: p.size,
                mtime_unix: p.mtime_secs,
                path_display: match crate::relpath::display(&p.rel_path) {
                    std::borrow::Cow::Owned(shown) => Some(shown),
                    std::borrow::Cow::Borrowed(_) => None,
                },
                taken: p.taken.to_string(),
                day: p.taken.day.to_string(),
                time_source: p.time_source,
                gps: p.gps,
                place: r.places.get(i).cloned().flatten(),
                camera: p.camera.clone(),
                orientation: p.orientation,
                content_cluster: r.content.as_ref().map(|c| c.labels[i]),
                dhash: p.content.as_ref().map(|c| format!("{:016x}", c.dhash)),
                groups: r.assignments[i].clone(),
                links: std::mem::take(&mut links[i]),
                thumbnail: thumbs
                    .then(|| format!("{}/{}", crate::layout::THUMBS_DIR, p.thumb_name())),
                notes: p.notes.clone(),
            })
            .collect();
        Manifest {
            format_version: MANIFEST_VERSION,
            input: r.input.clone(),
            output: r.output.clone(),
            params: params.clone(),
            content_k: r.content.as_ref().map(|c| c.k),
            content_silhouette: r.content.as_ref().and_then(|c| c.silhouette),
            content_clusters: r
                .content
                .as_ref()
                .map(|c| c.clusters.clone())
                .unwrap_or_default(),
            photos,
            skipped: r.skipped.clone(),
            link_failures: failures,
            superseded: r.superseded.clone(),
            kept_links: {
                let mut kept: Vec<crate::prune::KeptLink> = r
                    .pruned
                    .kept
                    .iter()
                    .zip(&r.pruned.kept_photos)
                    .map(|((link, reason), photo)| crate::prune::KeptLink {
                        photo: photo.clone(),
                        link: link.clone(),
                        reason: reason.clone(),
                    })
                    .collect();
                kept.sort_by(|a, b| (&a.photo, &a.link).cmp(&(&b.photo, &b.link)));
                kept.dedup_by(|a, b| a.photo == b.photo && a.link == b.link);
                kept
            },
        }
    }
}

/// Writes JSON through a temporary file and a rename, so a crash never leaves half a file.
/// Only used for the organizer's own files (manifest, cache) inside the output directory.
/// `pretty` for files people read (the manifest); compact for the cache, whose embeddings
/// take about 3x the space when every number gets its own indented line.
pub fn write_json_atomic<T: Serialize>(
    path: &Path,
    value: &T,
    pretty: bool,
) -> Result<(), GalleryError> {
    let tmp = path.with_extension("json.partial");
    let bytes = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .map_err(|e| GalleryError::path(path, format!("cannot serialise: {e}")))?;
    // A full disk leaves no half-written `.partial` behind: the previous file stays as it was.
    if let Err(e) = fs::write(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(GalleryError::io(path, e));
    }
    fs::rename(&tmp, path).map_err(|e| GalleryError::io(path, e))
}
