//! Training throughput of the DEC autoencoder (784-500-500-2000-10, mirrored decoder) with
//! Adam on random data, at batch 256 and 2048 (or the batch sizes given as arguments).
//!
//! Run: `cargo run --release -p deepclust-nn --example ae_throughput [-- 256 2048]`
//! Peer: `bench/torch_ae_throughput.py` does the same in PyTorch.
//!
//! GFLOP/s counts 6 * params flops per sample and step (forward 2, backward 4); "of peak"
//! divides it by the fp32 FMA peak measured on this machine at the start of the run.
//! `AE_DATA=DIR` (an MNIST IDX folder) trains on the first `AE_SAMPLES` real images instead
//! of uniform noise: real pixels are mostly zero, which changes the gradients' magnitudes.
//! `AE_AUGMENT=1` adds DEC-DA's shifts and rotations (28 x 28 images), as `mnist --quick`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::atomic::AtomicBool;

#[path = "common/fma_peak.rs"]
mod fma_peak;

use deepclust_nn::{Autoencoder, AutoencoderConfig};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    let batches: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if args.is_empty() {
            vec![256, 2048]
        } else {
            args
        }
    };
    // Samples per timed epoch: enough steps at every batch size for a stable figure.
    let samples: usize = std::env::var("AE_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16384);
    let x = match std::env::var_os("AE_DATA") {
        Some(dir) => {
            let data = deepclust_data::load_idx_dir(
                std::path::Path::new(&dir),
                deepclust_data::IdxSubset::All,
            )
            .unwrap_or_else(|e| panic!("cannot load {}: {e}", dir.to_string_lossy()));
            let n = samples.min(data.features.nrows());
            println!("data: the first {n} images of {}", dir.to_string_lossy());
            data.features.slice(ndarray::s![..n, ..]).to_owned()
        }
        None => {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            Array2::from_shape_fn((samples, 784), |_| rng.gen_range(0.0f32..1.0))
        }
    };
    let never = AtomicBool::new(false);
    println!(
        "threads: {}, gemm backend: {}",
        rayon::current_num_threads(),
        deepclust_nn::gemm::BACKEND
    );
    let peak = fma_peak::measured_fma_peak();
    println!("{}", fma_peak::describe(peak));
    for batch in batches {
        let config = AutoencoderConfig::default()
            .batch_size(batch)
            .epochs(1)
            .seed(1)
            .augmentation(
                std::env::var_os("AE_AUGMENT").map(|_| deepclust_nn::Augmentation::dec_da(28, 28)),
            );
        let mut model = Autoencoder::new(config).unwrap();
        let params = model.network().n_params();
        // Warm-up epoch (page faults, gemm packing buffers), then AE_EPOCHS (2) timed epochs.
        model.train(x.view(), None, &mut |_| {}, &never).unwrap();
        let timed: usize = std::env::var("AE_EPOCHS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2);
        let mut rates = Vec::new();
        for _ in 0..timed {
            model
                .train(
                    x.view(),
                    None,
                    &mut |r| rates.push(r.samples_per_second),
                    &never,
                )
                .unwrap();
        }
        let best = rates.iter().cloned().fold(0.0f64, f64::max);
        let gflops = 6.0 * params as f64 * best / 1e9;
        let share = fma_peak::share(gflops, peak);
        println!(
            "rust-{:8} batch {batch:5}: {best:8.0} samples/s  {gflops:6.1} GFLOP/s{share}  (params {params}, epochs of {samples} samples: {:?})",
            deepclust_nn::gemm::BACKEND,
            rates.iter().map(|r| r.round()).collect::<Vec<_>>()
        );
    }
}
