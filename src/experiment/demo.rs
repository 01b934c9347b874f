//! The demo as library calls: a generated phone-style library (written once, reused by a
//! re-run, refused where something else is), organized with the organizer's defaults and
//! summed up against what the generator drew; then raw K-Means vs autoencoder + K-Means vs
//! N2D on generated digits (labels only score).

use crate::control::Control;
use crate::method::{AeKMeans, AeSource, Method, MethodError, N2d};
use crate::pipeline::KSelect;
use deepclust_cluster::KMeans as KMeansParamsBuilder;
use deepclust_data::synthetic;
use deepclust_gallery::sample_library::{write_sample_library, SampleLibrary, DESCRIPTION_FILE};
use deepclust_gallery::{GalleryError, GroupKind, OrganizeParams, OrganizeReport};
use deepclust_metrics::Scores;
use deepclust_nn::{AutoencoderConfig, Optimizer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Autoencoder schedule of the digits table (measured: see docs/BENCHMARKS.md).
pub const DIGITS_AE_EPOCHS: usize = 30;
pub const DIGITS_AE_BATCH: usize = 128;

/// What can stop the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write the sample library into {}", .dir.display())]
    Write {
        dir: PathBuf,
        #[source]
        source: GalleryError,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a sample library description: {source}", .path.display())]
    BadDescription {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The folder holds a library of another size or seed.
    #[error("{} holds a demo library of {found_n} photos with seed {found_seed}; use another --out for --n {n} --seed {seed}", .dir.display())]
    OtherLibrary {
        dir: PathBuf,
        found_n: usize,
        found_seed: u64,
        n: usize,
        seed: u64,
    },
    /// `photos/` exists without the description the demo writes beside it.
    #[error("{} exists but was not written by the demo ({} is missing): choose another --out", .photos.display(), .description.display())]
    NotADemoFolder {
        photos: PathBuf,
        description: PathBuf,
    },
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error("scoring: {0}")]
    Metrics(#[from] deepclust_metrics::MetricsError),
}

/// The sample library of a demo folder.
#[derive(Debug, Clone)]
pub struct SampleLibraryDir {
    pub library: SampleLibrary,
    /// `out/photos`.
    pub photos: PathBuf,
    /// Seconds spent writing it, `None` when an earlier demo had written it.
    pub written_in: Option<f64>,
}

/// The library in `out/photos`: reused when an earlier demo wrote it with the same size and
/// seed, generated when absent, refused otherwise (it would not be the demo's).
pub fn sample_library(out: &Path, n: usize, seed: u64) -> Result<SampleLibraryDir, DemoError> {
    let photos = out.join("photos");
    let description = out.join(DESCRIPTION_FILE);
    if description.exists() {
        let text = std::fs::read_to_string(&description).map_err(|source| DemoError::Io {
            path: description.clone(),
            source,
        })?;
        let library: SampleLibrary =
            serde_json::from_str(&text).map_err(|source| DemoError::BadDescription {
                path: description.clone(),
                source,
            })?;
        if library.n != n || library.seed != seed {
            return Err(DemoError::OtherLibrary {
                dir: out.to_path_buf(),
                found_n: library.n,
                found_seed: library.seed,
                n,
                seed,
            });
        }
        return Ok(SampleLibraryDir {
            library,
            photos,
            written_in: None,
        });
    }
    if photos.exists() {
        return Err(DemoError::NotADemoFolder {
            photos,
            description,
        });
    }
    let start = Instant::now();
    let library = write_sample_library(&photos, n, seed).map_err(|source| DemoError::Write {
        dir: photos.clone(),
        source,
    })?;
    // The description (and the kinds, for scoring only) live beside the library, not in it.
    let json =
        serde_json::to_string_pretty(&library).map_err(|source| DemoError::BadDescription {
            path: description.clone(),
            source,
        })?;
    std::fs::write(&description, json).map_err(|source| DemoError::Io {
        path: description.clone(),
        source,
    })?;
    Ok(SampleLibraryDir {
        library,
        photos,
        written_in: Some(start.elapsed().as_secs_f64()),
    })
}

/// The organizer's defaults by date, event, place and content, into `out/organized`.
pub fn organize_params(out: &Path, photos: &Path, model_dirs: Vec<PathBuf>) -> OrganizeParams {
    OrganizeParams::new(photos, out.join("organized"))
        .by(vec![
            GroupKind::Date,
            GroupKind::Event,
            GroupKind::Place,
            GroupKind::Content,
        ])
        .model_dirs(model_dirs)
}

/// One content album beside what the generator drew into it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumRow {
    pub folder: String,
    pub size: usize,
    /// `(kind, photos)`, most first.
    pub drawn: Vec<(&'static str, usize)>,
}

/// What the organizer made of the sample library.
#[derive(Debug, Clone, PartialEq)]
pub struct LibrarySummary {
    pub albums: Vec<AlbumRow>,
    /// NMI of the albums against the kinds drawn (the kinds only score).
    pub albums_nmi: Option<f64>,
    /// Photos per group, per grouping (events, places, days).
    pub groups: BTreeMap<GroupKind, BTreeMap<String, usize>>,
}

impl LibrarySummary {
    pub fn new(report: &OrganizeReport, library: &SampleLibrary) -> Self {
        let kind_of: BTreeMap<&str, _> = library
            .photos
            .iter()
            .map(|p| (p.rel_path.as_str(), p.kind))
            .collect();
        let mut groups: BTreeMap<GroupKind, BTreeMap<String, usize>> = BTreeMap::new();
        for a in report.assignments.iter().flatten() {
            *groups
                .entry(a.kind)
                .or_default()
                .entry(a.group.clone())
                .or_default() += 1;
        }
        let (mut albums, mut albums_nmi) = (Vec::new(), None);
        if let Some(content) = &report.content {
            for (c, cluster) in content.clusters.iter().enumerate() {
                let mut drawn: BTreeMap<&'static str, usize> = BTreeMap::new();
                for (photo, &label) in report.photos.iter().zip(&content.labels) {
                    if label == c {
                        let kind = kind_of
                            .get(photo.rel_path.as_str())
                            .map_or("?", |k| k.name());
                        *drawn.entry(kind).or_default() += 1;
                    }
                }
                let mut drawn: Vec<(&'static str, usize)> = drawn.into_iter().collect();
                drawn.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                albums.push(AlbumRow {
                    folder: cluster.folder.clone(),
                    size: cluster.size,
                    drawn,
                });
            }
            let truth: Vec<usize> = report
                .photos
                .iter()
                .map(|p| {
                    kind_of
                        .get(p.rel_path.as_str())
                        .map_or(usize::MAX, |&k| k as usize)
                })
                .collect();
            albums_nmi = deepclust_metrics::nmi(&truth, &content.labels).ok();
        }
        LibrarySummary {
            albums,
            albums_nmi,
            groups,
        }
    }
}

/// One row of the digits table.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsRow {
    pub method: &'static str,
    pub scores: Scores,
    pub seconds: f64,
}

/// Raw K-Means vs autoencoder + K-Means vs N2D on generated digits.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsTable {
    pub n: usize,
    pub rows: Vec<DigitsRow>,
    /// The autoencoder of an earlier demo was used (its training time is not counted).
    pub reused_autoencoder: bool,
}

/// The deep-clustering table on `n` generated 28x28 digits (10 classes; labels only score).
/// The autoencoder is saved in `ae_dir` and reused by a re-run with the same digits and seed.
pub fn digits_table(
    n: usize,
    seed: u64,
    ae_dir: &Path,
    control: &Control,
) -> Result<DigitsTable, DemoError> {
    let ds = synthetic::digits(n, seed);
    let truth = ds.labels.clone().unwrap_or_default();
    let score = |pred: &[usize]| deepclust_metrics::scores(&truth, pred);
    let mut rows = Vec::new();

    let raw = crate::method::KMeans::from(KMeansParamsBuilder::params(10).n_init(10).seed(seed))
        .fit(&ds, control)?;
    rows.push(DigitsRow {
        method: "K-Means on raw pixels",
        scores: score(&raw.clustering.labels)?,
        seconds: raw.clustering.seconds(),
    });

    let config = AutoencoderConfig::default()
        .dims(vec![ds.dim(), 500, 500, 2000, 10])
        .epochs(DIGITS_AE_EPOCHS)
        .batch_size(DIGITS_AE_BATCH)
        .optimizer(Optimizer::adam(), 1e-3)
        .seed(seed);
    let on_code = AeKMeans::params(10)
        .encoder(AeSource::resume_or_train(ae_dir, config))
        .save_encoder_to(ae_dir)
        .kmeans(KMeansParamsBuilder::params(10).n_init(20).seed(seed))
        .fit(&ds, control)?;
    let ae_seconds = on_code.details.seconds;
    rows.push(DigitsRow {
        method: "autoencoder + K-Means",
        scores: score(&on_code.clustering.labels)?,
        seconds: on_code.clustering.seconds(),
    });

    let start = Instant::now();
    let codes = match on_code.clustering.embedding {
        Some((codes, _)) => codes,
        None => on_code
            .model
            .autoencoder
            .encode(ds.features.view())
            .map_err(MethodError::from)?,
    };
    let n2d = N2d::params(KSelect::Fixed(10)).seed(seed).fit_codes(
        codes,
        Some(on_code.model.autoencoder),
        control,
    )?;
    rows.push(DigitsRow {
        method: "N2D (autoencoder + UMAP + mixture)",
        scores: score(&n2d.clustering.labels)?,
        seconds: ae_seconds + start.elapsed().as_secs_f64(),
    });
    Ok(DigitsTable {
        n,
        rows,
        reused_autoencoder: on_code.details.epochs_trained == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_library_is_written_once_reused_and_refused_for_another_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = sample_library(dir.path(), 16, 3).expect("write");
        assert!(first.written_in.is_some());
        assert_eq!(first.library.photos.len(), 16);
        let again = sample_library(dir.path(), 16, 3).expect("reuse");
        assert!(again.written_in.is_none());
        // (serde_json reads GPS floats back to within one ulp: compare what names the photos.)
        let names = |l: &SampleLibrary| -> Vec<(String, &'static str)> {
            l.photos
                .iter()
                .map(|p| (p.rel_path.clone(), p.kind.name()))
                .collect()
        };
        assert_eq!(names(&again.library), names(&first.library));
        let other = sample_library(dir.path(), 24, 3);
        assert!(matches!(
            other,
            Err(DemoError::OtherLibrary {
                found_n: 16,
                n: 24,
                ..
            })
        ));
        let stranger = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(stranger.path().join("photos")).expect("mkdir");
        assert!(matches!(
            sample_library(stranger.path(), 16, 3),
            Err(DemoError::NotADemoFolder { .. })
        ));
    }
}
