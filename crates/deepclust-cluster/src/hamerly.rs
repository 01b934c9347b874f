//! Hamerly's bounds for Lloyd's iterations (G. Hamerly, "Making k-means even faster", SDM
//! 2010): the same assignments as Lloyd, without computing most distances once the centres
//! settle.
//!
//! Each sample keeps an upper bound `u` on the distance to its centre and a lower bound `l`
//! on the distance to every other centre. When the centres move by `δ`, `u += δ(own)` and
//! `l -= max δ(others)` stay valid bounds; a sample whose `u` is at most `max(l, s(own))`
//! (`s` = half the distance from its centre to the nearest other centre) cannot change
//! cluster and is skipped. Otherwise `u` is made exact (one distance) and tested again; only
//! the samples still in doubt get all k distances, gathered in chunks for one GEMM each.
//!
//! The centroid update is incremental: only samples that changed cluster move their row
//! between two clusters' sums, so an iteration where few labels change reads few rows, where
//! plain Lloyd reads all of them (70,000 x 784 floats, 220 MB, for MNIST). The inertia of
//! every iteration is still exact, from per-cluster sufficient statistics
//! (`Σ‖x‖² − 2 c·Σx + n‖c‖²`). Rows are partitioned into blocks by `n` alone and the
//! per-block changes are reduced in block order, so the result is the same for any thread
//! count.

use crate::assign::{block_rows, dot_block, CHUNK_ROWS};
use rayon::prelude::*;

/// Per-block working memory, allocated once per fit.
pub(crate) struct BoundScratch {
    dots: Vec<f32>,
    gathered: Vec<f32>,
    doubtful: Vec<usize>,
    /// Per cluster: Σx (k x d), count and Σ‖x‖², as totals after a full pass or as
    /// changes after a bounded pass.
    pub(crate) sums: Vec<f64>,
    pub(crate) counts: Vec<i64>,
    pub(crate) sq_sums: Vec<f64>,
    pub(crate) changed: usize,
}

impl BoundScratch {
    fn new(k: usize, d: usize) -> Self {
        Self {
            dots: vec![0.0; CHUNK_ROWS * k],
            gathered: vec![0.0; CHUNK_ROWS * d],
            doubtful: Vec::with_capacity(CHUNK_ROWS),
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            sq_sums: vec![0.0; k],
            changed: 0,
        }
    }

    fn clear(&mut self) {
        self.sums.iter_mut().for_each(|v| *v = 0.0);
        self.counts.iter_mut().for_each(|v| *v = 0);
        self.sq_sums.iter_mut().for_each(|v| *v = 0.0);
        self.changed = 0;
    }
}

/// Each sample's label and its two bounds (distances, not squared).
pub(crate) struct Samples {
    pub(crate) labels: Vec<usize>,
    upper: Vec<f32>,
    lower: Vec<f32>,
}

impl Samples {
    /// `n` samples not assigned yet (the first pass is a [`full_pass`]).
    pub(crate) fn unassigned(n: usize) -> Self {
        Samples {
            labels: vec![usize::MAX; n],
            upper: vec![0.0; n],
            lower: vec![0.0; n],
        }
    }
}

pub(crate) fn make_bound_scratch(n: usize, k: usize, d: usize) -> Vec<BoundScratch> {
    let n_blocks = n.div_ceil(block_rows(n, k, d));
    (0..n_blocks).map(|_| BoundScratch::new(k, d)).collect()
}

/// Runs `work(first_row, labels, upper, lower, scratch)` on each fixed block of rows in
/// parallel, its scratch cleared first, and returns how many labels changed in all.
fn per_block(
    rows_per_block: usize,
    samples: &mut Samples,
    scratch: &mut [BoundScratch],
    work: impl Fn(usize, &mut [usize], &mut [f32], &mut [f32], &mut BoundScratch) + Sync,
) -> usize {
    samples
        .labels
        .par_chunks_mut(rows_per_block)
        .zip(samples.upper.par_chunks_mut(rows_per_block))
        .zip(samples.lower.par_chunks_mut(rows_per_block))
        .zip(scratch.par_iter_mut())
        .enumerate()
        .for_each(|(block, (((labels, upper), lower), s))| {
            s.clear();
            work(block * rows_per_block, labels, upper, lower, s);
        });
    scratch.iter().map(|s| s.changed).sum()
}

/// The nearest and second-nearest centre of one sample from its dot products with every
/// centre: (best, squared distance to it, squared distance to the second).
#[inline]
fn two_nearest(dots: &[f32], c_sq: &[f32], x_sq: f32) -> (usize, f32, f32) {
    let (mut best, mut best_val, mut second_val) = (0usize, f32::INFINITY, f32::INFINITY);
    for (c, (&dot, &csq)) in dots.iter().zip(c_sq).enumerate() {
        let val = csq - 2.0 * dot;
        if val < best_val {
            second_val = best_val;
            best_val = val;
            best = c;
        } else if val < second_val {
            second_val = val;
        }
    }
    (
        best,
        (x_sq + best_val).max(0.0),
        (x_sq + second_val).max(0.0),
    )
}

