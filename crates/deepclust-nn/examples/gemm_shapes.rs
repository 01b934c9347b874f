//! GFLOP/s of the GEMM seam on the shapes of one training step of the DEC autoencoder
//! (forward X W, weight gradient X^T dZ, input gradient dZ W^T), to see where time goes.
//!
//! Run: `cargo run --release -p deepclust-nn --example gemm_shapes [-- 256 2048]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use deepclust_nn::gemm::{matmul, Accumulate, Operand};

#[path = "common/fma_peak.rs"]
mod fma_peak;

fn time_it(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() / reps as f64
}

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
    let peak = fma_peak::measured_fma_peak();
    println!("{}", fma_peak::describe(peak));
    let dims = [784usize, 500, 500, 2000, 10, 2000, 500, 500, 784];
    for n in batches {
        let reps = (4096 / n).max(2);
        let mut totals = [0.0f64; 3];
        let mut flops = 0.0f64;
        for pair in dims.windows(2) {
            let (fi, fo) = (pair[0], pair[1]);
            let x = vec![0.5f32; n * fi];
            let w = vec![0.25f32; fi * fo];
            let dz = vec![0.125f32; n * fo];
            let mut y = vec![0.0f32; n * fo];
            let mut dw = vec![0.0f32; fi * fo];
            let mut dx = vec![0.0f32; n * fi];
            let t_fwd = time_it(reps, || {
                matmul(
                    n,
                    fo,
                    fi,
                    Operand::plain(&x),
                    Operand::plain(&w),
                    &mut y,
                    Accumulate::Overwrite,
                )
            });
            let t_dw = time_it(reps, || {
                matmul(
                    fi,
                    fo,
                    n,
                    Operand::transposed(&x),
                    Operand::plain(&dz),
                    &mut dw,
                    Accumulate::Overwrite,
                )
            });
            let t_dx = time_it(reps, || {
                matmul(
                    n,
                    fi,
                    fo,
                    Operand::plain(&dz),
                    Operand::transposed(&w),
                    &mut dx,
                    Accumulate::Overwrite,
                )
            });
            let f = 2.0 * (n * fi * fo) as f64;
            flops += 3.0 * f;
            totals[0] += t_fwd;
            totals[1] += t_dw;
            totals[2] += t_dx;
            println!(
                "batch {n:5} {fi:4}x{fo:4}: fwd {:6.1}  dW {:6.1}  dX {:6.1} GFLOP/s",
                f / t_fwd / 1e9,
                f / t_dw / 1e9,
                f / t_dx / 1e9
            );
        }
        let total: f64 = totals.iter().sum();
        println!(
            "batch {n:5} total: fwd {:.2} ms, dW {:.2} ms, dX {:.2} ms; {:.1} GFLOP/s{}, GEMM-only bound {:.0} samples/s",
            totals[0] * 1e3,
            totals[1] * 1e3,
            totals[2] * 1e3,
            flops / total / 1e9,
            fma_peak::share(flops / total / 1e9, peak),
            n as f64 / total
        );
    }
}
