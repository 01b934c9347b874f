//! Spectral initialisation as umap-learn's `spectral_layout`: the eigenvectors of the
//! normalised Laplacian `L = I − D^{-1/2} W D^{-1/2}` with the smallest non-trivial
//! eigenvalues.
//!
//! umap-learn calls ARPACK (Lanczos). Here: block subspace iteration on
//! `M = (I + D^{-1/2} W D^{-1/2}) / 2`, whose largest eigenvalues (in [0, 1]) are the smallest of
//! `L`, with the trivial eigenvector `√deg` deflated exactly (umap-learn also seeds it), a few
//! extra vectors to speed convergence, Cholesky-QR orthonormalisation and a final
//! Rayleigh–Ritz step. The result only initialises the SGD, so it stops at a modest tolerance.
//! Disconnected graphs need no special case: the extra eigenvalue-1 vectors are component
//! indicators, which separate the components in the initial layout.

use crate::fuzzy::FuzzyGraph;
use crate::ManifoldError;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// `out = M v` for a row-major `n x m` block.
fn apply_m(g: &FuzzyGraph, inv_sqrt_deg: &[f64], v: &[f64], out: &mut [f64], m: usize) {
    out.par_chunks_mut(m).enumerate().for_each(|(i, o)| {
        let (cols, w) = g.row(i);
        o.iter_mut().for_each(|x| *x = 0.0);
        for (&j, &wij) in cols.iter().zip(w) {
            let s = wij as f64 * inv_sqrt_deg[j as usize];
            let vj = &v[j as usize * m..][..m];
            for (x, &y) in o.iter_mut().zip(vj) {
                *x += s * y;
            }
        }
        let si = inv_sqrt_deg[i];
        let vi = &v[i * m..][..m];
        for (x, &y) in o.iter_mut().zip(vi) {
            *x = 0.5 * (y + si * *x);
        }
    });
}

/// `a' b` for row-major `n x m` blocks (m x m result), summed in fixed row chunks so the
/// result does not depend on the thread count.
fn gram(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    const ROWS: usize = 1024;
    let parts: Vec<Vec<f64>> = a
        .par_chunks(ROWS * m)
        .zip(b.par_chunks(ROWS * m))
        .map(|(ac, bc)| {
            let mut g = vec![0.0; m * m];
            for (ar, br) in ac.chunks(m).zip(bc.chunks(m)) {
                for p in 0..m {
                    let ap = ar[p];
                    for q in 0..m {
                        g[p * m + q] += ap * br[q];
                    }
                }
            }
            g
        })
        .collect();
    let mut g = vec![0.0; m * m];
    for p in parts {
        for (x, y) in g.iter_mut().zip(p) {
            *x += y;
        }
    }
    g
}

/// Removes the component along the unit vector `u` from every column of `v`.
fn deflate(v: &mut [f64], u: &[f64], m: usize) {
    let mut c = vec![0.0; m];
    for (ui, row) in u.iter().zip(v.chunks(m)) {
        for (cq, &x) in c.iter_mut().zip(row) {
            *cq += ui * x;
        }
    }
    v.par_chunks_mut(m)
        .zip(u.par_iter())
        .for_each(|(row, &ui)| {
            for (x, &cq) in row.iter_mut().zip(&c) {
                *x -= ui * cq;
            }
        });
}

