//! Content grouping: K-Means over standardised thumbnail embeddings, `k` fixed or chosen by
//! the silhouette on a sample, readable cluster names, and near-duplicate groups by dHash.

use crate::error::GalleryError;
use deepclust_cluster::{davies_bouldin_score, silhouette_score, KMeans, KMeansModel};
use ndarray::Array2;
use rand::seq::index::sample;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use deepclust_cluster::KSelect;

/// The default of `--k auto` for albums: at least 4 (fewer is no organizing), at most 16
/// (more is not browsable). Among them the lowest Davies-Bouldin index wins.
pub const AUTO_K: KSelect = KSelect::Auto { min: 4, max: 16 };

/// `--k auto` tries no k above n / this, so a small library is not cut into crumbs.
pub const MIN_PHOTOS_PER_ALBUM: usize = 5;

/// The k values tried for albums on `n` photos: a fixed k capped at n; an automatic range
/// capped at one album per [`MIN_PHOTOS_PER_ALBUM`] photos (and at n - 1), from at least 2.
pub fn album_k_candidates(k: KSelect, n: usize) -> std::ops::RangeInclusive<usize> {
    match k {
        KSelect::Fixed(k) => k.min(n)..=k.min(n),
        KSelect::Auto { min, max } => {
            let cap = (n / MIN_PHOTOS_PER_ALBUM).max(2).min(n.saturating_sub(1));
            let hi = max.min(cap);
            min.min(hi).max(2)..=hi
        }
    }
}

/// Restarts per candidate k when choosing k: with 3 the best-of-restarts partition (and so the
/// silhouette) still varied with the seed on gallery-dev (k = 10, 6, 5 for seeds 0-2).
pub const SELECT_N_INIT: usize = 10;

/// Sample size for the silhouette (its cost is quadratic in it).
pub const SILHOUETTE_SAMPLE: usize = 1000;

/// A fitted content model, cached so that a re-run assigns unchanged photos to the same
/// clusters instead of re-fitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentModel {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// k rows of standardised centroids.
    pub centroids: Vec<Vec<f32>>,
    /// Silhouette of the chosen k on the sample (when measured).
    pub silhouette: Option<f64>,
    /// What the model was fitted with (embedder id, k choice, seed): a re-run reuses it only
    /// when this is unchanged.
    #[serde(default)]
    pub key: String,
    /// Each photo's album when the model was fitted (by relative path): a re-run that reuses
    /// the model keeps these, and places only new photos by nearest centroid.
    #[serde(default)]
    pub members: std::collections::BTreeMap<String, usize>,
}

impl ContentModel {
    /// A freshly fitted model (no key and no members yet: the organizer sets them).
    pub fn fitted(
        mean: Vec<f32>,
        scale: Vec<f32>,
        centroids: Vec<Vec<f32>>,
        silhouette: Option<f64>,
    ) -> Self {
        ContentModel {
            mean,
            scale,
            centroids,
            silhouette,
            key: String::new(),
            members: Default::default(),
        }
    }
}

/// How content albums are clustered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentMethod {
    /// N2D on the content models' signals, K-Means on the other embeddings (as measured).
    #[default]
    Auto,
    KMeans,
    N2d,
}

impl std::str::FromStr for ContentMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ContentMethod::Auto),
            "kmeans" => Ok(ContentMethod::KMeans),
            "n2d" => Ok(ContentMethod::N2d),
            _ => Err(format!(
                "content method must be auto, kmeans or n2d, got {s:?}"
            )),
        }
    }
}

/// Per-dimension mean and a per-block scale. Each block of the embedding (see
/// [`crate::thumbs::EMBEDDING_BLOCKS`]) is centred and scaled so that its total variance is its
/// weight squared: a block's influence on distances is set by design, not by how many
/// dimensions it has. Per-dimension z-scoring was measured worse (MNIST-digit library NMI
/// 0.35): it blows up near-constant border pixels into full-weight noise.
fn standardiser(x: &[&[f32]], dim: usize, blocks: &[(usize, f32)]) -> (Vec<f32>, Vec<f32>) {
    let n = x.len().max(1) as f64;
    let mut mean = vec![0f64; dim];
    for row in x {
        for (m, v) in mean.iter_mut().zip(row.iter()) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; dim];
    for row in x {
        for ((s, v), m) in var.iter_mut().zip(row.iter()).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2);
        }
    }
    var.iter_mut().for_each(|s| *s /= n);
    let mut scale = vec![0f32; dim];
    let mut start = 0;
    for &(len, weight) in blocks {
        let total: f64 = var[start..start + len].iter().sum();
        let s = if total > 1e-12 {
            f64::from(weight) / total.sqrt()
        } else {
            0.0
        };
        scale[start..start + len]
            .iter_mut()
            .for_each(|x| *x = s as f32);
        start += len;
    }
    (mean.iter().map(|&m| m as f32).collect(), scale)
}

