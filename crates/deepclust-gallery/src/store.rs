//! What a run knows from the earlier ones and where it records what it learns: the
//! catalogue of the output (written as the scan goes, so a killed run resumes), or, for a dry
//! run, the catalogue read only. An output of an older version that still has the JSON cache
//! (`.deepclust-cache.json`) is migrated into a new catalogue once, then the cache is removed.

use crate::cache::CacheFile;
use crate::catalog::{Catalog, PhotoSink};
use crate::content::ContentModel;
use crate::error::GalleryError;
use crate::layout::CACHE_FILE;
use crate::outcome::OrganizeReport;
use crate::params::OrganizeParams;
use crate::people::KnownPerson;
use crate::scan::PhotoRecord;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

/// What earlier runs left for this one.
#[derive(Debug, Default)]
pub(crate) struct Earlier {
    /// Photos by relative path: reused when their size and mtime are unchanged.
    pub photos: HashMap<String, PhotoRecord>,
    pub content_model: Option<ContentModel>,
    pub people: Vec<KnownPerson>,
    /// Imported cluster ids by relative path: `(source, cluster)`.
    pub imported: HashMap<String, Vec<(String, i64)>>,
}

/// Where this run records itself.
pub(crate) enum Store {
    /// A run that writes: the locked catalogue and this run's id in it.
    Catalog { catalog: Mutex<Catalog>, run: i64 },
    /// A dry run writes nothing.
    DryRun,
}

impl Store {
    /// Opens the output's catalogue (a dry run: reads it, or an old JSON cache) and what it
    /// knows; `notes` gets what the user should hear (a migrated cache).
    pub fn open(
        params: &OrganizeParams,
        output: &Path,
        notes: &mut Vec<String>,
    ) -> Result<(Store, Earlier), GalleryError> {
        if params.dry_run {
            let earlier = match Catalog::open_read_only(output)? {
                Some(c) => read(&c, params.use_cache)?,
                None if params.use_cache => {
                    CacheFile::read(output).map(from_cache).unwrap_or_default()
                }
                None => Earlier::default(),
            };
            return Ok((Store::DryRun, earlier));
        }
        let mut catalog = Catalog::open_for_run(output)?;
        migrate_json_cache(&mut catalog, output, notes)?;
        let earlier = read(&catalog, params.use_cache)?;
        let params_json = serde_json::to_string(params).unwrap_or_default();
        let run = catalog.begin_run(&params_json, params.seed)?;
        Ok((
            Store::Catalog {
                catalog: Mutex::new(catalog),
                run,
            },
            earlier,
        ))
    }

    /// A sink for the photos the scan reads, committing them in batches (none in a dry run).
    pub fn sink(&self) -> Option<PhotoSink<'_>> {
        match self {
            Store::Catalog { catalog, run } => Some(PhotoSink::new(catalog, *run)),
            Store::DryRun => None,
        }
    }

    /// Records the finished run.
    pub fn finish(
        &self,
        report: &OrganizeReport,
        model: Option<&ContentModel>,
        timings: &[(&str, f64)],
    ) -> Result<(), GalleryError> {
        match self {
            Store::Catalog { catalog, run } => {
                lock(catalog)?.finish_run(*run, report, model, timings)
            }
            Store::DryRun => Ok(()),
        }
    }

    /// Records a run that stopped with `error` (best effort: the error itself is what the
    /// caller reports).
    pub fn fail(&self, error: &GalleryError) {
        if let Store::Catalog { catalog, run } = self {
            if let Ok(mut c) = catalog.lock() {
                // A failure to record the failure (a full disk) must not hide the first one.
                let _ = c.fail_run(*run, &error.to_string());
            }
        }
    }
}

fn lock(catalog: &Mutex<Catalog>) -> Result<std::sync::MutexGuard<'_, Catalog>, GalleryError> {
    catalog
        .lock()
        .map_err(|_| GalleryError::Content("the catalogue's lock was poisoned by a panic".into()))
}

