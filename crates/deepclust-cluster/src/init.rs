//! Centre initialisation: greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's
//! `2 + ln k` local trials per centre) and uniform random rows.

use crate::assign::pairwise_sq_dists;
use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Greedy k-means++ on the rows of `x` (contiguous `flat`, `x_sq` its squared row norms).
pub(crate) fn kmeans_plus_plus(
    x: ArrayView2<'_, f32>,
    flat: &[f32],
    x_sq: &[f32],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    let (n, d) = x.dim();
    let n_local_trials = 2 + (k as f64).ln() as usize;
    let mut centers = Array2::<f32>::zeros((k, d));
    let first = rng.gen_range(0..n);
    centers.row_mut(0).assign(&x.row(first));
    let mut closest: Vec<f32> =
        pairwise_sq_dists(flat, d, x_sq, x.slice(ndarray::s![first..first + 1, ..]))
            .into_raw_vec_and_offset()
            .0;
    let mut potential: f64 = closest.iter().map(|&v| f64::from(v)).sum();
    let mut cumulative = vec![0.0f64; n];
    for c in 1..k {
        let mut running = 0.0f64;
        for (cum, &v) in cumulative.iter_mut().zip(&closest) {
            running += f64::from(v);
            *cum = running;
        }
        let candidates: Vec<usize> = (0..n_local_trials)
            .map(|_| {
                if potential <= 0.0 {
                    // Every point coincides with a centre already: any row will do.
                    return rng.gen_range(0..n);
                }
                let target = rng.gen::<f64>() * running;
                cumulative.partition_point(|&v| v < target).min(n - 1)
            })
            .collect();
        let candidate_rows = x.select(Axis(0), &candidates);
        let dists = pairwise_sq_dists(flat, d, x_sq, candidate_rows.view());
        let mut best: Option<(f64, usize)> = None;
        for (t, column) in dists.axis_iter(Axis(1)).enumerate() {
            let pot: f64 = column
                .iter()
                .zip(&closest)
                .map(|(&a, &b)| f64::from(a.min(b)))
                .sum();
            if best.is_none_or(|(p, _)| pot < p) {
                best = Some((pot, t));
            }
        }
        let (pot, t) = best.unwrap_or((potential, 0));
        potential = pot;
        for (cl, &v) in closest.iter_mut().zip(dists.column(t)) {
            *cl = cl.min(v);
        }
        centers.row_mut(c).assign(&candidate_rows.row(t));
    }
    centers
}

/// `k` distinct rows chosen uniformly at random.
pub(crate) fn random_rows(x: ArrayView2<'_, f32>, k: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let rows = rand::seq::index::sample(rng, x.nrows(), k).into_vec();
    x.select(Axis(0), &rows)
}
