//! The per-photo cache of an earlier run in the same output (`.deepclust-cache.json`): photo
//! records with their signals, the content model, the persons. A re-run reads it so unchanged
//! photos are not decoded again and keep their albums and person ids.

use crate::content::ContentModel;
use crate::error::GalleryError;
use crate::layout::CACHE_FILE;
use crate::manifest::write_json_atomic;
use crate::outcome::OrganizeReport;
use crate::scan::PhotoRecord;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// v2: model signals (embedding, tags, text, faces) instead of a bare model embedding.
const CACHE_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CacheFile {
    version: u32,
    pub photos: Vec<PhotoRecord>,
    pub content_model: Option<ContentModel>,
    /// Persons of the last run, so their ids stay.
    #[serde(default)]
    pub people: Vec<crate::people::KnownPerson>,
}

impl CacheFile {
    /// The cache in `output`, when there is one of this version (else the run starts afresh).
    pub fn read(output: &Path) -> Option<CacheFile> {
        std::fs::read(output.join(CACHE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
    }

    /// Its photos by relative path.
    pub fn by_path(cache: Option<&CacheFile>) -> HashMap<String, PhotoRecord> {
        cache
            .map(|c| {
                c.photos
                    .iter()
                    .map(|p| (p.rel_path.clone(), p.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes this run's cache: its photos, plus the entries of photos not seen this time
    /// (e.g. a folder temporarily missing); the persons found now, or the earlier ones.
    pub fn write(
        output: &Path,
        report: &OrganizeReport,
        earlier: HashMap<String, PhotoRecord>,
        previous: Option<CacheFile>,
        content_model: Option<ContentModel>,
    ) -> Result<(), GalleryError> {
        let seen: HashSet<&str> = report.photos.iter().map(|p| p.rel_path.as_str()).collect();
        let mut cached: Vec<PhotoRecord> = report.photos.clone();
        cached.extend(
            earlier
                .into_values()
                .filter(|p| !seen.contains(p.rel_path.as_str())),
        );
        cached.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        let people = match &report.people {
            Some(found) => found
                .persons
                .iter()
                .map(|p| crate::people::KnownPerson {
                    id: p.id,
                    centre: p.centre.clone(),
                })
                .collect(),
            None => previous.map(|c| c.people).unwrap_or_default(),
        };
        let cache_file = CacheFile {
            version: CACHE_VERSION,
            photos: cached,
            content_model,
            people,
        };
        write_json_atomic(&output.join(CACHE_FILE), &cache_file, false)
    }
}