/// What `catalog` knows; with `use_cache` off only the imported clusters (the user's input,
/// not a cache).
fn read(catalog: &Catalog, use_cache: bool) -> Result<Earlier, GalleryError> {
    if !use_cache {
        return Ok(Earlier {
            imported: catalog.imported_by_photo()?,
            ..Earlier::default()
        });
    }
    Ok(Earlier {
        photos: catalog.photos()?,
        content_model: catalog.content_model()?,
        people: catalog.people()?,
        imported: catalog.imported_by_photo()?,
    })
}

fn from_cache(cache: CacheFile) -> Earlier {
    Earlier {
        photos: cache
            .photos
            .into_iter()
            .map(|p| (p.rel_path.clone(), p))
            .collect(),
        content_model: cache.content_model,
        people: cache.people,
        imported: HashMap::new(),
    }
}

/// An output of an older version: its JSON cache moves into the catalogue (in one
/// transaction), then the cache file goes. A cache that cannot be read is left in place.
fn migrate_json_cache(
    catalog: &mut Catalog,
    output: &Path,
    notes: &mut Vec<String>,
) -> Result<(), GalleryError> {
    let path = output.join(CACHE_FILE);
    if !path.exists() {
        return Ok(());
    }
    let Some(cache) = CacheFile::read(output) else {
        notes.push(format!(
            "{} is not a cache this version reads; left in place, photos are read again",
            path.display()
        ));
        return Ok(());
    };
    let earlier = from_cache(cache);
    let n = earlier.photos.len();
    let mut photos: Vec<PhotoRecord> = earlier.photos.into_values().collect();
    photos.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    catalog.migrate_cache(&photos, earlier.content_model.as_ref(), &earlier.people)?;
    std::fs::remove_file(&path).map_err(|e| GalleryError::io(&path, e))?;
    notes.push(format!(
        "moved the JSON cache of an earlier version ({n} photos) into {}",
        catalog.path().display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{CacheFile, CACHE_VERSION};
    use crate::catalog::{CATALOG_FILE, LOCK_FILE};
    use crate::plan::GroupKind;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn an_old_json_cache_moves_into_the_catalogue_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let photos = dir.path().join("Photos");
        crate::sample_library::write_sample_library(&photos, 16, 4).expect("library");
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&photos, &out)
            .by(vec![GroupKind::Date, GroupKind::Content])
            .with_embedder(crate::params::EmbedderSpec::Stats);
        let cancel = AtomicBool::new(false);
        let first = crate::organize(&params, &|_| {}, &cancel).expect("first run");
        // The same output as an older version left it: a JSON cache, no catalogue.
        let cached = Catalog::open_read_only(&out)
            .expect("open")
            .expect("exists")
            .photos()
            .expect("photos");
        for name in [
            CATALOG_FILE,
            "catalog.sqlite-wal",
            "catalog.sqlite-shm",
            LOCK_FILE,
        ] {
            let _ = std::fs::remove_file(out.join(name));
        }
        let cache = CacheFile {
            version: CACHE_VERSION,
            photos: cached.into_values().collect(),
            content_model: None,
            people: Vec::new(),
        };
        std::fs::write(
            out.join(CACHE_FILE),
            serde_json::to_vec(&cache).expect("json"),
        )
        .expect("write cache");

        let second = crate::organize(&params, &|_| {}, &cancel).expect("second run");
        assert_eq!(second.from_cache, first.photos.len(), "no photo read again");
        assert!(!out.join(CACHE_FILE).exists(), "the JSON cache is gone");
        assert!(second
            .notes
            .iter()
            .any(|n| n.contains("moved the JSON cache")));
        let catalog = Catalog::open_read_only(&out)
            .expect("open")
            .expect("exists");
        assert_eq!(catalog.photo_count().expect("count"), first.photos.len());
        assert_eq!(second.plan.links, first.plan.links);
    }
}
