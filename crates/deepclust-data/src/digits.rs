//! The 8x8 handwritten digits of UCI optdigits as shipped by scikit-learn
//! (`sklearn/datasets/data/digits.csv.gz`): one row per image, 64 pixel counts in `0..=16`
//! (row by row), then the label. No header in scikit-learn's file; one is tolerated.
//! Gzipped or plain (detected from the content). Pixels are scaled by 1/16.

use std::path::Path;

use ndarray::Array2;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::gz;

/// Pixels per image.
pub const PIXELS: usize = 64;
/// 64 pixels then the label.
pub const FIELDS_PER_ROW: usize = PIXELS + 1;
/// Largest pixel value (number of set bits in a 4x4 block of the 32x32 original).
pub const MAX_VALUE: f32 = 16.0;

/// Loads the digits CSV. Ids are the 0-based row numbers.
pub fn load_digits_csv(path: &Path) -> Result<Dataset> {
    let bytes = gz::read_maybe_gz(path)?;
    let text = String::from_utf8(bytes).map_err(|e| DataError::BadCsvRow {
        path: path.to_path_buf(),
        line: 0,
        reason: format!("not UTF-8 text ({e})"),
    })?;
    let bad = |line: usize, reason: String| DataError::BadCsvRow {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut pixels: Vec<f32> = Vec::new();
    let mut labels = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim().trim_start_matches('\u{feff}');
        if row.is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        // A header is a first line whose fields are not all numbers.
        if labels.is_empty()
            && pixels.is_empty()
            && fields.iter().any(|f| f.parse::<f64>().is_err())
        {
            continue;
        }
        if fields.len() != FIELDS_PER_ROW {
            return Err(bad(
                line,
                format!(
                    "expected {FIELDS_PER_ROW} fields (64 pixels then the label), found {}",
                    fields.len()
                ),
            ));
        }
        for (col, field) in fields[..PIXELS].iter().enumerate() {
            let value: f32 = field
                .parse()
                .map_err(|_| bad(line, format!("pixel {col}: `{field}` is not a number")))?;
            if !(0.0..=MAX_VALUE).contains(&value) {
                // Also catches NaN; infinities are out of range too.
                return Err(bad(line, format!("pixel {col}: {value} is outside 0..=16")));
            }
            pixels.push(value / MAX_VALUE);
        }
        let label_field = fields[PIXELS];
        let label = label_field
            .parse::<usize>()
            .ok()
            .or_else(|| {
                // Tolerate `3.0` (files written from float arrays).
                label_field
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v >= 0.0 && v.fract() == 0.0 && *v < 1e9)
                    .map(|v| v as usize)
            })
            .ok_or_else(|| {
                bad(
                    line,
                    format!("label `{label_field}` is not a non-negative integer"),
                )
            })?;
        labels.push(label);
    }
    let n = labels.len();
    if n == 0 {
        return Err(bad(1, "no data rows".into()));
    }
    let source = format!("8x8 digits CSV {}", path.display());
    let features =
        Array2::from_shape_vec((n, PIXELS), pixels).map_err(|e| DataError::ShapeMismatch {
            source_name: source.clone(),
            reason: e.to_string(),
        })?;
    let ids = (0..n).map(|i| i.to_string()).collect();
    Dataset::new(features, Some(labels), ids, Some((8, 8)), source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::gzip;

    fn row(pixel: u32, label: &str) -> String {
        let mut fields: Vec<String> = (0..64).map(|i| ((i + pixel) % 17).to_string()).collect();
        fields.push(label.to_string());
        fields.join(",")
    }

    #[test]
    fn plain_gzip_and_header_variants_agree() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}\n{}\n", row(0, "3"), row(5, "7"));
        let plain = dir.path().join("d.csv");
        std::fs::write(&plain, &text).unwrap();
        let zipped = dir.path().join("d.csv.gz");
        std::fs::write(&zipped, gzip(text.as_bytes())).unwrap();
        let header: Vec<String> = (0..64).map(|i| format!("pixel_{i}")).collect();
        let with_header = dir.path().join("h.csv");
        std::fs::write(&with_header, format!("{},target\n{text}", header.join(","))).unwrap();

        let a = load_digits_csv(&plain).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.labels, Some(vec![3, 7]));
        assert_eq!(a.image_shape, Some((8, 8)));
        assert_eq!(a.features[[1, 0]], 5.0 / 16.0);
        assert_eq!(a.features[[0, 16]], 16.0 / 16.0);
        assert_eq!(
            load_digits_csv(&zipped).unwrap(),
            a_with_source(&a, &zipped)
        );
        assert_eq!(load_digits_csv(&with_header).unwrap().features, a.features);
    }

    fn a_with_source(a: &Dataset, p: &Path) -> Dataset {
        let mut a = a.clone();
        a.source = format!("8x8 digits CSV {}", p.display());
        a
    }

    #[test]
    fn bad_rows_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let cases = [
            (format!("{}\n{}\n", row(0, "1"), row(0, "x")), 2, "label"),
            (format!("{}\n1,2,3\n", row(0, "1")), 2, "expected 65 fields"),
            (
                format!("{}\n", row(0, "1").replacen("0", "17", 1)),
                1,
                "outside 0..=16",
            ),
            (
                format!("{}\n", row(0, "1").replacen("0", "NaN", 1)),
                1,
                "outside 0..=16",
            ),
            (format!("{}\n", row(0, "-2")), 1, "label"),
        ];
        for (text, line, reason) in cases {
            std::fs::write(&p, &text).unwrap();
            let err = load_digits_csv(&p).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, DataError::BadCsvRow { line: l, .. } if l == line),
                "{msg}"
            );
            assert!(msg.contains(reason) && msg.contains("d.csv"), "{msg}");
        }
    }

    #[test]
    fn shared_digits_csv_has_1797_rows_and_10_classes() {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/digits/digits.csv.gz");
        if !p.is_file() {
            eprintln!("skipping: {} not present", p.display());
            return;
        }
        let ds = load_digits_csv(&p).unwrap();
        assert_eq!((ds.len(), ds.dim()), (1797, 64));
        assert_eq!(ds.num_classes(), Some(10));
        // First row of scikit-learn's load_digits(): a 0, pixel 2 = 5, pixel 3 = 13.
        assert_eq!(ds.labels.as_ref().unwrap()[0], 0);
        assert_eq!(ds.features[[0, 2]], 5.0 / 16.0);
        assert_eq!(ds.features[[0, 3]], 13.0 / 16.0);
        assert!(ds.features.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
