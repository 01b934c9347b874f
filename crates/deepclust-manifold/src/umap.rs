//! The UMAP pipeline (umap-learn's `UMAP.fit_transform` for Euclidean data): kNN graph →
//! fuzzy simplicial set → spectral initialisation → negative-sampling SGD.

use crate::curve::find_ab_params;
use crate::fuzzy::{fuzzy_simplicial_set, FuzzyGraph};
use crate::knn::{check_k, exact_knn, KnnGraph};
use crate::layout::{make_epochs_per_sample, optimize_layout, SgdSettings};
use crate::nndescent::{nn_descent, NnDescentParams};
use crate::spectral::spectral_layout;
use crate::{check_data, ManifoldError};
use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// How the kNN graph is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KnnMethod {
    /// Exact below 4096 rows, NN-descent above (umap-learn's rule).
    #[default]
    Auto,
    /// Brute force on GEMM blocks, O(n² d).
    Exact,
    /// NN-descent with random-projection-tree initialisation.
    NnDescent,
}

/// Initial layout before the SGD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UmapInit {
    /// Eigenvectors of the graph Laplacian (falls back to random on tiny graphs).
    #[default]
    Spectral,
    /// Uniform in [-10, 10]^d.
    Random,
}

/// Order in which the single-threaded SGD visits the vertices (and so the edges) each epoch.
///
/// Measured on MNIST-70k (2026-11-27, docs/BENCHMARKS.md): on 50 PCA dimensions the K-Means
/// NMI of the embedding is 0.880 in BFS order and 0.887 in random order, umap-learn's (which
/// runs in input order). On N2D's real input, the 10-dimensional autoencoder code followed by
/// the Gaussian mixture, BFS order measured as good or better: equal on MNIST over six runs
/// (random order merged two digits in one of them), ACC 0.619 vs 0.578 on Fashion-MNIST
/// (mean of three). Hence BFS by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SgdOrder {
    /// The breadth-first order of the spectral step: graph neighbours sit together in memory.
    #[default]
    Bfs,
    /// A seeded random permutation, independent of the input order (umap-learn's quality on
    /// the PCA benchmark above).
    Random,
}

/// Stage reported by the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UmapStage {
    /// Neighbour search: NN-descent round `step` of at most `total` (exact search: 1 of 1).
    Knn,
    /// Fuzzy simplicial set built (1 of 1).
    FuzzySet,
    /// Spectral initialisation: `step` graph-matrix products of at most `total`.
    Spectral,
    /// SGD: epoch `step` of `total`.
    Layout,
}

/// Progress of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UmapProgress {
    pub stage: UmapStage,
    pub step: usize,
    pub total: usize,
}

/// Hyper-parameters of [`Umap`], defaults as umap-learn's `UMAP()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UmapParams {
    /// Output dimension.
    pub n_components: usize,
    /// Neighbourhood size, the point itself included (umap-learn's meaning).
    pub n_neighbors: usize,
    /// Smallest distance between embedded points (N2D uses 0).
    pub min_dist: f32,
    /// Scale of the embedded distances.
    pub spread: f32,
    /// SGD epochs; `None`: 500 up to 10,000 rows, 200 above (umap-learn).
    pub n_epochs: Option<usize>,
    /// Initial SGD learning rate, decayed linearly to 0.
    pub learning_rate: f32,
    /// Negative samples per positive sample.
    pub negative_sample_rate: f32,
    /// Weight of the repulsive term.
    pub repulsion_strength: f32,
    /// Neighbours assumed fully connected (sets `rho`).
    pub local_connectivity: f32,
    /// 1: fuzzy union, 0: fuzzy intersection of the directed memberships.
    pub set_op_mix_ratio: f32,
    pub init: UmapInit,
    pub knn_method: KnnMethod,
    /// NN-descent settings (its `seed` is replaced by [`UmapParams::seed`]).
    pub nn_descent: NnDescentParams,
    /// Maximum products with the graph matrix in the spectral initialisation (Chebyshev-
    /// filtered subspace iteration; it stops earlier at umap-learn's tolerance 1e-4).
    pub spectral_max_iter: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Hogwild-parallel SGD (faster on several cores, not reproducible run to run). `false`:
    /// single-threaded SGD, the embedding is a pure function of the data and the seed (the
    /// kNN graph and the spectral step are parallel and deterministic either way).
    pub parallel_layout: bool,
    /// Vertex order of the SGD.
    pub sgd_order: SgdOrder,
}

