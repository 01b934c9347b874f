//! Reading and writing named f32 tensors as safetensors files, and small file helpers.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::{NnError, Result};

/// A named tensor: shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

fn bad(path: &Path, problem: impl Into<String>) -> NnError {
    NnError::BadModelFile {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// Write `tensors` (name, shape, values) to `path` as f32 little-endian safetensors.
pub fn save_tensors(path: &Path, tensors: &[(String, Vec<usize>, &[f32])]) -> Result<()> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, _), data) in tensors.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F32, shape.clone(), data)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let serialized = safetensors::serialize(views, &None).map_err(|e| bad(path, e.to_string()))?;
    write_file(path, &serialized)
}

/// Read every tensor of a safetensors file (f32 only).
pub fn load_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    let bytes = read_file(path)?;
    let parsed = SafeTensors::deserialize(&bytes).map_err(|e| bad(path, e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, view) in parsed.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(
            name,
            Tensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

/// Take tensor `name` out of `tensors`, checking its shape.
pub fn take_tensor(
    tensors: &mut BTreeMap<String, Tensor>,
    name: &str,
    shape: &[usize],
    path: &Path,
) -> Result<Vec<f32>> {
    let tensor = tensors
        .remove(name)
        .ok_or_else(|| bad(path, format!("tensor {name} is missing")))?;
    if tensor.shape != shape {
        return Err(bad(
            path,
            format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                tensor.shape
            ),
        ));
    }
    Ok(tensor.values)
}

/// `std::fs::write` with the path in the error.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    std::fs::write(path, contents).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `std::fs::read` with the path in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `std::fs::create_dir_all` with the path in the error.
pub fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Serialize `value` as pretty JSON to `path`.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| bad(path, e.to_string()))?;
    write_file(path, text.as_bytes())
}

/// Parse JSON from `path`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_file(path)?;
    serde_json::from_slice(&bytes).map_err(|e| bad(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_names_shapes_and_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let a = vec![1.5f32, -0.0, f32::MIN_POSITIVE, 3.25e-8, 7.0, 8.0];
        let b = vec![42.0f32];
        save_tensors(
            &path,
            &[("a".into(), vec![2, 3], &a), ("b".into(), vec![1], &b)],
        )
        .unwrap();
        let mut loaded = load_tensors(&path).unwrap();
        let a2 = take_tensor(&mut loaded, "a", &[2, 3], &path).unwrap();
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            a2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let err = take_tensor(&mut loaded, "b", &[2], &path).unwrap_err();
        assert!(err.to_string().contains("shape [1]"), "{err}");
        let err = take_tensor(&mut loaded, "c", &[1], &path).unwrap_err();
        assert!(err.to_string().contains("c is missing"), "{err}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.safetensors");
        std::fs::write(&path, b"not a tensor file").unwrap();
        let err = load_tensors(&path).unwrap_err();
        assert!(err.to_string().contains("garbage.safetensors"), "{err}");
        let err = load_tensors(&dir.path().join("absent")).unwrap_err();
        assert!(err.to_string().contains("absent"), "{err}");
    }
}
