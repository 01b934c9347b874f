//! Applies a plan to the output tree, fclones-style: every source is re-checked against the
//! scan (size, modification time) before it is linked, nothing existing is ever overwritten,
//! and originals are only ever opened for reading.
//!
//! No-overwrite is enforced by the operating system, not by a check-then-act: `symlink` and
//! `hard_link` fail when the target exists, and copies are written to a fresh temporary name
//! (`create_new`) and then hard-linked into place (again failing if the target appeared).

use crate::error::GalleryError;
use crate::plan::Plan;
use crate::scan::{is_as_scanned, PhotoRecord, Progress};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// Relative symbolic links (default): no extra space, the tree survives moving both
    /// folders together.
    #[default]
    Symlink,
    /// Hard links: survive deleting the original; same file system only.
    Hardlink,
    /// Full copies (modification time preserved).
    Copy,
}

impl LinkMode {
    /// `(mode, name, description)` for a command line's `--link`.
    pub const CHOICES: &'static [(LinkMode, &'static str, &'static str)] = &[
        (
            LinkMode::Symlink,
            "symlink",
            "Relative symbolic links (no extra space)",
        ),
        (
            LinkMode::Hardlink,
            "hardlink",
            "Hard links (same file system; survive deleting the original)",
        ),
        (LinkMode::Copy, "copy", "Full copies"),
    ];
}

impl std::str::FromStr for LinkMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "symlink" => Ok(LinkMode::Symlink),
            "hardlink" => Ok(LinkMode::Hardlink),
            "copy" => Ok(LinkMode::Copy),
            _ => Err(format!(
                "link mode must be symlink, hardlink or copy, got {s:?}"
            )),
        }
    }
}

/// What happened to one planned link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum LinkOutcome {
    Created {
        target: PathBuf,
    },
    /// An earlier run already put this photo there.
    AlreadyPresent {
        target: PathBuf,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApplyReport {
    /// One outcome per planned link, in plan order.
    pub outcomes: Vec<LinkOutcome>,
    pub created: usize,
    pub already_present: usize,
    /// Links placed under another name because something else held the planned one.
    pub renamed: usize,
    pub failed: usize,
    /// Half-written temporaries of killed earlier runs, removed from the target folders.
    #[serde(default)]
    pub stale_temporaries_removed: Vec<PathBuf>,
}

/// Hard links cannot cross file systems: refuse up front, with the way out, rather than fail
/// every link one by one.
fn check_same_file_system(source_root: &Path, out_dir: &Path) -> Result<(), GalleryError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let dev = |p: &Path| {
            fs::metadata(p)
                .map(|m| m.dev())
                .map_err(|e| GalleryError::io(p, e))
        };
        if dev(source_root)? != dev(out_dir)? {
            return Err(GalleryError::path(
                out_dir,
                format!(
                    "--link hardlink needs the output on the same file system as the photos \
                     ({}), and it is not; use --link symlink or --link copy, or choose an \
                     output on that file system",
                    source_root.display()
                ),
            ));
        }
    }
    Ok(())
}

/// `to` relative to the directory `from` (both absolute and normalised).
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Is `target` already this photo, linked the way `mode` would link it?
pub(crate) fn is_same(target: &Path, source: &Path, mode: LinkMode) -> bool {
    let Ok(meta) = fs::symlink_metadata(target) else {
        return false;
    };
    match mode {
        LinkMode::Symlink => {
            meta.file_type().is_symlink()
                && fs::canonicalize(target).ok() == fs::canonicalize(source).ok()
        }
        LinkMode::Hardlink => same_inode(target, source),
        LinkMode::Copy => {
            meta.is_file()
                && !same_inode(target, source)
                && fs::metadata(source).is_ok_and(|s| s.len() == meta.len())
                && same_contents(target, source).unwrap_or(false)
        }
    }
}

#[cfg(unix)]
pub(crate) fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::symlink_metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub(crate) fn same_inode(_a: &Path, _b: &Path) -> bool {
    false
}

pub(crate) fn same_contents(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let na = fa.read(&mut ba)?;
        let mut filled = 0;
        while filled < na {
            let n = fb.read(&mut bb[filled..na])?;
            if n == 0 {
                return Ok(false);
            }
            filled += n;
        }
        if ba[..na] != bb[..na] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(fb.read(&mut bb[..1])? == 0);
        }
    }
}

/// Creates `target` as a link/copy of `source`; fails with `AlreadyExists` if anything is there.
fn place(source: &Path, target: &Path, mode: LinkMode) -> io::Result<()> {
    match mode {
        LinkMode::Symlink => {
            let parent = target
                .parent()
                .ok_or_else(|| io::Error::other("target has no parent"))?;
            let rel = relative_path(&fs::canonicalize(parent)?, source);
            symlink(&rel, target)
        }
        LinkMode::Hardlink => fs::hard_link(source, target),
        LinkMode::Copy => copy_no_overwrite(source, target),
    }
}

