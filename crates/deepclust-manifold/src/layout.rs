//! umap-learn's layout optimisation (`optimize_layout_euclidean`): SGD over the graph's edges,
//! each edge sampled in proportion to its weight (`epochs_per_sample`), pulled together by the
//! attractive gradient of `1 / (1 + a·d^(2b))`, with `negative_sample_rate` random points pushed
//! away per sample, gradients clipped at ±4 and a learning rate decaying linearly to 0.
//!
//! Edges are processed in fixed chunks, each with its own seeded random stream per epoch.
//! * `parallel = false`: chunks run in order on one thread; the result is a pure function of
//!   the seed.
//! * `parallel = true`: chunks run on the rayon pool and update the shared embedding without
//!   locks (Hogwild!, as umap-learn with `parallel=True`). The random streams are the same,
//!   but the interleaving of updates is not, so results differ from run to run. Safe Rust:
//!   coordinates are `AtomicU32` read and written with relaxed ordering (plain moves on
//!   x86-64), so races lose updates but never tear a value.

use crate::ManifoldError;
use ndarray::Array2;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Settings of the SGD.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SgdSettings {
    pub a: f32,
    pub b: f32,
    /// Weight of the repulsive term (umap-learn's `repulsion_strength`, gamma).
    pub gamma: f32,
    pub initial_alpha: f32,
    pub negative_sample_rate: f32,
    pub n_epochs: usize,
    pub seed: u64,
    pub parallel: bool,
}

/// Shared coordinates: a `Cell` slice for one thread, an atomic slice for Hogwild.
trait Coords {
    fn get(&self, i: usize) -> f32;
    fn set(&self, i: usize, v: f32);
}

impl Coords for [Cell<f32>] {
    #[inline(always)]
    fn get(&self, i: usize) -> f32 {
        self[i].get()
    }
    #[inline(always)]
    fn set(&self, i: usize, v: f32) {
        self[i].set(v)
    }
}

impl Coords for [AtomicU32] {
    #[inline(always)]
    fn get(&self, i: usize) -> f32 {
        f32::from_bits(self[i].load(Ordering::Relaxed))
    }
    #[inline(always)]
    fn set(&self, i: usize, v: f32) {
        self[i].store(v.to_bits(), Ordering::Relaxed)
    }
}

#[inline(always)]
fn clip(v: f32) -> f32 {
    v.clamp(-4.0, 4.0)
}

/// Edges per chunk (and per random stream).
const CHUNK: usize = 4096;

/// Everything one chunk needs that does not change within an epoch.
struct EpochCtx<'a> {
    head: &'a [u32],
    tail: &'a [u32],
    epochs_per_sample: &'a [f64],
    epochs_per_negative_sample: &'a [f64],
    dim: usize,
    n_vertices: usize,
    s: SgdSettings,
    alpha: f32,
    epoch: usize,
    n_chunks: u64,
}

