#![allow(clippy::unwrap_used)] // test helpers may panic on broken fixtures
use deepclust_cluster::{ClusterError, KMeans, KMeansInit, MiniBatchKMeans};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::AtomicBool;

/// `k` well separated Gaussian blobs in `d` dimensions, `per` points each; returns data and truth.
fn blobs(k: usize, per: usize, d: usize, spread: f32, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f32>> = (0..k)
        .map(|_| (0..d).map(|_| rng.gen_range(-10.0..10.0)).collect())
        .collect();
    let mut x = Array2::zeros((k * per, d));
    let mut truth = Vec::new();
    for i in 0..k * per {
        let c = i % k;
        truth.push(c);
        for j in 0..d {
            x[[i, j]] = centers[c][j] + spread * (rng.gen::<f32>() - 0.5);
        }
    }
    (x, truth)
}

fn brute_force_inertia(x: ArrayView2<f32>, centers: &Array2<f32>, labels: &[usize]) -> f64 {
    x.outer_iter()
        .zip(labels)
        .map(|(row, &l)| {
            row.iter()
                .zip(centers.row(l))
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
        })
        .sum()
}

fn nearest(x: ArrayView2<f32>, centers: &Array2<f32>) -> Vec<usize> {
    x.outer_iter()
        .map(|row| {
            (0..centers.nrows())
                .min_by(|&a, &b| {
                    let da: f64 = row
                        .iter()
                        .zip(centers.row(a))
                        .map(|(p, q)| f64::from(p - q).powi(2))
                        .sum();
                    let db: f64 = row
                        .iter()
                        .zip(centers.row(b))
                        .map(|(p, q)| f64::from(p - q).powi(2))
                        .sum();
                    da.total_cmp(&db)
                })
                .unwrap()
        })
        .collect()
}

#[test]
fn recovers_separated_blobs() {
    let (x, truth) = blobs(5, 200, 12, 1.0, 1);
    let model = KMeans::params(5).n_init(5).seed(3).fit(x.view()).unwrap();
    assert_eq!(deepclust_metrics_free_acc(&truth, model.labels()), 1.0);
    // The reported inertia is the real sum of squared distances to the final centres.
    let brute = brute_force_inertia(x.view(), model.centroids(), model.labels());
    assert!(
        (model.inertia() - brute).abs() <= 1e-4 * brute.max(1.0),
        "{} vs {brute}",
        model.inertia()
    );
    // Labels are the nearest centres, and predict agrees on the training data.
    assert_eq!(nearest(x.view(), model.centroids()), model.labels());
    assert_eq!(model.predict(x.view()).unwrap(), model.labels());
}

/// Accuracy under the best relabelling, by brute force over the (few) cluster ids here: every
/// cluster maps to the class most of its members carry, and the mapping must be one-to-one.
fn deepclust_metrics_free_acc(truth: &[usize], pred: &[usize]) -> f64 {
    let k = truth.iter().chain(pred).max().unwrap() + 1;
    let mut map = vec![usize::MAX; k];
    for (&t, &p) in truth.iter().zip(pred) {
        if map[p] == usize::MAX {
            map[p] = t;
        }
    }
    let mut used = map.clone();
    used.sort();
    used.dedup();
    if used.len() != map.iter().filter(|&&m| m != usize::MAX).count() {
        return 0.0;
    }
    truth
        .iter()
        .zip(pred)
        .filter(|&(&t, &p)| map[p] == t)
        .count() as f64
        / truth.len() as f64
}

#[test]
fn same_seed_same_result_and_seeds_matter() {
    let (x, _) = blobs(8, 60, 20, 18.0, 2);
    let a = KMeans::params(8).n_init(3).seed(11).fit(x.view()).unwrap();
    let b = KMeans::params(8).n_init(3).seed(11).fit(x.view()).unwrap();
    assert_eq!(a, b);
    let c = KMeans::params(8)
        .n_init(1)
        .init(KMeansInit::Random)
        .seed(12)
        .fit(x.view())
        .unwrap();
    let d = KMeans::params(8)
        .n_init(1)
        .init(KMeansInit::Random)
        .seed(13)
        .fit(x.view())
        .unwrap();
    assert_ne!(c.centroids(), d.centroids());
}

#[test]
fn more_restarts_never_hurt() {
    let (x, _) = blobs(6, 50, 10, 25.0, 4);
    let one = KMeans::params(6).n_init(1).seed(5).fit(x.view()).unwrap();
    let many = KMeans::params(6).n_init(8).seed(5).fit(x.view()).unwrap();
    // Restart 0 is the same in both runs, so the best of 8 is at most the first.
    assert!(many.inertia() <= one.inertia() + 1e-9);
}

