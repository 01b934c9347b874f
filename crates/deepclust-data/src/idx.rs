//! IDX files, the format of MNIST and Fashion-MNIST (<http://yann.lecun.com/exdb/mnist/>).
//!
//! Layout: a big-endian `u32` magic number `0x0000 08 NN` (`08` = unsigned bytes, `NN` =
//! number of dimensions), `NN` big-endian `u32` sizes, then the data. Images are
//! `0x00000803` (count x rows x cols), labels `0x00000801` (count). Files may be gzipped.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::gz;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Which part of an MNIST-style folder to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdxSubset {
    /// The 60,000 training images only.
    Train,
    /// The 10,000 test images only.
    Test,
    /// Training then test images (70,000 for MNIST): the protocol of the deep-clustering
    /// literature, which trains and scores on everything.
    #[default]
    All,
}

impl IdxSubset {
    /// `(subset, name, description)` for a command line's `--subset`.
    pub const CHOICES: &'static [(IdxSubset, &'static str, &'static str)] = &[
        (
            IdxSubset::All,
            "all",
            "Train then test (70,000 for MNIST), the literature's protocol",
        ),
        (IdxSubset::Train, "train", "The training images only"),
        (IdxSubset::Test, "test", "The test images only"),
    ];
}

impl std::str::FromStr for IdxSubset {
    type Err = DataError;
    /// `train`, `test` or `all` (case-insensitive).
    fn from_str(s: &str) -> Result<IdxSubset> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Ok(IdxSubset::Train),
            "test" | "t10k" => Ok(IdxSubset::Test),
            "all" => Ok(IdxSubset::All),
            _ => Err(DataError::InvalidOptions {
                reason: format!("unknown IDX subset {s:?}; expected train, test or all"),
            }),
        }
    }
}

/// Raw images of an IDX file: `count` images of `rows x cols` bytes, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads an images file (`0x00000803`), gzipped or not.
pub fn read_idx_images(path: &Path) -> Result<IdxImages> {
    let what = "images, 3 dimensions";
    let bytes = read_announced(path, IMAGES_MAGIC, what)?;
    let (dims, header_len) = parse_header(&bytes, path, IMAGES_MAGIC, what)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(DataError::BadHeader {
            path: path.to_path_buf(),
            reason: format!("images of {rows}x{cols} pixels"),
        });
    }
    let mut pixels = bytes;
    pixels.drain(..header_len);
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Reads a labels file (`0x00000801`), gzipped or not.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let what = "labels, 1 dimension";
    let bytes = read_announced(path, LABELS_MAGIC, what)?;
    let (_, header_len) = parse_header(&bytes, path, LABELS_MAGIC, what)?;
    let mut labels = bytes;
    labels.drain(..header_len);
    Ok(labels)
}

/// How many bytes past the announced length are still read, so that a short tail is
/// reported with its exact size.
const TRAILING_SLACK: u64 = 64 << 10;

/// The file's (decompressed) bytes, reading no more than its header announces (plus
/// [`TRAILING_SLACK`]): the header is checked first, on a peek, so that a gzip bomb or an
/// absurd header is refused before anything large is allocated.
fn read_announced(path: &Path, expected_magic: u32, what: &'static str) -> Result<Vec<u8>> {
    let head = gz::peek_maybe_gz(path, 4 + 4 * 3)?;
    let (_, header_len, total) = parse_dims(&head, path, expected_magic, what)?;
    let announced = header_len as u64 + total;
    if announced > gz::MAX_DECOMPRESSED {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            limit: gz::MAX_DECOMPRESSED,
        });
    }
    let cap = announced + TRAILING_SLACK;
    gz::read_maybe_gz_capped(path, cap).map_err(|e| match e {
        DataError::TooLarge { .. } => DataError::TrailingData {
            path: path.to_path_buf(),
            expected: total,
            extra: TRAILING_SLACK + 1,
        },
        other => other,
    })
}

/// Checks the magic and reads the dimensions; returns them, the header length and the
/// announced data length (saturating).
fn parse_dims(
    bytes: &[u8],
    path: &Path,
    expected_magic: u32,
    what: &'static str,
) -> Result<(Vec<usize>, usize, u64)> {
    let be_u32 = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let truncated_header = |needed: usize| DataError::Truncated {
        path: path.to_path_buf(),
        expected: needed as u64,
        actual: bytes.len() as u64,
    };
    let magic = be_u32(0).ok_or_else(|| truncated_header(4))?;
    if magic != expected_magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
            expected: expected_magic,
            what,
        });
    }
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let mut dims = Vec::with_capacity(ndims);
    let mut total: u64 = 1;
    for i in 0..ndims {
        let dim = be_u32(4 + 4 * i).ok_or_else(|| truncated_header(header_len))?;
        dims.push(dim as usize);
        total = total.saturating_mul(u64::from(dim));
    }
    Ok((dims, header_len, total))
}

