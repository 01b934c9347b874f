//! Links of an earlier grouping that the current one no longer wants.
//!
//! Groupings are recomputed over the whole library on every run, so a new photo can merge two
//! events (it bridges the time gap between them), and an edited photo can change day or place.
//! The earlier run's links then sit in folders that no longer describe the library. They are
//! our own links, not originals, so they are removed, but only when all of this holds:
//!
//! - the earlier run's manifest (same photo directory) lists the path as a link it made for
//!   that photo, and the path stays inside the output directory (no `..`, no absolute path,
//!   no folder that resolves elsewhere through a symbolic link);
//! - the photo is still in the library (scanned in this run), so the original exists; or the
//!   photo was deleted from the library and the link is a symbolic link, now dangling, to its
//!   old path (a copy or hard link of a deleted photo may be its last copy: always kept);
//! - the file is still what we made: a symbolic link resolving to the original, a hard link
//!   to the original's inode, or a copy whose bytes equal the original's. A copy or hard link
//!   of a photo that has since been edited holds the only remaining old version: it is kept;
//! - it is not the original itself.
//!
//! Anything else (the user's own file, a replaced link, a folder) is kept and reported. A
//! group folder left empty by a removal is removed (`remove_dir` fails on a non-empty one).
//!
//! Two cases are settled without keeping a stale entry in a group folder:
//!
//! - **An edited photo** (size or modification time differ from the earlier manifest's) whose
//!   copy or hard link still holds the old version: that file is the only copy of the old
//!   version, so it is not removed but moved to `superseded/` (same relative path below it),
//!   listed in the manifest's `superseded` and reported. The group folder then gets a fresh
//!   copy under the same name, so it holds exactly one, up-to-date entry for the photo.
//! - **A renamed or moved photo** (its old path is gone): a copy or hard link whose bytes are
//!   those of a photo now in the library (same inode, or same length and same bytes) is not
//!   a last copy, so it goes like a dangling symbolic link; the photo's new name is linked.
//!
//! A stale entry kept for any other reason stays listed in the manifest (`kept_links`), so
//! the next run looks at it again instead of forgetting it.

use crate::apply::{same_contents, same_inode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The fields of an earlier manifest that pruning needs (read leniently, so a manifest of
/// another format version still works).
#[derive(Debug, Deserialize)]
struct PreviousManifest {
    input: PathBuf,
    photos: Vec<PreviousPhoto>,
    #[serde(default)]
    superseded: Vec<SupersededCopy>,
    #[serde(default)]
    kept_links: Vec<KeptLink>,
}

#[derive(Debug, Deserialize)]
struct PreviousPhoto {
    path: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    mtime_unix: Option<i64>,
    #[serde(default)]
    links: Vec<PathBuf>,
}

/// The folder (in the output directory) that holds old versions of edited photos.
pub const SUPERSEDED_DIR: &str = "superseded";

/// An old version of an edited photo, moved out of a group folder into [`SUPERSEDED_DIR`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupersededCopy {
    /// The photo (relative path in the library, lossless).
    pub photo: String,
    /// Where it was, relative to the output directory.
    pub was: PathBuf,
    /// Where it is now, relative to the output directory.
    pub now: PathBuf,
}

/// A stale entry an earlier run kept (not provably ours to remove), still tracked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptLink {
    pub photo: String,
    pub link: PathBuf,
    pub reason: String,
}

/// The links an earlier run recorded in the output directory, by photo (relative path in the
/// library) -> link paths relative to the output directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousLinks {
    pub by_photo: HashMap<String, Vec<PathBuf>>,
    /// The photo's size and modification time (seconds) when the earlier run linked it.
    pub versions: HashMap<String, (u64, i64)>,
    /// Old versions the earlier runs set aside (still to be listed while they exist).
    pub superseded: Vec<SupersededCopy>,
}

impl PreviousLinks {
    /// Reads `manifest` of an earlier run. `None` when there is none, it cannot be parsed, or
    /// it describes another photo directory than `input` (canonical): its relative paths
    /// would then name other files.
    pub fn read(manifest: &Path, input: &Path) -> Option<PreviousLinks> {
        let bytes = fs::read(manifest).ok()?;
        let m: PreviousManifest = serde_json::from_slice(&bytes).ok()?;
        let same_input =
            m.input == input || fs::canonicalize(&m.input).ok().as_deref() == Some(input);
        if !same_input {
            return None;
        }
        let versions = m
            .photos
            .iter()
            .filter_map(|p| Some((p.path.clone(), (p.size?, p.mtime_unix?))))
            .collect();
        let mut by_photo: HashMap<String, Vec<PathBuf>> = m
            .photos
            .into_iter()
            .map(|p| {
                let links = p
                    .links
                    .into_iter()
                    .filter(|l| is_plain_relative(l))
                    .collect();
                (p.path, links)
            })
            .collect();
        // Entries kept last time are looked at again (gone, now provably ours, or kept).
        for kept in m.kept_links {
            let links = by_photo.entry(kept.photo).or_default();
            if is_plain_relative(&kept.link) && !links.contains(&kept.link) {
                links.push(kept.link);
            }
        }
        let superseded = m
            .superseded
            .into_iter()
            .filter(|s| is_plain_relative(&s.now))
            .collect();
        Some(PreviousLinks {
            by_photo,
            versions,
            superseded,
        })
    }

