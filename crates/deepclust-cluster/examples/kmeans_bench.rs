#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark program: prints its result
//! Times K-Means on MNIST raw pixels (70,000 x 784) with the library alone, no CLI:
//! `cargo run --release -p deepclust-cluster --example kmeans_bench -- ../shared/data/mnist 10 10 0`
//! (arguments: MNIST folder, k, n_init, seed). Prints one JSON line per run.
use deepclust_cluster::KMeans;
use flate2::read::GzDecoder;
use ndarray::Array2;
use std::io::Read;
use std::time::Instant;

fn read_images(path: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    GzDecoder::new(std::fs::File::open(path).expect("open MNIST"))
        .read_to_end(&mut raw)
        .expect("gunzip");
    raw[16..].to_vec()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("../shared/data/mnist", String::as_str);
    let k: usize = args.get(2).map_or(10, |v| v.parse().expect("k"));
    let n_init: usize = args.get(3).map_or(10, |v| v.parse().expect("n_init"));
    let seed: u64 = args.get(4).map_or(0, |v| v.parse().expect("seed"));
    let mut pixels = read_images(&format!("{dir}/train-images-idx3-ubyte.gz"));
    pixels.extend(read_images(&format!("{dir}/t10k-images-idx3-ubyte.gz")));
    let n = pixels.len() / 784;
    let x = Array2::from_shape_vec(
        (n, 784),
        pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
    )
    .expect("shape");
    let start = Instant::now();
    let mut iterations = 0;
    let model = KMeans::params(k)
        .n_init(n_init)
        .seed(seed)
        .fit_with(x.view(), &mut |_| iterations += 1, &Default::default())
        .expect("fit");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"n\": {n}, \"k\": {k}, \"n_init\": {n_init}, \"seconds\": {secs:.3}, \"inertia\": {:.3}, \"total_iterations\": {iterations}, \"ms_per_iteration\": {:.2}}}",
        model.inertia(),
        1000.0 * secs / iterations as f64
    );
}