impl Default for UmapParams {
    fn default() -> Self {
        Self {
            n_components: 2,
            n_neighbors: 15,
            min_dist: 0.1,
            spread: 1.0,
            n_epochs: None,
            learning_rate: 1.0,
            negative_sample_rate: 5.0,
            repulsion_strength: 1.0,
            local_connectivity: 1.0,
            set_op_mix_ratio: 1.0,
            init: UmapInit::Spectral,
            knn_method: KnnMethod::Auto,
            nn_descent: NnDescentParams::default(),
            spectral_max_iter: 300,
            seed: 0,
            parallel_layout: false,
            sgd_order: SgdOrder::Bfs,
        }
    }
}

/// Entry point: `Umap::params()`.
pub struct Umap;

impl Umap {
    /// umap-learn's defaults (`n_neighbors` 15, `min_dist` 0.1, 2 components).
    pub fn params() -> UmapParams {
        UmapParams::default()
    }
}

fn positive(name: &'static str, v: f32) -> Result<(), ManifoldError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ManifoldError::InvalidParam {
            name,
            reason: format!("must be finite and > 0, got {v}"),
        })
    }
}

impl UmapParams {
    pub fn n_components(mut self, v: usize) -> Self {
        self.n_components = v;
        self
    }
    pub fn n_neighbors(mut self, v: usize) -> Self {
        self.n_neighbors = v;
        self
    }
    pub fn min_dist(mut self, v: f32) -> Self {
        self.min_dist = v;
        self
    }
    pub fn spread(mut self, v: f32) -> Self {
        self.spread = v;
        self
    }
    pub fn n_epochs(mut self, v: usize) -> Self {
        self.n_epochs = Some(v);
        self
    }
    pub fn learning_rate(mut self, v: f32) -> Self {
        self.learning_rate = v;
        self
    }
    pub fn negative_sample_rate(mut self, v: f32) -> Self {
        self.negative_sample_rate = v;
        self
    }
    pub fn repulsion_strength(mut self, v: f32) -> Self {
        self.repulsion_strength = v;
        self
    }
    pub fn local_connectivity(mut self, v: f32) -> Self {
        self.local_connectivity = v;
        self
    }
    pub fn set_op_mix_ratio(mut self, v: f32) -> Self {
        self.set_op_mix_ratio = v;
        self
    }
    pub fn init(mut self, v: UmapInit) -> Self {
        self.init = v;
        self
    }
    pub fn knn_method(mut self, v: KnnMethod) -> Self {
        self.knn_method = v;
        self
    }
    pub fn nn_descent(mut self, v: NnDescentParams) -> Self {
        self.nn_descent = v;
        self
    }
    pub fn spectral_max_iter(mut self, v: usize) -> Self {
        self.spectral_max_iter = v;
        self
    }
    pub fn seed(mut self, v: u64) -> Self {
        self.seed = v;
        self
    }
    pub fn parallel_layout(mut self, v: bool) -> Self {
        self.parallel_layout = v;
        self
    }
    pub fn sgd_order(mut self, v: SgdOrder) -> Self {
        self.sgd_order = v;
        self
    }