    /// (photo, link) pairs, sorted, for photos accepted by `keep_photo`.
    pub fn pairs(&self, keep_photo: impl Fn(&str) -> bool) -> Vec<(String, PathBuf)> {
        let mut out: Vec<(String, PathBuf)> = self
            .by_photo
            .iter()
            .filter(|(p, _)| keep_photo(p))
            .flat_map(|(p, links)| links.iter().map(move |l| (p.clone(), l.clone())))
            .collect();
        out.sort();
        out
    }
}

/// Only plain folder and file names: nothing that could climb out of the output directory.
fn is_plain_relative(p: &Path) -> bool {
    p.components().count() > 0 && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// What was done (or, in a dry run, would be done) with an earlier run's stale links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Removed links (relative to the output directory); in a dry run, those that would be.
    pub removed: Vec<PathBuf>,
    /// Stale links left in place, with the reason.
    pub kept: Vec<(PathBuf, String)>,
    /// The photo of each `kept` entry (same order), for the manifest to keep tracking it.
    #[serde(default)]
    pub kept_photos: Vec<String>,
    /// Old versions of edited photos moved to [`SUPERSEDED_DIR`] (in a dry run: would be).
    #[serde(default)]
    pub set_aside: Vec<SupersededCopy>,
    /// Group folders removed because their last entry went.
    pub removed_folders: usize,
}

impl PruneReport {
    pub fn merge(&mut self, other: PruneReport) {
        self.removed.extend(other.removed);
        self.kept.extend(other.kept);
        self.kept_photos.extend(other.kept_photos);
        self.set_aside.extend(other.set_aside);
        self.removed_folders += other.removed_folders;
    }
}

/// Whether `target` may be removed as our own link to `original`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing there any more.
    Gone,
    /// Provably our link or copy of the (existing) original.
    Ours,
    /// Not provably ours: keep it, for this reason.
    Keep(String),
}

/// The photos now in the library by length, to recognise a renamed photo's old copy.
#[derive(Debug, Default)]
pub struct LibraryBytes {
    by_len: HashMap<u64, Vec<PathBuf>>,
}

impl LibraryBytes {
    /// `photos` as (absolute path, length).
    pub fn new(photos: impl IntoIterator<Item = (PathBuf, u64)>) -> Self {
        let mut by_len: HashMap<u64, Vec<PathBuf>> = HashMap::new();
        for (path, len) in photos {
            by_len.entry(len).or_default().push(path);
        }
        LibraryBytes { by_len }
    }

    /// A photo in the library that `file` is a hard link or a byte-identical copy of.
    fn holder_of(&self, file: &Path, len: u64) -> Option<&Path> {
        self.by_len
            .get(&len)?
            .iter()
            .map(PathBuf::as_path)
            .find(|p| same_inode(file, p) || same_contents(file, p).unwrap_or(false))
    }
}

/// The folder holding `target` really is inside the output tree `out_dir` (canonical): a
/// folder replaced by a symbolic link to the photo tree would otherwise expose originals.
fn folder_inside(target: &Path, out_dir: &Path) -> bool {
    target
        .parent()
        .and_then(|p| fs::canonicalize(p).ok())
        .is_some_and(|p| p.starts_with(out_dir))
}

/// How a regular file of the output tree compares with the (existing) original.
enum FileMatch {
    /// It is the original itself (reached through the output tree).
    TheOriginal,
    /// A hard link to the original's inode, or a copy with the same bytes.
    SameBytes,
    /// Other bytes: an old version, or not ours.
    Differs,
}

fn compare_file(
    target: &Path,
    meta: &fs::Metadata,
    original: &Path,
    original_canonical: &Path,
) -> FileMatch {
    if fs::canonicalize(target).ok().as_deref() == Some(original_canonical) {
        return FileMatch::TheOriginal;
    }
    let same_len = || fs::metadata(original).is_ok_and(|m| m.len() == meta.len());
    if same_inode(target, original)
        || (same_len() && same_contents(target, original).unwrap_or(false))
    {
        FileMatch::SameBytes
    } else {
        FileMatch::Differs
    }
}