/// One epoch over the edges of chunk `c` (umap-learn's single-epoch kernel).
#[inline(always)]
fn run_chunk<C: Coords + ?Sized>(
    emb: &C,
    ctx: &EpochCtx<'_>,
    c: usize,
    next_sample: &mut [f64],
    next_negative: &mut [f64],
    current: &mut [f32],
) {
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.s.seed);
    rng.set_stream(ctx.epoch as u64 * ctx.n_chunks + c as u64);
    let (a, b, dim) = (ctx.s.a, ctx.s.b, ctx.dim);
    let epoch = ctx.epoch as f64;
    let alpha = ctx.alpha;
    let start = c * CHUNK;
    for (e, (ns, nn)) in next_sample
        .iter_mut()
        .zip(next_negative.iter_mut())
        .enumerate()
    {
        let i = start + e;
        if *ns > epoch {
            continue;
        }
        let j = ctx.head[i] as usize * dim;
        let k = ctx.tail[i] as usize * dim;
        for (d, c) in current.iter_mut().enumerate() {
            *c = emb.get(j + d);
        }
        let mut dist_sq = 0.0f32;
        for (d, &c) in current.iter().enumerate() {
            let diff = c - emb.get(k + d);
            dist_sq += diff * diff;
        }
        let grad_coeff = if dist_sq > 0.0 {
            let pow_b = dist_sq.powf(b);
            -2.0 * a * b * (pow_b / dist_sq) / (a * pow_b + 1.0)
        } else {
            0.0
        };
        for (d, c) in current.iter_mut().enumerate() {
            let other = emb.get(k + d);
            let grad = clip(grad_coeff * (*c - other));
            *c += grad * alpha;
            emb.set(j + d, *c);
            emb.set(k + d, other - grad * alpha);
        }
        *ns += ctx.epochs_per_sample[i];

        let epns = ctx.epochs_per_negative_sample[i];
        let n_neg = ((epoch - *nn) / epns).max(0.0) as usize;
        // Negative samples in groups: draw the indices first and touch their rows, so that
        // the cache misses of the random rows overlap instead of stalling one after another
        // (the order of draws and updates is unchanged).
        const GROUP: usize = 8;
        let mut rows = [0usize; GROUP];
        let mut done = 0;
        while done < n_neg {
            let group = (n_neg - done).min(GROUP);
            for r in rows.iter_mut().take(group) {
                *r = ((rng.next_u32() as u64 * ctx.n_vertices as u64) >> 32) as usize * dim;
                std::hint::black_box(emb.get(*r));
            }
            for &ko in &rows[..group] {
                if ko == j {
                    // The point itself: umap-learn finds distance 0 and skips it.
                    continue;
                }
                let mut dist_sq = 0.0f32;
                for (d, &c) in current.iter().enumerate() {
                    let diff = c - emb.get(ko + d);
                    dist_sq += diff * diff;
                }
                if dist_sq > 0.0 {
                    let grad_coeff =
                        2.0 * ctx.s.gamma * b / ((0.001 + dist_sq) * (a * dist_sq.powf(b) + 1.0));
                    for (d, c) in current.iter_mut().enumerate() {
                        let grad = clip(grad_coeff * (*c - emb.get(ko + d)));
                        *c += grad * alpha;
                    }
                }
            }
            done += group;
        }
        // Row j is written once after its negative samples (umap-learn writes through a view
        // at every step; on one thread nothing else reads row j in between).
        for (d, &c) in current.iter().enumerate() {
            emb.set(j + d, c);
        }
        *nn += n_neg as f64 * epns;
    }
}

