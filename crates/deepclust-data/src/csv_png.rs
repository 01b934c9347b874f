//! The "Identify the Digits" layout (Analytics Vidhya): a CSV with a header naming a
//! `filename` column and, optionally, a `label` column, plus a folder of PNG images:
//!
//! ```text
//! train.csv          filename,label
//!                    0.png,4
//! Images/train/0.png
//! ```
//!
//! Images are decoded in parallel (order kept), converted to one gray channel, flattened
//! row by row and scaled by 1/255. They must all have the same size.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use ndarray::Array2;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::folder::{decode_all, decode_image};

/// Header names accepted for the file-name column (compared in lowercase).
pub const FILENAME_COLUMNS: [&str; 4] = ["filename", "file", "image", "path"];
/// Header names accepted for the label column (compared in lowercase).
pub const LABEL_COLUMNS: [&str; 3] = ["label", "class", "target"];

/// Splits one CSV line on commas, trimming spaces and surrounding double quotes. (File
/// names and integer labels need no more of CSV than that; a quoted comma is not supported.)
pub fn split_csv_line(line: &str) -> Vec<String> {
    line.split(',')
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        })
        .collect()
}

/// One data row of the CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvEntry {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub filename: String,
    pub label: Option<usize>,
}

/// Parses the CSV: a header with a `filename` column (and optionally `label`), then one
/// row per image. Blank lines are ignored.
pub fn read_csv_entries(csv: &Path) -> Result<(Vec<CsvEntry>, bool)> {
    let text = std::fs::read_to_string(csv).map_err(|e| DataError::io(csv, e))?;
    let bad = |line: usize, reason: String| DataError::BadCsvRow {
        path: csv.to_path_buf(),
        line,
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty());
    let (header_line, header) = lines.next().ok_or_else(|| {
        bad(
            1,
            "empty file: expected a header such as `filename,label`".into(),
        )
    })?;
    let columns: Vec<String> = split_csv_line(header)
        .into_iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let filename_col = columns
        .iter()
        .position(|c| FILENAME_COLUMNS.contains(&c.as_str()))
        .ok_or_else(|| {
            bad(
                header_line,
                format!("the header must name a `filename` column, found `{header}`"),
            )
        })?;
    let label_col = columns
        .iter()
        .position(|c| LABEL_COLUMNS.contains(&c.as_str()));

    let mut entries = Vec::new();
    for (line, row) in lines {
        let fields = split_csv_line(row);
        if fields.len() != columns.len() {
            return Err(bad(
                line,
                format!(
                    "expected {} fields like the header, found {}: `{row}`",
                    columns.len(),
                    fields.len()
                ),
            ));
        }
        let filename = fields[filename_col].clone();
        if filename.is_empty() {
            return Err(bad(line, "empty file name".into()));
        }
        let label = match label_col {
            None => None,
            Some(c) => Some(fields[c].parse::<usize>().map_err(|_| {
                bad(
                    line,
                    format!("label `{}` is not a non-negative integer", fields[c]),
                )
            })?),
        };
        entries.push(CsvEntry {
            line,
            filename,
            label,
        });
    }
    if entries.is_empty() {
        return Err(bad(header_line, "no data rows after the header".into()));
    }
    Ok((entries, label_col.is_some()))
}

/// Where the images of `csv` are looked for when no folder is given: `Images/<csv stem>/`
/// (so `test.csv` finds `Images/test/`), `Images/train/`, `Images/`, then the CSV's folder.
pub fn default_image_dirs(csv: &Path) -> Vec<PathBuf> {
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut dirs = Vec::new();
    if let Some(stem) = csv.file_stem() {
        dirs.push(base.join("Images").join(stem));
    }
    dirs.push(base.join("Images").join("train"));
    dirs.push(base.join("Images"));
    dirs.push(base.to_path_buf());
    dirs.dedup();
    dirs
}

/// Loads the CSV + PNG layout. `images_dir` overrides the default folder search (see
/// [`default_image_dirs`]: the first folder that holds the first listed file wins).
/// Errors name the CSV line of a missing image, the undecodable file, or the first image
/// whose size differs from the first one's.
pub fn load_csv_png(csv: &Path, images_dir: Option<&Path>) -> Result<Dataset> {
    load_csv_png_with_progress(csv, images_dir, &|_, _| {}, &AtomicBool::new(false))
}