/// Decides whether `target` (absolute, inside `out_dir`, both canonical or normalised) is our
/// link/copy of `original`; `library` recognises a renamed photo's bytes. See the module
/// documentation for the rules.
pub fn verdict(target: &Path, original: &Path, out_dir: &Path, library: &LibraryBytes) -> Verdict {
    let Ok(meta) = fs::symlink_metadata(target) else {
        return Verdict::Gone;
    };
    if !folder_inside(target, out_dir) {
        return Verdict::Keep("its folder resolves outside the output directory".into());
    }
    let Ok(original_canonical) = fs::canonicalize(original) else {
        return departed_verdict(target, &meta, original, library);
    };
    if meta.file_type().is_symlink() {
        return if fs::canonicalize(target).ok().as_ref() == Some(&original_canonical) {
            Verdict::Ours
        } else {
            Verdict::Keep("a symbolic link that no longer leads to the original".into())
        };
    }
    if !meta.is_file() {
        return Verdict::Keep("not a file or a link".into());
    }
    match compare_file(target, &meta, original, &original_canonical) {
        FileMatch::TheOriginal => Verdict::Keep("it is the original itself".into()),
        FileMatch::SameBytes => Verdict::Ours,
        FileMatch::Differs => Verdict::Keep(
            "a file that differs from the original (edited since, or not ours)".into(),
        ),
    }
}

/// The photo was deleted from the library (or moved away): only a symbolic link that still
/// names exactly its old path, now dangling, is ours to remove. A hard link or a copy may be
/// the last remaining copy of the photo, so it is kept whatever it holds.
fn departed_verdict(
    target: &Path,
    meta: &fs::Metadata,
    original: &Path,
    library: &LibraryBytes,
) -> Verdict {
    if fs::symlink_metadata(original).is_ok() {
        return Verdict::Keep("the original exists but cannot be resolved".into());
    }
    if meta.is_file() && library.holder_of(target, meta.len()).is_some() {
        // Renamed or moved within the library: the bytes are still there, under a name
        // this run links.
        return Verdict::Ours;
    }
    if !meta.file_type().is_symlink() {
        return Verdict::Keep(
            "the photo left the library and this copy or hard link may be its last copy".into(),
        );
    }
    let points_at = fs::read_link(target)
        .ok()
        .and_then(|to| target.parent().map(|dir| lexical_normal(&dir.join(to))));
    if points_at.as_deref() == Some(lexical_normal(original).as_path()) && !target.exists() {
        Verdict::Ours
    } else {
        Verdict::Keep("a symbolic link that does not lead to the photo's old path".into())
    }
}

/// `path` with `.` and `name/..` pairs removed, without touching the file system (the link
/// target no longer exists, so it cannot be canonicalised).
fn lexical_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Removes each stale `(photo, link)` (link relative to `out_dir`, photo relative to `input`)
/// that [`verdict`] proves ours, a renamed photo's copies and hard links included when their
/// bytes are in `library`; with `dry_run`, only reports what it would remove.
pub fn remove_stale(
    stale: &[(String, PathBuf)],
    input: &Path,
    out_dir: &Path,
    dry_run: bool,
    library: &LibraryBytes,
) -> PruneReport {
    let mut report = PruneReport::default();
    let out_canonical = fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    for (photo, link) in stale {
        if !is_plain_relative(link) {
            report
                .kept
                .push((link.clone(), "not a plain relative path".into()));
            report.kept_photos.push(photo.clone());
            continue;
        }
        let target = out_canonical.join(link);
        let original = crate::relpath::join(input, photo);
        match verdict(&target, &original, &out_canonical, library) {
            Verdict::Gone => {}
            Verdict::Keep(reason) => {
                report.kept.push((link.clone(), reason));
                report.kept_photos.push(photo.clone());
            }
            Verdict::Ours if dry_run => report.removed.push(link.clone()),
            Verdict::Ours => match fs::remove_file(&target) {
                Ok(()) => {
                    report.removed.push(link.clone());
                    report.removed_folders += remove_empty_parents(&target, &out_canonical);
                }
                Err(e) => {
                    report
                        .kept
                        .push((link.clone(), format!("cannot remove: {e}")));
                    report.kept_photos.push(photo.clone());
                }
            },
        }
    }
    report
}

