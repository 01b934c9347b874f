//! `deepclust._core`: the Rust side of the Python package. Each fit function takes a
//! C-contiguous float32 array (the Python estimators convert what they are given, copying
//! only when needed), runs the library's method on a worker thread with the GIL released,
//! delivers progress to a callback on the calling thread, turns Ctrl-C into the library's
//! cancel flag, and returns a [`Model`] with the fitted labels. Parameter errors become
//! `ValueError`, everything else `RuntimeError`, with the library's message.

mod convert;
mod model;
mod organize;
mod run;

use convert::{array2, labels_out, matrix_out, MethodErr};
use deepclust::cluster::KSelect;
use deepclust::control::Control;
use deepclust::data::Dataset;
use deepclust::method::{
    place_in_layout, select_k, AeSource, Dec, GaussianMixture, KMeans, Method, MiniBatchKMeans,
    N2d, Pretrained,
};
use deepclust::nn::{Augmentation, AutoencoderConfig, DecConfig, Optimizer};
use model::Model;
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use run::run_detached;

/// The rows of a fit as the library's dataset (one copy: the methods own their rows).
fn dataset(x: &PyReadonlyArray2<'_, f32>) -> PyResult<Dataset> {
    let view = array2(x)?;
    Dataset::from_features(view.to_owned(), None, "a NumPy array")
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// `n_clusters` as given by Python: a number, or `(min, max)` for "auto".
#[derive(FromPyObject)]
enum Clusters {
    Fixed(usize),
    Range(usize, usize),
}

type FitResult<'py> = (Model, Bound<'py, PyAny>, Bound<'py, PyDict>);
/// The model, the labels, the UMAP layout, what the fit reports.
type N2dResult<'py> = (
    Model,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyDict>,
);

/// K-Means (or mini-batch K-Means with `batch_size`); `n_clusters=(min, max)` keeps the k of
/// highest silhouette.
#[pyfunction]
#[pyo3(signature = (x, n_clusters, n_init, max_iter, tol, seed, batch_size=None, max_epochs=100, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
fn kmeans_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_clusters: Clusters,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
    batch_size: Option<usize>,
    max_epochs: usize,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<FitResult<'py>> {
    let data = dataset(&x)?;
    let full = |k: usize| {
        KMeans::params(k)
            .n_init(n_init)
            .max_iter(max_iter)
            .tol(tol)
            .seed(seed)
    };
    let mini = |k: usize, b: usize| {
        MiniBatchKMeans::params(k)
            .batch_size(b)
            .max_epochs(max_epochs)
            .n_init(n_init)
            .seed(seed)
    };
    let (fitted, silhouette) =
        run_detached(py, callback.as_ref(), verbose, |ctl: &Control| {
            match (n_clusters, batch_size) {
                (Clusters::Fixed(k), None) => full(k).fit(&data, ctl).map(|f| (f, Vec::new())),
                (Clusters::Fixed(k), Some(b)) => {
                    mini(k, b).fit(&data, ctl).map(|f| (f, Vec::new()))
                }
                (Clusters::Range(lo, hi), None) => select_k(full, &data, (lo, hi), seed, ctl),
                (Clusters::Range(lo, hi), Some(b)) => {
                    select_k(|k| mini(k, b), &data, (lo, hi), seed, ctl)
                }
            }
        })?;
    let info = PyDict::new(py);
    info.set_item("inertia", fitted.model.inertia())?;
    info.set_item("n_iter", fitted.model.n_iter())?;
    info.set_item("seconds", fitted.clustering.seconds())?;
    info.set_item("warnings", fitted.model.warnings())?;
    info.set_item("silhouette", silhouette)?;
    let labels = labels_out(py, &fitted.clustering.labels);
    Ok((Model::from(fitted.model), labels, info))
}

