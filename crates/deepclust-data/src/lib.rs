//! Dataset loading for deepclust.
//!
//! Every loader returns a [`Dataset`]: an `n x d` matrix of `f32` features (pixels scaled to
//! `[0, 1]`), optional ground-truth labels (only ever used for scoring), one id per row and,
//! for grayscale images, the image shape. Every failure is a [`DataError`] naming the file
//! and the reason; nothing here panics on bad input, prints, or exits.
//!
//! | format | what | loader |
//! |---|---|---|
//! | [`Format::Idx`] | MNIST / Fashion-MNIST IDX files, gzipped or not, or a folder of them | [`idx::load_idx_dir`], [`idx::load_idx_file`] |
//! | [`Format::Csv`] | "Identify the Digits": `train.csv` (`filename[,label]`) + a folder of PNGs | [`csv_png::load_csv_png`] |
//! | [`Format::Folder`] | any folder of PNG/JPEG images, resized to a square side | [`folder::load_folder`] |
//! | [`Format::Digits`] | the 8x8 digits CSV (64 values 0..16, then the label), gzipped or not | [`digits::load_digits_csv`] |
//!
//! Also: [`split`] (first 70% / last 30%, or seeded shuffle), [`download`] (MNIST and
//! Fashion-MNIST from a configurable mirror, checksummed and cached) and [`synthetic`]
//! (stroke-drawn digits generated from a seed, so the demo runs with no data and no network).
//!
//! ```no_run
//! use deepclust_data::{load, LoadOptions};
//! let ds = load("../shared/data/mnist".as_ref(), None, &LoadOptions::default())?;
//! assert_eq!(ds.len(), 70_000); // train then test, as in the literature
//! # Ok::<(), deepclust_data::DataError>(())
//! ```

pub mod csv_png;
mod dataset;
pub mod digits;
pub mod download;
mod error;
pub mod folder;
mod gz;
pub mod idx;
pub mod split;
pub mod synthetic;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicBool;

pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use folder::{FolderLoad, FolderOptions, ResizeMode, SkippedFile};
pub use idx::{load_idx_dir, IdxSubset};
pub use split::{shuffled_split, split_fraction};

/// The on-disk layouts this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// MNIST-style IDX files (a folder of them, or one images file).
    Idx,
    /// A `filename[,label]` CSV plus a folder of PNG images ("Identify the Digits").
    Csv,
    /// Any folder of PNG / JPEG images.
    Folder,
    /// The 8x8 digits CSV: 64 values in 0..16 then the label.
    Digits,
}

impl Format {
    /// All formats, in the order of `--help` texts.
    pub const ALL: [Format; 4] = [Format::Idx, Format::Csv, Format::Folder, Format::Digits];

    /// `(format, name, description)` for a command line's `--format`.
    pub const CHOICES: &'static [(Format, &'static str, &'static str)] = &[
        (
            Format::Idx,
            "idx",
            "MNIST-style IDX files (a folder holding train-/t10k- files, or one file)",
        ),
        (
            Format::Csv,
            "csv",
            "A `filename[,label]` CSV plus a folder of PNG images",
        ),
        (Format::Folder, "folder", "Any folder of PNG/JPEG images"),
        (
            Format::Digits,
            "digits",
            "The 8x8 digits CSV (64 values 0..16, then the label)",
        ),
    ];

    /// The lowercase name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Idx => "idx",
            Format::Csv => "csv",
            Format::Folder => "folder",
            Format::Digits => "digits",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DataError::InvalidOptions {
                reason: format!("unknown format {s:?}; expected one of idx, csv, folder, digits"),
            })
    }
}

/// How to load; fields not relevant to a format are ignored by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Side of the square images produced by the folder loader (default 28).
    pub image_side: usize,
    /// Folder loader: one gray channel (default) or three RGB channels per pixel.
    pub grayscale: bool,
    /// Which part of an IDX folder to load (default: train then test).
    pub idx_subset: IdxSubset,
    /// CSV loader: the folder holding the PNGs (default: `Images/train/` or `Images/<csv
    /// stem>/` next to the CSV, see [`csv_png::load_csv_png`]).
    pub images_dir: Option<PathBuf>,
    /// Folder loader: how non-square images become square (default: center crop).
    pub resize: ResizeMode,
    /// Folder loader: skip undecodable images (reported in [`Loaded::skipped`]) instead of
    /// failing.
    pub lenient: bool,
    /// Folder loader: label each image by its top-level sub-folder (`cats/x.jpg` -> `cats`).
    pub labels_from_subfolders: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            image_side: 28,
            grayscale: true,
            idx_subset: IdxSubset::All,
            images_dir: None,
            resize: ResizeMode::CenterCrop,
            lenient: false,
            labels_from_subfolders: false,
        }
    }
}