#[test]
fn rejects_bad_input_with_clear_errors() {
    let x = Array2::<f32>::zeros((3, 2));
    assert_eq!(
        KMeans::params(4).fit(x.view()),
        Err(ClusterError::TooManyClusters { k: 4, n: 3 })
    );
    assert!(matches!(
        KMeans::params(0).fit(x.view()),
        Err(ClusterError::InvalidParam {
            name: "n_clusters",
            ..
        })
    ));
    let mut y = Array2::<f32>::zeros((3, 2));
    y[[2, 1]] = f32::NAN;
    assert_eq!(
        KMeans::params(2).fit(y.view()),
        Err(ClusterError::NonFinite { row: 2 })
    );
    let empty = Array2::<f32>::zeros((0, 2));
    assert!(matches!(
        KMeans::params(1).fit(empty.view()),
        Err(ClusterError::EmptyData { .. })
    ));
    let model = KMeans::params(2).fit(Array2::<f32>::eye(3).view()).unwrap();
    assert_eq!(
        model.predict(Array2::<f32>::zeros((2, 5)).view()),
        Err(ClusterError::DimensionMismatch {
            expected: 3,
            found: 5
        })
    );
    let err = KMeans::params(4).fit(x.view()).unwrap_err().to_string();
    assert!(err.contains("k = 4") && err.contains("n = 3"), "{err}");
}

#[test]
fn duplicate_points_and_k_equal_n() {
    // Fewer distinct points than clusters: must not panic or produce NaN centres.
    let x = ndarray::array![[1.0f32, 1.0], [1.0, 1.0], [1.0, 1.0], [2.0, 2.0]];
    let model = KMeans::params(3).n_init(2).seed(0).fit(x.view()).unwrap();
    assert!(model.centroids().iter().all(|v| v.is_finite()));
    assert!(model.inertia().abs() < 1e-9);
    let model = KMeans::params(4).seed(0).fit(x.view()).unwrap();
    assert!(model.inertia().abs() < 1e-9);
}

#[test]
fn cancellation_stops_the_fit() {
    let (x, _) = blobs(3, 30, 4, 1.0, 6);
    let cancel = AtomicBool::new(true);
    assert_eq!(
        KMeans::params(3).fit_with(x.view(), &mut |_| {}, &cancel),
        Err(ClusterError::Cancelled)
    );
}

#[test]
fn non_contiguous_input_is_accepted() {
    let (x, _) = blobs(3, 40, 6, 1.0, 7);
    let t = x.t().to_owned();
    let back = t.t(); // column-major view of the same data
    let a = KMeans::params(3).seed(1).fit(x.view()).unwrap();
    let b = KMeans::params(3).seed(1).fit(back).unwrap();
    assert_eq!(a.labels(), b.labels());
}

#[test]
fn minibatch_finds_blobs() {
    let (x, truth) = blobs(4, 500, 8, 1.0, 8);
    let model = MiniBatchKMeans::params(4)
        .batch_size(256)
        .seed(1)
        .fit(x.view())
        .unwrap();
    assert_eq!(deepclust_metrics_free_acc(&truth, model.labels()), 1.0);
    let full = KMeans::params(4).seed(1).fit(x.view()).unwrap();
    assert!(model.inertia() <= full.inertia() * 1.05);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Each Lloyd iteration never increases the inertia (up to float rounding).
    #[test]
    fn lloyd_never_increases_inertia(seed in any::<u64>(), k in 1usize..6, n in 6usize..120, d in 1usize..9) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-5.0f32..5.0));
        let mut history: Vec<(usize, f64)> = Vec::new();
        let model = KMeans::params(k.min(n)).n_init(2).seed(seed)
            .fit_with(x.view(), &mut |p| history.push((p.run, p.inertia)), &AtomicBool::new(false))
            .unwrap();
        for w in history.windows(2) {
            if w[0].0 == w[1].0 {
                prop_assert!(w[1].1 <= w[0].1 * (1.0 + 1e-5) + 1e-5, "{:?}", history);
            }
        }
        let brute = brute_force_inertia(x.view(), model.centroids(), model.labels());
        prop_assert!((model.inertia() - brute).abs() <= 1e-4 * brute.max(1.0));
    }
}

#[test]
fn identical_rows_warn_stop_early_and_never_make_nan_centres() {
    // 300 copies of one point, k = 3: two clusters must stay empty.
    let x = Array2::from_elem((300, 4), 0.5f32);
    let mut iterations = 0;
    let mut restarts = std::collections::BTreeSet::new();
    let model = KMeans::params(3)
        .seed(0)
        .fit_with(
            x.view(),
            &mut |p| {
                iterations += 1;
                restarts.insert(p.run);
            },
            &AtomicBool::new(false),
        )
        .unwrap();
    assert_eq!(restarts.len(), 1, "one restart, not n_init = 10");
    assert!(
        iterations <= 3,
        "stopped early, not after 300: {iterations}"
    );
    assert!(model.converged());
    assert!(model.centroids().iter().all(|v| v.is_finite()));
    assert_eq!(model.empty_clusters(), 2);
    let warnings = model.warnings().join("\n");
    assert!(warnings.contains("only 1 distinct row"), "{warnings}");
    assert!(
        warnings.contains("2 of the 3 clusters are empty"),
        "{warnings}"
    );
    assert_eq!(model.inertia(), 0.0);
}

#[test]
fn a_fit_cut_by_max_iter_says_it_did_not_converge() {
    let (x, _) = blobs(5, 60, 3, 3.0, 4);
    let model = KMeans::params(5)
        .max_iter(1)
        .n_init(1)
        .seed(1)
        .fit(x.view())
        .unwrap();
    assert!(!model.converged());
    assert!(model
        .warnings()
        .iter()
        .any(|w| w.contains("did not converge")));
    let fine = KMeans::params(5).seed(1).fit(x.view()).unwrap();
    assert!(
        fine.converged() && fine.warnings().is_empty(),
        "{:?}",
        fine.warnings()
    );
}
