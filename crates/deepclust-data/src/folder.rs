//! Any folder of PNG / JPEG images, searched recursively, each image resized to a fixed
//! square side. Paths are sorted so that row order never depends on the file system.
//! Hidden files and folders (name starting with `.`) are ignored; other non-image files are
//! reported in [`FolderLoad::skipped`]. A file with an image extension that cannot be
//! decoded is an error naming it, or, in lenient mode, is skipped with the reason.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use image::{imageops, DynamicImage, ImageReader};
use ndarray::Array2;
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// Largest accepted `side`: 4096 x 4096 x 3 floats is already 200 MB per image.
pub const MAX_SIDE: usize = 4096;

/// How an image that is not square becomes `side x side`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResizeMode {
    /// Keep the central square, then scale it (no distortion; borders are lost).
    #[default]
    CenterCrop,
    /// Scale width and height independently (everything kept, shapes distorted).
    Stretch,
}

impl std::str::FromStr for ResizeMode {
    type Err = DataError;
    /// `crop` (or `center-crop`) or `stretch` (case-insensitive).
    fn from_str(s: &str) -> Result<ResizeMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "crop" | "center-crop" | "centre-crop" => Ok(ResizeMode::CenterCrop),
            "stretch" => Ok(ResizeMode::Stretch),
            _ => Err(DataError::InvalidOptions {
                reason: format!("unknown resize mode {s:?}; expected crop or stretch"),
            }),
        }
    }
}

/// Options of [`load_folder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderOptions {
    /// Output side in pixels (default 28).
    pub side: usize,
    /// One gray channel (default), or RGB interleaved per pixel (`d = side * side * 3`).
    pub grayscale: bool,
    pub resize: ResizeMode,
    /// Skip undecodable images instead of failing.
    pub lenient: bool,
    /// Label each image by its top-level sub-folder; class `i` is the `i`-th sub-folder
    /// name in sorted order. Images directly in the root folder are then an error.
    pub labels_from_subfolders: bool,
}

impl Default for FolderOptions {
    fn default() -> Self {
        FolderOptions {
            side: 28,
            grayscale: true,
            resize: ResizeMode::CenterCrop,
            lenient: false,
            labels_from_subfolders: false,
        }
    }
}

impl FolderOptions {
    pub fn side(mut self, side: usize) -> Self {
        self.side = side;
        self
    }
    pub fn grayscale(mut self, grayscale: bool) -> Self {
        self.grayscale = grayscale;
        self
    }
    pub fn resize(mut self, mode: ResizeMode) -> Self {
        self.resize = mode;
        self
    }
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }
    pub fn labels_from_subfolders(mut self, yes: bool) -> Self {
        self.labels_from_subfolders = yes;
        self
    }

    pub fn validate(&self) -> Result<()> {
        if self.side == 0 || self.side > MAX_SIDE {
            return Err(DataError::InvalidOptions {
                reason: format!("image side must be in 1..={MAX_SIDE}, got {}", self.side),
            });
        }
        Ok(())
    }
}

/// A file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// Result of [`load_folder`].
#[derive(Debug, Clone)]
pub struct FolderLoad {
    pub dataset: Dataset,
    pub skipped: Vec<SkippedFile>,
    /// Sub-folder names when [`FolderOptions::labels_from_subfolders`] is set.
    pub class_names: Option<Vec<String>>,
}

/// Extensions (lowercase) of the formats this build decodes.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Lists the image files under `dir` recursively, sorted; other (non-hidden) files come
/// back as skipped. Symbolic links to files are followed, links to folders are not (no
/// cycles).
///
/// `lenient`: a sub-folder that cannot be listed is reported as skipped instead of stopping
/// the load (the top folder itself must be readable).
pub fn list_images(dir: &Path, lenient: bool) -> Result<(Vec<PathBuf>, Vec<SkippedFile>)> {
    list_images_inner(dir, lenient, &|_| None)
}

