//! Walks a photo tree and reads every JPEG/PNG it finds, in parallel, read-only.
//!
//! Each file is processed under `catch_unwind` so a decoder bug on one hostile file becomes a
//! "skipped" line in the summary instead of an aborted run. Hidden folders, the organizer's own
//! output tree (wherever it is) and symbolic links (unless asked to follow them; walkdir then
//! detects loops) are not entered.

use crate::civil::WallClock;
use crate::exif_meta::{find_exif_block, parse_exif, ExifInfo, GpsPoint, TimeSource};
use crate::sniff::{sniff, ImageKind, SNIFF_LEN};
use crate::thumbs::{self, ContentFeatures};
use deepclust_embed::ImageEmbedder;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use walkdir::WalkDir;

/// Name of the file that marks a directory as an organizer output tree; the scanner never
/// enters a directory holding it, so re-running with the output inside the photo tree does not
/// pick up the links and thumbnails of an earlier run.
pub const OUTPUT_MARKER: &str = ".deepclust-organized";

/// Everything known about one photo; also the unit of the incremental cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// Path relative to the scanned root, with `/` separators.
    pub rel_path: String,
    pub size: u64,
    pub mtime_secs: i64,
    pub mtime_nanos: u32,
    pub kind: ImageKind,
    pub taken: WallClock,
    pub time_source: TimeSource,
    pub gps: Option<GpsPoint>,
    pub orientation: u16,
    pub camera: Option<String>,
    /// Thumbnail size (upright) when the image was decoded.
    pub thumb_width: u32,
    pub thumb_height: u32,
    pub content: Option<ContentFeatures>,
    /// Why things are as they are (time fallback, ignored fields).
    pub notes: Vec<String>,
    /// FNV-1a 64 of the file's bytes: exact duplicates share it (and the size).
    #[serde(default)]
    pub content_hash: u64,
}

impl PhotoRecord {
    /// File name of this photo's thumbnail: stable for an unchanged file, new when it changes.
    pub fn thumb_name(&self) -> String {
        let key = format!(
            "{}\0{}\0{}\0{}",
            self.rel_path, self.size, self.mtime_secs, self.mtime_nanos
        );
        format!("{:016x}.jpg", fnv1a64(key.as_bytes()))
    }
}

/// A file that looked like a photo but could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub rel_path: String,
    pub reason: String,
}

/// Stable 64-bit FNV-1a (used for names that must not change between runs or Rust versions).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Clone)]
pub struct ScanParams {
    pub follow_symlinks: bool,
    /// Compute embeddings and perceptual hashes (needed for content grouping).
    pub content: bool,
    /// Write thumbnails here (HTML index); `None` writes nothing.
    pub thumb_dir: Option<PathBuf>,
    /// Directories never entered (e.g. the output tree), compared after canonicalisation.
    pub exclude: Vec<PathBuf>,
    /// Files larger than this are skipped (and reported) rather than read into memory.
    pub max_file_bytes: u64,
    /// Embedding to use instead of the model-free one (with `content`).
    pub embedder: Option<Arc<dyn ImageEmbedder>>,
}

impl ScanParams {
    fn embedder_id(&self) -> &str {
        self.embedder
            .as_ref()
            .map_or(thumbs::BUILTIN_EMBEDDER, |e| e.id())
    }
}