/// Cholesky factor (lower) of an `m x m` SPD matrix; `None` if not positive definite.
fn cholesky(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            if i == j {
                if s <= 1e-300 {
                    return None;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    Some(l)
}

/// Orthonormalises the columns of `v` (Cholesky-QR, applied twice for accuracy). Returns
/// false if the block stays rank-deficient after a few random perturbations.
fn orthonormalise(v: &mut [f64], m: usize, rng: &mut ChaCha8Rng) -> bool {
    for _ in 0..2 {
        let mut g = gram(v, v, m);
        let mut tries = 0;
        let l = loop {
            match cholesky(&g, m) {
                Some(l) => break l,
                None if tries < 5 => {
                    // Rank-deficient block: perturb it slightly and retry.
                    tries += 1;
                    v.iter_mut()
                        .for_each(|x| *x += 1e-8 * (rng.gen::<f64>() - 0.5));
                    g = gram(v, v, m);
                }
                None => return false,
            }
        };
        // v <- v L^{-T}: solve row by row, r L^T = v_row.
        v.par_chunks_mut(m).for_each(|row| {
            for j in 0..m {
                let mut s = row[j];
                for k in 0..j {
                    s -= row[k] * l[j * m + k];
                }
                row[j] = s / l[j * m + j];
            }
        });
    }
    true
}

/// Eigen-decomposition of a symmetric `m x m` matrix by cyclic Jacobi rotations:
/// eigenvalues and row-major eigenvectors (column `c` is the vector of value `c`).
pub(crate) fn jacobi_eigen(a: &[f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; m * m];
    for i in 0..m {
        v[i * m + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j] * a[i * m + j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                let apq = a[p * m + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..m {
                    let (akp, akq) = (a[k * m + p], a[k * m + q]);
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let (apk, aqk) = (a[p * m + k], a[q * m + k]);
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let (vkp, vkq) = (v[k * m + p], v[k * m + q]);
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..m).map(|i| a[i * m + i]).collect(), v)
}

/// Largest relative residual `||M y − θ y|| / θ` over the `dim` leading Ritz pairs of the
/// orthonormal block `v`, given `w = M v`.
fn ritz_residual(v: &[f64], w: &[f64], m: usize, dim: usize) -> (f64, f64) {
    let h = gram(v, w, m);
    let (vals, vecs) = jacobi_eigen(&h, m);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let top = &order[..dim];
    // Fixed row chunks summed in order: the stopping decision does not depend on the
    // thread count.
    const ROWS: usize = 1024;
    let parts: Vec<Vec<f64>> = v
        .par_chunks(ROWS * m)
        .zip(w.par_chunks(ROWS * m))
        .map(|(vc, wc)| {
            let mut acc = vec![0.0f64; dim];
            for (vr, wr) in vc.chunks(m).zip(wc.chunks(m)) {
                for (c, &o) in top.iter().enumerate() {
                    let mut r = 0.0;
                    for q in 0..m {
                        r += (wr[q] - vals[o] * vr[q]) * vecs[q * m + o];
                    }
                    acc[c] += r * r;
                }
            }
            acc
        })
        .collect();
    let mut sums = vec![0.0f64; dim];
    for p in parts {
        sums.iter_mut().zip(p).for_each(|(x, y)| *x += y);
    }
    let residual = top
        .iter()
        .zip(sums)
        .map(|(&o, s)| s.sqrt() / vals[o].abs().max(1e-12))
        .fold(0.0, f64::max);
    (residual, vals[order[m - 1]])
}

/// Replaces the block `x` by `p(M) x`, where `p` is the degree-`degree` Chebyshev polynomial
/// that stays within ±1 on `[0, cut]` (the unwanted part of the spectrum of `M`, which lies in
/// [0, 1]) and grows fast above `cut`, scaled to 1 at the top eigenvalue 1 (Zhou & Saad's
/// filtered subspace iteration). Far faster than plain powers of `M` when the wanted
/// eigenvalues crowd near 1, as they do for clustered data.
#[allow(clippy::too_many_arguments)]
fn chebyshev_filter(
    g: &FuzzyGraph,
    inv_sqrt_deg: &[f64],
    x: &mut Vec<f64>,
    y: &mut Vec<f64>,
    tmp: &mut Vec<f64>,
    m: usize,
    degree: usize,
    cut: f64,
) {
    let cut = cut.clamp(0.0, 0.999);
    let (lo, hi, top) = (0.0f64, cut, 1.0f64);
    let e = (hi - lo) / 2.0;
    let c = (hi + lo) / 2.0;
    let mut sigma = e / (top - c);
    let tau = 2.0 / sigma;
    // y = (M x − c x) σ / e
    apply_m(g, inv_sqrt_deg, x, y, m);
    let s1 = sigma / e;
    y.par_iter_mut()
        .zip(x.par_iter())
        .for_each(|(yv, &xv)| *yv = (*yv - c * xv) * s1);
    for _ in 1..degree {
        let sigma_new = 1.0 / (tau - sigma);
        // tmp = 2σ'/e (M y − c y) − σσ' x
        apply_m(g, inv_sqrt_deg, y, tmp, m);
        let (f1, f2) = (2.0 * sigma_new / e, sigma * sigma_new);
        tmp.par_iter_mut()
            .zip(y.par_iter())
            .zip(x.par_iter())
            .for_each(|((t, &yv), &xv)| *t = f1 * (*t - c * yv) - f2 * xv);
        // (x, y) <- (y, tmp)
        std::mem::swap(x, y);
        std::mem::swap(y, tmp);
        sigma = sigma_new;
    }
    std::mem::swap(x, y);
}

/// Result of [`spectral_layout`]: `n x dim` coordinates.
pub(crate) struct Spectral {
    pub coords: Array2<f32>,
}

/// The `dim` non-trivial eigenvectors of the normalised Laplacian with smallest eigenvalues.
/// Returns `None` when the graph is too small for `dim` of them (the caller falls back to a
/// random layout, as umap-learn does).
pub(crate) fn spectral_layout(
    g: &FuzzyGraph,
    dim: usize,
    max_iter: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Option<Spectral>, ManifoldError> {
    let n = g.n;
    let m = (dim + 8).min(n.saturating_sub(1));
    if n < dim + 2 || m < dim {
        return Ok(None);
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| g.row(i).1.iter().map(|&w| w as f64).sum())
        .collect();
    let inv_sqrt_deg: Vec<f64> = deg
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 })
        .collect();
    let norm = deg.iter().sum::<f64>().sqrt();
    if norm == 0.0 {
        return Ok(None);
    }
    let u0: Vec<f64> = deg.iter().map(|&d| d.sqrt() / norm).collect();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(7);
    let mut v: Vec<f64> = (0..n * m).map(|_| rng.gen::<f64>() - 0.5).collect();
    deflate(&mut v, &u0, m);
    if !orthonormalise(&mut v, m, &mut rng) {
        return Ok(None);
    }
    let mut w = vec![0.0; n * m];
    let mut tmp = vec![0.0; n * m];
    // ARPACK's criterion with umap-learn's tolerance: ||Mx − θx|| <= tol·θ for the wanted pairs.
    const TOL: f64 = 1e-4;
    // Chebyshev filter degree: matrix products per subspace update.
    const DEGREE: usize = 8;
    apply_m(g, &inv_sqrt_deg, &v, &mut w, m);
    let mut matvecs = 1;
    let (_, mut cut) = ritz_residual(&v, &w, m, dim);
    while matvecs + DEGREE < max_iter {
        if cancel.load(Ordering::Relaxed) {
            return Err(ManifoldError::Cancelled);
        }
        chebyshev_filter(g, &inv_sqrt_deg, &mut v, &mut w, &mut tmp, m, DEGREE, cut);
        deflate(&mut v, &u0, m);
        if !orthonormalise(&mut v, m, &mut rng) {
            return Ok(None);
        }
        apply_m(g, &inv_sqrt_deg, &v, &mut w, m);
        matvecs += DEGREE + 1;
        let (residual, smallest_ritz) = ritz_residual(&v, &w, m, dim);
        progress(matvecs, max_iter);
        if residual < TOL {
            break;
        }
        cut = smallest_ritz;
    }
    // Rayleigh–Ritz: rotate the basis onto the approximate eigenvectors, largest first.
    apply_m(g, &inv_sqrt_deg, &v, &mut w, m);
    let h = gram(&v, &w, m);
    let (vals, vecs) = jacobi_eigen(&h, m);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let mut coords = Array2::<f32>::zeros((n, dim));
    for (i, row) in v.chunks(m).enumerate() {
        for (c, &o) in order[..dim].iter().enumerate() {
            let mut s = 0.0;
            for (q, &x) in row.iter().enumerate() {
                s += x * vecs[q * m + o];
            }
            coords[[i, c]] = s as f32;
        }
    }
    if coords.iter().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    Ok(Some(Spectral { coords }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ring graph of `n` nodes: its normalised Laplacian has eigenvalues 1 − cos(2πk/n).
    fn ring(n: usize) -> FuzzyGraph {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        let mut weights = Vec::new();
        for i in 0..n {
            let mut nb = [(i + n - 1) % n, (i + 1) % n];
            nb.sort();
            for j in nb {
                indices.push(j as u32);
                weights.push(1.0);
            }
            indptr.push(indices.len());
        }
        FuzzyGraph {
            n,
            indptr,
            indices,
            weights,
        }
    }

    #[test]
    fn jacobi_diagonalises() {
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 1.0];
        let (vals, vecs) = jacobi_eigen(&a, 3);
        for c in 0..3 {
            for r in 0..3 {
                let av: f64 = (0..3).map(|k| a[r * 3 + k] * vecs[k * 3 + c]).sum();
                assert!((av - vals[c] * vecs[r * 3 + c]).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn ring_eigenvectors_are_the_first_fourier_modes() {
        // The two smallest non-trivial eigenvectors of a ring span {cos, sin}(2πi/n).
        let n = 60;
        let g = ring(n);
        let s = spectral_layout(&g, 2, 2000, 1, &mut |_, _| {}, &AtomicBool::new(false))
            .unwrap()
            .unwrap();
        for c in 0..2 {
            let col = s.coords.column(c);
            let norm = col.dot(&col).sqrt();
            let proj: f32 = [
                (0..n)
                    .map(|i| (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
                    .collect::<Vec<_>>(),
                (0..n)
                    .map(|i| (2.0 * std::f32::consts::PI * i as f32 / n as f32).sin())
                    .collect::<Vec<_>>(),
            ]
            .iter()
            .map(|b| {
                let bn = b.iter().map(|x| x * x).sum::<f32>().sqrt();
                let d: f32 = col.iter().zip(b).map(|(x, y)| x * y).sum();
                (d / (norm * bn)).powi(2)
            })
            .sum();
            assert!(proj > 0.99, "column {c}: squared projection {proj}");
        }
    }
}