/// A full-covariance Gaussian mixture; `n_components=(min, max)` keeps the k of highest
/// silhouette.
#[pyfunction]
#[pyo3(signature = (x, n_components, n_init, max_iter, tol, reg_covar, seed, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
fn gmm_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_components: Clusters,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    seed: u64,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<FitResult<'py>> {
    let data = dataset(&x)?;
    let make = |k: usize| {
        let mut m = GaussianMixture::params(k)
            .n_init(n_init)
            .max_iter(max_iter)
            .tol(tol)
            .seed(seed);
        m.params.reg_covar = reg_covar;
        m
    };
    let (fitted, silhouette) =
        run_detached(py, callback.as_ref(), verbose, |ctl| match n_components {
            Clusters::Fixed(k) => make(k).fit(&data, ctl).map(|f| (f, Vec::new())),
            Clusters::Range(lo, hi) => select_k(make, &data, (lo, hi), seed, ctl),
        })?;
    let info = PyDict::new(py);
    info.set_item("converged", fitted.model.converged())?;
    info.set_item("n_iter", fitted.model.n_iter())?;
    info.set_item("lower_bound", fitted.model.mean_log_likelihood())?;
    info.set_item("seconds", fitted.clustering.seconds())?;
    info.set_item("silhouette", silhouette)?;
    let labels = labels_out(py, &fitted.clustering.labels);
    Ok((Model::from(fitted.model), labels, info))
}

/// The autoencoder's settings as the Python estimators pass them (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct AeArgs {
    /// Widths after the input; the last is the code.
    dims: Vec<usize>,
    epochs: usize,
    batch_size: usize,
    optimizer: String,
    lr: f32,
    momentum: f32,
    seed: u64,
    /// `(height, width, max_shift, max_rotation_degrees)`: DEC-DA augmentation of images.
    augment: Option<(usize, usize, f32, f32)>,
}

impl AeArgs {
    fn config(&self, input_dim: usize) -> PyResult<AutoencoderConfig> {
        let optimizer = match self.optimizer.as_str() {
            "adam" => Optimizer::adam(),
            "sgd" => Optimizer::sgd(self.momentum),
            other => {
                return Err(PyValueError::new_err(format!(
                    "optimizer must be 'adam' or 'sgd', got {other:?}"
                )))
            }
        };
        let mut dims = vec![input_dim];
        dims.extend(&self.dims);
        let augmentation = self
            .augment
            .map(|(h, w, shift, rot)| {
                if h * w != input_dim {
                    return Err(PyValueError::new_err(format!(
                        "augmentation needs images: {h} x {w} is not the {input_dim} features"
                    )));
                }
                Ok(Augmentation::dec_da(h, w)
                    .max_shift(shift)
                    .max_rotation_degrees(rot))
            })
            .transpose()?;
        Ok(AutoencoderConfig::default()
            .dims(dims)
            .epochs(self.epochs)
            .batch_size(self.batch_size)
            .optimizer(optimizer, self.lr)
            .seed(self.seed)
            .augmentation(augmentation))
    }
}

/// Trains an autoencoder (`dims`: the widths after the input, the last is the code).
#[pyfunction]
#[pyo3(signature = (x, ae, callback=None, verbose=false))]
fn autoencoder_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    ae: AeArgs,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<Model> {
    let data = dataset(&x)?;
    let config = ae.config(data.dim())?;
    let pretrained = run_detached(py, callback.as_ref(), verbose, |ctl| {
        AeSource::Train(config).obtain(&data, None, None, ctl)
    })?;
    Ok(Model::from(pretrained.autoencoder))
}

/// The autoencoder a DEC or N2D fit starts from: a fitted one, or one trained from `ae`.
fn encoder_source(
    pretrained: Option<&Model>,
    ae: Option<&AeArgs>,
    dim: usize,
) -> PyResult<Encoder> {
    match (pretrained, ae) {
        (Some(m), _) => Ok(Encoder::Fitted(m.autoencoder()?.clone())),
        (None, Some(a)) => Ok(Encoder::Train(a.config(dim)?)),
        (None, None) => Ok(Encoder::None),
    }
}

enum Encoder {
    Fitted(deepclust::nn::Autoencoder),
    Train(AutoencoderConfig),
    None,
}