impl Default for ScanParams {
    fn default() -> Self {
        ScanParams {
            follow_symlinks: false,
            content: false,
            thumb_dir: None,
            exclude: Vec::new(),
            max_file_bytes: 512 << 20,
            embedder: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    pub photos: Vec<PhotoRecord>,
    pub skipped: Vec<SkippedFile>,
    /// Files that are not JPEG/PNG by content (videos, RAW, sidecars), not reported one by one.
    pub other_files: usize,
    /// Photos taken from the cache without reading the file.
    pub from_cache: usize,
}

/// Progress of a long stage: `done` of `total` items.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
}

enum Outcome {
    Photo(Box<PhotoRecord>, bool),
    NotImage,
    Skipped(SkippedFile),
}

/// Lossless (see [`crate::relpath`]): a name that is not UTF-8 is still found again.
fn rel_string(root: &Path, path: &Path) -> String {
    crate::relpath::relative(root, path)
}

/// Lists candidate files (sorted) and the walk errors (loops, unreadable folders).
fn list_files(root: &Path, params: &ScanParams) -> (Vec<PathBuf>, Vec<SkippedFile>) {
    let exclude: Vec<PathBuf> = params
        .exclude
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let walker = WalkDir::new(root)
        .follow_links(params.follow_symlinks)
        .into_iter();
    let walker = walker.filter_entry(|e| {
        if e.depth() == 0 {
            return true;
        }
        if e.file_name().to_string_lossy().starts_with('.') {
            return false;
        }
        if e.file_type().is_dir() {
            if e.path().join(OUTPUT_MARKER).exists() {
                return false;
            }
            if !exclude.is_empty() {
                if let Ok(c) = e.path().canonicalize() {
                    if exclude.contains(&c) {
                        return false;
                    }
                }
            }
        }
        true
    });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(err) => {
                let rel = err.path().map(|p| rel_string(root, p)).unwrap_or_default();
                let reason = if err.loop_ancestor().is_some() {
                    "symbolic link loop, not followed".to_string()
                } else {
                    format!("cannot read: {err}")
                };
                errors.push(SkippedFile {
                    rel_path: rel,
                    reason,
                });
            }
        }
    }
    files.sort();
    (files, errors)
}

/// Whether `meta` still describes the file as the scan recorded it (size and modification
/// time, read the way the scan reads them).
pub(crate) fn is_as_scanned(meta: &fs::Metadata, photo: &PhotoRecord) -> bool {
    meta.len() == photo.size && mtime_of(meta) == (photo.mtime_secs, photo.mtime_nanos)
}

fn mtime_of(meta: &fs::Metadata) -> (i64, u32) {
    match meta.modified() {
        Ok(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                (
                    -(d.as_secs() as i64) - i64::from(d.subsec_nanos() > 0),
                    (1_000_000_000 - d.subsec_nanos()) % 1_000_000_000,
                )
            }
        },
        Err(_) => (0, 0),
    }
}

