//! The distance kernel shared by every K-Means variant: squared Euclidean distances through
//! `||x||² − 2 x·c + ||c||²` with the cross term on a GEMM, nearest-centre assignment and
//! (optionally) per-cluster sums for the next Lloyd update, fused in one pass over the data.
#![allow(unsafe_code)] // only for the raw-pointer call into `gemm::gemm`, bounds checked below

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Rows handed to one GEMM call: small enough that the `rows x k` dot block and the rows stay
/// in cache between the GEMM and the assignment loop.
pub(crate) const CHUNK_ROWS: usize = 256;

/// Row blocks processed in parallel. The partition depends only on `n` (never on the thread
/// count) and partial sums are reduced in block order, so results are bit-identical for a seed.
pub(crate) fn block_rows(n: usize, k: usize, d: usize) -> usize {
    // Aim for ~64 blocks for load balance, but bound the f64 partial-sum memory
    // (blocks * k * d * 8 bytes) to about 256 MiB for very large k * d.
    let by_balance = n.div_ceil(64).max(CHUNK_ROWS);
    let max_blocks = ((256usize << 20) / (k * d * 8).max(1)).max(1);
    by_balance
        .max(n.div_ceil(max_blocks))
        .next_multiple_of(CHUNK_ROWS)
}

/// `||row||²` for every row, accumulated in f64.
pub(crate) fn row_sq_norms(x: ArrayView2<'_, f32>) -> Vec<f32> {
    let mut out = vec![0.0f32; x.nrows()];
    out.par_iter_mut()
        .zip(x.axis_iter(ndarray::Axis(0)).into_par_iter())
        .for_each(|(o, row)| {
            *o = row
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>() as f32
        });
    out
}

/// Scratch memory of one row block, allocated once per fit and reused every iteration.
pub(crate) struct BlockScratch {
    dots: Vec<f32>,
    chunk_sums: Vec<f32>,
    touched: Vec<bool>,
    pub(crate) sums: Vec<f64>,
    pub(crate) counts: Vec<u64>,
    pub(crate) inertia: f64,
    pub(crate) changed: usize,
}

impl BlockScratch {
    pub(crate) fn new(k: usize, d: usize, accumulate: bool) -> Self {
        let sum_len = if accumulate { k * d } else { 0 };
        Self {
            dots: vec![0.0; CHUNK_ROWS * k],
            chunk_sums: vec![0.0; sum_len],
            touched: vec![false; k],
            sums: vec![0.0; sum_len],
            counts: vec![0; k],
            inertia: 0.0,
            changed: 0,
        }
    }
}

pub(crate) fn make_scratch(n: usize, k: usize, d: usize, accumulate: bool) -> Vec<BlockScratch> {
    let n_blocks = n.div_ceil(block_rows(n, k, d));
    (0..n_blocks)
        .map(|_| BlockScratch::new(k, d, accumulate))
        .collect()
}