/// Checks magic, dimensions and the exact data length; returns the dimensions and the
/// header length.
fn parse_header(
    bytes: &[u8],
    path: &Path,
    expected_magic: u32,
    what: &'static str,
) -> Result<(Vec<usize>, usize)> {
    let (dims, header_len, total) = parse_dims(bytes, path, expected_magic, what)?;
    let actual = (bytes.len() - header_len) as u64;
    if actual < total {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: total,
            actual,
        });
    }
    if actual > total {
        return Err(DataError::TrailingData {
            path: path.to_path_buf(),
            expected: total,
            extra: actual - total,
        });
    }
    Ok((dims, header_len))
}

/// One split of an IDX dataset as read from disk, before conversion to floats.
struct RawSplit {
    name: &'static str,
    images_path: PathBuf,
    images: IdxImages,
    labels: Option<Vec<u8>>,
}

fn read_split(
    name: &'static str,
    images_path: &Path,
    labels_path: Option<&Path>,
) -> Result<RawSplit> {
    // Images and labels are decompressed at the same time.
    let (images, labels) = rayon::join(
        || read_idx_images(images_path),
        || labels_path.map(read_idx_labels).transpose(),
    );
    let images = images?;
    let labels = labels?;
    if let (Some(labels), Some(labels_path)) = (&labels, labels_path) {
        if labels.len() != images.count {
            return Err(DataError::CountMismatch {
                images: images_path.to_path_buf(),
                labels: labels_path.to_path_buf(),
                n_images: images.count,
                n_labels: labels.len(),
            });
        }
    }
    Ok(RawSplit {
        name,
        images_path: images_path.to_path_buf(),
        images,
        labels,
    })
}

/// Converts one or more splits into a single dataset, pixels scaled by 1/255. Labels are
/// kept only when every split has them.
fn assemble(splits: &[RawSplit], source: String) -> Result<Dataset> {
    let first = &splits[0];
    let (rows, cols) = (first.images.rows, first.images.cols);
    for split in &splits[1..] {
        if (split.images.rows, split.images.cols) != (rows, cols) {
            return Err(DataError::ImageSizeMismatch {
                path: split.images_path.clone(),
                found: (split.images.rows, split.images.cols),
                first: first.images_path.clone(),
                expected: (rows, cols),
            });
        }
    }
    let n: usize = splits.iter().map(|s| s.images.count).sum();
    let d = rows * cols;
    let mut features = vec![0f32; n * d];
    let mut offset = 0;
    for split in splits {
        let len = split.images.pixels.len();
        features[offset..offset + len]
            .par_chunks_mut(1 << 16)
            .zip(split.images.pixels.par_chunks(1 << 16))
            .for_each(|(out, pixels)| {
                for (o, &p) in out.iter_mut().zip(pixels) {
                    *o = f32::from(p) / 255.0;
                }
            });
        offset += len;
    }
    let labels = if splits.iter().all(|s| s.labels.is_some()) {
        Some(
            splits
                .iter()
                .flat_map(|s| s.labels.iter().flatten().map(|&l| usize::from(l)))
                .collect(),
        )
    } else {
        None
    };
    let ids = splits
        .iter()
        .flat_map(|s| (0..s.images.count).map(move |i| format!("{}:{i}", s.name)))
        .collect();
    let features =
        Array2::from_shape_vec((n, d), features).map_err(|e| DataError::ShapeMismatch {
            source_name: source.clone(),
            reason: e.to_string(),
        })?;
    // Bytes / 255 are always finite: skip the NaN scan of `Dataset::new`.
    Ok(Dataset {
        features,
        labels,
        ids,
        image_shape: Some((rows, cols)),
        source,
    })
}

/// Loads one IDX images file and, when given, its labels file. Ids are `<split>:<index>`
/// where `split` is `train` or `test` when the file name says so.
pub fn load_idx_files(images: &Path, labels: Option<&Path>) -> Result<Dataset> {
    let name = split_name_of(images);
    let split = read_split(name, images, labels)?;
    let source = match labels {
        Some(l) => format!("IDX {} with labels {}", images.display(), l.display()),
        None => format!("IDX {} (no labels)", images.display()),
    };
    assemble(&[split], source)
}