    /// Checks every parameter on its own (the data-dependent checks happen in `fit_transform`).
    pub fn validate(&self) -> Result<(), ManifoldError> {
        if self.n_components == 0 {
            return Err(ManifoldError::InvalidParam {
                name: "n_components",
                reason: "must be at least 1".into(),
            });
        }
        if self.n_neighbors < 2 {
            return Err(ManifoldError::InvalidParam {
                name: "n_neighbors",
                reason: format!(
                    "must be at least 2 (the point itself and one other), got {}",
                    self.n_neighbors
                ),
            });
        }
        positive("spread", self.spread)?;
        find_ab_params(self.spread, self.min_dist)?;
        if self.n_epochs == Some(0) {
            return Err(ManifoldError::InvalidParam {
                name: "n_epochs",
                reason: "must be at least 1".into(),
            });
        }
        positive("learning_rate", self.learning_rate)?;
        positive("negative_sample_rate", self.negative_sample_rate)?;
        if !(self.repulsion_strength.is_finite() && self.repulsion_strength >= 0.0) {
            return Err(ManifoldError::InvalidParam {
                name: "repulsion_strength",
                reason: format!("must be finite and >= 0, got {}", self.repulsion_strength),
            });
        }
        if !(self.local_connectivity.is_finite() && self.local_connectivity >= 0.0) {
            return Err(ManifoldError::InvalidParam {
                name: "local_connectivity",
                reason: format!("must be finite and >= 0, got {}", self.local_connectivity),
            });
        }
        if !(0.0..=1.0).contains(&self.set_op_mix_ratio) {
            return Err(ManifoldError::InvalidParam {
                name: "set_op_mix_ratio",
                reason: format!("must be in [0, 1], got {}", self.set_op_mix_ratio),
            });
        }
        self.nn_descent.validate()
    }

    /// The kNN graph this configuration uses (exposed so that several layouts, e.g. seeds,
    /// can share one graph through [`UmapParams::fit_transform_knn`]).
    pub fn knn_graph(
        &self,
        x: ArrayView2<'_, f32>,
        progress: &mut dyn FnMut(UmapProgress),
        cancel: &AtomicBool,
    ) -> Result<KnnGraph, ManifoldError> {
        self.validate()?;
        check_data(x)?;
        check_k(x.nrows(), self.n_neighbors)?;
        let exact = match self.knn_method {
            KnnMethod::Exact => true,
            KnnMethod::NnDescent => false,
            KnnMethod::Auto => x.nrows() < 4096,
        };
        if exact {
            let g = exact_knn(x, self.n_neighbors, cancel)?;
            progress(UmapProgress {
                stage: UmapStage::Knn,
                step: 1,
                total: 1,
            });
            Ok(g)
        } else {
            let nd = NnDescentParams {
                seed: self.seed,
                ..self.nn_descent.clone()
            };
            nn_descent(
                x,
                self.n_neighbors,
                &nd,
                &mut |step, total| {
                    progress(UmapProgress {
                        stage: UmapStage::Knn,
                        step,
                        total,
                    })
                },
                cancel,
            )
        }
    }

    /// Embeds the rows of `x` (`n x d`) into `n x n_components`.
    pub fn fit_transform(
        &self,
        x: ArrayView2<'_, f32>,
        progress: &mut dyn FnMut(UmapProgress),
        cancel: &AtomicBool,
    ) -> Result<Array2<f32>, ManifoldError> {
        let knn = self.knn_graph(x, progress, cancel)?;
        self.fit_transform_knn(&knn, progress, cancel)
    }

