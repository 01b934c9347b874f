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
    let parsed =
        SafeTensors::deserialize(&bytes).map_err(|e| bad(path, in_words(&e, bytes.len())))?;
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

/// The safetensors error said in words (its `Display` is the variant name, e.g.
/// `HeaderTooSmall`, which tells a user nothing).
fn in_words(e: &safetensors::SafeTensorError, file_len: usize) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::HeaderTooSmall => format!(
            "not a safetensors weights file: only {file_len} bytes, shorter than its 8-byte header \
             length (empty or cut short, e.g. by an interrupted save)"
        ),
        E::InvalidHeaderLength | E::HeaderTooLarge => {
            "not a safetensors weights file: its header length is impossible (corrupt, \
             truncated, or another kind of file)"
                .to_string()
        }
        E::InvalidHeader | E::InvalidHeaderStart | E::InvalidHeaderDeserialization => {
            "not a safetensors weights file: its header is not the expected JSON (corrupt or \
             another kind of file)"
                .to_string()
        }
        E::MetadataIncompleteBuffer | E::InvalidOffset(_) | E::TensorInvalidInfo => {
            "the weights file is damaged: the tensors it lists do not fit its length (truncated?)"
                .to_string()
        }
        other => format!("the weights file cannot be read ({other})"),
    }
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

/// Writes `contents` to `path` so that a kill, a crash or a full disk at any moment leaves
/// either the previous file or the new one, never a truncated mix: the bytes go to a
/// temporary file beside it, are flushed to disk, and only then renamed over `path`.
/// Temporaries that an earlier, killed process left in the same folder are removed first.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        remove_stale_partials(dir);
    }
    write_atomic(path, contents).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The marker in the name of every temporary file deepclust writes before a rename:
/// `.NAME.deepclust-partial-PID`.
pub const PARTIAL_MARKER: &str = ".deepclust-partial-";

/// Fault injection for the crash tests: when this variable names a file (by its name),
/// writing that file stops halfway (flushed) and the process sleeps, so a test can kill it
/// mid-write. Never set in normal use.
pub const STALL_WRITE_ENV: &str = "DEEPCLUST_FAULT_STALL_WRITE";

/// The temporary-then-rename write behind [`write_file`], for callers with their own error
/// type.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let tmp = dir.join(format!(".{name}{PARTIAL_MARKER}{}", std::process::id()));
    let result = (|| {
        let mut out = std::fs::File::create(&tmp)?;
        if std::env::var_os(STALL_WRITE_ENV).is_some_and(|v| v == name.as_str()) {
            let half = contents.len() / 2;
            out.write_all(&contents[..half])?;
            out.sync_all()?;
            // Said on stderr so the test knows when to kill (libraries do not print otherwise).
            let _ = writeln!(
                std::io::stderr(),
                "fault injection: stalled halfway through {}",
                path.display()
            );
            std::thread::sleep(std::time::Duration::from_secs(600));
        }
        out.write_all(contents)?;
        out.sync_all()?;
        drop(out);
        std::fs::rename(&tmp, path)?;
        // The rename itself reaches the disk with the folder's metadata.
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes the temporaries (see [`PARTIAL_MARKER`]) that processes no longer running left in
/// `dir`, returning them. A temporary of a live process (another run writing there now) is
/// left alone; where liveness cannot be told (no /proc), only those older than a day go.
pub fn remove_stale_partials(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((_, pid)) = name.rsplit_once(PARTIAL_MARKER) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !name.starts_with('.') || pid == std::process::id() || process_may_be_alive(pid, &entry)
        {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_file()) && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

fn process_may_be_alive(pid: u32, entry: &std::fs::DirEntry) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    let day = std::time::Duration::from_secs(24 * 3600);
    entry
        .metadata()
        .and_then(|m| m.modified())
        .map_or(true, |t| t.elapsed().map_or(true, |age| age < day))
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
    fn an_atomic_write_replaces_whole_and_stale_temporaries_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        write_file(&path, b"old").unwrap();
        // A temporary from a process that no longer runs (pid beyond pid_max), and one of
        // this process (in use) that must stay.
        let stale = dir.path().join(format!(".w.bin{PARTIAL_MARKER}4194399"));
        let own = dir
            .path()
            .join(format!(".x.bin{PARTIAL_MARKER}{}", std::process::id()));
        std::fs::write(&stale, b"half").unwrap();
        std::fs::write(&own, b"mine").unwrap();
        write_file(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists(), "the stale temporary was removed");
        }
        assert!(own.exists());
        // No temporary of this write stays behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn corrupt_weights_are_described_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        std::fs::write(&path, b"xx").unwrap();
        let msg = load_tensors(&path).unwrap_err().to_string();
        assert!(
            msg.contains("only 2 bytes") && !msg.contains("HeaderTooSmall"),
            "{msg}"
        );
        save_tensors(&path, &[("a".into(), vec![4], &[1.0, 2.0, 3.0, 4.0][..])]).unwrap();
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 4]).unwrap();
        let msg = load_tensors(&path).unwrap_err().to_string();
        assert!(
            msg.contains("damaged") && msg.contains("w.safetensors"),
            "{msg}"
        );
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