/// DEC (or IDEC with `gamma`) on a fitted autoencoder or one trained first.
#[pyfunction]
#[pyo3(signature = (x, n_clusters, ae, pretrained, maxiter, tol, update_interval, lr, batch_size, alpha, gamma, kmeans_n_init, seed, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
fn dec_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_clusters: usize,
    ae: Option<AeArgs>,
    pretrained: Option<PyRef<'py, Model>>,
    maxiter: usize,
    tol: f64,
    update_interval: usize,
    lr: f32,
    batch_size: usize,
    alpha: f32,
    gamma: Option<f32>,
    kmeans_n_init: usize,
    seed: u64,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<FitResult<'py>> {
    let data = dataset(&x)?;
    let mut config = DecConfig::dec(n_clusters)
        .maxiter(maxiter)
        .tol(tol)
        .update_interval(update_interval)
        .optimizer(Optimizer::sgd(0.9), lr)
        .batch_size(batch_size)
        .alpha(alpha)
        .kmeans_n_init(kmeans_n_init)
        .seed(seed)
        .gamma(gamma);
    if let Some(a) = ae.as_ref().and_then(|a| a.augment) {
        config = config.augmentation(Some(
            Augmentation::dec_da(a.0, a.1)
                .max_shift(a.2)
                .max_rotation_degrees(a.3),
        ));
    }
    let encoder = encoder_source(pretrained.as_deref(), ae.as_ref(), data.dim())?;
    let fitted = run_detached(py, callback.as_ref(), verbose, |ctl| match encoder {
        Encoder::Fitted(autoencoder) => {
            let start = Pretrained {
                autoencoder,
                seconds: 0.0,
                epochs_trained: 0,
                epochs_before: None,
                saved_in: None,
            };
            Dec::params(n_clusters)
                .config(config)
                .fit_from(start, &data, ctl)
        }
        Encoder::Train(c) => Dec::params(n_clusters)
            .config(config)
            .encoder(AeSource::Train(c))
            .fit(&data, ctl),
        Encoder::None => Err(deepclust::method::MethodError::InvalidParam(
            "DEC needs an autoencoder: pass its settings or a fitted one".into(),
        )),
    })?;
    let info = PyDict::new(py);
    let outcome = &fitted.details.outcome;
    info.set_item("n_iter", outcome.iterations)?;
    info.set_item("stop", format!("{:?}", outcome.stop))?;
    info.set_item("seconds", fitted.clustering.seconds())?;
    info.set_item("pretrain_seconds", fitted.details.pretrained.seconds)?;
    let labels = labels_out(py, &fitted.clustering.labels);
    Ok((Model::from(fitted.model), labels, info))
}

/// N2D: the code (an autoencoder's, or the rows as given), UMAP, a Gaussian mixture.
/// Returns the model, the labels, the UMAP layout and what the fit reports.
#[pyfunction]
#[pyo3(signature = (x, n_clusters, ae, pretrained, n_neighbors, restarts, gmm_n_init, umap_dims, seed, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
fn n2d_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_clusters: Clusters,
    ae: Option<AeArgs>,
    pretrained: Option<PyRef<'py, Model>>,
    n_neighbors: usize,
    restarts: usize,
    gmm_n_init: usize,
    umap_dims: Option<usize>,
    seed: u64,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<N2dResult<'py>> {
    let data = dataset(&x)?;
    let clusters = match n_clusters {
        Clusters::Fixed(k) => KSelect::Fixed(k),
        Clusters::Range(min, max) => KSelect::Auto { min, max },
    };
    let mut method = N2d::params(clusters)
        .n_neighbors(n_neighbors)
        .restarts(restarts)
        .gmm_n_init(gmm_n_init)
        .seed(seed);
    method.params.umap_dims = umap_dims;
    let encoder = encoder_source(pretrained.as_deref(), ae.as_ref(), data.dim())?;
    let fitted = run_detached(py, callback.as_ref(), verbose, |ctl| match encoder {
        Encoder::Fitted(autoencoder) => {
            let codes = autoencoder
                .encode(data.features.view())
                .map_err(deepclust::method::MethodError::from)?;
            method.fit_codes(codes, Some(autoencoder), ctl)
        }
        Encoder::Train(c) => method.encoder(AeSource::Train(c)).fit(&data, ctl),
        Encoder::None => method.fit(&data, ctl),
    })?;
    let info = PyDict::new(py);
    let d = &fitted.details;
    info.set_item("n_clusters", fitted.clustering.n_clusters)?;
    info.set_item("bic", d.bic.clone())?;
    info.set_item("silhouette", d.silhouette.clone())?;
    info.set_item("restart_agreement", d.restart_agreement.clone())?;
    info.set_item("umap_seconds", d.umap_seconds)?;
    info.set_item("gmm_seconds", d.gmm_seconds)?;
    info.set_item("seconds", fitted.clustering.seconds())?;
    let labels = labels_out(py, &fitted.clustering.labels);
    let layout = matrix_out(py, fitted.model.layout.view());
    Ok((Model::from(fitted.model), labels, layout, info))
}