/// Loads a single IDX images file, picking up its labels file next to it when there is one
/// (`...-images-idx3-ubyte[.gz]` -> `...-labels-idx1-ubyte[.gz]`).
pub fn load_idx_file(images: &Path) -> Result<Dataset> {
    let labels = sibling_labels(images);
    load_idx_files(images, labels.as_deref())
}

fn split_name_of(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.starts_with("t10k") || name.starts_with("test") {
        "test"
    } else {
        "train"
    }
}

fn sibling_labels(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let base = name.strip_suffix(".gz").unwrap_or(name);
    if !base.contains("images") {
        return None;
    }
    let labels = base.replace("images", "labels").replace("idx3", "idx1");
    [labels.clone(), format!("{labels}.gz")]
        .into_iter()
        .map(|n| images.with_file_name(n))
        .find(|p| p.is_file())
}

/// The images and labels files of one split of an MNIST-style folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxSplitFiles {
    pub images: PathBuf,
    pub labels: Option<PathBuf>,
}

/// Finds `train-images-idx3-ubyte[.gz]` (or `train-images.idx3-ubyte`, the Kaggle
/// spelling, or either inside a folder of the same name as Kaggle's archive unpacks) and
/// its labels in `dir`, for `train` or `test` (`t10k-...`).
pub fn find_idx_split(dir: &Path, train: bool) -> Option<IdxSplitFiles> {
    let prefixes: &[&str] = if train { &["train"] } else { &["t10k", "test"] };
    let find = |kind: &str, ndim: &str| -> Option<PathBuf> {
        prefixes.iter().find_map(|prefix| {
            [
                format!("{prefix}-{kind}-{ndim}-ubyte"),
                format!("{prefix}-{kind}.{ndim}-ubyte"),
            ]
            .into_iter()
            .flat_map(|n| [format!("{n}.gz"), n])
            // Kaggle's MNIST unpacks each file into a folder of the same name.
            .flat_map(|n| [dir.join(&n), dir.join(&n).join(&n)])
            .find(|p| p.is_file())
        })
    };
    Some(IdxSplitFiles {
        images: find("images", "idx3")?,
        labels: find("labels", "idx1"),
    })
}

/// True when `dir` holds at least one MNIST-style images file.
pub fn is_idx_dir(dir: &Path) -> bool {
    find_idx_split(dir, true).is_some() || find_idx_split(dir, false).is_some()
}