/// [`list_images`], with `refuse` standing in for a listing failure in tests (root, which
/// runs CI, can list folders whatever their permissions).
fn list_images_inner(
    dir: &Path,
    lenient: bool,
    refuse: &dyn Fn(&Path) -> Option<std::io::Error>,
) -> Result<(Vec<PathBuf>, Vec<SkippedFile>)> {
    let mut images = Vec::new();
    let mut others = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let listed = match refuse(&current) {
            Some(e) => Err(e),
            None => std::fs::read_dir(&current),
        };
        let entries = match listed {
            Ok(entries) => entries,
            Err(e) if lenient && current != dir => {
                others.push(SkippedFile {
                    reason: format!("cannot list this folder ({e}); skipped with all it holds"),
                    path: current,
                });
                continue;
            }
            Err(e) => {
                return Err(DataError::UnreadableFolder {
                    path: current.clone(),
                    source: e,
                })
            }
        };
        for entry in entries {
            let entry = entry.map_err(|e| DataError::UnreadableFolder {
                path: current.clone(),
                source: e,
            })?;
            let path = entry.path();
            if is_hidden(&path) {
                continue;
            }
            let file_type = entry.file_type().map_err(|e| DataError::UnreadableFolder {
                path: current.clone(),
                source: e,
            })?;
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
                if has_image_extension(&path) {
                    images.push(path);
                } else {
                    others.push(SkippedFile {
                        path,
                        reason: format!(
                            "not an image file (extension not one of {})",
                            IMAGE_EXTENSIONS.join(", ")
                        ),
                    });
                }
            }
        }
    }
    images.sort();
    others.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((images, others))
}

/// Decodes an image, guessing the format from the content (not the extension).
pub(crate) fn decode_image(path: &Path) -> Result<DynamicImage> {
    let fail = |reason: String| DataError::Image {
        path: path.to_path_buf(),
        reason,
    };
    ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?
        .decode()
        .map_err(|e| fail(e.to_string().trim_end().to_string()))
}

/// Decodes, crops/resizes and flattens one image into `side * side * channels` values in
/// `[0, 1]`.
fn image_to_row(path: &Path, opts: &FolderOptions) -> Result<Vec<f32>> {
    let img = decode_image(path)?;
    let (w, h) = (img.width(), img.height());
    if w == 0 || h == 0 {
        return Err(DataError::Image {
            path: path.to_path_buf(),
            reason: format!("empty image ({w}x{h})"),
        });
    }
    let img = match opts.resize {
        ResizeMode::CenterCrop if w != h => {
            let s = w.min(h);
            img.crop_imm((w - s) / 2, (h - s) / 2, s, s)
        }
        _ => img,
    };
    let side = opts.side as u32;
    // `thumbnail` averages over the source area (good for large photos -> 28 px) and is much
    // faster than a convolution filter; for upscaling it samples, which is fine here.
    let bytes = if opts.grayscale {
        imageops::thumbnail(&img.to_luma8(), side, side).into_raw()
    } else {
        imageops::thumbnail(&img.to_rgb8(), side, side).into_raw()
    };
    Ok(bytes.into_iter().map(|p| f32::from(p) / 255.0).collect())
}

/// Applies `decode` to every path in parallel, keeping order; calls `on_progress(done,
/// total)` after each file (from worker threads) and stops early when `cancel` is set.
pub(crate) fn decode_all<T: Send>(
    paths: &[PathBuf],
    decode: impl Fn(&Path) -> Result<T> + Sync,
    on_progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
    what: &Path,
) -> Result<Vec<Result<T>>> {
    let done = AtomicUsize::new(0);
    let total = paths.len();
    let results: Vec<Result<T>> = paths
        .par_iter()
        .map(|p| {
            if cancel.load(Ordering::Relaxed) {
                return Err(DataError::Cancelled {
                    what: format!("loading {}", what.display()),
                });
            }
            let result = decode(p);
            on_progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            result
        })
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return Err(DataError::Cancelled {
            what: format!("loading {}", what.display()),
        });
    }
    Ok(results)
}

/// Loads every PNG / JPEG under `dir` (see the module docs).
pub fn load_folder(dir: &Path, opts: &FolderOptions) -> Result<FolderLoad> {
    load_folder_with_progress(dir, opts, &|_, _| {}, &AtomicBool::new(false))
}

