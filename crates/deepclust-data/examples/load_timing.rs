//! Times the loaders on real data: `cargo run -p deepclust-data --release --example
//! load_timing -- [mnist-dir] [digits.csv.gz]` (defaults: ../shared/data/...).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use deepclust_data::{digits, idx, load_idx_dir, synthetic, IdxSubset};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mnist = args.get(1).map_or("../shared/data/mnist", String::as_str);
    let digits_csv = args
        .get(2)
        .map_or("../shared/data/digits/digits.csv.gz", String::as_str);
    for _ in 0..3 {
        let t = Instant::now();
        let raw =
            idx::read_idx_images(&Path::new(mnist).join("train-images-idx3-ubyte.gz")).unwrap();
        let gunzip = t.elapsed();
        let t = Instant::now();
        let ds = load_idx_dir(Path::new(mnist), IdxSubset::All).unwrap();
        println!(
            "{mnist}: {} x {} loaded in {:.3} s (gunzip+parse of the 47 MB train images alone: {:.3} s, {} images)",
            ds.len(),
            ds.dim(),
            t.elapsed().as_secs_f64(),
            gunzip.as_secs_f64(),
            raw.count
        );
    }
    let t = Instant::now();
    let ds = digits::load_digits_csv(Path::new(digits_csv)).unwrap();
    println!(
        "{digits_csv}: {} x {} in {:.3} s",
        ds.len(),
        ds.dim(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let ds = synthetic::digits(5000, 0);
    println!(
        "synthetic::digits(5000, 0): {} x {} in {:.3} s",
        ds.len(),
        ds.dim(),
        t.elapsed().as_secs_f64()
    );
}
