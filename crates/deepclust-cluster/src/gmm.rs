//! Gaussian mixture with full covariances, fitted by EM (as scikit-learn's
//! `GaussianMixture(covariance_type="full")`): K-Means initialisation, `reg_covar` added to
//! each covariance diagonal, convergence on the change of the mean log-likelihood, restarts
//! kept by the highest likelihood (never by labels). All arithmetic in f64.

use crate::kmeans::KMeans;
use crate::{check_data, require_non_negative, require_positive, ClusterError};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Hyper-parameters of [`GaussianMixture`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmParams {
    pub n_components: usize,
    /// EM restarts (each initialised by K-Means with a different seed).
    pub n_init: usize,
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per sample changes by less than this.
    pub tol: f64,
    /// Added to the diagonal of every covariance, for numerical stability.
    pub reg_covar: f64,
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        Self {
            n_components: 1,
            n_init: 1,
            max_iter: 100,
            tol: 1e-3,
            reg_covar: 1e-6,
            seed: 0,
        }
    }
}

/// Progress of EM, reported after every iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GmmProgress {
    pub run: usize,
    pub iteration: usize,
    pub mean_log_likelihood: f64,
}

/// Entry point: `GaussianMixture::params(k)`.
pub struct GaussianMixture;

impl GaussianMixture {
    pub fn params(n_components: usize) -> GmmParams {
        GmmParams {
            n_components,
            ..GmmParams::default()
        }
    }
}

impl GmmParams {
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    pub fn reg_covar(mut self, reg_covar: f64) -> Self {
        self.reg_covar = reg_covar;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn validate(&self) -> Result<(), ClusterError> {
        require_positive("n_components", self.n_components)?;
        require_positive("n_init", self.n_init)?;
        require_positive("max_iter", self.max_iter)?;
        require_non_negative("tol", self.tol)?;
        require_non_negative("reg_covar", self.reg_covar)
    }

    pub fn fit(&self, x: ArrayView2<'_, f32>) -> Result<GmmModel, ClusterError> {
        self.fit_with(x, &mut |_| {}, &AtomicBool::new(false))
    }

    pub fn fit_with(
        &self,
        x: ArrayView2<'_, f32>,
        progress: &mut dyn FnMut(GmmProgress),
        cancel: &AtomicBool,
    ) -> Result<GmmModel, ClusterError> {
        self.validate()?;
        check_data(x)?;
        let n = x.nrows();
        let k = self.n_components;
        if k > n {
            return Err(ClusterError::TooManyClusters { k, n });
        }
        let x64 = x.mapv(f64::from);
        let mut best: Option<GmmModel> = None;
        for run in 0..self.n_init {
            let kmeans = KMeans::params(k)
                .n_init(1)
                .seed(self.seed.wrapping_add(run as u64))
                .fit(x)?;
            // Responsibilities start as the hard K-Means assignment (scikit-learn's init).
            let mut resp = Array2::<f64>::zeros((n, k));
            for (i, &l) in kmeans.labels().iter().enumerate() {
                resp[[i, l]] = 1.0;
            }
            let mut model = m_step(&x64, &resp, self.reg_covar)?;
            let mut previous = f64::NEG_INFINITY;
            for iteration in 1..=self.max_iter {
                if cancel.load(Ordering::Relaxed) {
                    return Err(ClusterError::Cancelled);
                }
                let mean_ll = model.e_step(&x64, &mut resp);
                progress(GmmProgress {
                    run,
                    iteration,
                    mean_log_likelihood: mean_ll,
                });
                model = m_step(&x64, &resp, self.reg_covar)?;
                model.n_iter = iteration;
                model.converged = (mean_ll - previous).abs() < self.tol;
                previous = mean_ll;
                if model.converged {
                    break;
                }
            }
            // The likelihood of the final parameters, for choosing among restarts.
            model.mean_log_likelihood = model.e_step(&x64, &mut resp);
            if best
                .as_ref()
                .is_none_or(|b| model.mean_log_likelihood > b.mean_log_likelihood)
            {
                best = Some(model);
            }
        }
        best.ok_or(ClusterError::InvalidParam {
            name: "n_init",
            reason: "must be at least 1".into(),
        })
    }
}

/// A fitted mixture: weights, means and full covariances (with their Cholesky factors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmModel {
    weights: Array1<f64>,
    means: Array2<f64>,
    covariances: Array3<f64>,
    /// Lower-triangular Cholesky factor of each covariance.
    cholesky: Array3<f64>,
    mean_log_likelihood: f64,
    n_iter: usize,
    converged: bool,
}