#[cfg(unix)]
fn symlink(rel: &Path, target: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(rel, target)
}

#[cfg(not(unix))]
fn symlink(_rel: &Path, _target: &Path) -> io::Result<()> {
    Err(io::Error::other(
        "symbolic links are only supported on Unix; use --link copy",
    ))
}

fn copy_no_overwrite(source: &Path, target: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    let parent = target
        .parent()
        .ok_or_else(|| io::Error::other("target has no parent"))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(
        ".{name}{}{}",
        deepclust_nn::weights::PARTIAL_MARKER,
        std::process::id()
    ));
    let result = (|| {
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut src = fs::File::open(source)?;
        io::copy(&mut src, &mut out)?;
        if let Ok(m) = src.metadata().and_then(|m| m.modified()) {
            out.set_modified(m)?;
        }
        out.sync_all()?;
        drop(out);
        match fs::hard_link(&tmp, target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            // File systems without hard links: the check above is the best we can do.
            Err(_) if fs::symlink_metadata(target).is_err() => fs::rename(&tmp, target),
            Err(e) => Err(e),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// `name~2.ext`, `name~3.ext`, ... for a target whose planned name is held by something else.
fn alternative(target: &Path, n: usize) -> PathBuf {
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let alt = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}~{n}.{ext}"),
        _ => format!("{name}~{n}"),
    };
    target.with_file_name(alt)
}

/// Applies `plan` (built from `photos`, scanned under `source_root`) into `out_dir`.
///
/// `recorded` holds the links (relative to `out_dir`) that the previous run's manifest lists
/// for photos unchanged since: such a link still in its folder under its name, as a link of
/// this mode, is taken as present from the folder's listing alone. A no-change re-run then
/// reads a few hundred directories instead of every link's target (400,000 reads on disk
/// for 100,000 photos in four groupings); a link that is missing or of another kind is
/// checked and made as usual.
#[allow(clippy::too_many_arguments)]
pub fn apply_plan(
    plan: &Plan,
    photos: &[PhotoRecord],
    source_root: &Path,
    out_dir: &Path,
    mode: LinkMode,
    recorded: &HashSet<PathBuf>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ApplyReport, GalleryError> {
    let source_root =
        fs::canonicalize(source_root).map_err(|e| GalleryError::io(source_root, e))?;
    fs::create_dir_all(out_dir).map_err(|e| GalleryError::io(out_dir, e))?;
    if mode == LinkMode::Hardlink {
        check_same_file_system(&source_root, out_dir)?;
    }
    let mut report = ApplyReport::default();
    // A run killed mid-copy (kill -9, power cut) leaves `.NAME.deepclust-partial-PID` in
    // the folder it was writing to; those of processes no longer running go now.
    let folders: std::collections::BTreeSet<PathBuf> = plan
        .links
        .iter()
        .filter_map(|l| out_dir.join(&l.target).parent().map(Path::to_path_buf))
        .collect();
    for folder in std::iter::once(out_dir.to_path_buf()).chain(folders) {
        report
            .stale_temporaries_removed
            .extend(deepclust_nn::weights::remove_stale_partials(&folder));
    }
    let total = plan.links.len();
    // Per photo, once: its canonical path and the check that it is as scanned (a photo has
    // a link per grouping). Per folder, once: created and canonicalised.
    let mut sources: HashMap<usize, Result<PathBuf, String>> = HashMap::new();
    let mut folders: HashMap<PathBuf, Result<PathBuf, String>> = HashMap::new();
    let mut listings: HashMap<PathBuf, HashMap<std::ffi::OsString, fs::FileType>> = HashMap::new();
    for (done, link) in plan.links.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(GalleryError::Cancelled);
        }
        let target = out_dir.join(&link.target);
        if recorded.contains(&link.target)
            && listed(&mut listings, &target, mode, &photos[link.photo])
        {
            report.already_present += 1;
            report.outcomes.push(LinkOutcome::AlreadyPresent { target });
            progress(Progress {
                stage: "link",
                done: done + 1,
                total,
            });
            continue;
        }
        let photo = &photos[link.photo];
        let source = sources
            .entry(link.photo)
            .or_insert_with(|| checked_source(&source_root, photo));
        let outcome = match (source, target.parent()) {
            (Err(reason), _) => LinkOutcome::Failed {
                reason: reason.clone(),
            },
            (Ok(_), None) => LinkOutcome::Failed {
                reason: "target has no parent".into(),
            },
            (Ok(source), Some(parent)) => {
                match folders
                    .entry(parent.to_path_buf())
                    .or_insert_with(|| prepared_folder(parent))
                {
                    Ok(canonical_parent) => apply_one(source, &target, canonical_parent, mode),
                    Err(reason) => LinkOutcome::Failed {
                        reason: reason.clone(),
                    },
                }
            }
        };
        match &outcome {
            LinkOutcome::Created { target: made } => {
                report.created += 1;
                report.renamed += usize::from(*made != target);
            }
            LinkOutcome::AlreadyPresent { .. } => report.already_present += 1,
            LinkOutcome::Failed { .. } => report.failed += 1,
        }
        report.outcomes.push(outcome);
        progress(Progress {
            stage: "link",
            done: done + 1,
            total,
        });
    }
    Ok(report)
}

