//! Approximate kNN by NN-descent (Dong, Moses & Li 2011), shaped as pynndescent: a forest of
//! random-projection trees gives the initial graph, then rounds of local joins over sampled
//! "new" and "old" candidates until fewer than `delta · n · k` neighbour lists change.
//!
//! Parallel and deterministic: a local join at node `v` proposes every pair of its candidates
//! (at least one "new"); instead of pushing proposals into other threads' heaps, each node
//! `p` *pulls* the pairs it belongs to (through a reverse index of candidate lists) and only
//! writes its own heap. Each pair's distance is computed twice (once per end), the price of
//! needing no locks and of results independent of the thread count.

use crate::knn::{check_k, KnnGraph};
use crate::rptree::build_rp_tree;
use crate::{check_data, sq_dist, ManifoldError};
use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Settings of [`nn_descent`]. `None` picks umap-learn's values for the data size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NnDescentParams {
    /// Random-projection trees for the initial graph; umap-learn: `min(64, 5 + round(√n / 20))`.
    pub n_trees: Option<usize>,
    /// Maximum NN-descent rounds; umap-learn: `max(5, round(log2 n))`.
    pub n_iters: Option<usize>,
    /// Candidates sampled per node and round (umap-learn passes 60).
    pub max_candidates: usize,
    /// Points per tree leaf; pynndescent: `max(10, n_neighbors)`.
    pub leaf_size: Option<usize>,
    /// Stop when a round changes fewer than `delta · n · k` entries (pynndescent: 0.001).
    pub delta: f64,
    pub seed: u64,
}

impl Default for NnDescentParams {
    fn default() -> Self {
        Self {
            n_trees: None,
            n_iters: None,
            max_candidates: 60,
            leaf_size: None,
            delta: 0.001,
            seed: 0,
        }
    }
}

