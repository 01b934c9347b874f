//! End-to-end quality on small data: the autoencoder + K-Means and DEC cluster far better
//! than chance, in seconds.

#![allow(clippy::unwrap_used)] // test helpers: a failure should abort the test

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use deepclust_nn::{run_dec, Autoencoder, AutoencoderConfig, DecConfig, Optimizer};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `k` Gaussian blobs in 2-D pushed through a fixed random nonlinear map into 24-D:
/// x = W2 tanh(W1 z + b1) + noise. The clusters are only linearly separable after the
/// map is undone.
fn nonlinear_blobs(k: usize, n_per: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w1: Vec<f32> = (0..16).map(|_| rng.gen_range(-1.5..1.5)).collect();
    let b1: Vec<f32> = (0..8).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let w2: Vec<f32> = (0..24 * 8).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut x = Array2::<f32>::zeros((k * n_per, 24));
    let mut labels = Vec::with_capacity(k * n_per);
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let c = i % k;
        labels.push(c);
        let angle = std::f32::consts::TAU * c as f32 / k as f32;
        let z = [
            2.0 * angle.cos() + 0.35 * gaussian(&mut rng),
            2.0 * angle.sin() + 0.35 * gaussian(&mut rng),
        ];
        let h: Vec<f32> = (0..8)
            .map(|j| (w1[2 * j] * z[0] + w1[2 * j + 1] * z[1] + b1[j]).tanh())
            .collect();
        for (t, v) in row.iter_mut().enumerate() {
            *v = (0..8).map(|j| w2[t * 8 + j] * h[j]).sum::<f32>() + 0.05 * gaussian(&mut rng);
        }
    }
    (x, labels)
}

fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u: f32 = rng.gen_range(f32::EPSILON..1.0);
    let v: f32 = rng.gen_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

#[test]
fn nonlinear_blobs_cluster_far_better_than_chance() {
    let (x, truth) = nonlinear_blobs(5, 200, 11);
    let never = AtomicBool::new(false);
    let config = AutoencoderConfig::default()
        .dims(vec![24, 64, 64, 2])
        .epochs(40)
        .batch_size(32)
        .optimizer(Optimizer::adam(), 2e-3)
        .seed(5);
    let mut ae = Autoencoder::new(config).unwrap();
    ae.train(x.view(), None, &mut |_| {}, &never).unwrap();
    let dec = DecConfig::dec(5)
        .maxiter(600)
        .update_interval(50)
        .batch_size(64)
        .kmeans_n_init(10)
        .seed(5);
    let (_, outcome) = run_dec(ae, x.view(), None, dec, &mut |_| {}, &never).unwrap();
    let kmeans = deepclust_metrics::scores(&truth, &outcome.kmeans_labels).unwrap();
    let dec = deepclust_metrics::scores(&truth, &outcome.labels).unwrap();
    eprintln!(
        "blobs: AE+KMeans {kmeans}; DEC {dec}; {:?} after {} steps",
        outcome.stop, outcome.iterations
    );
    // Chance ACC is 0.2 and chance NMI 0.
    assert!(
        kmeans.acc > 0.8 && kmeans.nmi > 0.7,
        "AE + K-Means: {kmeans}"
    );
    assert!(dec.acc > 0.8 && dec.nmi > 0.7, "DEC: {dec}");
}

/// UCI optdigits as shipped by scikit-learn: 64 pixel values 0..16 then the label.
fn load_digits(path: &Path) -> (Array2<f32>, Vec<usize>) {
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<f32> = match line.split(',').map(|f| f.trim().parse::<f32>()).collect() {
            Ok(fields) => fields,
            Err(_) => continue, // a header line
        };
        assert_eq!(fields.len(), 65, "{line}");
        values.extend(fields[..64].iter().map(|v| v / 16.0));
        labels.push(fields[64] as usize);
    }
    (
        Array2::from_shape_vec((labels.len(), 64), values).unwrap(),
        labels,
    )
}

#[test]
fn shipped_digits_cluster_far_better_than_chance() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/digits/digits.csv.gz");
    if !path.exists() {
        eprintln!(
            "skipping: {} not found (shared data is absent)",
            path.display()
        );
        return;
    }
    let (x, truth) = load_digits(&path);
    assert_eq!(x.nrows(), 1797);
    let never = AtomicBool::new(false);
    let config = AutoencoderConfig::default()
        .dims(vec![64, 128, 128, 10])
        .epochs(40)
        .batch_size(32)
        .optimizer(Optimizer::adam(), 1e-3)
        .seed(1);
    let mut ae = Autoencoder::new(config).unwrap();
    ae.train(x.view(), None, &mut |_| {}, &never).unwrap();
    let dec = DecConfig::dec(10)
        .maxiter(1000)
        .update_interval(50)
        .batch_size(64)
        .kmeans_n_init(10)
        .seed(1);
    let (_, outcome) = run_dec(ae, x.view(), None, dec, &mut |_| {}, &never).unwrap();
    let kmeans = deepclust_metrics::scores(&truth, &outcome.kmeans_labels).unwrap();
    let dec = deepclust_metrics::scores(&truth, &outcome.labels).unwrap();
    eprintln!(
        "digits: AE+KMeans {kmeans}; DEC {dec}; {:?} after {} steps",
        outcome.stop, outcome.iterations
    );
    // Chance ACC is about 0.1 and chance NMI about 0.
    assert!(
        kmeans.acc > 0.6 && kmeans.nmi > 0.6,
        "AE + K-Means: {kmeans}"
    );
    assert!(dec.acc > 0.6 && dec.nmi > 0.6, "DEC: {dec}");
}