/// The photo's canonical path (so relative symlinks are computed between real locations),
/// after checking the file is still as the scan saw it: never act on a file that changed
/// meanwhile.
fn checked_source(source_root: &Path, photo: &PhotoRecord) -> Result<PathBuf, String> {
    let joined = crate::relpath::join(source_root, &photo.rel_path);
    let source = fs::canonicalize(&joined).unwrap_or(joined);
    let m = fs::metadata(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    if !is_as_scanned(&m, photo) {
        return Err(format!(
            "{} changed since it was scanned; not linked",
            source.display()
        ));
    }
    Ok(source)
}

/// Whether `target` is in its folder's listing as an entry of `mode`'s kind (each folder is
/// listed once): a symbolic link; for copies and hard links a file that also has the
/// photo's size and modification time (one stat: the user's own file put in its place is not
/// taken for ours).
fn listed(
    listings: &mut HashMap<PathBuf, HashMap<std::ffi::OsString, fs::FileType>>,
    target: &Path,
    mode: LinkMode,
    photo: &PhotoRecord,
) -> bool {
    let (Some(folder), Some(name)) = (target.parent(), target.file_name()) else {
        return false;
    };
    let listing = listings.entry(folder.to_path_buf()).or_insert_with(|| {
        fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| Some((e.file_name(), e.file_type().ok()?)))
                    .collect()
            })
            .unwrap_or_default()
    });
    listing.get(name).is_some_and(|kind| match mode {
        LinkMode::Symlink => kind.is_symlink(),
        LinkMode::Hardlink | LinkMode::Copy => {
            kind.is_file() && fs::symlink_metadata(target).is_ok_and(|m| is_as_scanned(&m, photo))
        }
    })
}

/// Creates `folder` when needed; its canonical path.
fn prepared_folder(folder: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    fs::canonicalize(folder).map_err(|e| format!("{}: {e}", folder.display()))
}

fn apply_one(source: &Path, target: &Path, canonical_parent: &Path, mode: LinkMode) -> LinkOutcome {
    let fail = |reason: String| LinkOutcome::Failed { reason };
    // The link this run would write: a link already reading exactly that is ours (one
    // readlink, where comparing canonical paths walks both paths).
    let rel = (mode == LinkMode::Symlink).then(|| relative_path(canonical_parent, source));
    for attempt in 1..=100 {
        let candidate = if attempt == 1 {
            target.to_path_buf()
        } else {
            alternative(target, attempt)
        };
        if let Some(rel) = &rel {
            if fs::read_link(&candidate).is_ok_and(|r| &r == rel) {
                return LinkOutcome::AlreadyPresent { target: candidate };
            }
        }
        if is_same(&candidate, source, mode) {
            return LinkOutcome::AlreadyPresent { target: candidate };
        }
        let placed = match &rel {
            Some(rel) => symlink(rel, &candidate),
            None => place(source, &candidate, mode),
        };
        match placed {
            Ok(()) => return LinkOutcome::Created { target: candidate },
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return fail(format!("{}: {e}", candidate.display())),
        }
    }
    fail(format!("{}: 100 names already taken", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/x/y.jpg")),
            PathBuf::from("../../x/y.jpg")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a/y.jpg")),
            PathBuf::from("y.jpg")
        );
        assert_eq!(
            alternative(Path::new("/o/IMG.jpg"), 2),
            PathBuf::from("/o/IMG~2.jpg")
        );
    }

    #[test]
    fn copy_refuses_to_overwrite_and_detects_same() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src.bin");
        let dst = d.path().join("dst.bin");
        fs::write(&src, b"original").unwrap();
        fs::write(&dst, b"someone else's").unwrap();
        let e = copy_no_overwrite(&src, &dst).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&dst).unwrap(), b"someone else's");
        let dst2 = d.path().join("dst2.bin");
        copy_no_overwrite(&src, &dst2).unwrap();
        assert!(is_same(&dst2, &src, LinkMode::Copy));
        assert!(!is_same(&dst, &src, LinkMode::Copy));
        // No temporary left behind.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 3);
    }
}
