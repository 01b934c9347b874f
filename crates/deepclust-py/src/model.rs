//! A fitted model as a Python object: predicts, transforms, saves into the library's run
//! format, and travels through pickle as the bytes of that run folder.

use crate::convert::{array2, chain, labels_out, matrix64_out, matrix_out, MethodErr};
use deepclust::cluster::{GmmModel, KMeansModel};
use deepclust::method::{AeKMeansModel, MethodError, N2dModel, Predict};
use deepclust::nn::{Autoencoder, DecModel};
use deepclust::run::{SaveRun, SavedModel};
use ndarray::Array2;
use numpy::PyReadonlyArray2;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::{Path, PathBuf};

/// What a [`Model`] holds: any saved-run kind, or an autoencoder alone.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Inner {
    // Held once per Python object: its size does not matter.
    Saved(SavedModel),
    Autoencoder(Box<Autoencoder>),
}

/// A fitted model of `deepclust._core` (the estimators keep it as `model_`).
#[pyclass(module = "deepclust._core", frozen)]
#[derive(Debug, Clone)]
pub struct Model {
    inner: Inner,
}

impl From<KMeansModel> for Model {
    fn from(m: KMeansModel) -> Self {
        Model {
            inner: Inner::Saved(SavedModel::KMeans(m)),
        }
    }
}
impl From<GmmModel> for Model {
    fn from(m: GmmModel) -> Self {
        Model {
            inner: Inner::Saved(SavedModel::Mixture(m)),
        }
    }
}
impl From<AeKMeansModel> for Model {
    fn from(m: AeKMeansModel) -> Self {
        Model {
            inner: Inner::Saved(SavedModel::AeKMeans(m)),
        }
    }
}
impl From<DecModel> for Model {
    fn from(m: DecModel) -> Self {
        Model {
            inner: Inner::Saved(SavedModel::Dec(Box::new(m))),
        }
    }
}
impl From<N2dModel> for Model {
    fn from(m: N2dModel) -> Self {
        Model {
            inner: Inner::Saved(SavedModel::N2d(Box::new(m))),
        }
    }
}
impl From<Autoencoder> for Model {
    fn from(m: Autoencoder) -> Self {
        Model {
            inner: Inner::Autoencoder(Box::new(m)),
        }
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> PyErr {
    PyOSError::new_err(format!("{}: {e}", path.display()))
}

fn not_for(kind: &str, what: &str) -> PyErr {
    PyValueError::new_err(format!("a {kind} model has no {what}"))
}

impl Model {
    /// The autoencoder of a standalone autoencoder model (to start DEC or N2D from).
    pub fn autoencoder(&self) -> PyResult<&Autoencoder> {
        match &self.inner {
            Inner::Autoencoder(ae) => Ok(ae),
            Inner::Saved(m) => Err(PyValueError::new_err(format!(
                "expected a fitted Autoencoder, got a {} model",
                m.kind()
            ))),
        }
    }

    fn write(&self, dir: &Path, config: &serde_json::Value) -> Result<(), MethodError> {
        match &self.inner {
            Inner::Autoencoder(ae) => Ok(ae.save_for_inference(dir)?),
            Inner::Saved(SavedModel::KMeans(m)) => m.save_run(dir, config),
            Inner::Saved(SavedModel::Mixture(m)) => m.save_run(dir, config),
            Inner::Saved(SavedModel::AeKMeans(m)) => m.save_run(dir, config),
            Inner::Saved(SavedModel::Dec(m)) => m.as_ref().save_run(dir, config),
            Inner::Saved(SavedModel::N2d(m)) => m.as_ref().save_run(dir, config),
        }
    }

    /// Refuses rows of another width than the fitted ones.
    fn check_width(&self, cols: usize) -> PyResult<()> {
        let expected = self.n_features();
        if cols != expected {
            return Err(PyValueError::new_err(format!(
                "X has {cols} features, but this {} model was fitted on {expected}",
                self.kind()
            )));
        }
        Ok(())
    }

    fn read(dir: &Path) -> PyResult<Model> {
        let config = dir.join("config.json");
        let text = std::fs::read_to_string(&config).map_err(|e| io_err(&config, e))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| PyValueError::new_err(format!("{}: {e}", config.display())))?;
        // A run folder names its kind (or, from before kinds, its command); an autoencoder's
        // own folder says `autoencoder` or nothing.
        let kind = value.get("kind").and_then(|k| k.as_str());
        let inner = if kind.is_some_and(|k| k != "autoencoder") || value.get("command").is_some() {
            Inner::Saved(SavedModel::load(dir).map_err(MethodErr)?)
        } else {
            let ae = Autoencoder::load(dir)
                .map_err(|e| PyValueError::new_err(format!("{}: {}", dir.display(), chain(&e))))?;
            Inner::Autoencoder(Box::new(ae))
        };
        Ok(Model { inner })
    }
}

/// Every file under `dir`, by its `/`-separated path relative to `dir`.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &rel, out)?;
        } else {
            out.push((rel, std::fs::read(entry.path())?));
        }
    }
    Ok(())
}

