//! The Davies-Bouldin index (Davies and Bouldin 1979), as scikit-learn's
//! `davies_bouldin_score`: the mean over clusters of the worst ratio of within-cluster spread
//! to between-centroid distance. Lower is better. O(n d + k² d), so it scores all points of a
//! large library, where the silhouette (O(n² d)) needs a sample.

use ndarray::ArrayView2;

/// Davies-Bouldin index of `labels` on `x` (Euclidean). Empty label values are ignored; fewer
/// than two non-empty clusters give 0.
///
/// # Panics
/// When `labels.len() != x.nrows()`.
pub fn davies_bouldin_score(x: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    assert_eq!(labels.len(), x.nrows(), "one label per row");
    let d = x.ncols();
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    let mut centroids = vec![0f64; k * d];
    for (row, &l) in x.rows().into_iter().zip(labels) {
        sizes[l] += 1;
        for (c, v) in centroids[l * d..(l + 1) * d].iter_mut().zip(row) {
            *c += f64::from(*v);
        }
    }
    for (l, &s) in sizes.iter().enumerate() {
        if s > 0 {
            centroids[l * d..(l + 1) * d]
                .iter_mut()
                .for_each(|c| *c /= s as f64);
        }
    }
    let mut spread = vec![0f64; k];
    for (row, &l) in x.rows().into_iter().zip(labels) {
        let c = &centroids[l * d..(l + 1) * d];
        spread[l] += row
            .iter()
            .zip(c)
            .map(|(v, c)| (f64::from(*v) - c).powi(2))
            .sum::<f64>()
            .sqrt();
    }
    let present: Vec<usize> = (0..k).filter(|&l| sizes[l] > 0).collect();
    if present.len() < 2 {
        return 0.0;
    }
    for &l in &present {
        spread[l] /= sizes[l] as f64;
    }
    let dist = |a: usize, b: usize| -> f64 {
        centroids[a * d..(a + 1) * d]
            .iter()
            .zip(&centroids[b * d..(b + 1) * d])
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let worst: f64 = present
        .iter()
        .map(|&a| {
            present
                .iter()
                .filter(|&&b| b != a)
                .map(|&b| {
                    let between = dist(a, b);
                    // scikit-learn: coinciding centroids contribute 0, not infinity.
                    if between > 0.0 {
                        (spread[a] + spread[b]) / between
                    } else {
                        0.0
                    }
                })
                .fold(0.0, f64::max)
        })
        .sum();
    worst / present.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_scikit_learn() {
        // from sklearn.metrics import davies_bouldin_score
        // davies_bouldin_score([[0,0],[1,0],[0,1],[5,5],[6,5],[5,7],[10,0],[11,1]],
        //                      [0,0,0,1,1,1,2,2])  -> 0.23402566729287325
        let x = array![
            [0.0f32, 0.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [5.0, 5.0],
            [6.0, 5.0],
            [5.0, 7.0],
            [10.0, 0.0],
            [11.0, 1.0]
        ];
        let v = davies_bouldin_score(x.view(), &[0, 0, 0, 1, 1, 1, 2, 2]);
        assert!((v - 0.234_025_667_292_873_25).abs() < 1e-9, "{v}");
    }

    #[test]
    fn by_hand() {
        // Spreads 1 and 1, centroids 10 apart: (1 + 1) / 10.
        let x = array![[0.0f32, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0]];
        assert!((davies_bouldin_score(x.view(), &[0, 0, 1, 1]) - 0.2).abs() < 1e-12);
        // Unused label values are ignored; one cluster scores 0.
        assert!((davies_bouldin_score(x.view(), &[0, 0, 3, 3]) - 0.2).abs() < 1e-12);
        assert_eq!(davies_bouldin_score(x.view(), &[1, 1, 1, 1]), 0.0);
    }
}