/// Assigns every sample with all k distances (the first iteration, or after an empty
/// cluster was refilled), setting its bounds, and fills each block's per-cluster totals.
/// Returns how many labels changed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn full_pass(
    x: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: &[f32],
    c_sq: &[f32],
    samples: &mut Samples,
    scratch: &mut [BoundScratch],
) -> usize {
    let n = x_sq.len();
    let k = c_sq.len();
    let rows_per_block = block_rows(n, k, d);
    per_block(
        rows_per_block,
        samples,
        scratch,
        |row0, labels, upper, lower, s| {
            for start in (0..labels.len()).step_by(CHUNK_ROWS) {
                let m = CHUNK_ROWS.min(labels.len() - start);
                let first = row0 + start;
                let rows = &x[first * d..(first + m) * d];
                dot_block(rows, centers, m, k, d, &mut s.dots);
                for i in 0..m {
                    let (best, best_sq, second_sq) =
                        two_nearest(&s.dots[i * k..(i + 1) * k], c_sq, x_sq[first + i]);
                    let local = start + i;
                    if labels[local] != best {
                        s.changed += 1;
                        labels[local] = best;
                    }
                    upper[local] = best_sq.sqrt();
                    lower[local] = second_sq.sqrt();
                    s.counts[best] += 1;
                    s.sq_sums[best] += f64::from(x_sq[first + i]);
                    let acc = &mut s.sums[best * d..(best + 1) * d];
                    for (a, &v) in acc.iter_mut().zip(&rows[i * d..(i + 1) * d]) {
                        *a += f64::from(v);
                    }
                }
            }
        },
    )
}

/// One Lloyd assignment under Hamerly's bounds, after the centres moved by `shift` (per
/// centre, Euclidean). `half_gap[c]` is half the distance from centre c to its nearest other
/// centre. Fills each block's per-cluster *changes* (rows that left or joined a cluster).
/// Returns how many labels changed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn bounded_pass(
    x: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: &[f32],
    c_sq: &[f32],
    shift: &[f32],
    half_gap: &[f32],
    samples: &mut Samples,
    scratch: &mut [BoundScratch],
) -> usize {
    let n = x_sq.len();
    let k = c_sq.len();
    let rows_per_block = block_rows(n, k, d);
    // The largest move, and the largest among the other centres for the centre that made it.
    let (mut top, mut top_val, mut second_val) = (0usize, 0.0f32, 0.0f32);
    for (c, &s) in shift.iter().enumerate() {
        if s > top_val {
            second_val = top_val;
            top_val = s;
            top = c;
        } else if s > second_val {
            second_val = s;
        }
    }
    per_block(
        rows_per_block,
        samples,
        scratch,
        |row0, labels, upper, lower, s| {
            for local in 0..labels.len() {
                let own = labels[local];
                upper[local] += shift[own];
                lower[local] -= if own == top { second_val } else { top_val };
                let bound = lower[local].max(half_gap[own]);
                if upper[local] <= bound {
                    continue;
                }
                let i = row0 + local;
                let row = &x[i * d..(i + 1) * d];
                let centre = &centers[own * d..(own + 1) * d];
                upper[local] = sq_distance(row, centre).sqrt();
                if upper[local] <= bound {
                    continue;
                }
                s.doubtful.push(local);
                if s.doubtful.len() == CHUNK_ROWS {
                    settle(x, d, x_sq, centers, c_sq, row0, labels, upper, lower, s);
                }
            }
            if !s.doubtful.is_empty() {
                settle(x, d, x_sq, centers, c_sq, row0, labels, upper, lower, s);
            }
        },
    )
}

