//! Confidence scores that rank a cluster's members, higher = more typical of the cluster.

use crate::error::{ReportError, Result};
use ndarray::ArrayView2;

/// DEC/IDEC: the largest soft assignment `max_j q_ij` of each row of `q` (n x k).
pub fn from_soft_assignments(q: ArrayView2<f32>) -> Vec<f32> {
    q.outer_iter()
        .map(|row| row.iter().copied().fold(f32::NEG_INFINITY, f32::max))
        .collect()
}

/// K-Means: minus the Euclidean distance of each row of `x` (n x d) to the centre of its
/// own cluster (`centroids` k x d, `labels[i] < k`), so the nearest members rank first.
pub fn from_centroid_distance(
    x: ArrayView2<f32>,
    centroids: ArrayView2<f32>,
    labels: &[usize],
) -> Result<Vec<f32>> {
    if labels.len() != x.nrows() {
        return Err(ReportError::LengthMismatch {
            what: "the feature matrix",
            expected: labels.len(),
            got: x.nrows(),
        });
    }
    if centroids.ncols() != x.ncols() {
        return Err(ReportError::Invalid(format!(
            "centroids have {} columns, the features {}",
            centroids.ncols(),
            x.ncols()
        )));
    }
    x.outer_iter()
        .zip(labels)
        .map(|(row, &label)| {
            if label >= centroids.nrows() {
                return Err(ReportError::Invalid(format!(
                    "cluster label {label} has no centroid (there are {})",
                    centroids.nrows()
                )));
            }
            let centre = centroids.row(label);
            let d2: f32 = row.iter().zip(centre).map(|(a, b)| (a - b) * (a - b)).sum();
            Ok(-d2.sqrt())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nearest_member_ranks_first() {
        let x = array![[0.0f32, 0.0], [3.0, 4.0], [10.0, 10.0]];
        let c = array![[0.0f32, 0.0], [10.0, 11.0]];
        let conf = from_centroid_distance(x.view(), c.view(), &[0, 0, 1]).expect("ok");
        assert_eq!(conf, vec![0.0, -5.0, -1.0]);
        assert!(from_centroid_distance(x.view(), c.view(), &[0, 2, 1]).is_err());
        assert!(from_centroid_distance(x.view(), c.view(), &[0, 1]).is_err());
        let q = array![[0.2f32, 0.8], [0.6, 0.4]];
        assert_eq!(from_soft_assignments(q.view()), vec![0.8, 0.6]);
    }
}