/// [`load_folder`] reporting `(images decoded, total)` and stopping when `cancel` is set.
pub fn load_folder_with_progress(
    dir: &Path,
    opts: &FolderOptions,
    on_progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<FolderLoad> {
    opts.validate()?;
    let meta = std::fs::metadata(dir).map_err(|e| DataError::UnreadableFolder {
        path: dir.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(DataError::NotFound {
            path: dir.to_path_buf(),
            what: "expected a folder of images, found a file".into(),
        });
    }
    let (paths, mut skipped) = list_images(dir, opts.lenient)?;
    if paths.is_empty() {
        return Err(DataError::EmptyFolder {
            path: dir.to_path_buf(),
            reason: format!(
                "no PNG or JPEG images found (sub-folders searched, hidden files ignored, \
                 {} other files seen)",
                skipped.len()
            ),
        });
    }
    let rows = decode_all(&paths, |p| image_to_row(p, opts), on_progress, cancel, dir)?;
    let mut kept_paths = Vec::with_capacity(paths.len());
    let mut kept_rows = Vec::with_capacity(paths.len());
    for (path, row) in paths.into_iter().zip(rows) {
        match row {
            Ok(row) => {
                kept_paths.push(path);
                kept_rows.push(row);
            }
            Err(e) if opts.lenient => {
                // The path is already in `SkippedFile::path`.
                let reason = match e {
                    DataError::Image { reason, .. } => format!("cannot decode image: {reason}"),
                    other => other.to_string(),
                };
                skipped.push(SkippedFile { path, reason });
            }
            Err(e) => return Err(e),
        }
    }
    if kept_rows.is_empty() {
        let first = skipped.last().map(|s| s.reason.clone()).unwrap_or_default();
        return Err(DataError::EmptyFolder {
            path: dir.to_path_buf(),
            reason: format!("none of the images could be decoded (last error: {first})"),
        });
    }
    let ids: Vec<String> = kept_paths.iter().map(|p| relative_id(dir, p)).collect();
    let (labels, class_names) = if opts.labels_from_subfolders {
        let (labels, names) = subfolder_labels(dir, &kept_paths)?;
        (Some(labels), Some(names))
    } else {
        (None, None)
    };
    let d = kept_rows[0].len();
    let n = kept_rows.len();
    let features = Array2::from_shape_vec((n, d), kept_rows.concat()).map_err(|e| {
        DataError::ShapeMismatch {
            source_name: dir.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    let side = opts.side;
    let source = format!(
        "image folder {} ({n} images, {side}x{side} {})",
        dir.display(),
        if opts.grayscale { "gray" } else { "RGB" }
    );
    let image_shape = opts.grayscale.then_some((side, side));
    let dataset = Dataset::new(features, labels, ids, image_shape, source)?;
    Ok(FolderLoad {
        dataset,
        skipped,
        class_names,
    })
}

/// `path` relative to `root`, with `/` separators (stable across platforms).
fn relative_id(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn subfolder_labels(root: &Path, paths: &[PathBuf]) -> Result<(Vec<usize>, Vec<String>)> {
    let class_of = |p: &PathBuf| -> Result<String> {
        let rel = p.strip_prefix(root).unwrap_or(p);
        let mut parts = rel.components();
        match (parts.next(), parts.next()) {
            (Some(first), Some(_)) => Ok(first.as_os_str().to_string_lossy().into_owned()),
            _ => Err(DataError::InvalidOptions {
                reason: format!(
                    "labels from sub-folders: {} is not inside a class sub-folder of {}",
                    p.display(),
                    root.display()
                ),
            }),
        }
    };
    let classes: Vec<String> = paths.iter().map(class_of).collect::<Result<_>>()?;
    let mut names = classes.clone();
    names.sort();
    names.dedup();
    let labels = classes
        .iter()
        .map(|c| names.binary_search(c).unwrap_or_default())
        .collect();
    Ok((labels, names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::write_gray_png;

    #[test]
    fn loads_recursively_sorted_and_skips_hidden_and_non_images() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/inner")).unwrap();
        std::fs::create_dir_all(d.join(".hidden")).unwrap();
        write_gray_png(&d.join("b/inner/z.png"), 8, 8, |_, _| 255);
        write_gray_png(&d.join("a.PNG"), 8, 8, |_, _| 0);
        write_gray_png(&d.join(".hidden/h.png"), 8, 8, |_, _| 0);
        write_gray_png(&d.join(".dot.png"), 8, 8, |_, _| 0);
        image::RgbImage::from_pixel(6, 6, image::Rgb([255, 0, 0]))
            .save(d.join("b/red.jpg"))
            .unwrap();
        std::fs::write(d.join("notes.txt"), "hello").unwrap();

        let load = load_folder(d, &FolderOptions::default().side(4)).unwrap();
        let ds = &load.dataset;
        assert_eq!(ds.ids, vec!["a.PNG", "b/inner/z.png", "b/red.jpg"]);
        assert_eq!(ds.image_shape, Some((4, 4)));
        assert_eq!(ds.dim(), 16);
        assert_eq!(ds.features.row(0).sum(), 0.0);
        assert_eq!(ds.features.row(1).sum(), 16.0);
        // Pure red has a luma between 0 and 1 (JPEG is lossy: no exact value).
        let red = ds.features[[2, 0]];
        assert!(red > 0.1 && red < 0.5, "{red}");
        assert_eq!(load.skipped.len(), 1);
        assert!(load.skipped[0].path.ends_with("notes.txt"));

        let rgb = load_folder(d, &FolderOptions::default().side(2).grayscale(false)).unwrap();
        assert_eq!(rgb.dataset.dim(), 12);
        assert_eq!(rgb.dataset.image_shape, None);
        let px = rgb.dataset.features.row(2);
        assert!(px[0] > 0.9 && px[1] < 0.1 && px[2] < 0.1, "{px:?}");
    }

    #[test]
    fn empty_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readme.md"), "x").unwrap();
        let err = load_folder(dir.path(), &FolderOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::EmptyFolder { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("no PNG or JPEG images") && msg.contains("1 other files"),
            "{msg}"
        );
    }

    #[test]
    fn missing_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_folder(&dir.path().join("nope"), &FolderOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::UnreadableFolder { .. }));
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn corrupt_image_fails_or_is_skipped_in_lenient_mode() {
        let dir = tempfile::tempdir().unwrap();
        write_gray_png(&dir.path().join("good.png"), 3, 3, |_, _| 128);
        std::fs::write(dir.path().join("bad.jpg"), b"this is text, not a JPEG").unwrap();

        let err = load_folder(dir.path(), &FolderOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::Image { .. }), "{err:?}");
        assert!(err.to_string().contains("bad.jpg"));

        let load = load_folder(dir.path(), &FolderOptions::default().lenient(true)).unwrap();
        assert_eq!(load.dataset.ids, vec!["good.png"]);
        assert_eq!(load.skipped.len(), 1);
        assert!(load.skipped[0].path.ends_with("bad.jpg"));
        assert!(load.skipped[0].reason.starts_with("cannot decode image"));
    }

    #[test]
    fn center_crop_and_stretch_differ_on_wide_images() {
        let dir = tempfile::tempdir().unwrap();
        // 2 rows x 6 columns: left third black, middle white, right third black.
        write_gray_png(&dir.path().join("wide.png"), 2, 6, |_, x| {
            if (2..4).contains(&x) {
                255
            } else {
                0
            }
        });
        let crop = load_folder(dir.path(), &FolderOptions::default().side(2)).unwrap();
        assert_eq!(crop.dataset.features.row(0).to_vec(), vec![1.0; 4]);
        let stretch = load_folder(
            dir.path(),
            &FolderOptions::default().side(2).resize(ResizeMode::Stretch),
        )
        .unwrap();
        let mean = stretch.dataset.features.row(0).mean().unwrap();
        assert!(mean < 0.9, "{mean}");
    }

    #[test]
    fn labels_from_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        for (class, file) in [("dogs", "1.png"), ("cats", "2.png"), ("dogs", "3.png")] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            write_gray_png(&dir.path().join(class).join(file), 2, 2, |_, _| 9);
        }
        let opts = FolderOptions::default().labels_from_subfolders(true);
        let load = load_folder(dir.path(), &opts).unwrap();
        assert_eq!(
            load.dataset.ids,
            vec!["cats/2.png", "dogs/1.png", "dogs/3.png"]
        );
        assert_eq!(load.dataset.labels, Some(vec![0, 1, 1]));
        assert_eq!(load.class_names, Some(vec!["cats".into(), "dogs".into()]));

        write_gray_png(&dir.path().join("root.png"), 2, 2, |_, _| 9);
        let err = load_folder(dir.path(), &opts).unwrap_err();
        assert!(err.to_string().contains("root.png"));
    }

    #[test]
    fn progress_is_reported_and_cancel_stops() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            write_gray_png(&dir.path().join(format!("{i}.png")), 3, 3, |_, _| 1);
        }
        let calls = AtomicUsize::new(0);
        let max_done = AtomicUsize::new(0);
        let on_progress = |done: usize, total: usize| {
            assert_eq!(total, 5);
            calls.fetch_add(1, Ordering::SeqCst);
            max_done.fetch_max(done, Ordering::SeqCst);
        };
        let opts = FolderOptions::default();
        let never = AtomicBool::new(false);
        load_folder_with_progress(dir.path(), &opts, &on_progress, &never).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(max_done.load(Ordering::SeqCst), 5);

        let cancel = AtomicBool::new(true);
        let err = load_folder_with_progress(dir.path(), &opts, &|_, _| {}, &cancel).unwrap_err();
        assert!(matches!(err, DataError::Cancelled { .. }), "{err:?}");
    }

    #[test]
    fn lenient_skips_a_sub_folder_it_cannot_list() {
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        crate::testutil::write_gray_png(&dir.path().join("a.png"), 4, 4, |r, c| (r * 4 + c) as u8);
        crate::testutil::write_gray_png(&locked.join("b.png"), 4, 4, |r, c| (r * 4 + c) as u8);
        let deny = |p: &Path| {
            (p.file_name().is_some_and(|n| n == "locked"))
                .then(|| std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        };
        let err = list_images_inner(dir.path(), false, &deny).unwrap_err();
        assert!(matches!(err, DataError::UnreadableFolder { .. }), "{err:?}");
        let (images, skipped) = list_images_inner(dir.path(), true, &deny).unwrap();
        assert_eq!(images, vec![dir.path().join("a.png")]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, locked);
        assert!(
            skipped[0].reason.contains("cannot list"),
            "{}",
            skipped[0].reason
        );
        // The top folder itself is never skipped silently.
        let all = |_: &Path| Some(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(list_images_inner(dir.path(), true, &all).is_err());
    }

    /// Real camera JPEGs, and JPEGs with hostile EXIF that must never crash the loader.
    #[test]
    fn shared_photos_load_or_fail_cleanly() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/photos");
        if !root.is_dir() {
            eprintln!("skipping: {} not present", root.display());
            return;
        }
        let load = load_folder(
            &root.join("exif"),
            &FolderOptions::default().grayscale(false),
        )
        .unwrap();
        assert_eq!(load.dataset.len(), 8);
        assert_eq!(load.dataset.dim(), 28 * 28 * 3);
        assert!(load
            .dataset
            .features
            .iter()
            .all(|v| (0.0..=1.0).contains(v)));
        let lenient = FolderOptions::default().lenient(true);
        // Measured: the two 64 KiB files are cut inside the image data and fail to decode,
        // the EXIF loop does not matter to the decoder.
        let load = load_folder(&root.join("corrupt"), &lenient).unwrap();
        assert_eq!(load.dataset.ids, vec!["infinite_loop_exif.jpg"]);
        let skipped: Vec<_> = load
            .skipped
            .iter()
            .map(|s| s.path.file_name().unwrap())
            .collect();
        assert_eq!(skipped, ["huge_tag_exif.jpg", "max_uint32_exif.jpg"]);
        assert!(
            load.skipped[0].reason.starts_with("cannot decode image"),
            "{:?}",
            load.skipped
        );
    }

    #[test]
    fn resize_mode_names_parse() {
        assert_eq!(
            "crop".parse::<ResizeMode>().unwrap(),
            ResizeMode::CenterCrop
        );
        assert_eq!(
            "Stretch".parse::<ResizeMode>().unwrap(),
            ResizeMode::Stretch
        );
        assert!("fit".parse::<ResizeMode>().is_err());
    }

    #[test]
    fn invalid_side_is_rejected() {
        let err = FolderOptions::default().side(0).validate().unwrap_err();
        assert!(err.to_string().contains("image side"));
    }
}