fn process_file(
    root: &Path,
    path: &Path,
    params: &ScanParams,
    cache: &HashMap<String, PhotoRecord>,
) -> Outcome {
    let rel_path = rel_string(root, path);
    let skip = |reason: String| {
        Outcome::Skipped(SkippedFile {
            rel_path: rel_path.clone(),
            reason,
        })
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return skip(format!("cannot stat: {e}")),
    };
    let (mtime_secs, mtime_nanos) = mtime_of(&meta);
    let size = meta.len();

    if let Some(prev) = cache.get(&rel_path) {
        let content_ok = !params.content
            || prev
                .content
                .as_ref()
                .is_some_and(|c| c.embedder == params.embedder_id());
        let thumb_ok = params
            .thumb_dir
            .as_ref()
            .is_none_or(|d| d.join(prev.thumb_name()).exists());
        if prev.size == size
            && prev.mtime_secs == mtime_secs
            && prev.mtime_nanos == mtime_nanos
            && content_ok
            && thumb_ok
        {
            return Outcome::Photo(Box::new(prev.clone()), true);
        }
    }

    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return skip(format!("cannot open: {e}")),
    };
    let mut head = [0u8; SNIFF_LEN];
    let mut got = 0;
    while got < SNIFF_LEN {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return skip(format!("cannot read: {e}")),
        }
    }
    let Some(kind) = sniff(&head[..got]) else {
        // A file named like an image we read but holding something else is worth telling
        // (a failed download, a renamed document); any other file is simply not a photo.
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if let Some(ext @ ("jpg" | "jpeg" | "png")) = extension.as_deref() {
            return skip(format!(
                "named .{ext} but not an image: its content is neither JPEG nor PNG"
            ));
        }
        return Outcome::NotImage;
    };
    if size > params.max_file_bytes {
        return skip(format!(
            "{size} bytes, above the {} byte limit",
            params.max_file_bytes
        ));
    }
    let mut bytes = head[..got].to_vec();
    // `take` bounds the read even if the file grows while we read it.
    if let Err(e) = file.take(params.max_file_bytes).read_to_end(&mut bytes) {
        return skip(format!("cannot read: {e}"));
    }

    let exif = match find_exif_block(&bytes, kind) {
        Some(block) => match parse_exif(block) {
            Ok(info) => info,
            Err(e) => return skip(format!("malformed EXIF ({e})")),
        },
        None => ExifInfo {
            orientation: 1,
            ..ExifInfo::default()
        },
    };
    let mut notes = exif.notes.clone();
    let (taken, time_source) = match exif.taken {
        Some(t) => t,
        None => {
            notes.push("no EXIF date: using the file modification time (UTC)".to_string());
            (WallClock::from_unix_utc(mtime_secs), TimeSource::FileMtime)
        }
    };

    let decode_side = params.embedder.as_ref().map_or(thumbs::THUMB_SIZE, |e| {
        e.decode_side().max(thumbs::THUMB_SIZE)
    });
    let decoded = match thumbs::decode_thumbnail(&bytes, kind, exif.orientation, decode_side) {
        Ok(t) => t,
        Err(e) => return skip(format!("undecodable image ({e})")),
    };
    let thumb = thumbs::shrink(&decoded, thumbs::THUMB_SIZE);
    let mut record = PhotoRecord {
        rel_path: rel_path.clone(),
        size,
        mtime_secs,
        mtime_nanos,
        kind,
        taken,
        time_source,
        gps: exif.gps,
        orientation: exif.orientation,
        camera: exif.camera.clone(),
        thumb_width: thumb.width(),
        thumb_height: thumb.height(),
        content: None,
        notes,
        content_hash: fnv1a64(&bytes),
    };
    if params.content {
        let mut features = thumbs::features(&thumb);
        if let Some(embedder) = &params.embedder {
            match embedder.embed(&decoded) {
                Ok(signals) => {
                    features.signals = Some(signals);
                    features.embedder = embedder.id().to_string();
                }
                Err(e) => return skip(format!("embedding failed ({e})")),
            }
        }
        record.content = Some(features);
    }
    if let Some(dir) = &params.thumb_dir {
        match thumbs::encode_jpeg(&thumb) {
            Ok(jpeg) => {
                // Written aside then renamed: a killed run never leaves half a thumbnail
                // under the name the next run trusts.
                let name = dir.join(record.thumb_name());
                let part = name.with_extension("jpg.part");
                if let Err(e) = fs::write(&part, jpeg).and_then(|()| fs::rename(&part, &name)) {
                    let _ = fs::remove_file(&part);
                    record.notes.push(format!("thumbnail not written: {e}"));
                }
            }
            Err(e) => record.notes.push(format!("thumbnail not encoded: {e}")),
        }
    }
    Outcome::Photo(Box::new(record), false)
}