/// [`load_csv_png`] reporting `(images decoded, total)` and stopping when `cancel` is set.
pub fn load_csv_png_with_progress(
    csv: &Path,
    images_dir: Option<&Path>,
    on_progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Dataset> {
    let (entries, has_labels) = read_csv_entries(csv)?;
    let dir = match images_dir {
        Some(dir) => dir.to_path_buf(),
        None => {
            let candidates = default_image_dirs(csv);
            candidates
                .iter()
                .find(|d| d.join(&entries[0].filename).is_file())
                .unwrap_or(&candidates[0])
                .clone()
        }
    };
    let paths: Vec<PathBuf> = entries.iter().map(|e| dir.join(&e.filename)).collect();
    // Check every file exists before decoding anything, so that the error names the first
    // missing line, whatever the thread scheduling.
    if let Some((entry, path)) = entries.iter().zip(&paths).find(|(_, p)| !p.is_file()) {
        return Err(DataError::MissingImage {
            csv: csv.to_path_buf(),
            line: entry.line,
            image: path.clone(),
        });
    }
    let decoded = decode_all(
        &paths,
        |p| decode_image(p).map(|img| img.to_luma8()),
        on_progress,
        cancel,
        csv,
    )?;
    let mut shape: Option<(usize, usize)> = None;
    let mut pixels: Vec<f32> = Vec::new();
    for (path, gray) in paths.iter().zip(decoded) {
        let gray = gray?;
        let hw = (gray.height() as usize, gray.width() as usize);
        match shape {
            None => {
                shape = Some(hw);
                pixels.reserve(entries.len() * hw.0 * hw.1);
            }
            Some(expected) if expected != hw => {
                return Err(DataError::ImageSizeMismatch {
                    path: path.clone(),
                    found: hw,
                    first: paths[0].clone(),
                    expected,
                });
            }
            Some(_) => {}
        }
        pixels.extend(gray.as_raw().iter().map(|&p| f32::from(p) / 255.0));
    }
    let (h, w) = shape.unwrap_or((0, 0));
    let source = format!("CSV {} with images from {}", csv.display(), dir.display());
    let features = Array2::from_shape_vec((entries.len(), h * w), pixels).map_err(|e| {
        DataError::ShapeMismatch {
            source_name: source.clone(),
            reason: e.to_string(),
        }
    })?;
    let labels = has_labels.then(|| entries.iter().filter_map(|e| e.label).collect());
    let ids = entries.into_iter().map(|e| e.filename).collect();
    Dataset::new(features, labels, ids, Some((h, w)), source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::write_gray_png;

    /// `root/train.csv` + `root/Images/train/{0..n}.png`, image i filled with 10*i.
    fn layout(root: &Path, n: u32, csv_text: Option<&str>) -> PathBuf {
        let images = root.join("Images").join("train");
        std::fs::create_dir_all(&images).unwrap();
        for i in 0..n {
            write_gray_png(&images.join(format!("{i}.png")), 4, 3, |y, x| {
                (10 * i + y * 3 + x) as u8
            });
        }
        let csv = root.join("train.csv");
        let default_text = (0..n).fold(String::from("filename,label\n"), |s, i| {
            s + &format!("{i}.png,{}\n", i % 3)
        });
        std::fs::write(&csv, csv_text.unwrap_or(&default_text)).unwrap();
        csv
    }

    #[test]
    fn loads_in_csv_order_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let csv = layout(
            dir.path(),
            5,
            Some("filename,label\n3.png,0\n1.png,1\n\n4.png,2\n"),
        );
        let ds = load_csv_png(&csv, None).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.image_shape, Some((4, 3)));
        assert_eq!(ds.ids, vec!["3.png", "1.png", "4.png"]);
        assert_eq!(ds.labels, Some(vec![0, 1, 2]));
        // Pixel (y=1, x=2) of image 3 is 30 + 5.
        assert_eq!(ds.features[[0, 5]], 35.0 / 255.0);
        assert_eq!(ds.features[[2, 0]], 40.0 / 255.0);
    }

    #[test]
    fn label_column_is_optional_and_folder_can_be_given() {
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path(), 2, None);
        let csv = dir.path().join("test.csv");
        std::fs::write(&csv, "filename\n1.png\n0.png\n").unwrap();
        let ds = load_csv_png(&csv, Some(&dir.path().join("Images/train"))).unwrap();
        assert_eq!(ds.labels, None);
        assert_eq!(ds.len(), 2);
        // Without the folder, Images/test is tried first, then Images/train.
        assert_eq!(load_csv_png(&csv, None).unwrap().features, ds.features);
    }

    #[test]
    fn missing_png_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = layout(dir.path(), 2, Some("filename,label\n0.png,1\n7.png,2\n"));
        let err = load_csv_png(&csv, None).unwrap_err();
        assert!(
            matches!(err, DataError::MissingImage { line: 3, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("train.csv line 3") && msg.contains("7.png"),
            "{msg}"
        );
    }

    #[test]
    fn bad_rows_are_rejected_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("filename,label\n0.png,1\n1.png\n", 3, "expected 2 fields"),
            (
                "filename,label\n0.png,one\n",
                2,
                "not a non-negative integer",
            ),
            (
                "filename,label\n0.png,-1\n",
                2,
                "not a non-negative integer",
            ),
            ("name,label\n0.png,1\n", 1, "`filename` column"),
            ("filename,label\n", 1, "no data rows"),
            ("", 1, "empty file"),
            ("filename,label\n,1\n", 2, "empty file name"),
        ];
        for (text, line, reason) in cases {
            let csv = layout(dir.path(), 2, Some(text));
            let err = load_csv_png(&csv, None).unwrap_err();
            match &err {
                DataError::BadCsvRow {
                    line: l, reason: r, ..
                } => {
                    assert_eq!(*l, line, "{text:?}: {err}");
                    assert!(r.contains(reason), "{text:?}: {err}");
                }
                other => panic!("{text:?}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn images_of_different_sizes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let csv = layout(dir.path(), 3, None);
        write_gray_png(&dir.path().join("Images/train/2.png"), 5, 3, |_, _| 0);
        let err = load_csv_png(&csv, None).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ImageSizeMismatch {
                    found: (5, 3),
                    expected: (4, 3),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("2.png"));
    }

    #[test]
    fn corrupt_png_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let csv = layout(dir.path(), 2, None);
        std::fs::write(dir.path().join("Images/train/1.png"), b"not a png at all").unwrap();
        let err = load_csv_png(&csv, None).unwrap_err();
        assert!(matches!(err, DataError::Image { .. }), "{err:?}");
        assert!(err.to_string().contains("1.png"));
    }
}
