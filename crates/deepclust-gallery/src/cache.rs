//! The JSON cache of earlier versions (`.deepclust-cache.json`): photo records with their
//! signals, the content model, the persons. The catalogue replaced it: a run that finds one
//! moves it into `catalog.sqlite` once (see [`crate::store`]); a dry run reads it.

use crate::content::ContentModel;
use crate::layout::CACHE_FILE;
use crate::scan::PhotoRecord;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// v2: model signals (embedding, tags, text, faces) instead of a bare model embedding.
pub(crate) const CACHE_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CacheFile {
    pub version: u32,
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
}
