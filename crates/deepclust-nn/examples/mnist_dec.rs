//! MNIST end to end: pretrain the autoencoder, then AE + K-Means and DEC (and optionally
//! IDEC), printing NMI / ACC / ARI and the time of each stage. Labels are used only for
//! scoring.
//!
//! Run (a short, honest timing run; the published setting is 200+ pretraining epochs):
//! `cargo run --release -p deepclust-nn --example mnist_dec -- --epochs 3 --maxiter 2000`
//!
//! Options: `--data DIR` (default ../shared/data/mnist from the workspace root),
//! `--limit N` (first N rows), `--epochs N`, `--batch N`, `--maxiter N`, `--seed N`,
//! `--sgd` (pretrain with SGD lr 1.0 momentum 0.9 instead of Adam 1e-3), `--idec`,
//! `--save DIR` (writes DIR/autoencoder and DIR/dec).
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use deepclust_data::{load_idx_dir, IdxSubset};
use deepclust_nn::{run_dec, Autoencoder, AutoencoderConfig, DecConfig, Optimizer};
use ndarray::s;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let number = |name: &str, default: usize| -> usize {
        value(name)
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let data_dir = value("--data").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
    });
    let epochs = number("--epochs", 3);
    let batch = number("--batch", 256);
    let maxiter = number("--maxiter", 2000);
    let seed = number("--seed", 0) as u64;
    let never = AtomicBool::new(false);

    let started = Instant::now();
    let mut data = match load_idx_dir(&data_dir, IdxSubset::All) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("cannot load MNIST: {e}");
            std::process::exit(2);
        }
    };
    if let Some(limit) = value("--limit").map(|v| v.parse::<usize>().expect("a number")) {
        let limit = limit.min(data.features.nrows());
        data.features = data.features.slice(s![..limit, ..]).to_owned();
        data.labels = data.labels.map(|l| l[..limit].to_vec());
    }
    let x = data.features.view();
    let truth = data.labels.clone().expect("MNIST has labels");
    println!(
        "data: {} rows x {} from {} in {:.1}s; {} threads, gemm backend {}",
        x.nrows(),
        x.ncols(),
        data_dir.display(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        deepclust_nn::gemm::BACKEND
    );

    let (optimizer, lr) = if flag("--sgd") {
        (Optimizer::sgd(0.9), 1.0)
    } else {
        (Optimizer::adam(), 1e-3)
    };
    let config = AutoencoderConfig::default()
        .epochs(epochs)
        .batch_size(batch)
        .optimizer(optimizer, lr)
        .seed(seed);
    let mut ae = Autoencoder::new(config).unwrap();
    let t = Instant::now();
    ae.train(
        x,
        None,
        &mut |r| {
            println!(
                "  pretrain epoch {}/{}: loss {:.5}  {:.1}s  {:.0} samples/s",
                r.epoch, r.last_epoch, r.train_loss, r.seconds, r.samples_per_second
            )
        },
        &never,
    )
    .unwrap();
    let pretrain_s = t.elapsed().as_secs_f64();

    let dec_config = if flag("--idec") {
        DecConfig::idec(10)
    } else {
        DecConfig::dec(10)
    }
    .maxiter(maxiter)
    .seed(seed);
    let method = dec_config.method_name();
    let (model, outcome) = run_dec(
        ae.clone(),
        x,
        Some(&truth),
        dec_config,
        &mut |r| {
            let scores = r.scores.map(|s| s.to_string()).unwrap_or_default();
            println!(
                "  {method} iter {:5}: loss {:.5}  delta_label {:.4}  {scores}  {:.1}s",
                r.iter,
                r.loss.unwrap_or(f64::NAN),
                r.delta_label,
                r.seconds
            )
        },
        &never,
    )
    .unwrap();
    let ae_kmeans = deepclust_metrics::scores(&truth, &outcome.kmeans_labels).unwrap();
    let dec = deepclust_metrics::scores(&truth, &outcome.labels).unwrap();
    println!("\n| method | NMI | ACC | ARI | time (s) |\n|---|---|---|---|---|");
    println!(
        "| AE + K-Means | {:.4} | {:.4} | {:.4} | {:.1} pretrain ({epochs} epochs) + {:.1} k-means |",
        ae_kmeans.nmi, ae_kmeans.acc, ae_kmeans.ari, pretrain_s, outcome.kmeans_seconds
    );
    println!(
        "| {} | {:.4} | {:.4} | {:.4} | {:.1} ({} steps, {:?}) |",
        method.to_uppercase(),
        dec.nmi,
        dec.acc,
        dec.ari,
        outcome.seconds - outcome.kmeans_seconds,
        outcome.iterations,
        outcome.stop
    );
    if let Some(dir) = value("--save").map(PathBuf::from) {
        ae.save(&dir.join("autoencoder")).unwrap();
        model.save(&dir.join(method)).unwrap();
        println!("saved to {}", dir.display());
    }
}