    /// Embeds from a precomputed kNN graph (built with the same `n_neighbors`).
    pub fn fit_transform_knn(
        &self,
        knn: &KnnGraph,
        progress: &mut dyn FnMut(UmapProgress),
        cancel: &AtomicBool,
    ) -> Result<Array2<f32>, ManifoldError> {
        self.validate()?;
        knn.validate()?;
        let n = knn.n_samples();
        check_k(n, knn.n_neighbors())?;
        if knn.n_neighbors() != self.n_neighbors {
            return Err(ManifoldError::InvalidParam {
                name: "n_neighbors",
                reason: format!(
                    "the kNN graph has {} neighbours per row, the parameters ask for {}",
                    knn.n_neighbors(),
                    self.n_neighbors
                ),
            });
        }
        let graph = fuzzy_simplicial_set(knn, self.local_connectivity, self.set_op_mix_ratio)?;
        progress(UmapProgress {
            stage: UmapStage::FuzzySet,
            step: 1,
            total: 1,
        });
        let default_epochs = if n <= 10_000 { 500 } else { 200 };
        let n_epochs = self.n_epochs.unwrap_or(default_epochs);
        // umap-learn drops edges too weak to be sampled once in n_epochs.
        let graph = prune(
            &graph,
            if n_epochs > 10 {
                n_epochs
            } else {
                default_epochs
            },
        );
        // Vertices renumbered in breadth-first order, so that graph neighbours sit close in
        // memory: the spectral products then mostly hit cache (about 3x faster spectral step
        // on MNIST-70k). The SGD runs in this order too unless `sgd_order` says otherwise
        // (see `SgdOrder`); the result is put back in input order at the end.
        let bfs_order = bfs_order(&graph);
        let bfs_graph = relabel(&graph, &bfs_order);

        let dim = self.n_components;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(11);
        let spectral = match self.init {
            UmapInit::Spectral => spectral_layout(
                &bfs_graph,
                dim,
                self.spectral_max_iter,
                self.seed,
                &mut |step, total| {
                    progress(UmapProgress {
                        stage: UmapStage::Spectral,
                        step,
                        total,
                    })
                },
                cancel,
            )?,
            UmapInit::Random => None,
        };
        // `sgd_order[new] = input vertex`; the spectral coordinates are in BFS order. Only the
        // graph in SGD order is kept (on millions of points each copy is hundreds of MB).
        let (graph, sgd_order, spectral) = match self.sgd_order {
            SgdOrder::Bfs => {
                drop(graph);
                (bfs_graph, bfs_order, spectral.map(|s| s.coords))
            }
            SgdOrder::Random => {
                drop(bfs_graph);
                let mut order: Vec<u32> = (0..n as u32).collect();
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed ^ 0x5344_4f52));
                let coords = spectral.map(|s| {
                    let bfs_position = inverse_permutation(&bfs_order);
                    let rows: Vec<usize> = order
                        .iter()
                        .map(|&v| bfs_position[v as usize] as usize)
                        .collect();
                    s.coords.select(ndarray::Axis(0), &rows)
                });
                let relabelled = relabel(&graph, &order);
                drop(graph);
                (relabelled, order, coords)
            }
        };
        let mut embedding = match spectral {
            Some(coords) => noisy_scale_coords(coords, &mut rng),
            None => Array2::from_shape_fn((n, dim), |_| rng.gen_range(-10.0f32..10.0)),
        };
        // umap-learn rescales every column to [0, 10] before the SGD.
        for mut col in embedding.columns_mut() {
            let (lo, hi) = col
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            let range = if hi > lo { hi - lo } else { 1.0 };
            col.mapv_inplace(|v| 10.0 * (v - lo) / range);
        }

        let mut head = Vec::with_capacity(graph.nnz());
        for i in 0..n {
            head.extend(std::iter::repeat_n(
                i as u32,
                graph.indptr[i + 1] - graph.indptr[i],
            ));
        }
        let epochs_per_sample = make_epochs_per_sample(&graph.weights, n_epochs);
        let (a, b) = find_ab_params(self.spread, self.min_dist)?;
        let settings = SgdSettings {
            a: a as f32,
            b: b as f32,
            gamma: self.repulsion_strength,
            initial_alpha: self.learning_rate,
            negative_sample_rate: self.negative_sample_rate,
            n_epochs,
            seed: self.seed,
            parallel: self.parallel_layout,
        };
        optimize_layout(
            &mut embedding,
            &head,
            &graph.indices,
            &epochs_per_sample,
            settings,
            &mut |step, total| {
                progress(UmapProgress {
                    stage: UmapStage::Layout,
                    step,
                    total,
                })
            },
            cancel,
        )?;
        let mut original = Array2::<f32>::zeros(embedding.dim());
        for (new_id, &old) in sgd_order.iter().enumerate() {
            original
                .row_mut(old as usize)
                .assign(&embedding.row(new_id));
        }
        Ok(original)
    }
}

/// The vertices in breadth-first order (components one after another, neighbours visited by
/// increasing index): `order[new] = old`.
fn bfs_order(g: &FuzzyGraph) -> Vec<u32> {
    let n = g.n;
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut new_id = vec![u32::MAX; n];
    for start in 0..n {
        if new_id[start] != u32::MAX {
            continue;
        }
        new_id[start] = order.len() as u32;
        order.push(start as u32);
        let mut head = order.len() - 1;
        while head < order.len() {
            let v = order[head] as usize;
            head += 1;
            for &u in g.row(v).0 {
                if new_id[u as usize] == u32::MAX {
                    new_id[u as usize] = order.len() as u32;
                    order.push(u);
                }
            }
        }
    }
    order
}