#[pymethods]
impl Model {
    /// The saved-run kind: kmeans, gmm, ae-kmeans, dec, idec, n2d, or autoencoder.
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.inner {
            Inner::Saved(m) => m.kind(),
            Inner::Autoencoder(_) => "autoencoder",
        }
    }

    /// Number of input features the model expects.
    #[getter]
    fn n_features(&self) -> usize {
        match &self.inner {
            Inner::Autoencoder(ae) => ae.config().input_dim(),
            Inner::Saved(SavedModel::KMeans(m)) => m.centroids().ncols(),
            Inner::Saved(SavedModel::Mixture(m)) => m.means().ncols(),
            Inner::Saved(SavedModel::AeKMeans(m)) => m.autoencoder.config().input_dim(),
            Inner::Saved(SavedModel::Dec(m)) => m.autoencoder().config().input_dim(),
            Inner::Saved(SavedModel::N2d(m)) => m
                .autoencoder
                .as_ref()
                .map_or(m.codes.ncols(), |ae| ae.config().input_dim()),
        }
    }

    /// The cluster of every row.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = array2(&x)?;
        self.check_width(view.ncols())?;
        let labels = match &self.inner {
            Inner::Saved(m) => py.detach(|| m.predict(view)).map_err(MethodErr)?,
            Inner::Autoencoder(_) => return Err(not_for("autoencoder", "clusters")),
        };
        Ok(labels_out(py, &labels))
    }

    /// Membership of every row in every cluster: the mixture's responsibilities (GMM, N2D)
    /// or DEC's soft assignment.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = array2(&x)?;
        self.check_width(view.ncols())?;
        match &self.inner {
            Inner::Saved(SavedModel::Mixture(m)) => {
                let p = py
                    .detach(|| m.predict_proba(view))
                    .map_err(|e| MethodErr(e.into()))?;
                Ok(matrix64_out(py, p.view()))
            }
            Inner::Saved(SavedModel::N2d(m)) => {
                let p = py
                    .detach(|| -> Result<_, MethodError> {
                        let codes = m.encode(view)?;
                        let placed = m.place(codes.view())?;
                        Ok(m.mixture.predict_proba(placed.view())?)
                    })
                    .map_err(MethodErr)?;
                Ok(matrix64_out(py, p.view()))
            }
            Inner::Saved(SavedModel::Dec(m)) => {
                let q = py
                    .detach(|| m.soft_assign(view))
                    .map_err(|e| MethodErr(e.into()))?;
                Ok(matrix_out(py, q.view()))
            }
            _ => Err(not_for(self.kind(), "probabilities")),
        }
    }

    /// The space the model clusters in: an autoencoder's code (autoencoder, AE + K-Means,
    /// DEC), the position in N2D's UMAP layout, or K-Means' distance to every centre.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = array2(&x)?;
        self.check_width(view.ncols())?;
        let out: Array2<f32> = py
            .detach(|| -> Result<_, MethodError> {
                Ok(match &self.inner {
                    Inner::Autoencoder(ae) => ae.encode(view)?,
                    Inner::Saved(SavedModel::AeKMeans(m)) => m.autoencoder.encode(view)?,
                    Inner::Saved(SavedModel::Dec(m)) => m.embed(view)?,
                    Inner::Saved(SavedModel::N2d(m)) => m.place(m.encode(view)?.view())?,
                    Inner::Saved(SavedModel::KMeans(m)) => distances(view, m.centroids().view()),
                    Inner::Saved(SavedModel::Mixture(_)) => {
                        return Err(MethodError::InvalidParam(
                            "a mixture has no transform; use predict_proba".into(),
                        ))
                    }
                })
            })
            .map_err(MethodErr)?;
        Ok(matrix_out(py, out.view()))
    }

    /// An autoencoder's reconstruction of the rows.
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = array2(&x)?;
        self.check_width(view.ncols())?;
        let ae = self.autoencoder()?;
        let out = py
            .detach(|| ae.reconstruct(view))
            .map_err(|e| MethodErr(e.into()))?;
        Ok(matrix_out(py, out.view()))
    }

    /// The cluster centres in the space the model clusters in (K-Means: the input; AE +
    /// K-Means and DEC: the code; mixture: its means; N2D: the mixture's means in the layout).
    fn centers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner {
            Inner::Saved(SavedModel::KMeans(m)) => Ok(matrix_out(py, m.centroids().view())),
            Inner::Saved(SavedModel::AeKMeans(m)) => {
                Ok(matrix_out(py, m.kmeans.centroids().view()))
            }
            Inner::Saved(SavedModel::Dec(m)) => Ok(matrix_out(py, m.centroids().view())),
            Inner::Saved(SavedModel::Mixture(m)) => Ok(matrix64_out(py, m.means().view())),
            Inner::Saved(SavedModel::N2d(m)) => Ok(matrix64_out(py, m.mixture.means().view())),
            Inner::Autoencoder(_) => Err(not_for("autoencoder", "centres")),
        }
    }

    /// A mixture's weights, means and full covariances (GMM and N2D).
    fn mixture<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = match &self.inner {
            Inner::Saved(SavedModel::Mixture(m)) => m,
            Inner::Saved(SavedModel::N2d(n)) => &n.mixture,
            _ => return Err(not_for(self.kind(), "mixture")),
        };
        let d = PyDict::new(py);
        d.set_item("weights", m.weights().to_vec())?;
        d.set_item("means", matrix64_out(py, m.means().view()))?;
        let cov = m.covariances();
        let (k, dim, _) = cov.dim();
        let flat: Vec<f64> = cov.iter().copied().collect();
        d.set_item("covariances", (flat, k, dim))?;
        Ok(d)
    }

    /// Loss per epoch of an autoencoder's training.
    fn history(&self) -> PyResult<Vec<f64>> {
        let ae = self.autoencoder()?;
        Ok(ae.history().iter().map(|r| r.train_loss).collect())
    }

    /// Writes the run folder (`config` is the estimator's parameters, as JSON text).
    #[pyo3(signature = (path, config="{}"))]
    fn save(&self, path: PathBuf, config: &str) -> PyResult<()> {
        let config: serde_json::Value =
            serde_json::from_str(config).map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.write(&path, &config).map_err(MethodErr)?;
        Ok(())
    }

    /// Reads a run folder written by `save` (or by the command line's `--save-model`).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Model> {
        Model::read(&path)
    }

    /// The run folder's files, `{relative path: bytes}` (what pickle keeps).
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let tmp = tempfile::tempdir().map_err(|e| io_err(Path::new("temporary folder"), e))?;
        let dir = tmp.path().join("model");
        self.write(&dir, &serde_json::Value::Null)
            .map_err(MethodErr)?;
        let mut files = Vec::new();
        collect(&dir, "", &mut files).map_err(|e| io_err(&dir, e))?;
        let d = PyDict::new(py);
        for (name, bytes) in files {
            d.set_item(name, PyBytes::new(py, &bytes))?;
        }
        Ok(d)
    }

    /// The model of a run folder given as `files()` returned it.
    #[staticmethod]
    fn from_files(files: std::collections::BTreeMap<String, Vec<u8>>) -> PyResult<Model> {
        let tmp = tempfile::tempdir().map_err(|e| io_err(Path::new("temporary folder"), e))?;
        let dir = tmp.path().join("model");
        for (name, bytes) in &files {
            if name.split('/').any(|part| part.is_empty() || part == "..") || name.starts_with('/')
            {
                return Err(PyValueError::new_err(format!(
                    "bad file name in a saved model: {name:?}"
                )));
            }
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
        }
        Model::read(&dir)
    }

    fn __repr__(&self) -> String {
        format!(
            "<deepclust model: {}, {} features>",
            self.kind(),
            self.n_features()
        )
    }
}

/// Euclidean distance of every row to every centre (scikit-learn's `KMeans.transform`).
fn distances(
    x: ndarray::ArrayView2<'_, f32>,
    centres: ndarray::ArrayView2<'_, f32>,
) -> Array2<f32> {
    let mut out = Array2::<f32>::zeros((x.nrows(), centres.nrows()));
    for (row, mut o) in x.outer_iter().zip(out.outer_iter_mut()) {
        for (c, v) in centres.outer_iter().zip(o.iter_mut()) {
            let d2: f64 = row
                .iter()
                .zip(c)
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum();
            *v = d2.sqrt() as f32;
        }
    }
    out
}