/// Optimises `embedding` (`n x dim`) in place over the directed edges `head[i] -> tail[i]`
/// (both directions of every undirected edge, as umap-learn's COO graph) with the given
/// `epochs_per_sample`. `progress(epoch, n_epochs)` after each epoch.
pub(crate) fn optimize_layout(
    embedding: &mut Array2<f32>,
    head: &[u32],
    tail: &[u32],
    epochs_per_sample: &[f64],
    s: SgdSettings,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<(), ManifoldError> {
    let (n_vertices, dim) = embedding.dim();
    let n_edges = head.len();
    let epochs_per_negative_sample: Vec<f64> = epochs_per_sample
        .iter()
        .map(|&e| e / s.negative_sample_rate as f64)
        .collect();
    let mut next_sample = epochs_per_sample.to_vec();
    let mut next_negative = epochs_per_negative_sample.clone();
    let n_chunks = n_edges.div_ceil(CHUNK) as u64;
    let mut flat: Vec<f32> = embedding.iter().copied().collect();
    let atomic: Vec<AtomicU32> = if s.parallel {
        flat.iter().map(|v| AtomicU32::new(v.to_bits())).collect()
    } else {
        Vec::new()
    };
    let mut alpha = s.initial_alpha;
    for epoch in 0..s.n_epochs {
        if cancel.load(Ordering::Relaxed) {
            return Err(ManifoldError::Cancelled);
        }
        let ctx = EpochCtx {
            head,
            tail,
            epochs_per_sample,
            epochs_per_negative_sample: &epochs_per_negative_sample,
            dim,
            n_vertices,
            s,
            alpha,
            epoch,
            n_chunks,
        };
        if s.parallel {
            next_sample
                .par_chunks_mut(CHUNK)
                .zip(next_negative.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each_init(
                    || vec![0.0f32; dim],
                    |cur, (c, (ns, nn))| run_chunk(atomic.as_slice(), &ctx, c, ns, nn, cur),
                );
        } else {
            let cells = Cell::from_mut(flat.as_mut_slice()).as_slice_of_cells();
            let mut cur = vec![0.0f32; dim];
            for (c, (ns, nn)) in next_sample
                .chunks_mut(CHUNK)
                .zip(next_negative.chunks_mut(CHUNK))
                .enumerate()
            {
                run_chunk(cells, &ctx, c, ns, nn, &mut cur);
            }
        }
        alpha = s.initial_alpha * (1.0 - (epoch + 1) as f32 / s.n_epochs as f32);
        progress(epoch + 1, s.n_epochs);
    }
    if s.parallel {
        flat = atomic
            .into_iter()
            .map(|v| f32::from_bits(v.into_inner()))
            .collect();
    }
    for (dst, src) in embedding.iter_mut().zip(flat) {
        *dst = src;
    }
    Ok(())
}

/// umap-learn's `make_epochs_per_sample`: an edge of weight `w` is sampled every
/// `max_w / w` epochs; edges too weak to be sampled once in `n_epochs` get -1 (never).
pub(crate) fn make_epochs_per_sample(weights: &[f32], n_epochs: usize) -> Vec<f64> {
    let max = weights.iter().copied().fold(0.0f32, f32::max) as f64;
    weights
        .iter()
        .map(|&w| {
            let n_samples = n_epochs as f64 * (w as f64 / max);
            if n_samples > 0.0 {
                n_epochs as f64 / n_samples
            } else {
                -1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn settings(parallel: bool) -> SgdSettings {
        SgdSettings {
            a: 1.929,
            b: 0.7915,
            gamma: 1.0,
            initial_alpha: 1.0,
            negative_sample_rate: 5.0,
            n_epochs: 50,
            seed: 3,
            parallel,
        }
    }

    #[test]
    fn epochs_per_sample_is_inverse_relative_weight() {
        let e = make_epochs_per_sample(&[1.0, 0.5, 0.25, 0.0], 200);
        assert_eq!(e, vec![1.0, 2.0, 4.0, -1.0]);
    }

    #[test]
    fn attraction_pulls_an_edge_together() {
        // Two connected points far apart, a third unconnected: the edge shrinks.
        let mut emb = array![[0.0f32, 0.0], [10.0, 0.0], [-30.0, 30.0]];
        let before = emb[[1, 0]] - emb[[0, 0]];
        let (head, tail) = (vec![0u32, 1], vec![1u32, 0]);
        let eps = vec![1.0, 1.0];
        optimize_layout(
            &mut emb,
            &head,
            &tail,
            &eps,
            settings(false),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let after =
            ((emb[[1, 0]] - emb[[0, 0]]).powi(2) + (emb[[1, 1]] - emb[[0, 1]]).powi(2)).sqrt();
        assert!(after < before / 2.0, "distance {before} -> {after}");
    }

    #[test]
    fn single_thread_mode_is_reproducible() {
        let make = || Array2::from_shape_fn((50, 3), |(i, j)| ((i * 31 + j * 17) % 23) as f32);
        let head: Vec<u32> = (0..50).flat_map(|i| [i, (i + 1) % 50]).collect();
        let tail: Vec<u32> = (0..50).flat_map(|i| [(i + 1) % 50, i]).collect();
        let eps = vec![1.0; head.len()];
        let run = || {
            let mut e = make();
            optimize_layout(
                &mut e,
                &head,
                &tail,
                &eps,
                settings(false),
                &mut |_, _| {},
                &AtomicBool::new(false),
            )
            .unwrap();
            e
        };
        assert_eq!(run(), run());
        let mut par = make();
        optimize_layout(
            &mut par,
            &head,
            &tail,
            &eps,
            settings(true),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(par.iter().all(|v| v.is_finite()));
    }
}