/// Cholesky factor of a symmetric positive definite matrix, or `None`.
fn cholesky(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[[i, j]];
            for p in 0..j {
                sum -= l[[i, p]] * l[[j, p]];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[[i, i]] = sum.sqrt();
            } else {
                l[[i, j]] = sum / l[[j, j]];
            }
        }
    }
    Some(l)
}

fn m_step(x: &Array2<f64>, resp: &Array2<f64>, reg_covar: f64) -> Result<GmmModel, ClusterError> {
    let (n, d) = x.dim();
    let k = resp.ncols();
    // 10 * machine epsilon keeps empty components from dividing by zero (as scikit-learn).
    let nk: Array1<f64> = resp.sum_axis(Axis(0)) + 10.0 * f64::EPSILON;
    let means = resp.t().dot(x) / nk.view().insert_axis(Axis(1));
    let mut covariances = Array3::<f64>::zeros((k, d, d));
    let mut chol = Array3::<f64>::zeros((k, d, d));
    /// A covariance and its Cholesky factor.
    type Factored = (Array2<f64>, Array2<f64>);
    let per_component: Vec<Result<Factored, ClusterError>> = (0..k)
        .into_par_iter()
        .map(|c| {
            let diff = x - &means.row(c);
            let weighted = &diff * &resp.column(c).insert_axis(Axis(1));
            let mut cov = weighted.t().dot(&diff) / nk[c];
            for j in 0..d {
                cov[[j, j]] += reg_covar;
            }
            let l = cholesky(cov.view()).ok_or(ClusterError::InvalidParam {
                name: "reg_covar",
                reason: format!(
                    "the covariance of component {c} is not positive definite; \
                     increase reg_covar or use fewer components"
                ),
            })?;
            Ok((cov, l))
        })
        .collect();
    for (c, result) in per_component.into_iter().enumerate() {
        let (cov, l) = result?;
        covariances.index_axis_mut(Axis(0), c).assign(&cov);
        chol.index_axis_mut(Axis(0), c).assign(&l);
    }
    Ok(GmmModel {
        weights: &nk / n as f64,
        means,
        covariances,
        cholesky: chol,
        mean_log_likelihood: f64::NAN,
        n_iter: 0,
        converged: false,
    })
}