/// UMAP of the rows (umap-learn's algorithm); the layout as a float32 array.
#[pyfunction]
#[pyo3(signature = (x, n_components, n_neighbors, min_dist, spread, n_epochs, learning_rate, seed, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
fn umap_fit_transform<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_components: usize,
    n_neighbors: usize,
    min_dist: f32,
    spread: f32,
    n_epochs: Option<usize>,
    learning_rate: f32,
    seed: u64,
    callback: Option<Bound<'py, PyAny>>,
    verbose: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let view = array2(&x)?;
    let mut params = deepclust::manifold::Umap::params()
        .n_components(n_components)
        .n_neighbors(n_neighbors)
        .min_dist(min_dist)
        .spread(spread)
        .learning_rate(learning_rate)
        .seed(seed);
    params.n_epochs = n_epochs;
    let layout = run_detached(py, callback.as_ref(), verbose, |ctl| {
        params
            .fit_transform(
                view,
                &mut |p| ctl.report(deepclust::control::Progress::Umap(p)),
                ctl.cancel_flag(),
            )
            .map_err(deepclust::method::MethodError::from)
    })?;
    Ok(matrix_out(py, layout.view()))
}

/// Positions of new rows in a UMAP layout fitted on `fitted` (umap-learn's transform start).
#[pyfunction]
fn umap_place<'py>(
    py: Python<'py>,
    fitted: PyReadonlyArray2<'py, f32>,
    layout: PyReadonlyArray2<'py, f32>,
    n_neighbors: usize,
    new: PyReadonlyArray2<'py, f32>,
) -> PyResult<Bound<'py, PyAny>> {
    let (f, l, n) = (array2(&fitted)?, array2(&layout)?, array2(&new)?);
    let placed = py
        .detach(|| place_in_layout(f, l, n_neighbors, n))
        .map_err(MethodErr)?;
    Ok(matrix_out(py, placed.view()))
}

/// Labels as the metrics take them: any integers, renumbered 0.. in order of first sight.
fn dense(labels: &[i64]) -> Vec<usize> {
    let mut ids = std::collections::HashMap::new();
    labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(*l).or_insert(next)
        })
        .collect()
}

fn scores(labels_true: Vec<i64>, labels_pred: Vec<i64>) -> PyResult<deepclust::metrics::Scores> {
    deepclust::metrics::scores(&dense(&labels_true), &dense(&labels_pred))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Normalized mutual information (arithmetic mean, as scikit-learn's default).
#[pyfunction]
fn nmi(labels_true: Vec<i64>, labels_pred: Vec<i64>) -> PyResult<f64> {
    Ok(scores(labels_true, labels_pred)?.nmi)
}

/// Clustering accuracy: the share of rows right under the best one-to-one matching of
/// clusters to classes (Hungarian algorithm).
#[pyfunction]
fn acc(labels_true: Vec<i64>, labels_pred: Vec<i64>) -> PyResult<f64> {
    Ok(scores(labels_true, labels_pred)?.acc)
}

/// Adjusted Rand index.
#[pyfunction]
fn ari(labels_true: Vec<i64>, labels_pred: Vec<i64>) -> PyResult<f64> {
    Ok(scores(labels_true, labels_pred)?.ari)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(kmeans_fit, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_fit, m)?)?;
    m.add_function(wrap_pyfunction!(autoencoder_fit, m)?)?;
    m.add_function(wrap_pyfunction!(dec_fit, m)?)?;
    m.add_function(wrap_pyfunction!(n2d_fit, m)?)?;
    m.add_function(wrap_pyfunction!(umap_fit_transform, m)?)?;
    m.add_function(wrap_pyfunction!(umap_place, m)?)?;
    m.add_function(wrap_pyfunction!(nmi, m)?)?;
    m.add_function(wrap_pyfunction!(acc, m)?)?;
    m.add_function(wrap_pyfunction!(ari, m)?)?;
    m.add_function(wrap_pyfunction!(organize::organize, m)?)?;
    m.add_function(wrap_pyfunction!(organize::write_sample_library, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
