//! Writes the report of a run on `N` generated digits (default 70,000, MNIST's size) and
//! prints its size and how long writing it took, to check that a full-size report stays
//! small (montages and maps are sampled, so the size must not grow with N).
//!
//! ```text
//! cargo run -p deepclust-report --example report_size -- 70000 /tmp/report-70k
//! ```
//!
//! The clustering is simulated so that the example needs no training: each item's cluster
//! is its class under a fixed permutation, with every 7th item moved to the next cluster;
//! confidence is minus the distance to the cluster's mean. The map is the PCA of the pixels
//! of a 5,000-item sample.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use deepclust_data::synthetic;
use deepclust_metrics::Scores;
use deepclust_report::{confidence, AeEpoch, DecUpdate, ImageShape, ReportBuilder};
use ndarray::Array2;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(70_000, |a| a.parse().unwrap());
    let dir = args.next().unwrap_or_else(|| "/tmp/report-70k".to_string());

    let start = Instant::now();
    let data = synthetic::digits(n, 0);
    let generate = start.elapsed().as_secs_f64();
    let truth = data.labels.clone().unwrap();
    let labels: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| ((t * 3 + 1) % 10 + usize::from(i % 7 == 0)) % 10)
        .collect();
    let mut centroids = Array2::<f32>::zeros((10, data.features.ncols()));
    let mut counts = [0f32; 10];
    for (row, &l) in data.features.outer_iter().zip(&labels) {
        let mut c = centroids.row_mut(l);
        c += &row;
        counts[l] += 1.0;
    }
    for (mut c, k) in centroids.outer_iter_mut().zip(counts) {
        c /= k.max(1.0);
    }
    let conf = confidence::from_centroid_distance(data.features.view(), centroids.view(), &labels)
        .unwrap();
    let ae: Vec<AeEpoch> = (1..=50)
        .map(|e| AeEpoch {
            epoch: e,
            train_loss: 0.06 / (e as f64).sqrt() + 0.01,
            val_loss: Some(0.06 / (e as f64).sqrt() + 0.012),
        })
        .collect();
    let dec: Vec<DecUpdate> = (0..40)
        .map(|u| DecUpdate {
            iteration: u * 140,
            loss: Some(0.1 / (u as f64 + 1.0)),
            kl_loss: None,
            reconstruction_loss: None,
            label_change: 0.2 / (u as f64 + 1.0),
            scores: Some(Scores {
                acc: 0.8 + 0.004 * u as f64,
                nmi: 0.75 + 0.004 * u as f64,
                ari: 0.7 + 0.005 * u as f64,
            }),
        })
        .collect();

    let start = Instant::now();
    let summary = ReportBuilder::new(format!("Simulated clustering of {n} generated digits"))
        .data_source(data.source.clone())
        .config(serde_json::json!({"n": n, "clusters": "simulated"}))
        .seed(0)
        .timing("generate data", generate)
        .clusters(&labels)
        .confidence_named(&conf, "closeness to the centre")
        .images(data.features.view(), ImageShape::gray(28, 28))
        .ids(&data.ids)
        .truth(&truth)
        .ae_curve(ae)
        .dec_curve(dec)
        .embedding(data.features.view(), "pixels")
        .write(&dir)
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} items -> {} files, {} bytes ({:.2} MB) in {dir}; written in {seconds:.2} s",
        summary.items,
        summary.files.len(),
        summary.bytes,
        summary.bytes as f64 / 1e6
    );
    for f in &summary.files {
        println!(
            "  {:>9}  {}",
            std::fs::metadata(f).unwrap().len(),
            f.display()
        );
    }
}