/// Scans `root`. `cache` maps relative paths to records of an earlier run; a record is reused
/// when size and modification time are unchanged. Returns `None` when cancelled.
pub fn scan(
    root: &Path,
    params: &ScanParams,
    cache: &HashMap<String, PhotoRecord>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Option<ScanResult> {
    scan_with(root, params, cache, &|_| {}, progress, cancel)
}

/// [`scan`], handing every photo read from its file (not taken from `cache`) to `fresh` as
/// soon as it is read, from the scanning threads (the catalogue commits them in batches).
pub fn scan_with(
    root: &Path,
    params: &ScanParams,
    cache: &HashMap<String, PhotoRecord>,
    fresh: &(dyn Fn(&PhotoRecord) + Sync),
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Option<ScanResult> {
    let (files, walk_errors) = list_files(root, params);
    let total = files.len();
    progress(Progress {
        stage: "scan",
        done: 0,
        total,
    });
    let done = AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = files
        .par_iter()
        .map(|path| {
            if cancel.load(Ordering::Relaxed) {
                return Outcome::NotImage;
            }
            let outcome =
                catch_unwind(AssertUnwindSafe(|| process_file(root, path, params, cache)))
                    .unwrap_or_else(|_| {
                        Outcome::Skipped(SkippedFile {
                            rel_path: rel_string(root, path),
                            reason: "decoder crashed on this file (caught)".to_string(),
                        })
                    });
            if let Outcome::Photo(p, false) = &outcome {
                fresh(p);
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(Progress {
                stage: "scan",
                done: d,
                total,
            });
            outcome
        })
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return None;
    }
    let mut result = ScanResult {
        skipped: walk_errors,
        ..ScanResult::default()
    };
    for o in outcomes {
        match o {
            Outcome::Photo(p, cached) => {
                result.from_cache += usize::from(cached);
                result.photos.push(*p);
            }
            Outcome::NotImage => result.other_files += 1,
            Outcome::Skipped(s) => result.skipped.push(s),
        }
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_file_named_like_an_image_but_holding_text_is_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.jpg"), b"Shopping list").unwrap();
        fs::write(dir.path().join("empty.PNG"), b"").unwrap();
        fs::write(dir.path().join("notes.txt"), b"Shopping list").unwrap();
        let cancel = AtomicBool::new(false);
        let r = scan(
            dir.path(),
            &ScanParams::default(),
            &HashMap::new(),
            &|_| {},
            &cancel,
        )
        .unwrap();
        let mut skipped: Vec<(&str, &str)> = r
            .skipped
            .iter()
            .map(|s| (s.rel_path.as_str(), s.reason.as_str()))
            .collect();
        skipped.sort();
        assert_eq!(
            skipped,
            vec![
                (
                    "empty.PNG",
                    "named .png but not an image: its content is neither JPEG nor PNG"
                ),
                (
                    "notes.jpg",
                    "named .jpg but not an image: its content is neither JPEG nor PNG"
                ),
            ]
        );
        assert_eq!(r.other_files, 1);
        assert!(r.photos.is_empty());
    }

    #[test]
    fn scans_a_small_tree_skipping_hidden_and_output() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let jpeg = thumbs::encode_jpeg(&thumbs::solid(32, 24, [10, 200, 30])).unwrap();
        fs::create_dir_all(root.join("a/.hidden")).unwrap();
        fs::create_dir_all(root.join("out")).unwrap();
        fs::write(root.join("out").join(OUTPUT_MARKER), b"").unwrap();
        fs::write(root.join("a/x.jpg"), &jpeg).unwrap();
        fs::write(root.join("a/.hidden/y.jpg"), &jpeg).unwrap();
        fs::write(root.join("out/z.jpg"), &jpeg).unwrap();
        fs::write(root.join("a/notes.txt"), b"hello").unwrap();
        fs::write(root.join("a/broken.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
        let params = ScanParams {
            content: true,
            ..ScanParams::default()
        };
        let cancel = AtomicBool::new(false);
        let r = scan(root, &params, &HashMap::new(), &|_| {}, &cancel).unwrap();
        let names: Vec<_> = r.photos.iter().map(|p| p.rel_path.as_str()).collect();
        assert_eq!(names, vec!["a/x.jpg"]);
        assert_eq!(r.other_files, 1);
        assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
        assert_eq!(r.skipped[0].rel_path, "a/broken.jpg");
        let p = &r.photos[0];
        assert_eq!(p.time_source, TimeSource::FileMtime);
        assert!(p.content.is_some());
        // Second run: served from the cache.
        let cache: HashMap<_, _> = r
            .photos
            .iter()
            .map(|p| (p.rel_path.clone(), p.clone()))
            .collect();
        let r2 = scan(root, &params, &cache, &|_| {}, &cancel).unwrap();
        assert_eq!(r2.from_cache, 1);
        assert_eq!(r2.photos, r.photos);
    }
}
