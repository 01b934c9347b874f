//! The silhouette (Rousseeuw 1987): a label-free score of a partition, used to choose the
//! number of clusters (`--k auto`) by the N2D pipeline and by the photo organizer.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// Mean silhouette over the rows of `x` (Euclidean), as scikit-learn's `silhouette_score`:
/// s(i) = (b - a) / max(a, b), where a is the mean distance to the other members of i's
/// cluster and b the smallest mean distance to another cluster; members of singleton
/// clusters count 0; 0 when there are fewer than two non-empty clusters.
///
/// Exact and O(n² d): call it on a sample (a few thousand rows) of large data.
///
/// # Panics
/// When `labels.len() != x.nrows()`.
pub fn silhouette_score(x: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    let n = x.nrows();
    assert_eq!(labels.len(), n, "one label per row");
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return 0.0;
    }
    let total: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            let own = labels[i];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let mut sums = vec![0.0f64; k];
            let row = x.row(i);
            for (j, other) in x.rows().into_iter().enumerate() {
                if i != j {
                    let d: f64 = row
                        .iter()
                        .zip(other)
                        .map(|(a, b)| f64::from(a - b).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    sums[labels[j]] += d;
                }
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if a.max(b) > 0.0 {
                (b - a) / a.max(b)
            } else {
                0.0
            }
        })
        .sum();
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_scikit_learn() {
        // sklearn.metrics.silhouette_score([[0,0],[0,1],[4,0],[4,1],[9,9]], [0,0,1,1,1])
        // = 0.28169610893129077 (scikit-learn 1.9.1).
        let x = array![
            [0.0f32, 0.0],
            [0.0, 1.0],
            [4.0, 0.0],
            [4.0, 1.0],
            [9.0, 9.0]
        ];
        let s = silhouette_score(x.view(), &[0, 0, 1, 1, 1]);
        assert!((s - 0.28169610893129077).abs() < 1e-6, "{s}");
        assert_eq!(silhouette_score(x.view(), &[0, 0, 0, 0, 0]), 0.0);
    }

    #[test]
    fn two_one_dimensional_clusters_by_hand() {
        // Points 0, 1 in cluster 0 and 10, 12 in cluster 1: (a, b) per point are (1, 11),
        // (1, 10), (2, 9.5), (2, 11.5).
        let x = array![[0.0f32], [1.0], [10.0], [12.0]];
        let s = silhouette_score(x.view(), &[0, 0, 1, 1]);
        let expect =
            ((1.0 - 1.0 / 11.0) + (1.0 - 1.0 / 10.0) + (1.0 - 2.0 / 9.5) + (1.0 - 2.0 / 11.5))
                / 4.0;
        assert!((s - expect).abs() < 1e-9, "{s} vs {expect}");
    }

    #[test]
    fn singletons_count_zero_and_labels_may_skip_numbers() {
        // Hand-computed: rows 0 and 1 (cluster 0) are 1 apart and 10 from row 2 (cluster 5,
        // a singleton): s = (10 - 1) / 10 for each of them, 0 for the singleton.
        let x = array![[0.0f32], [1.0], [10.5]];
        let s = silhouette_score(x.view(), &[0, 0, 5]);
        let a0 = 1.0;
        let b0 = 10.5;
        let a1 = 1.0;
        let b1 = 9.5;
        let expected = ((b0 - a0) / b0 + (b1 - a1) / b1) / 3.0;
        assert!((s - expected).abs() < 1e-12, "{s} vs {expected}");
    }
}