/// `inverse[order[new]] = new` for a permutation `order` of `0..n`.
fn inverse_permutation(order: &[u32]) -> Vec<u32> {
    let mut inverse = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        inverse[old as usize] = new as u32;
    }
    inverse
}

/// The graph with vertex `order[new]` renumbered `new` (`order` a permutation of `0..n`).
fn relabel(g: &FuzzyGraph, order: &[u32]) -> FuzzyGraph {
    let n = g.n;
    let new_id = inverse_permutation(order);
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let mut indices = Vec::with_capacity(g.nnz());
    let mut weights = Vec::with_capacity(g.nnz());
    let mut row: Vec<(u32, f32)> = Vec::new();
    for &old in order {
        let (c, w) = g.row(old as usize);
        row.clear();
        row.extend(c.iter().map(|&j| new_id[j as usize]).zip(w.iter().copied()));
        row.sort_unstable_by_key(|e| e.0);
        indices.extend(row.iter().map(|e| e.0));
        weights.extend(row.iter().map(|e| e.1));
        indptr.push(indices.len());
    }
    FuzzyGraph {
        n,
        indptr,
        indices,
        weights,
    }
}

/// Removes the entries below `max / n_epochs` (they would never be sampled).
fn prune(g: &FuzzyGraph, n_epochs: usize) -> FuzzyGraph {
    let max = g.weights.iter().copied().fold(0.0f32, f32::max);
    let threshold = max / n_epochs as f32;
    let mut indptr = vec![0usize; g.n + 1];
    let mut indices = Vec::with_capacity(g.nnz());
    let mut weights = Vec::with_capacity(g.nnz());
    for i in 0..g.n {
        let (c, w) = g.row(i);
        for (&j, &wij) in c.iter().zip(w) {
            if wij >= threshold {
                indices.push(j);
                weights.push(wij);
            }
        }
        indptr[i + 1] = indices.len();
    }
    FuzzyGraph {
        n: g.n,
        indptr,
        indices,
        weights,
    }
}

