//! `deepclust.organize`: the photo organizer from Python, its report as JSON text (the
//! package turns it into dicts and lists).

use crate::convert::chain;
use crate::run::run_detached_with;
use deepclust::gallery::{EmbedderSpec, GalleryError, GroupKind, LinkMode, OrganizeParams};
use deepclust::organize::Organizer;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;

fn choice<T: Copy>(what: &str, table: &[(T, &str, &str)], name: &str) -> PyResult<T> {
    table
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(v, _, _)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(_, n, _)| *n).collect();
            PyValueError::new_err(format!(
                "{what} must be one of {}, got {name:?}",
                names.join(", ")
            ))
        })
}

/// Organizes `photos` into `out` (links, never touching an original) and returns the report
/// as JSON text: counts, skipped files, albums, links, and with `dry_run` the planned links.
#[pyfunction]
#[pyo3(signature = (photos, out, by, dry_run, link, seed, n_albums, embedding, models, duplicates, html, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
pub fn organize(
    py: Python<'_>,
    photos: PathBuf,
    out: PathBuf,
    by: Vec<String>,
    dry_run: bool,
    link: &str,
    seed: u64,
    n_albums: Option<usize>,
    embedding: &str,
    models: Vec<PathBuf>,
    duplicates: bool,
    html: bool,
    callback: Option<Bound<'_, PyAny>>,
    verbose: bool,
) -> PyResult<String> {
    let mut kinds = by
        .iter()
        .map(|b| choice("by", GroupKind::CHOICES, b))
        .collect::<PyResult<Vec<_>>>()?;
    kinds.sort();
    kinds.dedup();
    let spec = match embedding {
        "auto" => EmbedderSpec::Auto,
        "models" => EmbedderSpec::ContentModels,
        "stats" => EmbedderSpec::Stats,
        other => {
            return Err(PyValueError::new_err(format!(
                "embedding must be auto, models or stats, got {other:?}"
            )))
        }
    };
    let mut params = OrganizeParams::new(&photos, &out)
        .by(kinds)
        .link(choice("link", LinkMode::CHOICES, link)?)
        .dry_run(dry_run)
        .seed(seed)
        .near_duplicates(duplicates)
        .html(html)
        .model_dirs(models)
        .with_embedder(spec);
    if let Some(k) = n_albums {
        params = params.k(deepclust::cluster::KSelect::Fixed(k));
    }
    params
        .validate()
        .map_err(|e| PyValueError::new_err(chain(&e)))?;
    let organizer = Organizer::new(params);
    let report = run_detached_with(py, callback.as_ref(), verbose, |ctl| organizer.run(ctl))?
        .map_err(|e| {
            let text = format!("organizing {}: {}", photos.display(), chain(&e));
            match e {
                GalleryError::InvalidParams(_) | GalleryError::Path { .. } => {
                    PyValueError::new_err(text)
                }
                GalleryError::Cancelled => PyKeyboardInterrupt::new_err(text),
                GalleryError::Io { .. } => PyOSError::new_err(text),
                _ => PyRuntimeError::new_err(text),
            }
        })?;
    let mut json = report.summary_json(dry_run);
    let plan: Vec<serde_json::Value> = report
        .plan
        .links
        .iter()
        .map(|l| {
            let photo = &report.photos[l.photo];
            let reason = report.assignments[l.photo]
                .iter()
                .find(|a| a.kind == l.kind)
                .map_or("", |a| a.reason.as_str());
            serde_json::json!({
                "photo": deepclust::gallery::relpath::display(&photo.rel_path),
                "target": l.target,
                "kind": l.kind,
                "reason": reason,
            })
        })
        .collect();
    if let serde_json::Value::Object(map) = &mut json {
        map.insert("plan".into(), plan.into());
    }
    Ok(json.to_string())
}

/// Writes the demo's generated phone-style library of `n` photos (plus two damaged files)
/// into the new folder `dir`; returns `(relative path, kind)` of every photo.
#[pyfunction]
pub fn write_sample_library(dir: PathBuf, n: usize, seed: u64) -> PyResult<Vec<(String, String)>> {
    let library = deepclust::gallery::sample_library::write_sample_library(&dir, n, seed)
        .map_err(|e| PyValueError::new_err(chain(&e)))?;
    Ok(library
        .photos
        .iter()
        .map(|p| (p.rel_path.clone(), p.kind.name().to_string()))
        .collect())
}
