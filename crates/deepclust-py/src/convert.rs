//! NumPy arrays in and out, and the library's errors as Python exceptions.

use deepclust::method::MethodError;
use ndarray::{ArrayView2, ShapeBuilder};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// A read-only float32 matrix as the library's view, without a copy: C- or F-contiguous
/// (the estimators pass C-contiguous arrays; anything else is refused here, not copied).
pub fn array2<'a>(x: &'a PyReadonlyArray2<'_, f32>) -> PyResult<ArrayView2<'a, f32>> {
    let shape = x.shape();
    let (rows, cols) = (shape[0], shape[1]);
    let slice = x.as_slice().map_err(|_| {
        PyValueError::new_err("expected a contiguous float32 array (np.ascontiguousarray)")
    })?;
    let view = if x.is_c_contiguous() {
        ArrayView2::from_shape((rows, cols), slice)
    } else {
        ArrayView2::from_shape((rows, cols).f(), slice)
    };
    view.map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Cluster labels as an int64 array.
pub fn labels_out<'py>(py: Python<'py>, labels: &[usize]) -> Bound<'py, PyAny> {
    let v: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    PyArray1::from_vec(py, v).into_any()
}

/// A float32 matrix as a C-ordered NumPy array.
pub fn matrix_out<'py>(py: Python<'py>, m: ArrayView2<'_, f32>) -> Bound<'py, PyAny> {
    let (rows, cols) = m.dim();
    let flat: Vec<f32> = m.iter().copied().collect();
    let array = PyArray1::from_vec(py, flat);
    match array.reshape([rows, cols]) {
        Ok(a) => a.into_any(),
        // A reshape of a fresh array of exactly rows x cols elements cannot fail.
        Err(_) => array.into_any(),
    }
}

/// A float64 matrix as a C-ordered NumPy array.
pub fn matrix64_out<'py>(py: Python<'py>, m: ArrayView2<'_, f64>) -> Bound<'py, PyAny> {
    let (rows, cols) = m.dim();
    let flat: Vec<f64> = m.iter().copied().collect();
    let array = PyArray1::from_vec(py, flat);
    match array.reshape([rows, cols]) {
        Ok(a) => a.into_any(),
        Err(_) => array.into_any(),
    }
}

/// The message of an error and of each of its sources, as the command line prints them.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A library error on its way to Python.
pub struct MethodErr(pub MethodError);

impl From<MethodError> for MethodErr {
    fn from(e: MethodError) -> Self {
        MethodErr(e)
    }
}

impl From<MethodErr> for PyErr {
    fn from(MethodErr(e): MethodErr) -> PyErr {
        let text = chain(&e);
        if e.is_cancelled() {
            PyKeyboardInterrupt::new_err(text)
        } else if is_value_error(&e) {
            PyValueError::new_err(text)
        } else {
            PyRuntimeError::new_err(text)
        }
    }
}

/// The caller's values are at fault: parameters, or rows the method cannot use (NaN,
/// infinities, the wrong number of features).
fn is_value_error(e: &MethodError) -> bool {
    if e.is_param_error() {
        return true;
    }
    match e {
        MethodError::InputMismatch { .. } => true,
        MethodError::Cluster(c) => matches!(
            c,
            deepclust::cluster::ClusterError::NonFinite { .. }
                | deepclust::cluster::ClusterError::DimensionMismatch { .. }
                | deepclust::cluster::ClusterError::TooManyClusters { .. }
                | deepclust::cluster::ClusterError::EmptyData { .. }
        ),
        _ => {
            let text = e.to_string();
            text.contains("NaN") || text.contains("not finite") || text.contains("non-finite")
        }
    }
}