/// umap-learn's `noisy_scale_coords`: scale so that the largest |coordinate| is 10, then add
/// Gaussian noise of standard deviation 1e-4 (avoids exact ties before the SGD).
fn noisy_scale_coords(mut coords: Array2<f32>, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let max = coords.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let expansion = if max > 0.0 { 10.0 / max } else { 1.0 };
    for v in coords.iter_mut() {
        // Box–Muller from two uniforms in (0, 1].
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        *v = *v * expansion + (1e-4 * z) as f32;
    }
    coords
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::{knn_preservation, trustworthiness};
    use rand::Rng;

    /// `n_blobs` Gaussian blobs in `d` dimensions, centres 20 apart on average, unit spread.
    fn blobs(n_per: usize, n_blobs: usize, d: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<Vec<f32>> = (0..n_blobs)
            .map(|_| (0..d).map(|_| rng.gen_range(-10.0..10.0)).collect())
            .collect();
        let mut labels = Vec::new();
        let x = Array2::from_shape_fn((n_per * n_blobs, d), |(i, j)| {
            if j == 0 {
                labels.push(i / n_per);
            }
            // Sum of uniforms: roughly Gaussian, unit variance.
            let z: f32 = (0..3).map(|_| rng.gen_range(-1.0f32..1.0)).sum();
            centres[i / n_per][j] + z
        });
        (x, labels)
    }

    fn no_progress() -> impl FnMut(UmapProgress) {
        |_| {}
    }

    #[test]
    fn validate_names_the_problem() {
        let cancel = AtomicBool::new(false);
        let x = Array2::<f32>::zeros((10, 3));
        assert_eq!(
            Umap::params()
                .n_neighbors(10)
                .fit_transform(x.view(), &mut no_progress(), &cancel),
            Err(ManifoldError::TooFewSamples {
                n_neighbors: 10,
                n: 10
            })
        );
        let mut y = Array2::<f32>::zeros((30, 3));
        y[[4, 2]] = f32::NAN;
        assert_eq!(
            Umap::params()
                .n_neighbors(5)
                .fit_transform(y.view(), &mut no_progress(), &cancel),
            Err(ManifoldError::NonFinite { row: 4 })
        );
        for bad in [
            Umap::params().n_components(0),
            Umap::params().n_neighbors(1),
            Umap::params().min_dist(2.0),
            Umap::params().min_dist(f32::NAN),
            Umap::params().learning_rate(0.0),
            Umap::params().set_op_mix_ratio(1.5),
            Umap::params().negative_sample_rate(-1.0),
        ] {
            assert!(
                matches!(bad.validate(), Err(ManifoldError::InvalidParam { .. })),
                "{bad:?}"
            );
        }
        let empty = Array2::<f32>::zeros((0, 3));
        assert!(matches!(
            Umap::params().fit_transform(empty.view(), &mut no_progress(), &cancel),
            Err(ManifoldError::EmptyData { .. })
        ));
    }

    #[test]
    fn blobs_stay_separated_and_neighbourhoods_are_kept() {
        let (x, labels) = blobs(100, 4, 20, 1);
        let cancel = AtomicBool::new(false);
        let mut stages = Vec::new();
        let emb = Umap::params()
            .n_components(2)
            .n_neighbors(15)
            .min_dist(0.0)
            .n_epochs(200)
            .seed(7)
            .fit_transform(x.view(), &mut |p| stages.push(p.stage), &cancel)
            .unwrap();
        assert_eq!(emb.dim(), (400, 2));
        assert!(emb.iter().all(|v| v.is_finite()));
        assert_eq!(stages.first(), Some(&UmapStage::Knn));
        assert_eq!(stages.last(), Some(&UmapStage::Layout));
        // Every blob is a group: its points are closer to their own centroid than to any other
        // blob's, and the gap between blobs exceeds the blobs' size.
        let centroid = |b: usize| -> [f32; 2] {
            let rows: Vec<usize> = (0..400).filter(|&i| labels[i] == b).collect();
            let mut c = [0.0f32; 2];
            for &i in &rows {
                c[0] += emb[[i, 0]] / rows.len() as f32;
                c[1] += emb[[i, 1]] / rows.len() as f32;
            }
            c
        };
        let cents: Vec<[f32; 2]> = (0..4).map(centroid).collect();
        let dist =
            |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let mut max_radius = 0.0f32;
        for i in 0..400 {
            let p = [emb[[i, 0]], emb[[i, 1]]];
            let own = dist(p, cents[labels[i]]);
            max_radius = max_radius.max(own);
            for (b, &c) in cents.iter().enumerate() {
                if b != labels[i] {
                    assert!(
                        dist(p, c) > own,
                        "point {i} is nearer blob {b} than its own"
                    );
                }
            }
        }
        let min_gap = (0..4)
            .flat_map(|a| (a + 1..4).map(move |b| (a, b)))
            .map(|(a, b)| dist(cents[a], cents[b]))
            .fold(f32::INFINITY, f32::min);
        assert!(
            min_gap > 2.0 * max_radius,
            "gap {min_gap} vs radius {max_radius}"
        );
        let t = trustworthiness(x.view(), emb.view(), 10).unwrap();
        assert!(t > 0.9, "trustworthiness {t}");
    }

    #[test]
    fn trustworthy_on_a_curved_manifold() {
        // A 2-D sheet rolled in 3-D (swiss roll), then rotated into 8-D: UMAP to 2-D should
        // keep local neighbourhoods.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 600;
        let x = Array2::from_shape_fn((n, 8), |_| 0.0f32);
        let mut x = x;
        for i in 0..n {
            let t = 1.5 * std::f32::consts::PI * (1.0 + 2.0 * rng.gen::<f32>());
            let h = 20.0 * rng.gen::<f32>();
            let p = [t * t.cos(), h, t * t.sin()];
            for j in 0..8 {
                x[[i, j]] = p[j % 3] * (1.0 + 0.1 * j as f32);
            }
        }
        let cancel = AtomicBool::new(false);
        let emb = Umap::params()
            .n_components(2)
            .n_neighbors(15)
            .min_dist(0.1)
            .n_epochs(200)
            .seed(3)
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        let t = trustworthiness(x.view(), emb.view(), 10).unwrap();
        let kp = knn_preservation(x.view(), emb.view(), 10).unwrap();
        assert!(t > 0.98, "trustworthiness {t}");
        assert!(kp > 0.7, "kNN preservation {kp}");
    }

    #[test]
    fn both_sgd_orders_keep_neighbourhoods_and_differ() {
        let (x, _) = blobs(40, 3, 5, 2);
        let cancel = AtomicBool::new(false);
        let embed = |order| {
            Umap::params()
                .n_components(2)
                .n_neighbors(10)
                .n_epochs(100)
                .seed(5)
                .sgd_order(order)
                .fit_transform(x.view(), &mut no_progress(), &cancel)
                .unwrap()
        };
        let (bfs, random) = (embed(SgdOrder::Bfs), embed(SgdOrder::Random));
        assert_ne!(bfs, random);
        for emb in [&bfs, &random] {
            let t = trustworthiness(x.view(), emb.view(), 10).unwrap();
            assert!(t > 0.9, "trustworthiness {t}");
        }
    }

    #[test]
    fn same_seed_same_embedding_and_precomputed_graph_agrees() {
        for order in [SgdOrder::Bfs, SgdOrder::Random] {
            same_seed_same_embedding(order);
        }
    }

    fn same_seed_same_embedding(order: SgdOrder) {
        let (x, _) = blobs(40, 3, 5, 2);
        let cancel = AtomicBool::new(false);
        let p = Umap::params()
            .n_components(3)
            .n_neighbors(8)
            .n_epochs(60)
            .seed(11)
            .sgd_order(order);
        let a = p
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        let b = p
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        assert_eq!(a, b);
        let knn = p.knn_graph(x.view(), &mut no_progress(), &cancel).unwrap();
        let c = p
            .fit_transform_knn(&knn, &mut no_progress(), &cancel)
            .unwrap();
        assert_eq!(a, c);
        // Same result on a one-thread pool (the parallel stages sum in fixed chunks).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = pool.install(|| {
            p.fit_transform(x.view(), &mut no_progress(), &cancel)
                .unwrap()
        });
        assert_eq!(a, single);
        let d = p
            .clone()
            .seed(12)
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        assert_ne!(a, d);
        let r = p
            .clone()
            .init(UmapInit::Random)
            .parallel_layout(true)
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        assert!(r.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bfs_relabel_is_a_symmetric_permutation() {
        let (x, _) = blobs(30, 3, 4, 5);
        let knn = exact_knn(x.view(), 6, &AtomicBool::new(false)).unwrap();
        let g = fuzzy_simplicial_set(&knn, 1.0, 1.0).unwrap();
        let order = bfs_order(&g);
        let h = relabel(&g, &order);
        let mut seen = order.clone();
        seen.sort();
        assert_eq!(seen, (0..90).collect::<Vec<u32>>());
        assert_eq!(h.nnz(), g.nnz());
        for a in 0..90 {
            for b in 0..90 {
                assert_eq!(h.get(a, b), g.get(order[a] as usize, order[b] as usize));
            }
        }
    }

    #[test]
    fn degenerate_inputs_give_finite_embeddings() {
        let cancel = AtomicBool::new(false);
        // All rows identical: every distance is 0.
        let same = Array2::<f32>::ones((50, 4));
        let e = Umap::params()
            .n_neighbors(5)
            .n_epochs(30)
            .fit_transform(same.view(), &mut no_progress(), &cancel)
            .unwrap();
        assert!(e.iter().all(|v| v.is_finite()));
        // The smallest legal size: n = n_neighbors + 1.
        let (x, _) = blobs(3, 2, 3, 9);
        let e = Umap::params()
            .n_neighbors(5)
            .n_components(3)
            .n_epochs(30)
            .fit_transform(x.view(), &mut no_progress(), &cancel)
            .unwrap();
        assert_eq!(e.dim(), (6, 3));
        assert!(e.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn cancel_returns_cancelled() {
        let (x, _) = blobs(30, 2, 4, 0);
        let cancel = AtomicBool::new(true);
        assert_eq!(
            Umap::params()
                .n_neighbors(5)
                .fit_transform(x.view(), &mut no_progress(), &cancel),
            Err(ManifoldError::Cancelled)
        );
    }
}