/// Loads an MNIST-style folder: `train-*` and/or `t10k-*` IDX files, gzipped or not.
/// With [`IdxSubset::All`], training rows come first (ids `train:i`), then test rows
/// (`test:i`). Labels are kept when every loaded split has its labels file.
pub fn load_idx_dir(dir: &Path, subset: IdxSubset) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(DataError::NotFound {
            path: dir.to_path_buf(),
            what: "MNIST-style folder".into(),
        });
    }
    let want_train = matches!(subset, IdxSubset::Train | IdxSubset::All);
    let want_test = matches!(subset, IdxSubset::Test | IdxSubset::All);
    let mut wanted = Vec::new();
    if want_train {
        let files = find_idx_split(dir, true).ok_or_else(|| DataError::NotFound {
            path: dir.join("train-images-idx3-ubyte.gz"),
            what: "training images (train-images-idx3-ubyte, gzipped or not)".into(),
        })?;
        wanted.push(("train", files));
    }
    if want_test {
        let files = find_idx_split(dir, false).ok_or_else(|| DataError::NotFound {
            path: dir.join("t10k-images-idx3-ubyte.gz"),
            what: "test images (t10k-images-idx3-ubyte, gzipped or not)".into(),
        })?;
        wanted.push(("test", files));
    }
    // All files decompress in parallel; the big training images dominate.
    let splits: Vec<RawSplit> = wanted
        .par_iter()
        .map(|(name, files)| read_split(name, &files.images, files.labels.as_deref()))
        .collect::<Result<_>>()?;
    let mut source = format!(
        "IDX folder {} ({})",
        dir.display(),
        match subset {
            IdxSubset::Train => "train",
            IdxSubset::Test => "test",
            IdxSubset::All => "train + test",
        }
    );
    if let Some((name, _)) = wanted.iter().find(|(_, f)| f.labels.is_none()) {
        source.push_str(&format!("; no labels: {name} labels file missing"));
    }
    assemble(&splits, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{gzip, idx_images_bytes, idx_labels_bytes};

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn plain_and_gzipped_files_load_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let images = idx_images_bytes(5, 3, 2, |i| (i * 51 % 256) as u8);
        let labels = idx_labels_bytes(&[0, 1, 2, 1, 0]);
        let plain = write(dir.path(), "train-images-idx3-ubyte", &images);
        let plain_labels = write(dir.path(), "train-labels-idx1-ubyte", &labels);
        // The gzip names are deliberately wrong: detection goes by content.
        let gz = write(dir.path(), "gz-images", &gzip(&images));
        let gz_labels = write(dir.path(), "gz-labels", &gzip(&labels));

        let a = load_idx_files(&plain, Some(&plain_labels)).unwrap();
        let b = load_idx_files(&gz, Some(&gz_labels)).unwrap();
        assert_eq!(a.features, b.features);
        assert_eq!(a.labels, Some(vec![0, 1, 2, 1, 0]));
        assert_eq!(a.image_shape, Some((3, 2)));
        assert_eq!(a.dim(), 6);
        // Pixel i of the file is (i*51 % 256) / 255.
        assert_eq!(a.features[[1, 2]], ((8 * 51 % 256) as f32) / 255.0);
        assert_eq!(a.ids[4], "train:4");
        // The labels next to the images file are found automatically.
        assert_eq!(load_idx_file(&plain).unwrap().labels, a.labels);
    }

    #[test]
    fn truncated_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut images = idx_images_bytes(4, 28, 28, |i| i as u8);
        images.truncate(images.len() - 100);
        let p = write(dir.path(), "cut", &images);
        let err = read_idx_images(&p).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 3136,
                    actual: 3036,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("cut") && msg.contains("truncated"), "{msg}");

        // Cut inside the header, and a truncated gzip stream.
        let p = write(dir.path(), "tiny", &images[..6]);
        assert!(matches!(
            read_idx_images(&p).unwrap_err(),
            DataError::Truncated { .. }
        ));
        let full = idx_images_bytes(4, 28, 28, |i| (i * 31) as u8);
        let gz = gzip(&full);
        let p = write(dir.path(), "cut.gz", &gz[..gz.len() / 2]);
        assert!(matches!(
            read_idx_images(&p).unwrap_err(),
            DataError::Gzip { .. }
        ));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut labels = idx_labels_bytes(&[1, 2, 3]);
        labels.extend_from_slice(&[9, 9]);
        let p = write(dir.path(), "long", &labels);
        let err = read_idx_labels(&p).unwrap_err();
        assert!(matches!(err, DataError::TrailingData { extra: 2, .. }));
    }

    #[test]
    fn an_absurd_header_is_refused_before_reading() {
        // A header announcing 1 x 65536 x 65536 pixels (4 GiB) over a small file.
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for v in [IMAGES_MAGIC, 1, 65536, 65536] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        bytes.extend_from_slice(&[0; 100]);
        let p = write(dir.path(), "huge.gz", &gzip(&bytes));
        let err = read_idx_images(&p).unwrap_err();
        assert!(matches!(err, DataError::TooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("huge.gz"), "{err}");
    }

    #[test]
    fn a_long_tail_is_cut_at_the_slack() {
        let dir = tempfile::tempdir().unwrap();
        let mut labels = idx_labels_bytes(&[1, 2, 3]);
        labels.extend(std::iter::repeat_n(0u8, 1 << 20));
        let p = write(dir.path(), "long.gz", &gzip(&labels));
        let err = read_idx_labels(&p).unwrap_err();
        assert!(matches!(err, DataError::TrailingData { .. }), "{err:?}");
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let labels = idx_labels_bytes(&[1, 2, 3]);
        let p = write(dir.path(), "labels-given-as-images", &labels);
        let err = read_idx_images(&p).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BadMagic {
                    found: 0x801,
                    expected: 0x803,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("labels-given-as-images") && msg.contains("magic"));

        let p = write(dir.path(), "png", b"\x89PNG\r\n\x1a\n........");
        assert!(matches!(
            read_idx_labels(&p).unwrap_err(),
            DataError::BadMagic { .. }
        ));
    }

    #[test]
    fn label_count_mismatch_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let images = write(dir.path(), "i", &idx_images_bytes(3, 2, 2, |i| i as u8));
        let labels = write(dir.path(), "l", &idx_labels_bytes(&[1, 2]));
        let err = load_idx_files(&images, Some(&labels)).unwrap_err();
        assert!(matches!(
            err,
            DataError::CountMismatch {
                n_images: 3,
                n_labels: 2,
                ..
            }
        ));
        assert!(err.to_string().contains("3 images but"), "{err}");
    }

    #[test]
    fn folder_all_is_train_then_test() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "train-images-idx3-ubyte.gz",
            &gzip(&idx_images_bytes(3, 2, 2, |_| 255)),
        );
        write(
            d,
            "train-labels-idx1-ubyte.gz",
            &gzip(&idx_labels_bytes(&[7, 8, 9])),
        );
        // Kaggle spelling, not gzipped.
        write(
            d,
            "t10k-images.idx3-ubyte",
            &idx_images_bytes(2, 2, 2, |_| 0),
        );
        write(d, "t10k-labels.idx1-ubyte", &idx_labels_bytes(&[1, 2]));
        assert!(is_idx_dir(d));

        let all = load_idx_dir(d, IdxSubset::All).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all.labels, Some(vec![7, 8, 9, 1, 2]));
        assert_eq!(
            all.ids,
            vec!["train:0", "train:1", "train:2", "test:0", "test:1"]
        );
        assert_eq!(all.features.row(2).sum(), 4.0);
        assert_eq!(all.features.row(3).sum(), 0.0);

        assert_eq!(load_idx_dir(d, IdxSubset::Train).unwrap().len(), 3);
        let test = load_idx_dir(d, IdxSubset::Test).unwrap();
        assert_eq!(test.len(), 2);
        assert_eq!(test.ids[0], "test:0");

        // Kaggle's archive: each file inside a folder of the same name.
        let kaggle = d.join("kaggle");
        for (name, bytes) in [
            ("train-images-idx3-ubyte", idx_images_bytes(1, 2, 2, |_| 1)),
            ("train-labels-idx1-ubyte", idx_labels_bytes(&[4])),
        ] {
            std::fs::create_dir_all(kaggle.join(name)).unwrap();
            write(&kaggle.join(name), name, &bytes);
        }
        let train = load_idx_dir(&kaggle, IdxSubset::Train).unwrap();
        assert_eq!(train.labels, Some(vec![4]));

        // Without the test labels, everything still loads, unlabelled.
        std::fs::remove_file(d.join("t10k-labels.idx1-ubyte")).unwrap();
        let all = load_idx_dir(d, IdxSubset::All).unwrap();
        assert_eq!(all.labels, None);
        assert!(all.source.contains("no labels"), "{}", all.source);
    }

    #[test]
    fn subset_names_parse() {
        assert_eq!("Train".parse::<IdxSubset>().unwrap(), IdxSubset::Train);
        assert_eq!("test".parse::<IdxSubset>().unwrap(), IdxSubset::Test);
        assert_eq!("all".parse::<IdxSubset>().unwrap(), IdxSubset::All);
        assert!("both".parse::<IdxSubset>().is_err());
    }

    #[test]
    fn folder_without_idx_files_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_idx_dir(dir.path(), IdxSubset::All).unwrap_err();
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    }

    fn shared(name: &str) -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(name);
        if p.is_dir() {
            Some(p)
        } else {
            eprintln!("skipping: {} not present", p.display());
            None
        }
    }

    /// Full 70,000-image protocol on the real files.
    #[test]
    fn shared_mnist_loads_70000() {
        let Some(dir) = shared("mnist") else { return };
        let t = std::time::Instant::now();
        let ds = load_idx_dir(&dir, IdxSubset::All).unwrap();
        eprintln!("MNIST 70k loaded in {:.2?}", t.elapsed());
        assert_eq!((ds.len(), ds.dim()), (70_000, 784));
        assert_eq!(ds.num_classes(), Some(10));
        assert_eq!(ds.ids[60_000], "test:0");
        let max = ds.features.iter().copied().fold(0f32, f32::max);
        assert_eq!(max, 1.0);
        // Well-known first labels of the training and test sets.
        let labels = ds.labels.as_ref().unwrap();
        assert_eq!(&labels[..5], &[5, 0, 4, 1, 9]);
        assert_eq!(&labels[60_000..60_005], &[7, 2, 1, 0, 4]);
    }

    #[test]
    fn shared_fashion_mnist_loads() {
        let Some(dir) = shared("fashion-mnist") else {
            return;
        };
        let ds = load_idx_dir(&dir, IdxSubset::Test).unwrap();
        assert_eq!((ds.len(), ds.dim()), (10_000, 784));
        assert_eq!(ds.num_classes(), Some(10));
    }
}
