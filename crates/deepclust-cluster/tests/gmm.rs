#![allow(clippy::unwrap_used)] // test helpers may panic on broken fixtures
use deepclust_cluster::{ClusterError, GaussianMixture};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u: f32 = rng.gen_range(1e-7..1.0);
    let v: f32 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
}

/// Three 2-D clusters: elongated along x, elongated along y, and round.
fn anisotropic(per: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let specs = [
        ((0.0, 0.0), (3.0, 0.3)),
        ((0.0, 6.0), (0.3, 3.0)),
        ((8.0, 3.0), (1.0, 1.0)),
    ];
    let mut x = Array2::zeros((3 * per, 2));
    let mut truth = Vec::new();
    for i in 0..3 * per {
        let c = i % 3;
        let ((mx, my), (sx, sy)) = specs[c];
        x[[i, 0]] = mx + sx * gaussian(&mut rng);
        x[[i, 1]] = my + sy * gaussian(&mut rng);
        truth.push(c);
    }
    (x, truth)
}

fn agreement(truth: &[usize], pred: &[usize]) -> f64 {
    // Best mapping for 3 labels by brute force over the 6 permutations.
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    perms
        .iter()
        .map(|p| truth.iter().zip(pred).filter(|&(&t, &q)| p[q] == t).count())
        .max()
        .unwrap() as f64
        / truth.len() as f64
}

#[test]
fn recovers_anisotropic_clusters_and_variances() {
    let (x, truth) = anisotropic(400, 1);
    let model = GaussianMixture::params(3)
        .n_init(2)
        .seed(0)
        .fit(x.view())
        .unwrap();
    let pred = model.predict(x.view()).unwrap();
    assert!(
        agreement(&truth, &pred) > 0.97,
        "{}",
        agreement(&truth, &pred)
    );
    // The component on the first cluster has a variance near 9 along x and 0.09 along y.
    let c = pred[0];
    let cov = model
        .covariances()
        .index_axis(ndarray::Axis(0), c)
        .to_owned();
    assert!((cov[[0, 0]] - 9.0).abs() < 1.5, "{cov}");
    assert!((cov[[1, 1]] - 0.09).abs() < 0.03, "{cov}");
    let proba = model.predict_proba(x.view()).unwrap();
    for row in proba.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-9);
    }
    assert!((model.weights().sum() - 1.0).abs() < 1e-9);
    assert!(model.converged());
}

#[test]
fn bic_prefers_the_true_number_of_components() {
    let (x, _) = anisotropic(300, 2);
    let bics: Vec<f64> = (1..=6)
        .map(|k| {
            GaussianMixture::params(k)
                .n_init(2)
                .seed(1)
                .fit(x.view())
                .unwrap()
                .bic(x.nrows())
        })
        .collect();
    let best = bics
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0
        + 1;
    assert_eq!(best, 3, "{bics:?}");
}

#[test]
fn deterministic_and_validated() {
    let (x, _) = anisotropic(100, 3);
    let a = GaussianMixture::params(3).seed(5).fit(x.view()).unwrap();
    let b = GaussianMixture::params(3).seed(5).fit(x.view()).unwrap();
    assert_eq!(a, b);
    assert!(matches!(
        GaussianMixture::params(0).fit(x.view()),
        Err(ClusterError::InvalidParam { .. })
    ));
    assert_eq!(
        GaussianMixture::params(400).fit(x.view()),
        Err(ClusterError::TooManyClusters { k: 400, n: 300 })
    );
    assert!(matches!(
        a.predict(Array2::<f32>::zeros((2, 3)).view()),
        Err(ClusterError::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
}
