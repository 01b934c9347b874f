//! The one error type of the crate. Every variant says which file (or URL, or dataset) is at
//! fault and why, so that the CLI can print it as is.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Everything that can go wrong while loading, generating or downloading a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file or folder could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written (download cache).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The gzip stream is corrupt or cut short.
    #[error("{}: corrupt or truncated gzip data: {reason}", path.display())]
    Gzip { path: PathBuf, reason: String },

    /// The content (after gunzip) is larger than the loader accepts: a gzip bomb, or a
    /// header announcing an absurd size.
    #[error(
        "{}: refused: the data is larger than the limit of {} (a corrupt header or a gzip bomb?)",
        path.display(),
        human_bytes(*limit)
    )]
    TooLarge { path: PathBuf, limit: u64 },

    /// A path is a pipe, socket or device: its content cannot be read twice (once to detect
    /// the format, once to load), so it is refused rather than half read.
    #[error("{}: not a regular file ({kind}); write it to a file first", path.display())]
    NotRegularFile { path: PathBuf, kind: &'static str },

    /// An IDX file starts with the wrong magic number.
    #[error(
        "{}: wrong IDX magic number 0x{found:08x}, expected 0x{expected:08x} ({what})",
        path.display()
    )]
    BadMagic {
        path: PathBuf,
        found: u32,
        expected: u32,
        what: &'static str,
    },

    /// An IDX file is shorter than its header says.
    #[error(
        "{}: truncated file: header announces {expected} bytes of data, found only {actual}",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },

    /// An IDX file is longer than its header says (probably not the file one thinks).
    #[error(
        "{}: {extra} unexpected bytes after the {expected} bytes of data announced by the header",
        path.display()
    )]
    TrailingData {
        path: PathBuf,
        expected: u64,
        extra: u64,
    },

    /// A header is inconsistent (zero dimension, absurd size).
    #[error("{}: bad header: {reason}", path.display())]
    BadHeader { path: PathBuf, reason: String },

    /// The images file and the labels file disagree on the number of items.
    #[error(
        "{} holds {n_images} images but {} holds {n_labels} labels",
        images.display(),
        labels.display()
    )]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },

    /// A required file (IDX part, CSV image folder) is missing.
    #[error("{}: not found ({what})", path.display())]
    NotFound { path: PathBuf, what: String },

    /// A CSV row names an image that does not exist.
    #[error("{} line {line}: image {} does not exist", csv.display(), image.display())]
    MissingImage {
        csv: PathBuf,
        line: usize,
        image: PathBuf,
    },

    /// A CSV row cannot be parsed (line numbers start at 1 and count the header).
    #[error("{} line {line}: {reason}", path.display())]
    BadCsvRow {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    /// A folder holds no usable image.
    #[error("{}: {reason}", path.display())]
    EmptyFolder { path: PathBuf, reason: String },

    /// A folder (or one of its sub-folders) cannot be listed.
    #[error("cannot list folder {}: {source}", path.display())]
    UnreadableFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An image file cannot be decoded.
    #[error("{}: cannot decode image: {reason}", path.display())]
    Image { path: PathBuf, reason: String },

    /// Images that must share one size do not.
    #[error(
        "{}: image is {}x{} (height x width) but {} is {}x{}; all images must have the same size",
        path.display(), found.0, found.1, first.display(), expected.0, expected.1
    )]
    ImageSizeMismatch {
        path: PathBuf,
        found: (usize, usize),
        first: PathBuf,
        expected: (usize, usize),
    },

    /// A value is NaN or infinite.
    #[error("{source_name}: non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        source_name: String,
        row: usize,
        col: usize,
        value: f32,
    },

    /// The parts of a dataset do not fit together (features vs labels vs ids).
    #[error("{source_name}: shape mismatch: {reason}")]
    ShapeMismatch { source_name: String, reason: String },

    /// The format of a path could not be recognised.
    #[error("{}: cannot tell the data format: {reason}", path.display())]
    UnknownFormat { path: PathBuf, reason: String },

    /// Options or parameters are invalid.
    #[error("invalid option: {reason}")]
    InvalidOptions { reason: String },

    /// A downloaded (or cached) file does not have the expected checksum.
    #[error(
        "{}: checksum mismatch (sha256 of the uncompressed data): expected {expected}, got {actual}; \
         the mirror {url} serves a different or damaged file",
        path.display()
    )]
    ChecksumMismatch {
        path: PathBuf,
        url: String,
        expected: String,
        actual: String,
    },

    /// The HTTP request failed (network error or non-success status).
    #[error("download of {url} failed: {reason}")]
    Http { url: String, reason: String },

    /// The caller asked to stop.
    #[error("cancelled while {what}")]
    Cancelled { what: String },
}

/// `n` bytes in the largest binary unit that divides it evenly, else in MiB with a decimal.
pub(crate) fn human_bytes(n: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{n} bytes")
    }
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