fn standardise(x: &[&[f32]], mean: &[f32], scale: &[f32]) -> Array2<f32> {
    let dim = mean.len();
    Array2::from_shape_fn((x.len(), dim), |(i, j)| (x[i][j] - mean[j]) * scale[j])
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Clusters the embeddings. With `previous` (same dimension), photos are assigned to its
/// centroids without refitting, so an unchanged photo keeps its cluster across runs.
/// The block layout comes from [`crate::thumbs::embedding_blocks`].
pub fn cluster_embeddings(
    embeddings: &[&[f32]],
    k: KSelect,
    seed: u64,
    previous: Option<&ContentModel>,
) -> Result<(Vec<usize>, ContentModel), GalleryError> {
    let dim = embeddings.first().map_or(0, |e| e.len());
    let blocks = crate::thumbs::embedding_blocks(dim);
    cluster_embeddings_in_blocks(embeddings, &blocks, k, seed, previous)
}

/// Rows scored for choosing k and for the silhouette: all of them, or a seeded sample of
/// [`SILHOUETTE_SAMPLE`] in ascending order.
fn sample_rows(n: usize, seed: u64) -> Vec<usize> {
    if n <= SILHOUETTE_SAMPLE {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = sample(&mut rng, n, SILHOUETTE_SAMPLE).into_vec();
    v.sort_unstable();
    v
}

/// The previous model's assignment (nearest centroid) when it fits these embeddings and `k`.
fn reuse(
    previous: Option<&ContentModel>,
    embeddings: &[&[f32]],
    k: KSelect,
) -> Option<(Vec<usize>, ContentModel)> {
    let prev = previous?;
    let dim = embeddings.first()?.len();
    let same_k = match k {
        KSelect::Fixed(k) => prev.centroids.len() == k,
        KSelect::Auto { .. } => true,
    };
    if prev.mean.len() != dim || !same_k || prev.centroids.is_empty() {
        return None;
    }
    let x = standardise(embeddings, &prev.mean, &prev.scale);
    let labels = x
        .rows()
        .into_iter()
        .map(|r| {
            let r = r.to_slice().unwrap_or(&[]);
            let mut best = (0, f32::INFINITY);
            for (c, cent) in prev.centroids.iter().enumerate() {
                let d = sq_dist(r, cent);
                if d < best.1 {
                    best = (c, d);
                }
            }
            best.0
        })
        .collect();
    Some((labels, prev.clone()))
}

/// Fewer photos than this are clustered with K-Means even when N2D is asked for: the UMAP
/// graph (20 neighbours) needs a few times that many points to mean anything.
pub const N2D_MIN_PHOTOS: usize = 60;

/// N2D on the block-weighted rows: UMAP to 10 dimensions (20 neighbours, min_dist 0), then a
/// full-covariance Gaussian mixture; with `Auto` the k of the lowest Davies-Bouldin index in
/// the UMAP space. Measured on gallery-dev against K-Means and a diagonal mixture on the same
/// rows (docs/BENCHMARKS.md). The model keeps each album's mean row, so later runs place new
/// photos at the nearest album.
pub fn cluster_embeddings_n2d(
    embeddings: &[&[f32]],
    blocks: &[(usize, f32)],
    k: KSelect,
    seed: u64,
    previous: Option<&ContentModel>,
) -> Result<(Vec<usize>, ContentModel), GalleryError> {
    let n = embeddings.len();
    if n < N2D_MIN_PHOTOS {
        return cluster_embeddings_in_blocks(embeddings, blocks, k, seed, previous);
    }
    if let Some(reused) = reuse(previous, embeddings, k) {
        return Ok(reused);
    }
    let dim = embeddings[0].len();
    if embeddings.iter().any(|e| e.len() != dim) || blocks.iter().map(|b| b.0).sum::<usize>() != dim
    {
        return Err(GalleryError::Content(format!(
            "block layout {blocks:?} does not cover embeddings of length {dim}"
        )));
    }
    let (mean, scale) = standardiser(embeddings, dim, blocks);
    let x = standardise(embeddings, &mean, &scale);
    let never = std::sync::atomic::AtomicBool::new(false);
    let embedded = deepclust_manifold::Umap::params()
        .n_components(10)
        .n_neighbors(20)
        .min_dist(0.0)
        .seed(seed)
        .sgd_order(deepclust_manifold::SgdOrder::Random)
        .fit_transform(x.view(), &mut |_| {}, &never)
        .map_err(GalleryError::Umap)?;
    let mixture = |k: usize| -> Result<Vec<usize>, GalleryError> {
        let failed = |source| GalleryError::Clustering {
            what: format!("mixture with k={k}"),
            source,
        };
        deepclust_cluster::GaussianMixture::params(k)
            .n_init(3)
            .seed(seed)
            .fit(embedded.view())
            .map_err(failed)?
            .predict(embedded.view())
            .map_err(failed)
    };
    let mut best: Option<(f64, Vec<usize>)> = None;
    for k in album_k_candidates(k, n) {
        let labels = mixture(k)?;
        let db = davies_bouldin_score(embedded.view(), &labels);
        if best.as_ref().is_none_or(|(b, _)| db < *b) {
            best = Some((db, labels));
        }
    }
    let raw = best.map_or_else(|| vec![0; n], |(_, l)| l);
    // Components that won no photo are dropped; albums are numbered in order of first photo.
    let mut ids: HashMap<usize, usize> = HashMap::new();
    let labels: Vec<usize> = raw
        .iter()
        .map(|&l| {
            let next = ids.len();
            *ids.entry(l).or_insert(next)
        })
        .collect();
    let k = ids.len();
    let mut centroids = vec![vec![0f32; dim]; k];
    let mut sizes = vec![0usize; k];
    for (row, &l) in x.rows().into_iter().zip(&labels) {
        sizes[l] += 1;
        for (c, v) in centroids[l].iter_mut().zip(row) {
            *c += v;
        }
    }
    for (c, &s) in centroids.iter_mut().zip(&sizes) {
        c.iter_mut().for_each(|v| *v /= s.max(1) as f32);
    }
    let sample_idx = sample_rows(n, seed);
    let xs = x.select(ndarray::Axis(0), &sample_idx);
    let ls: Vec<usize> = sample_idx.iter().map(|&i| labels[i]).collect();
    let silhouette = (k >= 2).then(|| silhouette_score(xs.view(), &ls));
    Ok((
        labels,
        ContentModel::fitted(mean, scale, centroids, silhouette),
    ))
}

/// [`cluster_embeddings`] with an explicit block layout: `(length, weight)` pairs covering the
/// embedding; each block is centred and scaled to a total standard deviation of its weight.
pub fn cluster_embeddings_in_blocks(
    embeddings: &[&[f32]],
    blocks: &[(usize, f32)],
    k: KSelect,
    seed: u64,
    previous: Option<&ContentModel>,
) -> Result<(Vec<usize>, ContentModel), GalleryError> {
    let n = embeddings.len();
    if n == 0 {
        return Ok((
            Vec::new(),
            ContentModel::fitted(vec![], vec![], vec![], None),
        ));
    }
    let dim = embeddings[0].len();
    if embeddings.iter().any(|e| e.len() != dim) {
        return Err(GalleryError::Content(
            "embeddings of different lengths".into(),
        ));
    }
    if let Some(reused) = reuse(previous, embeddings, k) {
        return Ok(reused);
    }
    if blocks.iter().map(|b| b.0).sum::<usize>() != dim {
        return Err(GalleryError::Content(format!(
            "block layout {blocks:?} does not cover embeddings of length {dim}"
        )));
    }
    let (mean, scale) = standardiser(embeddings, dim, blocks);
    let x = standardise(embeddings, &mean, &scale);
    let fit = |k: usize, x: &Array2<f32>, n_init: usize| -> Result<KMeansModel, GalleryError> {
        KMeans::params(k)
            .n_init(n_init)
            .seed(seed)
            .fit(x.view())
            .map_err(|source| GalleryError::Clustering {
                what: format!("k-means with k={k}"),
                source,
            })
    };
    let sample_idx = sample_rows(n, seed);
    let xs = x.select(ndarray::Axis(0), &sample_idx);

    let (k, silhouette) = match k {
        KSelect::Fixed(k) => (k.min(n), None),
        KSelect::Auto { .. } => {
            // Choose k on the sample by the lowest Davies-Bouldin index, then fit all points
            // once with it. The silhouette was measured first: on gallery-dev its curve over
            // k = 4..16 is flat (0.17-0.21) and its maximum moved from k = 5 to 16 with the
            // seed; Davies-Bouldin chose 7-10 over six seeds (docs/BENCHMARKS.md).
            let mut best: Option<(usize, f64)> = None;
            for k in album_k_candidates(k, n).filter(|&k| k < xs.nrows()) {
                let model = fit(k, &xs, SELECT_N_INIT)?;
                let db = davies_bouldin_score(xs.view(), model.labels());
                if best.is_none_or(|(_, b)| db < b) {
                    best = Some((k, db));
                }
            }
            (best.map_or(1, |(k, _)| k), None)
        }
    };
    let model = fit(k, &x, 10)?;
    let labels = model.labels().to_vec();
    let silhouette = silhouette.or_else(|| {
        let ls: Vec<usize> = sample_idx.iter().map(|&i| labels[i]).collect();
        (k >= 2).then(|| silhouette_score(xs.view(), &ls))
    });
    let centroids = model
        .centroids()
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    Ok((
        labels,
        ContentModel::fitted(mean, scale, centroids, silhouette),
    ))
}

/// A readable name for a content cluster from its members: the dominant city when at least
/// 60% of the members with a place share it, plus the month range when all members are dated
/// by EXIF; else `cluster 3 (41 photos)`.
pub fn cluster_name(
    index: usize,
    member_cities: &[Option<&str>],
    member_months: &[Option<(i32, u8)>],
) -> String {
    let size = member_cities.len();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in member_cities.iter().flatten() {
        *counts.entry(c).or_default() += 1;
    }
    let with_place: usize = counts.values().sum();
    let mut top: Vec<(&str, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let label = format!("cluster {} ({} photos)", index + 1, size);
    let city = top
        .first()
        .filter(|(_, c)| with_place > 0 && *c * 10 >= with_place * 6 && *c * 2 >= size);
    let Some((city, _)) = city else { return label };
    let months: Vec<(i32, u8)> = member_months.iter().flatten().copied().collect();
    match (months.iter().min(), months.iter().max()) {
        (Some(a), Some(b)) if months.len() == size => {
            let range = if a == b {
                format!("{:04}-{:02}", a.0, a.1)
            } else {
                format!("{:04}-{:02} to {:04}-{:02}", a.0, a.1, b.0, b.1)
            };
            format!("{city} {range} ({size} photos)")
        }
        _ => format!("{city} ({size} photos)"),
    }
}

/// Groups near-duplicates and bursts by leader clustering: photos are visited in the given
/// order (the caller passes time order, so a burst's first shot leads it); each joins the first
/// group whose leader's dHash differs in at most `threshold` bits and for which `confirm`
/// agrees, else it leads a new group. Unlike transitive linking this cannot chain a slow pan
/// into one huge group. Returns one group id per photo (`None` for photos without a twin).
///
/// Candidate leaders come from exact matches on one of `threshold + 1` disjoint bit bands
/// (pigeonhole: two hashes within `threshold` bits agree on at least one band), so a library of
/// unrelated photos costs near-linear time instead of all n^2/2 comparisons.
pub fn near_duplicate_groups(
    hashes: &[u64],
    order: &[usize],
    threshold: u32,
    confirm: &dyn Fn(usize, usize) -> bool,
) -> Vec<Option<usize>> {
    let n = hashes.len();
    let bands = (threshold + 1).min(64) as usize;
    let band_bits: Vec<(u32, u64)> = (0..bands)
        .map(|b| {
            let start = (b * 64 / bands) as u32;
            let width = ((b + 1) * 64 / bands) as u32 - start;
            let mask = if width >= 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            (start, mask)
        })
        .collect();
    let mut buckets: Vec<HashMap<u64, Vec<usize>>> = vec![HashMap::new(); bands];
    let mut leader_of: Vec<Option<usize>> = vec![None; n];
    let mut rank: Vec<usize> = vec![usize::MAX; n];
    let mut leaders = 0;
    for &i in order {
        let h = hashes[i];
        // Earliest-created qualifying leader wins, whatever band found it first.
        let mut candidates: Vec<usize> = Vec::new();
        for (b, &(start, mask)) in band_bits.iter().enumerate() {
            if let Some(leaders) = buckets[b].get(&((h >> start) & mask)) {
                candidates.extend(
                    leaders
                        .iter()
                        .copied()
                        .filter(|&l| (hashes[l] ^ h).count_ones() <= threshold),
                );
            }
        }
        candidates.sort_unstable_by_key(|&l| rank[l]);
        candidates.dedup();
        let found = candidates.into_iter().find(|&l| confirm(l, i));
        match found {
            Some(l) => leader_of[i] = Some(l),
            None => {
                leader_of[i] = Some(i);
                rank[i] = leaders;
                leaders += 1;
                for (b, &(start, mask)) in band_bits.iter().enumerate() {
                    buckets[b].entry((h >> start) & mask).or_default().push(i);
                }
            }
        }
    }
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for l in leader_of.iter().flatten() {
        *sizes.entry(*l).or_default() += 1;
    }
    // Number groups in visiting order, so ids are stable for a fixed input.
    let mut ids: HashMap<usize, usize> = HashMap::new();
    let mut out = vec![None; n];
    for &i in order {
        if let Some(l) = leader_of[i] {
            if sizes[&l] > 1 {
                let next = ids.len();
                out[i] = Some(*ids.entry(l).or_insert(next));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_follow_leaders_not_chains() {
        let a = 0xFFFF_0000_FFFF_0000u64;
        let hashes = [a, a ^ 0b11, a ^ 0b1111, !a, 0x1234_5678_9ABC_DEF0, !a ^ 1];
        let order: Vec<usize> = (0..hashes.len()).collect();
        let g = near_duplicate_groups(&hashes, &order, 2, &|_, _| true);
        // 1 is 2 bits from leader 0; 2 is 4 bits from 0 (only 2 from 1): it does not chain in.
        assert_eq!(g, vec![Some(0), Some(0), None, Some(1), None, Some(1)]);
        assert_eq!(
            near_duplicate_groups(&hashes, &order, 0, &|_, _| true),
            vec![None; 6]
        );
        // A veto from the second check keeps them apart.
        assert_eq!(
            near_duplicate_groups(&hashes, &order, 2, &|_, _| false),
            vec![None; 6]
        );
    }

    #[test]
    fn banded_search_matches_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        use rand::Rng;
        let base: Vec<u64> = (0..40).map(|_| rng.gen()).collect();
        let mut hashes = base.clone();
        for h in &base {
            let flips = rng.gen_range(0..8);
            let mut v = *h;
            for _ in 0..flips {
                v ^= 1 << rng.gen_range(0..64);
            }
            hashes.push(v);
        }
        let order: Vec<usize> = (0..hashes.len()).collect();
        for t in [0, 3, 6] {
            let g = near_duplicate_groups(&hashes, &order, t, &|_, _| true);
            // Brute-force leader clustering gives the same partition.
            let mut leaders: Vec<usize> = Vec::new();
            let mut lead = vec![0; hashes.len()];
            for &i in &order {
                match leaders
                    .iter()
                    .find(|&&l| (hashes[l] ^ hashes[i]).count_ones() <= t)
                {
                    Some(&l) => lead[i] = l,
                    None => {
                        leaders.push(i);
                        lead[i] = i;
                    }
                }
            }
            for i in 0..hashes.len() {
                for j in 0..hashes.len() {
                    let same_brute = lead[i] == lead[j] && i != j;
                    assert_eq!(
                        same_brute,
                        i != j && g[i].is_some() && g[i] == g[j],
                        "t={t} {i} {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn separates_two_obvious_groups_and_reuses_model() {
        let rows: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                if i < 10 {
                    vec![0.0 + i as f32 * 0.01, 1.0]
                } else {
                    vec![5.0 + i as f32 * 0.01, -1.0]
                }
            })
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let (labels, model) =
            cluster_embeddings(&refs, KSelect::Auto { min: 2, max: 5 }, 1, None).unwrap();
        assert_eq!(model.centroids.len(), 2);
        assert!(labels[..10].iter().all(|&l| l == labels[0]));
        assert!(labels[10..].iter().all(|&l| l == labels[10]));
        assert_ne!(labels[0], labels[10]);
        assert!(model.silhouette.unwrap() > 0.9);
        let (again, _) = cluster_embeddings(&refs, KSelect::Fixed(2), 99, Some(&model)).unwrap();
        assert_eq!(again, labels);
    }

    #[test]
    fn names_from_members() {
        let cities = [Some("Oslo"), Some("Oslo"), None, Some("Bergen")];
        let months = [
            Some((2020, 7)),
            Some((2020, 8)),
            Some((2020, 7)),
            Some((2020, 7)),
        ];
        assert_eq!(
            cluster_name(0, &cities, &months),
            "Oslo 2020-07 to 2020-08 (4 photos)"
        );
        assert_eq!(
            cluster_name(2, &[None, None], &[None, None]),
            "cluster 3 (2 photos)"
        );
        assert_eq!(KSelect::parse("auto", AUTO_K), Ok(AUTO_K));
        // Never more than one album per 5 photos, never fewer than 2 albums.
        assert_eq!(album_k_candidates(AUTO_K, 340), 4..=16);
        assert_eq!(album_k_candidates(AUTO_K, 30), 4..=6);
        assert_eq!(album_k_candidates(AUTO_K, 12), 2..=2);
        assert_eq!(album_k_candidates(KSelect::Fixed(8), 5), 5..=5);
        assert!(KSelect::parse("0", AUTO_K).is_err());
    }
}