/// All k distances for the block's doubtful samples (one GEMM on their gathered rows):
/// new label, exact bounds, and the moves between clusters recorded in `s`.
#[allow(clippy::too_many_arguments)]
fn settle(
    x: &[f32],
    d: usize,
    x_sq: &[f32],
    centers: &[f32],
    c_sq: &[f32],
    row0: usize,
    labels: &mut [usize],
    upper: &mut [f32],
    lower: &mut [f32],
    s: &mut BoundScratch,
) {
    let k = c_sq.len();
    let m = s.doubtful.len();
    for (slot, &local) in s.doubtful.iter().enumerate() {
        let i = row0 + local;
        s.gathered[slot * d..(slot + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
    }
    dot_block(&s.gathered, centers, m, k, d, &mut s.dots);
    for (slot, &local) in s.doubtful.iter().enumerate() {
        let i = row0 + local;
        let (best, best_sq, second_sq) =
            two_nearest(&s.dots[slot * k..(slot + 1) * k], c_sq, x_sq[i]);
        upper[local] = best_sq.sqrt();
        lower[local] = second_sq.sqrt();
        let old = labels[local];
        if old == best {
            continue;
        }
        labels[local] = best;
        s.changed += 1;
        s.counts[old] -= 1;
        s.counts[best] += 1;
        s.sq_sums[old] -= f64::from(x_sq[i]);
        s.sq_sums[best] += f64::from(x_sq[i]);
        let row = &s.gathered[slot * d..(slot + 1) * d];
        for (j, &v) in row.iter().enumerate() {
            s.sums[old * d + j] -= f64::from(v);
            s.sums[best * d + j] += f64::from(v);
        }
    }
    s.doubtful.clear();
}

/// `‖a − b‖²` with eight independent partial sums, so the loop vectorises (a single running
/// sum is a chain of dependent additions the compiler may not reorder).
#[inline]
fn sq_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(p, q)| (p - q) * (p - q))
        .sum();
    for (p, q) in a8.zip(b8) {
        for l in 0..8 {
            let diff = p[l] - q[l];
            lanes[l] += diff * diff;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Half the distance from each centre to its nearest other centre (infinite for k = 1).
pub(crate) fn half_gaps(centers: &[f32], d: usize, k: usize) -> Vec<f32> {
    let mut gap = vec![f32::INFINITY; k];
    for a in 0..k {
        for b in a + 1..k {
            let dist =
                sq_distance(&centers[a * d..(a + 1) * d], &centers[b * d..(b + 1) * d]).sqrt();
            gap[a] = gap[a].min(dist / 2.0);
            gap[b] = gap[b].min(dist / 2.0);
        }
    }
    gap
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Plain Lloyd with every distance computed (f64), the update and stopping rules of
    /// `kmeans::lloyd`; returns (labels, iterations).
    fn reference_lloyd(
        x: &[f32],
        d: usize,
        mut centers: Vec<f32>,
        max_iter: usize,
    ) -> (Vec<usize>, usize) {
        let n = x.len() / d;
        let k = centers.len() / d;
        let mut labels = vec![usize::MAX; n];
        let mut iterations = 0;
        for iteration in 1..=max_iter {
            iterations = iteration;
            let mut changed = 0;
            for i in 0..n {
                let row = &x[i * d..(i + 1) * d];
                let dist = |c: usize| -> f64 {
                    row.iter()
                        .zip(&centers[c * d..(c + 1) * d])
                        .map(|(a, b)| f64::from(a - b).powi(2))
                        .sum()
                };
                let best = (0..k).min_by(|&a, &b| dist(a).total_cmp(&dist(b))).unwrap();
                if labels[i] != best {
                    changed += 1;
                    labels[i] = best;
                }
            }
            if iteration > 1 && changed == 0 {
                break;
            }
            for c in 0..k {
                let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
                assert!(
                    !members.is_empty(),
                    "the test data must not empty a cluster"
                );
                for j in 0..d {
                    let mean = members
                        .iter()
                        .map(|&i| f64::from(x[i * d + j]))
                        .sum::<f64>()
                        / members.len() as f64;
                    centers[c * d + j] = mean as f32;
                }
            }
        }
        (labels, iterations)
    }

    #[test]
    fn bounded_iterations_reach_the_same_partition_as_plain_lloyd() {
        for seed in 0..6u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (n, d, k) = (600, 7, 5);
            // Overlapping blobs: many samples near a boundary, so the bounds are exercised.
            let centres: Vec<f32> = (0..k * d).map(|_| rng.gen_range(-3.0..3.0)).collect();
            let x: Vec<f32> = (0..n)
                .flat_map(|i| {
                    let c = i % k;
                    let base: Vec<f32> = centres[c * d..(c + 1) * d].to_vec();
                    base.into_iter()
                        .map(|v| v + rng.gen_range(-2.5f32..2.5))
                        .collect::<Vec<_>>()
                })
                .collect();
            let init: Vec<f32> = x[..k * d].to_vec();
            let (want, want_iter) = reference_lloyd(&x, d, init.clone(), 300);
            let view = ndarray::ArrayView2::from_shape((n, d), &x).unwrap();
            let x_sq = crate::assign::row_sq_norms(view);
            let init = ndarray::Array2::from_shape_vec((k, d), init).unwrap();
            let model = crate::kmeans::lloyd_for_tests(&x, d, &x_sq, init, 300);
            assert_eq!(model.labels(), want.as_slice(), "seed {seed}");
            assert_eq!(model.n_iter(), want_iter, "seed {seed}");
        }
    }

    #[test]
    fn vectorised_distance_matches_the_plain_sum() {
        let a: Vec<f32> = (0..29).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..29).map(|i| (i * i) as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(p, q)| (p - q) * (p - q)).sum();
        assert!((sq_distance(&a, &b) - plain).abs() <= 1e-3 * plain);
    }
}