/// Moves the old versions of edited photos out of their group folders into
/// [`SUPERSEDED_DIR`] (see the module documentation): for each photo in `edited` (relative
/// path, lossless), each earlier link that is a regular file (a copy, or a hard link to the
/// replaced inode) inside the output tree and whose bytes differ from the photo now. Nothing
/// is overwritten (the move is a hard link to a free name, then removing the old name) and
/// nothing is deleted. With `dry_run`, only reports what it would move.
pub fn set_aside_old_versions(
    edited: &[(String, Vec<PathBuf>)],
    input: &Path,
    out_dir: &Path,
    dry_run: bool,
) -> PruneReport {
    let mut report = PruneReport::default();
    let out_canonical = fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    for (photo, links) in edited {
        let original = crate::relpath::join(input, photo);
        let Ok(original_canonical) = fs::canonicalize(&original) else {
            continue;
        };
        for link in links.iter().filter(|l| is_plain_relative(l)) {
            let target = out_canonical.join(link);
            let Ok(meta) = fs::symlink_metadata(&target) else {
                continue;
            };
            let old_version = meta.is_file()
                && folder_inside(&target, &out_canonical)
                && matches!(
                    compare_file(&target, &meta, &original, &original_canonical),
                    FileMatch::Differs
                );
            if !old_version {
                continue;
            }
            let Some(now) = free_name(&out_canonical, &Path::new(SUPERSEDED_DIR).join(link)) else {
                continue;
            };
            if !dry_run {
                if let Err(e) = move_no_overwrite(&target, &out_canonical.join(&now)) {
                    report.kept.push((
                        link.clone(),
                        format!("an old version of the edited photo; cannot set it aside: {e}"),
                    ));
                    report.kept_photos.push(photo.clone());
                    continue;
                }
                report.removed_folders += remove_empty_parents(&target, &out_canonical);
            }
            report.set_aside.push(SupersededCopy {
                photo: photo.clone(),
                was: link.clone(),
                now,
            });
        }
    }
    report
}

/// `wanted` (relative to `out_dir`) or `name (2).ext`, `name (3).ext`, ...: the first that
/// does not exist.
fn free_name(out_dir: &Path, wanted: &Path) -> Option<PathBuf> {
    let name = wanted.file_name()?.to_string_lossy().into_owned();
    (1..=1000).find_map(|n| {
        let candidate = if n == 1 {
            wanted.to_path_buf()
        } else {
            let alt = match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
                _ => format!("{name} ({n})"),
            };
            wanted.with_file_name(alt)
        };
        fs::symlink_metadata(out_dir.join(&candidate))
            .is_err()
            .then_some(candidate)
    })
}

/// Moves `from` to `to` without ever replacing a file at `to`: a hard link under the new name
/// (which fails if the name is taken), then the old name removed. Where hard links are not
/// supported, a rename after checking the name is free.
fn move_no_overwrite(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    match fs::hard_link(from, to) {
        Ok(()) => fs::remove_file(from),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if fs::symlink_metadata(to).is_err() => fs::rename(from, to),
        Err(e) => Err(e),
    }
}