impl LoadOptions {
    pub fn image_side(mut self, side: usize) -> Self {
        self.image_side = side;
        self
    }
    pub fn grayscale(mut self, grayscale: bool) -> Self {
        self.grayscale = grayscale;
        self
    }
    pub fn idx_subset(mut self, subset: IdxSubset) -> Self {
        self.idx_subset = subset;
        self
    }
    pub fn images_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.images_dir = Some(dir.into());
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

    /// Checks the options before any file is touched.
    pub fn validate(&self) -> Result<()> {
        self.folder_options().validate()
    }

    /// The subset of these options the folder loader uses.
    pub fn folder_options(&self) -> FolderOptions {
        FolderOptions {
            side: self.image_side,
            grayscale: self.grayscale,
            resize: self.resize,
            lenient: self.lenient,
            labels_from_subfolders: self.labels_from_subfolders,
        }
    }
}

/// A loaded dataset plus what was left out on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    /// Files not loaded, with the reason (non-image files, and undecodable images in
    /// lenient mode). Empty for the other formats.
    pub skipped: Vec<SkippedFile>,
    /// Class names when labels come from sub-folder names (label `i` is `class_names[i]`).
    pub class_names: Option<Vec<String>>,
}

/// Refuses a pipe, socket or device given as the data path (after following links): the
/// format is sniffed from the first bytes and the file then read again, so a stream would
/// be loaded without its head, or block forever when nothing writes to it.
fn refuse_streams(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let kind = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_fifo() {
                Some("a named pipe or process substitution")
            } else if t.is_socket() {
                Some("a socket")
            } else if t.is_char_device() || t.is_block_device() {
                Some("a device")
            } else {
                None
            }
        }
        #[cfg(not(unix))]
        {
            (!meta.is_file() && !meta.is_dir()).then_some("not a file or folder")
        }
    };
    match kind {
        Some(kind) => Err(DataError::NotRegularFile {
            path: path.to_path_buf(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Guesses the format of `path` from its content:
/// - a folder with `train-images-idx3-ubyte[.gz]` or `t10k-images...` -> [`Format::Idx`];
/// - a folder with `train.csv` -> [`Format::Csv`]; any other folder -> [`Format::Folder`];
/// - a file starting (after gunzip if gzipped) with an IDX magic -> [`Format::Idx`];
/// - a text file whose header has a `filename` column -> [`Format::Csv`];
/// - a text file of 65 numbers per line -> [`Format::Digits`].
pub fn detect_format(path: &Path) -> Result<Format> {
    refuse_streams(path)?;
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.is_dir() {
        if idx::is_idx_dir(path) {
            return Ok(Format::Idx);
        }
        if path.join("train.csv").is_file() {
            return Ok(Format::Csv);
        }
        return Ok(Format::Folder);
    }
    let head = gz::peek_maybe_gz(path, 4096)?;
    if head.len() >= 4 && head[..3] == [0, 0, 8] && (head[3] == 3 || head[3] == 1) {
        return Ok(Format::Idx);
    }
    let unknown = |reason: String| DataError::UnknownFormat {
        path: path.to_path_buf(),
        reason,
    };
    if head.starts_with(b"\x89PNG") || head.starts_with(&[0xff, 0xd8, 0xff]) {
        return Err(unknown(
            "this is a single image; pass the folder that holds the images".into(),
        ));
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().ok_or_else(|| unknown("empty file".into()))?;
    let fields: Vec<String> = csv_png::split_csv_line(first.trim_start_matches('\u{feff}'))
        .into_iter()
        .map(|f| f.to_ascii_lowercase())
        .collect();
    if fields
        .iter()
        .any(|f| csv_png::FILENAME_COLUMNS.contains(&f.as_str()))
    {
        return Ok(Format::Csv);
    }
    if fields.len() == digits::FIELDS_PER_ROW {
        return Ok(Format::Digits);
    }
    Err(unknown(format!(
        "not IDX (no IDX magic), not an image CSV (no `filename` column in the first line) \
         and not the digits CSV ({} fields per line instead of {})",
        fields.len(),
        digits::FIELDS_PER_ROW
    )))
}

/// Loads `path` in `format` (detected with [`detect_format`] when `None`).
pub fn load(path: &Path, format: Option<Format>, opts: &LoadOptions) -> Result<Dataset> {
    load_with_report(path, format, opts).map(|loaded| loaded.dataset)
}

/// Like [`load`], also returning the skipped files and class names.
pub fn load_with_report(path: &Path, format: Option<Format>, opts: &LoadOptions) -> Result<Loaded> {
    load_with_progress(path, format, opts, &|_, _| {}, &AtomicBool::new(false))
}

/// Like [`load_with_report`], calling `on_progress(images decoded, total)` while image files
/// are decoded (CSV and folder formats; from worker threads) and stopping with
/// [`DataError::Cancelled`] when `cancel` becomes true. IDX and digits files load in well
/// under a second and report nothing.
pub fn load_with_progress(
    path: &Path,
    format: Option<Format>,
    opts: &LoadOptions,
    on_progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Loaded> {
    opts.validate()?;
    refuse_streams(path)?;
    let format = match format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    let plain = |dataset| Loaded {
        dataset,
        skipped: Vec::new(),
        class_names: None,
    };
    match format {
        Format::Idx if path.is_dir() => load_idx_dir(path, opts.idx_subset).map(plain),
        Format::Idx => idx::load_idx_file(path).map(plain),
        Format::Csv => {
            let csv = if path.is_dir() {
                path.join("train.csv")
            } else {
                path.to_path_buf()
            };
            csv_png::load_csv_png_with_progress(
                &csv,
                opts.images_dir.as_deref(),
                on_progress,
                cancel,
            )
            .map(plain)
        }
        Format::Folder => {
            let FolderLoad {
                dataset,
                skipped,
                class_names,
            } = folder::load_folder_with_progress(
                path,
                &opts.folder_options(),
                on_progress,
                cancel,
            )?;
            Ok(Loaded {
                dataset,
                skipped,
                class_names,
            })
        }
        Format::Digits => digits::load_digits_csv(path).map(plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{gzip, idx_images_bytes, write_gray_png};

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!(" IDX ".parse::<Format>().unwrap(), Format::Idx);
        let err = "npy".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("idx, csv, folder, digits"));
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_refused_not_waited_on() {
        // Nothing ever writes to this pipe: opening it for reading would block forever.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.png");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        for err in [
            load(&fifo, None, &LoadOptions::default()).unwrap_err(),
            load(&fifo, Some(Format::Idx), &LoadOptions::default()).unwrap_err(),
            detect_format(&fifo).unwrap_err(),
        ] {
            assert!(matches!(err, DataError::NotRegularFile { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains("p.png") && msg.contains("pipe"), "{msg}");
        }
    }

    #[test]
    fn detects_each_format_from_content() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();

        let idx = d.join("whatever.bin");
        std::fs::write(&idx, gzip(&idx_images_bytes(1, 2, 2, |_| 0))).unwrap();
        assert_eq!(detect_format(&idx).unwrap(), Format::Idx);

        let csv = d.join("list.txt");
        std::fs::write(&csv, "filename,label\na.png,1\n").unwrap();
        assert_eq!(detect_format(&csv).unwrap(), Format::Csv);

        let digits = d.join("digits.csv");
        let row: Vec<String> = (0..65).map(|i| (i % 17).to_string()).collect();
        std::fs::write(&digits, row.join(",") + "\n").unwrap();
        assert_eq!(detect_format(&digits).unwrap(), Format::Digits);

        let other = d.join("other.csv");
        std::fs::write(&other, "a,b,c\n1,2,3\n").unwrap();
        let err = detect_format(&other).unwrap_err();
        assert!(err.to_string().contains("other.csv"), "{err}");

        let images = d.join("pics");
        std::fs::create_dir(&images).unwrap();
        write_gray_png(&images.join("a.png"), 3, 3, |_, _| 1);
        assert_eq!(detect_format(&images).unwrap(), Format::Folder);
        let err = detect_format(&images.join("a.png")).unwrap_err();
        assert!(err.to_string().contains("single image"), "{err}");

        std::fs::write(images.join("train.csv"), "filename\na.png\n").unwrap();
        assert_eq!(detect_format(&images).unwrap(), Format::Csv);

        assert!(matches!(
            detect_format(&d.join("missing")).unwrap_err(),
            DataError::Io { .. }
        ));
    }

    #[test]
    fn load_dispatches_and_validates_options() {
        let dir = tempfile::tempdir().unwrap();
        write_gray_png(&dir.path().join("a.png"), 5, 5, |y, x| (y * 5 + x) as u8);
        let ds = load(dir.path(), None, &LoadOptions::default().image_side(4)).unwrap();
        assert_eq!((ds.len(), ds.dim()), (1, 16));
        let err = load(dir.path(), None, &LoadOptions::default().image_side(0)).unwrap_err();
        assert!(matches!(err, DataError::InvalidOptions { .. }));
    }

    #[test]
    fn shared_digits_load_through_detection() {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/digits/digits.csv.gz");
        if !p.is_file() {
            eprintln!("skipping: {} not present", p.display());
            return;
        }
        assert_eq!(detect_format(&p).unwrap(), Format::Digits);
        let ds = load(&p, None, &LoadOptions::default()).unwrap();
        assert_eq!(ds.len(), 1797);
    }
}
