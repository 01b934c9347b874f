//! The in-memory dataset every loader returns.

use std::collections::BTreeSet;

use ndarray::{Array2, Axis};

use crate::error::{DataError, Result};

/// A table of `n` items with `d` features each, plus what is known about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `n x d`, row-major; values in `[0, 1]` for images.
    pub features: Array2<f32>,
    /// Ground-truth classes when known; used only for scoring, never for clustering.
    pub labels: Option<Vec<usize>>,
    /// One per row: a file name (relative to the loaded folder), or `train:123` / `test:5`
    /// for IDX data (index within the original file).
    pub ids: Vec<String>,
    /// `(height, width)` when each row is a grayscale image stored row by row.
    pub image_shape: Option<(usize, usize)>,
    /// Human description of where the data came from.
    pub source: String,
}

impl Dataset {
    /// Builds a dataset from numbers, checking that every part fits together and that no
    /// value is NaN or infinite (the error names `source`, the row and the column).
    pub fn new(
        features: Array2<f32>,
        labels: Option<Vec<usize>>,
        ids: Vec<String>,
        image_shape: Option<(usize, usize)>,
        source: impl Into<String>,
    ) -> Result<Dataset> {
        let source = source.into();
        let (n, d) = features.dim();
        if ids.len() != n {
            return Err(DataError::ShapeMismatch {
                source_name: source,
                reason: format!("{n} rows of features but {} ids", ids.len()),
            });
        }
        if let Some(labels) = &labels {
            if labels.len() != n {
                return Err(DataError::ShapeMismatch {
                    source_name: source,
                    reason: format!("{n} rows of features but {} labels", labels.len()),
                });
            }
        }
        if let Some((h, w)) = image_shape {
            if h * w != d {
                return Err(DataError::ShapeMismatch {
                    source_name: source,
                    reason: format!("image shape {h}x{w} = {} pixels but {d} features", h * w),
                });
            }
        }
        check_finite(&features, &source)?;
        Ok(Dataset {
            features,
            labels,
            ids,
            image_shape,
            source,
        })
    }

    /// Builds a dataset with ids `0`, `1`, ... and no image shape (numbers from the user).
    pub fn from_features(
        features: Array2<f32>,
        labels: Option<Vec<usize>>,
        source: impl Into<String>,
    ) -> Result<Dataset> {
        let ids = (0..features.nrows()).map(|i| i.to_string()).collect();
        Dataset::new(features, labels, ids, None, source)
    }

    /// Number of items (rows).
    pub fn len(&self) -> usize {
        self.features.nrows()
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features per item (columns).
    pub fn dim(&self) -> usize {
        self.features.ncols()
    }

    /// Number of distinct ground-truth labels, when labels are known.
    pub fn num_classes(&self) -> Option<usize> {
        self.labels
            .as_ref()
            .map(|labels| labels.iter().collect::<BTreeSet<_>>().len())
    }

    /// The rows at `rows`, in that order (repeats allowed).
    ///
    /// # Panics
    /// When an index is `>= self.len()`, like slice indexing: indices come from code, not
    /// from files.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select(Axis(0), rows),
            labels: self
                .labels
                .as_ref()
                .map(|labels| rows.iter().map(|&r| labels[r]).collect()),
            ids: rows.iter().map(|&r| self.ids[r].clone()).collect(),
            image_shape: self.image_shape,
            source: self.source.clone(),
        }
    }

    /// `a`'s rows followed by `b`'s. Labels are kept only when both have them.
    pub fn concat(a: &Dataset, b: &Dataset) -> Result<Dataset> {
        let source = format!("{} + {}", a.source, b.source);
        if a.dim() != b.dim() {
            return Err(DataError::ShapeMismatch {
                source_name: source,
                reason: format!("cannot concatenate {} and {} features", a.dim(), b.dim()),
            });
        }
        if a.image_shape != b.image_shape {
            return Err(DataError::ShapeMismatch {
                source_name: source,
                reason: format!(
                    "cannot concatenate image shapes {:?} and {:?}",
                    a.image_shape, b.image_shape
                ),
            });
        }
        let features = ndarray::concatenate(Axis(0), &[a.features.view(), b.features.view()])
            .map_err(|e| DataError::ShapeMismatch {
                source_name: source.clone(),
                reason: e.to_string(),
            })?;
        let labels = match (&a.labels, &b.labels) {
            (Some(la), Some(lb)) => Some(la.iter().chain(lb).copied().collect()),
            _ => None,
        };
        let ids = a.ids.iter().chain(&b.ids).cloned().collect();
        Ok(Dataset {
            features,
            labels,
            ids,
            image_shape: a.image_shape,
            source,
        })
    }
}

/// Rejects NaN and infinities, naming the first offending cell.
pub(crate) fn check_finite(features: &Array2<f32>, source: &str) -> Result<()> {
    for (row, values) in features.outer_iter().enumerate() {
        if let Some((col, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DataError::NonFinite {
                source_name: source.to_string(),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn small() -> Dataset {
        Dataset::new(
            array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]],
            Some(vec![1, 1, 4]),
            vec!["a".into(), "b".into(), "c".into()],
            Some((1, 2)),
            "small",
        )
        .unwrap()
    }

    #[test]
    fn accessors() {
        let ds = small();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.dim(), 2);
        assert!(!ds.is_empty());
        assert_eq!(ds.num_classes(), Some(2));
    }

    #[test]
    fn select_keeps_order_and_labels() {
        let ds = small().select(&[2, 0, 2]);
        assert_eq!(ds.features, array![[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]);
        assert_eq!(ds.labels, Some(vec![4, 1, 4]));
        assert_eq!(ds.ids, vec!["c", "a", "c"]);
    }

    #[test]
    fn concat_appends_rows_and_drops_partial_labels() {
        let a = small();
        let b = small().select(&[1]);
        let ab = Dataset::concat(&a, &b).unwrap();
        assert_eq!(ab.len(), 4);
        assert_eq!(ab.features.row(3), array![2.0, 3.0]);
        assert_eq!(ab.labels, Some(vec![1, 1, 4, 1]));
        let mut unlabelled = b.clone();
        unlabelled.labels = None;
        assert_eq!(Dataset::concat(&a, &unlabelled).unwrap().labels, None);
    }

    #[test]
    fn concat_rejects_different_dims() {
        let a = small();
        let b = Dataset::from_features(array![[1.0, 2.0, 3.0]], None, "wide").unwrap();
        let err = Dataset::concat(&a, &b).unwrap_err();
        assert!(err.to_string().contains("2 and 3 features"), "{err}");
    }

    #[test]
    fn rejects_nan_and_inf_naming_the_cell() {
        let err =
            Dataset::from_features(array![[0.0, 1.0], [f32::NAN, 2.0]], None, "user").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("user") && msg.contains("row 1, column 0"),
            "{msg}"
        );
        let err = Dataset::from_features(array![[0.0, f32::INFINITY]], None, "user").unwrap_err();
        assert!(matches!(err, DataError::NonFinite { row: 0, col: 1, .. }));
    }

    #[test]
    fn rejects_label_count_mismatch() {
        let err = Dataset::from_features(array![[0.0], [1.0]], Some(vec![0]), "user").unwrap_err();
        assert!(err.to_string().contains("2 rows of features but 1 labels"));
    }
}