/// Removes the now-empty folders above `removed`, up to (not including) the top folder of its
/// grouping (`by-event`, ...). Returns how many went.
fn remove_empty_parents(removed: &Path, out_dir: &Path) -> usize {
    let mut count = 0;
    let mut dir = removed.parent();
    while let Some(d) = dir {
        let depth = d
            .strip_prefix(out_dir)
            .map_or(0, |r| r.components().count());
        if depth < 2 || fs::remove_dir(d).is_err() {
            break;
        }
        count += 1;
        dir = d.parent();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_only() {
        assert!(is_plain_relative(Path::new("by-event/2021/x.jpg")));
        assert!(!is_plain_relative(Path::new("../x.jpg")));
        assert!(!is_plain_relative(Path::new("/etc/passwd")));
        assert!(!is_plain_relative(Path::new("")));
    }

    #[cfg(unix)]
    #[test]
    fn verdicts_on_links_copies_and_foreign_files() {
        let none = LibraryBytes::default();
        let d = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(d.path()).unwrap();
        let lib = root.join("lib");
        let out = root.join("out");
        fs::create_dir_all(&lib).unwrap();
        fs::create_dir_all(out.join("by-event/2021/a")).unwrap();
        let original = lib.join("p.jpg");
        fs::write(&original, b"photo bytes").unwrap();
        let at = |name: &str| out.join("by-event/2021/a").join(name);

        std::os::unix::fs::symlink("../../../../lib/p.jpg", at("sym.jpg")).unwrap();
        fs::hard_link(&original, at("hard.jpg")).unwrap();
        fs::write(at("copy.jpg"), b"photo bytes").unwrap();
        fs::write(at("edited.jpg"), b"other bytes").unwrap();
        std::os::unix::fs::symlink("../../../../lib/other.jpg", at("elsewhere.jpg")).unwrap();
        fs::create_dir(at("folder.jpg")).unwrap();

        assert_eq!(
            verdict(&at("sym.jpg"), &original, &out, &none),
            Verdict::Ours
        );
        assert_eq!(
            verdict(&at("hard.jpg"), &original, &out, &none),
            Verdict::Ours
        );
        assert_eq!(
            verdict(&at("copy.jpg"), &original, &out, &none),
            Verdict::Ours
        );
        assert!(matches!(
            verdict(&at("edited.jpg"), &original, &out, &none),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            verdict(&at("elsewhere.jpg"), &original, &out, &none),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            verdict(&at("folder.jpg"), &original, &out, &none),
            Verdict::Keep(_)
        ));
        assert_eq!(
            verdict(&at("missing.jpg"), &original, &out, &none),
            Verdict::Gone
        );
        // The original reached through a folder link that points into the library.
        std::os::unix::fs::symlink(&lib, out.join("by-event/2021/trap")).unwrap();
        assert!(matches!(
            verdict(
                &out.join("by-event/2021/trap/p.jpg"),
                &original,
                &out,
                &none
            ),
            Verdict::Keep(_)
        ));

        let stale: Vec<(String, PathBuf)> = ["sym.jpg", "hard.jpg", "copy.jpg", "edited.jpg"]
            .iter()
            .map(|n| {
                (
                    "p.jpg".to_string(),
                    PathBuf::from("by-event/2021/a").join(n),
                )
            })
            .chain([(
                "p.jpg".to_string(),
                PathBuf::from("by-event/2021/trap/p.jpg"),
            )])
            .collect();
        let dry = remove_stale(&stale, &lib, &out, true, &none);
        assert_eq!(dry.removed.len(), 3);
        assert!(at("sym.jpg").exists(), "a dry run removed a link");
        let r = remove_stale(&stale, &lib, &out, false, &none);
        assert_eq!(r.removed.len(), 3);
        assert_eq!(r.kept.len(), 2, "{:?}", r.kept);
        assert_eq!(fs::read(&original).unwrap(), b"photo bytes");
        assert_eq!(fs::read(at("edited.jpg")).unwrap(), b"other bytes");
        // The folder still holds the user's files, so it stays.
        assert_eq!(r.removed_folders, 0);

        // A photo deleted from the library: its dangling symbolic link goes, its copy and
        // hard link (maybe the last copies) stay.
        let gone = lib.join("gone.jpg");
        fs::write(&gone, b"gone bytes").unwrap();
        std::os::unix::fs::symlink("../../../../lib/gone.jpg", at("gone-sym.jpg")).unwrap();
        std::os::unix::fs::symlink("../../../../lib/p.jpg", at("gone-other.jpg")).unwrap();
        fs::hard_link(&gone, at("gone-hard.jpg")).unwrap();
        fs::write(at("gone-copy.jpg"), b"gone bytes").unwrap();
        fs::remove_file(&gone).unwrap();
        let departed: Vec<(String, PathBuf)> = [
            "gone-sym.jpg",
            "gone-other.jpg",
            "gone-hard.jpg",
            "gone-copy.jpg",
        ]
        .iter()
        .map(|n| {
            (
                "gone.jpg".to_string(),
                PathBuf::from("by-event/2021/a").join(n),
            )
        })
        .collect();
        let r = remove_stale(&departed, &lib, &out, false, &none);
        assert_eq!(
            r.removed,
            vec![PathBuf::from("by-event/2021/a/gone-sym.jpg")]
        );
        assert_eq!(r.kept.len(), 3, "{:?}", r.kept);
        assert_eq!(fs::read(at("gone-hard.jpg")).unwrap(), b"gone bytes");
        assert_eq!(fs::read(at("gone-copy.jpg")).unwrap(), b"gone bytes");
        assert!(at("gone-other.jpg").exists());

        // Once a folder's last link goes, the folder goes too (but not by-event itself).
        fs::create_dir_all(out.join("by-event/2020/b")).unwrap();
        std::os::unix::fs::symlink("../../../../lib/p.jpg", out.join("by-event/2020/b/p.jpg"))
            .unwrap();
        let r = remove_stale(
            &[("p.jpg".into(), PathBuf::from("by-event/2020/b/p.jpg"))],
            &lib,
            &out,
            false,
            &none,
        );
        assert_eq!((r.removed.len(), r.removed_folders), (1, 2));
        assert!(out.join("by-event").is_dir());
        assert!(!out.join("by-event/2020").exists());
    }
}