impl NnDescentParams {
    pub fn validate(&self) -> Result<(), ManifoldError> {
        if self.max_candidates == 0 {
            return Err(ManifoldError::InvalidParam {
                name: "max_candidates",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.delta >= 0.0 && self.delta.is_finite()) {
            return Err(ManifoldError::InvalidParam {
                name: "delta",
                reason: format!("must be finite and >= 0, got {}", self.delta),
            });
        }
        if self.leaf_size == Some(0) {
            return Err(ManifoldError::InvalidParam {
                name: "leaf_size",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// Bounded max-heaps of `(distance, index, is_new)`, `k` slots per node, root = worst.
struct Heaps {
    dist: Vec<f32>,
    idx: Vec<u32>,
    new: Vec<bool>,
}

const EMPTY: u32 = u32::MAX;

/// Pushes `(d, j)` into one node's heap unless it is no better than the worst or already
/// present (pynndescent's `checked_flagged_heap_push`). Returns whether it changed the heap.
#[inline]
fn heap_push(dist: &mut [f32], idx: &mut [u32], new: &mut [bool], d: f32, j: u32) -> bool {
    if d >= dist[0] || idx.contains(&j) {
        return false;
    }
    let k = dist.len();
    let mut pos = 0;
    loop {
        let l = 2 * pos + 1;
        let r = l + 1;
        let mut child = l;
        if l >= k {
            break;
        }
        if r < k && dist[r] > dist[l] {
            child = r;
        }
        if dist[child] <= d {
            break;
        }
        dist[pos] = dist[child];
        idx[pos] = idx[child];
        new[pos] = new[child];
        pos = child;
    }
    dist[pos] = d;
    idx[pos] = j;
    new[pos] = true;
    true
}

/// Bounded max-heap on random priorities: a uniform sample of at most `cap` candidates.
#[inline]
fn priority_push(prio: &mut [f32], idx: &mut [u32], count: &mut u32, p: f32, j: u32) {
    let cap = prio.len();
    let c = *count as usize;
    if idx[..c].contains(&j) {
        return;
    }
    if c < cap {
        // Sift up.
        let mut pos = c;
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if prio[parent] >= p {
                break;
            }
            prio[pos] = prio[parent];
            idx[pos] = idx[parent];
            pos = parent;
        }
        prio[pos] = p;
        idx[pos] = j;
        *count += 1;
        return;
    }
    if p >= prio[0] {
        return;
    }
    let mut pos = 0;
    loop {
        let l = 2 * pos + 1;
        if l >= cap {
            break;
        }
        let r = l + 1;
        let child = if r < cap && prio[r] > prio[l] { r } else { l };
        if prio[child] <= p {
            break;
        }
        prio[pos] = prio[child];
        idx[pos] = idx[child];
        pos = child;
    }
    prio[pos] = p;
    idx[pos] = j;
}

/// Candidate lists of one round: up to `cap` "new" and `cap` "old" per node.
struct Candidates {
    cap: usize,
    new_idx: Vec<u32>,
    new_count: Vec<u32>,
    old_idx: Vec<u32>,
    old_count: Vec<u32>,
}

impl Candidates {
    fn new_of(&self, v: usize) -> &[u32] {
        &self.new_idx[v * self.cap..][..self.new_count[v] as usize]
    }
    fn old_of(&self, v: usize) -> &[u32] {
        &self.old_idx[v * self.cap..][..self.old_count[v] as usize]
    }
}

/// Approximate `n_neighbors` nearest neighbours (self included, as [`crate::exact_knn`]).
/// `progress(round, max_rounds)` is called after every round.
pub fn nn_descent(
    x: ArrayView2<'_, f32>,
    n_neighbors: usize,
    params: &NnDescentParams,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<KnnGraph, ManifoldError> {
    params.validate()?;
    check_data(x)?;
    let n = x.nrows();
    check_k(n, n_neighbors)?;
    let dim = x.ncols();
    let x = x.as_standard_layout();
    let data = x.as_slice().ok_or(ManifoldError::InvalidParam {
        name: "x",
        reason: "not contiguous".into(),
    })?;
    let k = n_neighbors - 1;
    let n_trees = params
        .n_trees
        .unwrap_or_else(|| 64.min(5 + ((n as f64).sqrt() / 20.0).round() as usize));
    let n_iters = params
        .n_iters
        .unwrap_or_else(|| 5.max((n as f64).log2().round() as usize));
    let leaf_size = params.leaf_size.unwrap_or(10.max(n_neighbors));
    let point = |i: usize| &data[i * dim..(i + 1) * dim];

    // 1. Random-projection forest; each tree has its own seeded stream.
    let trees: Vec<_> = (0..n_trees)
        .into_par_iter()
        .map(|t| {
            let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
            rng.set_stream(1 + t as u64);
            build_rp_tree(data, dim, leaf_size, &mut rng)
        })
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return Err(ManifoldError::Cancelled);
    }

    // 2. Initial graph: leaf-mates in every tree, then random points for unfilled slots.
    let mut heaps = Heaps {
        dist: vec![f32::INFINITY; n * k],
        idx: vec![EMPTY; n * k],
        new: vec![true; n * k],
    };
    const CHUNK: usize = 256;
    heaps
        .dist
        .par_chunks_mut(k * CHUNK)
        .zip(heaps.idx.par_chunks_mut(k * CHUNK))
        .zip(heaps.new.par_chunks_mut(k * CHUNK))
        .enumerate()
        .for_each(|(c, ((dist, idx), new))| {
            let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
            rng.set_stream(1_000_000 + c as u64);
            for r in 0..dist.len() / k {
                let i = c * CHUNK + r;
                let (d, ix, nw) = (
                    &mut dist[r * k..][..k],
                    &mut idx[r * k..][..k],
                    &mut new[r * k..][..k],
                );
                for tree in &trees {
                    for &m in tree.mates(i) {
                        if m as usize != i {
                            heap_push(d, ix, nw, sq_dist(point(i), point(m as usize)), m);
                        }
                    }
                }
                let mut attempts = 0;
                while ix.contains(&EMPTY) && attempts < 64 * k {
                    let m = rng.gen_range(0..n);
                    if m != i {
                        heap_push(d, ix, nw, sq_dist(point(i), point(m)), m as u32);
                    }
                    attempts += 1;
                }
                // Still unfilled (k close to n, or duplicate draws): scan every point.
                if ix.contains(&EMPTY) {
                    for m in (0..n).filter(|&m| m != i) {
                        heap_push(d, ix, nw, sq_dist(point(i), point(m)), m as u32);
                    }
                }
            }
        });

    // 3. NN-descent rounds.
    let cap = params.max_candidates;
    let mut cand = Candidates {
        cap,
        new_idx: vec![0; n * cap],
        new_count: vec![0; n],
        old_idx: vec![0; n * cap],
        old_count: vec![0; n],
    };
    let mut new_prio = vec![0.0f32; n * cap];
    let mut old_prio = vec![0.0f32; n * cap];
    let mut member_start = vec![0u32; n + 1];
    let mut members: Vec<u32> = Vec::new();
    const NEW_BIT: u32 = 1 << 31;
    for round in 0..n_iters {
        if cancel.load(Ordering::Relaxed) {
            return Err(ManifoldError::Cancelled);
        }
        // 3a. Sample candidates: every graph edge i -> j offers j to i and i to j, with one
        // random priority per edge (pynndescent's new_candidate_neighbors).
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        rng.set_stream(2_000_000 + round as u64);
        cand.new_count.iter_mut().for_each(|c| *c = 0);
        cand.old_count.iter_mut().for_each(|c| *c = 0);
        for i in 0..n {
            for s in 0..k {
                let j = heaps.idx[i * k + s];
                if j == EMPTY {
                    continue;
                }
                let p: f32 = rng.gen();
                let ju = j as usize;
                if heaps.new[i * k + s] {
                    let (pr, ix) = (
                        &mut new_prio[i * cap..][..cap],
                        &mut cand.new_idx[i * cap..][..cap],
                    );
                    priority_push(pr, ix, &mut cand.new_count[i], p, j);
                    let (pr, ix) = (
                        &mut new_prio[ju * cap..][..cap],
                        &mut cand.new_idx[ju * cap..][..cap],
                    );
                    priority_push(pr, ix, &mut cand.new_count[ju], p, i as u32);
                } else {
                    let (pr, ix) = (
                        &mut old_prio[i * cap..][..cap],
                        &mut cand.old_idx[i * cap..][..cap],
                    );
                    priority_push(pr, ix, &mut cand.old_count[i], p, j);
                    let (pr, ix) = (
                        &mut old_prio[ju * cap..][..cap],
                        &mut cand.old_idx[ju * cap..][..cap],
                    );
                    priority_push(pr, ix, &mut cand.old_count[ju], p, i as u32);
                }
            }
        }
        // Sampled new neighbours become old.
        heaps
            .idx
            .par_chunks(k)
            .zip(heaps.new.par_chunks_mut(k))
            .enumerate()
            .for_each(|(i, (ix, nw))| {
                let sampled = cand.new_of(i);
                for (j, f) in ix.iter().zip(nw.iter_mut()) {
                    if *f && sampled.contains(j) {
                        *f = false;
                    }
                }
            });
        // 3b. Reverse index: for each p, the nodes v whose candidate lists hold p.
        member_start.iter_mut().for_each(|c| *c = 0);
        for v in 0..n {
            for &p in cand.new_of(v).iter().chain(cand.old_of(v)) {
                member_start[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            member_start[i + 1] += member_start[i];
        }
        members.resize(member_start[n] as usize, 0);
        let mut fill = member_start[..n].to_vec();
        for v in 0..n {
            for &p in cand.new_of(v) {
                members[fill[p as usize] as usize] = v as u32 | NEW_BIT;
                fill[p as usize] += 1;
            }
            for &p in cand.old_of(v) {
                members[fill[p as usize] as usize] = v as u32;
                fill[p as usize] += 1;
            }
        }
        // 3c. Local joins, pulled by each node into its own heap.
        let updates: usize = heaps
            .dist
            .par_chunks_mut(k)
            .zip(heaps.idx.par_chunks_mut(k))
            .zip(heaps.new.par_chunks_mut(k))
            .enumerate()
            .map(|(p, ((d, ix), nw))| {
                let pp = point(p);
                let mut changed = 0usize;
                let mems = &members[member_start[p] as usize..member_start[p + 1] as usize];
                for &m in mems {
                    let v = (m & !NEW_BIT) as usize;
                    let p_is_new = m & NEW_BIT != 0;
                    let others = cand.new_of(v).iter().chain(if p_is_new {
                        cand.old_of(v)
                    } else {
                        &[][..]
                    });
                    for &q in others {
                        if q as usize == p {
                            continue;
                        }
                        let dq = sq_dist(pp, point(q as usize));
                        if dq < d[0] && heap_push(d, ix, nw, dq, q) {
                            changed += 1;
                        }
                    }
                }
                changed
            })
            .sum();
        progress(round + 1, n_iters);
        if (updates as f64) <= params.delta * (n * k) as f64 {
            break;
        }
    }

    // 4. Sort every list ascending (ties by index) and build the graph with self first.
    let mut idx = vec![0u32; n * k];
    let mut sq = vec![0.0f32; n * k];
    idx.par_chunks_mut(k)
        .zip(sq.par_chunks_mut(k))
        .enumerate()
        .for_each(|(i, (oi, od))| {
            let mut pairs: Vec<(f32, u32)> = heaps.dist[i * k..][..k]
                .iter()
                .copied()
                .zip(heaps.idx[i * k..][..k].iter().copied())
                .collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (s, (d, j)) in pairs.into_iter().enumerate() {
                oi[s] = j;
                od[s] = d;
            }
        });
    Ok(KnnGraph::from_others(n, k, &idx, &sq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::{exact_knn, knn_recall};
    use ndarray::Array2;

    fn blobs(n: usize, d: usize, seed: u64) -> Array2<f32> {
        // Clustered data in a few dimensions, the regime NN-descent is used on.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<Vec<f32>> = (0..10)
            .map(|_| (0..d).map(|_| rng.gen_range(-5.0..5.0)).collect())
            .collect();
        Array2::from_shape_fn((n, d), |(i, j)| {
            centres[i % 10][j] + rng.gen_range(-1.0f32..1.0)
        })
    }

    #[test]
    fn recall_against_exact_at_k15() {
        let x = blobs(3000, 10, 5);
        let cancel = AtomicBool::new(false);
        let exact = exact_knn(x.view(), 15, &cancel).unwrap();
        let params = NnDescentParams {
            seed: 1,
            ..Default::default()
        };
        let approx = nn_descent(x.view(), 15, &params, &mut |_, _| {}, &cancel).unwrap();
        let recall = knn_recall(&approx, &exact).unwrap();
        assert!(recall >= 0.95, "recall {recall}");
        for i in 0..x.nrows() {
            assert_eq!(approx.indices[[i, 0]] as usize, i);
            let row = approx.distances.row(i);
            assert!(row.windows(2).into_iter().all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn deterministic_for_a_seed_whatever_the_pool() {
        let x = blobs(800, 6, 2);
        let cancel = AtomicBool::new(false);
        let params = NnDescentParams {
            seed: 9,
            ..Default::default()
        };
        let a = nn_descent(x.view(), 10, &params, &mut |_, _| {}, &cancel).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b =
            pool.install(|| nn_descent(x.view(), 10, &params, &mut |_, _| {}, &cancel).unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn small_n_with_k_close_to_n_is_complete() {
        let x = blobs(12, 3, 4);
        let cancel = AtomicBool::new(false);
        let approx = nn_descent(
            x.view(),
            11,
            &NnDescentParams::default(),
            &mut |_, _| {},
            &cancel,
        )
        .unwrap();
        let exact = exact_knn(x.view(), 11, &cancel).unwrap();
        assert_eq!(knn_recall(&approx, &exact).unwrap(), 1.0);
    }

    #[test]
    fn cancel_stops() {
        let x = blobs(500, 4, 2);
        let cancel = AtomicBool::new(true);
        let r = nn_descent(
            x.view(),
            10,
            &NnDescentParams::default(),
            &mut |_, _| {},
            &cancel,
        );
        assert_eq!(r, Err(ManifoldError::Cancelled));
    }
}