impl GmmModel {
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }
    pub fn means(&self) -> &Array2<f64> {
        &self.means
    }
    pub fn covariances(&self) -> &Array3<f64> {
        &self.covariances
    }
    /// Mean log-likelihood per sample of the training data under the final parameters.
    pub fn mean_log_likelihood(&self) -> f64 {
        self.mean_log_likelihood
    }
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Free parameters: weights, means and full covariances.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = self.means.dim();
        (k - 1) + k * d + k * d * (d + 1) / 2
    }

    /// Bayesian information criterion on `n` samples of the training data (lower is better).
    pub fn bic(&self, n: usize) -> f64 {
        -2.0 * self.mean_log_likelihood * n as f64 + self.n_parameters() as f64 * (n as f64).ln()
    }

    /// `log(weight_c) + log N(x | mean_c, cov_c)` for every row and component.
    fn weighted_log_prob(&self, x: &Array2<f64>) -> Array2<f64> {
        let (n, d) = x.dim();
        let k = self.n_components();
        let mut out = Array2::<f64>::zeros((n, k));
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each(|(mut row_out, row)| {
                let mut z = vec![0.0f64; d];
                for c in 0..k {
                    let l = self.cholesky.index_axis(Axis(0), c);
                    // Solve L z = (x - mean) by forward substitution: Mahalanobis = |z|².
                    let mut log_det = 0.0;
                    for i in 0..d {
                        let mut s = row[i] - self.means[[c, i]];
                        for p in 0..i {
                            s -= l[[i, p]] * z[p];
                        }
                        z[i] = s / l[[i, i]];
                        log_det += l[[i, i]].ln();
                    }
                    let maha: f64 = z.iter().map(|v| v * v).sum();
                    row_out[c] = self.weights[c].ln() - 0.5 * (d as f64 * log_2pi + maha) - log_det;
                }
            });
        out
    }

    /// Fills `resp` with the posterior probabilities; returns the mean log-likelihood.
    fn e_step(&self, x: &Array2<f64>, resp: &mut Array2<f64>) -> f64 {
        let log_prob = self.weighted_log_prob(x);
        let mut total = 0.0;
        for (mut r, lp) in resp.axis_iter_mut(Axis(0)).zip(log_prob.axis_iter(Axis(0))) {
            let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = lp.iter().map(|v| (v - max).exp()).sum();
            let log_norm = max + sum.ln();
            total += log_norm;
            for (dst, v) in r.iter_mut().zip(lp.iter()) {
                *dst = (v - log_norm).exp();
            }
        }
        total / x.nrows() as f64
    }

    fn check(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f64>, ClusterError> {
        check_data(x)?;
        if x.ncols() != self.means.ncols() {
            return Err(ClusterError::DimensionMismatch {
                expected: self.means.ncols(),
                found: x.ncols(),
            });
        }
        Ok(x.mapv(f64::from))
    }

    /// Posterior probability of every component for every row (`n x k`).
    pub fn predict_proba(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f64>, ClusterError> {
        let x = self.check(x)?;
        let mut resp = Array2::zeros((x.nrows(), self.n_components()));
        self.e_step(&x, &mut resp);
        Ok(resp)
    }

    /// The component of highest responsibility for every row.
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, ClusterError> {
        let proba = self.predict_proba(x)?;
        Ok(proba
            .axis_iter(Axis(0))
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
                        if v > best.1 {
                            (i, v)
                        } else {
                            best
                        }
                    })
                    .0
            })
            .collect())
    }

    /// Mean log-likelihood per sample of `x`.
    pub fn score(&self, x: ArrayView2<'_, f32>) -> Result<f64, ClusterError> {
        let x = self.check(x)?;
        let mut resp = Array2::zeros((x.nrows(), self.n_components()));
        Ok(self.e_step(&x, &mut resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_reconstructs() {
        let a = array![[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
        let l = cholesky(a.view()).unwrap();
        let back = l.dot(&l.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(cholesky(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
    }

    #[test]
    fn log_density_matches_closed_form() {
        // One 2-D component, mean (1, -1), covariance diag(4, 0.25): log N at (2, 0) is
        // -log(2π) - ½ log(4 * 0.25) - ½ (1/4 + 1/0.25).
        let model = GmmModel {
            weights: array![1.0],
            means: array![[1.0, -1.0]],
            covariances: Array3::from_shape_vec((1, 2, 2), vec![4.0, 0.0, 0.0, 0.25]).unwrap(),
            cholesky: Array3::from_shape_vec((1, 2, 2), vec![2.0, 0.0, 0.0, 0.5]).unwrap(),
            mean_log_likelihood: 0.0,
            n_iter: 0,
            converged: true,
        };
        let got = model.score(array![[2.0f32, 0.0]].view()).unwrap();
        let want = -(2.0 * std::f64::consts::PI).ln() - 0.5 * (1.0f64).ln() - 0.5 * (0.25 + 4.0);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}