/// `dst (m x k) = x_rows (m x d) · centersᵀ`, all row-major and contiguous.
pub(crate) fn dot_block(
    x_rows: &[f32],
    centers: &[f32],
    m: usize,
    k: usize,
    d: usize,
    dst: &mut [f32],
) {
    assert!(x_rows.len() >= m * d && centers.len() >= k * d && dst.len() >= m * k);
    // SAFETY: the assertion above guarantees every index gemm touches is in bounds for the
    // given strides: lhs (i, j) at i*d + j, rhs (j, c) at c*d + j, dst (i, c) at i*k + c.
    unsafe {
        gemm::gemm(
            m,
            k,
            d,
            dst.as_mut_ptr(),
            1,
            k as isize,
            false,
            x_rows.as_ptr(),
            1,
            d as isize,
            centers.as_ptr(),
            d as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Result of one assignment pass.
pub(crate) struct PassStats {
    pub inertia: f64,
    pub changed: usize,
}

/// Assigns every row of `x` (contiguous, row-major) to its nearest centre, writing `labels`
/// and counting how many labels changed. With `accumulate`, also fills each block's `sums`
/// and `counts` for the centroid update. Returns the total inertia.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assign_pass(
    x: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: &[f32],
    c_sq: &[f32],
    labels: &mut [usize],
    scratch: &mut [BlockScratch],
    accumulate: bool,
) -> PassStats {
    let n = x_sq.len();
    let k = c_sq.len();
    let rows_per_block = block_rows(n, k, d);
    debug_assert_eq!(scratch.len(), n.div_ceil(rows_per_block));
    labels
        .par_chunks_mut(rows_per_block)
        .zip(scratch.par_iter_mut())
        .enumerate()
        .for_each(|(block, (block_labels, s))| {
            let row0 = block * rows_per_block;
            s.inertia = 0.0;
            s.changed = 0;
            s.counts.iter_mut().for_each(|c| *c = 0);
            if accumulate {
                s.sums.iter_mut().for_each(|v| *v = 0.0);
            }
            for chunk_start in (0..block_labels.len()).step_by(CHUNK_ROWS) {
                let m = CHUNK_ROWS.min(block_labels.len() - chunk_start);
                let first = row0 + chunk_start;
                let rows = &x[first * d..(first + m) * d];
                dot_block(rows, centers, m, k, d, &mut s.dots);
                for i in 0..m {
                    let dots = &s.dots[i * k..(i + 1) * k];
                    let mut best = 0usize;
                    let mut best_val = f32::INFINITY;
                    for (c, (&dot, &csq)) in dots.iter().zip(c_sq).enumerate() {
                        let val = csq - 2.0 * dot;
                        if val < best_val {
                            best_val = val;
                            best = c;
                        }
                    }
                    let dist = (x_sq[first + i] + best_val).max(0.0);
                    s.inertia += f64::from(dist);
                    let label = &mut block_labels[chunk_start + i];
                    if *label != best {
                        s.changed += 1;
                        *label = best;
                    }
                    s.counts[best] += 1;
                    if accumulate {
                        s.touched[best] = true;
                        let acc = &mut s.chunk_sums[best * d..(best + 1) * d];
                        for (a, &v) in acc.iter_mut().zip(&rows[i * d..(i + 1) * d]) {
                            *a += v;
                        }
                    }
                }
                if accumulate {
                    // Sums of at most CHUNK_ROWS rows are exact enough in f32; the running
                    // total over the whole block is kept in f64.
                    for c in 0..k {
                        if std::mem::take(&mut s.touched[c]) {
                            let src = &mut s.chunk_sums[c * d..(c + 1) * d];
                            let dst = &mut s.sums[c * d..(c + 1) * d];
                            for (t, v) in dst.iter_mut().zip(src.iter_mut()) {
                                *t += f64::from(std::mem::take(v));
                            }
                        }
                    }
                }
            }
        });
    PassStats {
        inertia: scratch.iter().map(|s| s.inertia).sum(),
        changed: scratch.iter().map(|s| s.changed).sum(),
    }
}

/// Squared distances from every row of `x` to every row of `points` (n x m), clamped at 0.
pub(crate) fn pairwise_sq_dists(
    x: &[f32],
    d: usize,
    x_sq: &[f32],
    points: ArrayView2<'_, f32>,
) -> Array2<f32> {
    let n = x_sq.len();
    let m = points.nrows();
    let points = points.as_standard_layout().to_owned();
    let p_flat = points.as_slice().unwrap_or(&[]);
    let p_sq = row_sq_norms(points.view());
    let mut out = Array2::<f32>::zeros((n, m));
    if m == 0 {
        return out;
    }
    if let Some(out_flat) = out.as_slice_mut() {
        out_flat
            .par_chunks_mut(CHUNK_ROWS * m)
            .enumerate()
            .for_each(|(chunk, dst)| {
                let first = chunk * CHUNK_ROWS;
                let rows = dst.len() / m;
                dot_block(&x[first * d..(first + rows) * d], p_flat, rows, m, d, dst);
                for i in 0..rows {
                    for j in 0..m {
                        let v = &mut dst[i * m + j];
                        *v = (x_sq[first + i] - 2.0 * *v + p_sq[j]).max(0.0);
                    }
                }
            });
    }
    out
}
