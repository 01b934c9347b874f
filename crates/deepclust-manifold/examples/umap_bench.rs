#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)] // a benchmark program: prints its result
//! Runs deepclust's UMAP on a saved matrix and writes the embedding, timing each stage.
//!
//! ```text
//! cargo run --release -p deepclust-manifold --example umap_bench -- \
//!     --input x.npy --output emb.npy [--n-components 10] [--n-neighbors 20] [--min-dist 0]
//!     [--seed 7] [--epochs N] [--parallel] [--knn auto|exact|nn-descent] [--recall]
//!     [--init spectral|random] [--sgd-order bfs|random]
//! ```
//!
//! Input and output are NumPy `.npy` files holding a C-ordered little-endian float32 2-D
//! array (`np.save(path, x.astype(np.float32))`). Prints one JSON line: timings in seconds
//! (`knn_s`, `layout_s` = fuzzy set + spectral + SGD, `total_s`) and, with `--recall`, the
//! recall of the kNN graph against exact search (slow above ~20k rows).
use deepclust_manifold::{exact_knn, knn_recall, KnnMethod, SgdOrder, Umap, UmapInit};
use ndarray::Array2;
use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn read_npy_f32(path: &str) -> Array2<f32> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(&raw[..6], b"\x93NUMPY", "{path}: not a .npy file");
    let (header_len, start) = if raw[6] == 1 {
        (u16::from_le_bytes([raw[8], raw[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&raw[start..start + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f4'"),
        "{path}: need float32, header {header}"
    );
    assert!(
        header.contains("'fortran_order': False"),
        "{path}: need C order"
    );
    let shape = &header[header.find("'shape': (").unwrap() + 10..];
    let shape = &shape[..shape.find(')').unwrap()];
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    assert_eq!(dims.len(), 2, "{path}: need a 2-D array, shape ({shape})");
    let data: Vec<f32> = raw[start + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Array2::from_shape_vec((dims[0], dims[1]), data).unwrap()
}

fn write_npy_f32(path: &str, x: &Array2<f32>) {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        x.nrows(),
        x.ncols()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + x.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in x.as_standard_layout().iter() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::File::create(path)
        .unwrap()
        .write_all(&out)
        .unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    let has = |name: &str| args.iter().any(|a| a == name);
    let input = get("--input").expect("--input x.npy");
    let output = get("--output");
    let mut params = Umap::params()
        .n_components(get("--n-components").map_or(10, |v| v.parse().unwrap()))
        .n_neighbors(get("--n-neighbors").map_or(20, |v| v.parse().unwrap()))
        .min_dist(get("--min-dist").map_or(0.0, |v| v.parse().unwrap()))
        .seed(get("--seed").map_or(7, |v| v.parse().unwrap()))
        .parallel_layout(has("--parallel"));
    if let Some(e) = get("--epochs") {
        params = params.n_epochs(e.parse().unwrap());
    }
    params = params.knn_method(match get("--knn").as_deref() {
        None | Some("auto") => KnnMethod::Auto,
        Some("exact") => KnnMethod::Exact,
        Some("nn-descent") => KnnMethod::NnDescent,
        Some(other) => panic!("--knn {other}: expected auto, exact or nn-descent"),
    });
    params = params.init(match get("--init").as_deref() {
        None | Some("spectral") => UmapInit::Spectral,
        Some("random") => UmapInit::Random,
        Some(other) => panic!("--init {other}: expected spectral or random"),
    });
    params = params.sgd_order(match get("--sgd-order").as_deref() {
        None | Some("bfs") => SgdOrder::Bfs,
        Some("random") => SgdOrder::Random,
        Some(other) => panic!("--sgd-order {other}: expected bfs or random"),
    });
    let x = read_npy_f32(&input);
    let cancel = AtomicBool::new(false);
    let t0 = Instant::now();
    let knn = params.knn_graph(x.view(), &mut |_| {}, &cancel).unwrap();
    let knn_s = t0.elapsed().as_secs_f64();
    let mut stage_end = std::collections::BTreeMap::new();
    let mut spectral_iters = 0;
    let t1 = Instant::now();
    let emb = params
        .fit_transform_knn(
            &knn,
            &mut |p| {
                stage_end.insert(format!("{:?}", p.stage), t1.elapsed().as_secs_f64());
                if p.stage == deepclust_manifold::UmapStage::Spectral {
                    spectral_iters = p.step;
                }
            },
            &cancel,
        )
        .unwrap();
    let layout_s = t1.elapsed().as_secs_f64();
    let total_s = t0.elapsed().as_secs_f64();
    let recall = if has("--recall") {
        let exact = exact_knn(x.view(), params.n_neighbors, &cancel).unwrap();
        Some(knn_recall(&knn, &exact).unwrap())
    } else {
        None
    };
    if let Some(out) = output {
        write_npy_f32(&out, &emb);
    }
    let stages: Vec<String> = stage_end
        .iter()
        .map(|(k, v)| format!("\"{k}_end_s\": {v:.3}"))
        .collect();
    println!(
        "{{\"n\": {}, \"d\": {}, \"threads\": {}, \"parallel_layout\": {}, \"knn_s\": {knn_s:.3}, \"layout_s\": {layout_s:.3}, \"total_s\": {total_s:.3}, \"recall\": {}, \"spectral_iters\": {spectral_iters}, {}}}",
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads(),
        params.parallel_layout,
        recall.map_or("null".to_string(), |r| format!("{r:.4}")),
        stages.join(", ")
    );
}
