//! Finding and loading the onnxruntime shared library at run time.
//!
//! The library is looked for, in order: an explicit path (`--ort-lib`), `ORT_DYLIB_PATH`, next
//! to the running binary, a pip-installed `onnxruntime` package (asked of `python3`, which is
//! not needed afterwards), then the system loader path. The first that loads wins; when none
//! does, the error lists every place tried. `ort`'s implicit initialisation panics on a missing
//! library, so nothing in this crate touches `ort` before [`OrtRuntime::init`] succeeded.

use crate::error::RuntimeError;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A loaded onnxruntime: the environment sessions are built from.
#[derive(Clone)]
pub struct OrtRuntime {
    pub(crate) env: ort::environment::Environment,
    /// The library that was loaded.
    pub library: PathBuf,
    /// Where it was found (e.g. "ORT_DYLIB_PATH", "pip onnxruntime").
    pub found_by: &'static str,
}

impl std::fmt::Debug for OrtRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtRuntime")
            .field("library", &self.library)
            .field("found_by", &self.found_by)
            .finish()
    }
}

/// The library's file name on this platform (`libonnxruntime.so` on Linux).
pub fn library_file_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// A versioned library in `dir` (`libonnxruntime.so.1.32.0`), or the plain name, if present.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let plain = dir.join(library_file_name());
    if plain.is_file() {
        return Some(plain);
    }
    let prefix = library_file_name();
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.len() > prefix.len())
        })
        .collect();
    versioned.sort();
    versioned.pop()
}

/// The `capi` folder of a pip-installed onnxruntime, found without importing it.
fn pip_onnxruntime_dir() -> Option<PathBuf> {
    let script = "import importlib.util,os;s=importlib.util.find_spec('onnxruntime');print(os.path.dirname(s.origin) if s and s.origin else '')";
    let out = Command::new("python3").args(["-c", script]).output().ok()?;
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir).join("capi"))
}

/// The places to look, in order, with how each was found. `explicit` comes first.
pub fn candidates(explicit: Option<&Path>) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(("--ort-lib", p.to_path_buf()));
        // An explicit choice is final: falling through to another library would hide a typo.
        return out;
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(("ORT_DYLIB_PATH", PathBuf::from(p)));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if let Some(lib) = library_in(&dir) {
            out.push(("next to the binary", lib));
        }
    }
    if let Some(lib) = pip_onnxruntime_dir().and_then(|d| library_in(&d)) {
        out.push(("pip onnxruntime", lib));
    }
    out.push(("system loader path", PathBuf::from(library_file_name())));
    out
}

static RUNTIME: OnceLock<Result<OrtRuntime, String>> = OnceLock::new();

impl OrtRuntime {
    /// Loads onnxruntime once per process (later calls return the same result; the library
    /// cannot be swapped once loaded).
    pub fn init(explicit: Option<&Path>) -> Result<OrtRuntime, RuntimeError> {
        let result = RUNTIME.get_or_init(|| Self::load(explicit).map_err(|e| e.to_string()));
        result
            .clone()
            .map_err(|tried| RuntimeError::Failed { message: tried })
    }

    fn load(explicit: Option<&Path>) -> Result<OrtRuntime, RuntimeError> {
        let mut tried = Vec::new();
        let mut unusable = None;
        for (found_by, path) in candidates(explicit) {
            match ort::init_from(&path) {
                Ok(builder) => match builder.with_name("deepclust").build() {
                    Ok(env) => {
                        return Ok(OrtRuntime {
                            env,
                            library: path,
                            found_by,
                        })
                    }
                    Err(e) => {
                        tried.push(format!("{} ({found_by}): {e}", path.display()));
                        unusable.get_or_insert((path, e.to_string()));
                    }
                },
                Err(e) => {
                    let reason = e.to_string();
                    // A file that exists but does not load is worth naming on its own.
                    if path.is_file() && unusable.is_none() {
                        unusable = Some((path.clone(), reason.clone()));
                    }
                    tried.push(format!("{} ({found_by})", path.display()));
                }
            }
        }
        match unusable {
            Some((path, reason)) => Err(RuntimeError::Unusable { path, reason }),
            None => Err(RuntimeError::NotFound {
                tried: tried.join(", "),
            }),
        }
    }
}
