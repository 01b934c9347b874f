//! One saved-run format for every method, and its loader.
//!
//! A run folder holds `config.json` with a `format_version` and the method's `kind`
//! (`kmeans`, `gmm`, `ae-kmeans`, `dec`, `idec`, `n2d`), the model's files, and optionally
//! `metrics.json`, `train_log.csv` and `assignments.csv` (`id,cluster`):
//!
//! | kind | model files |
//! |---|---|
//! | `kmeans` | `centroids.json` |
//! | `gmm` | `mixture.json` |
//! | `ae-kmeans` | `centroids.json`, `autoencoder/` |
//! | `dec`, `idec` | `weights.safetensors` (encoder + centroids), `centroids.json`, `train_log.csv`; `config.json` written by `DecModel::save` |
//! | `n2d` | `mixture.json`, `layout.safetensors` (fitted codes and layout), `autoencoder/` when the code is one |
//!
//! [`SavedModel::load`] reads any of them back and predicts new rows. K-Means folders saved
//! by `deepclust kmeans --save-model` before `kind` existed (`"command": "kmeans"`) load too.

use crate::method::{AeKMeansModel, MethodError, N2dModel, Predict};
use deepclust_cluster::{GmmModel, KMeansModel};
use deepclust_nn::{weights, Autoencoder, DecModel};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the files this module writes.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// A model that saves itself into a run folder.
pub trait SaveRun {
    /// The `kind` written into `config.json`.
    fn kind(&self) -> &'static str;

    /// Writes the model's files into `dir` (created when missing), and `config.json` with
    /// the format version, the kind and the fields of `config` (a struct or map: the run's
    /// parameters), except for DEC, whose own `config.json` already holds its parameters.
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError>;
}

/// A model loaded from a run folder.
#[derive(Debug, Clone)]
pub enum SavedModel {
    KMeans(KMeansModel),
    Mixture(GmmModel),
    AeKMeans(AeKMeansModel),
    Dec(Box<DecModel>),
    N2d(Box<N2dModel>),
}

impl SavedModel {
    /// Reads the run saved in `dir`, whichever method made it.
    pub fn load(dir: &Path) -> Result<SavedModel, MethodError> {
        load(dir).map_err(|e| MethodError::load(dir, e))
    }

    /// The kind written in its `config.json`.
    pub fn kind(&self) -> &'static str {
        match self {
            SavedModel::KMeans(m) => m.kind(),
            SavedModel::Mixture(m) => m.kind(),
            SavedModel::AeKMeans(m) => m.kind(),
            SavedModel::Dec(m) => m.kind(),
            SavedModel::N2d(m) => m.kind(),
        }
    }
}

impl Predict for SavedModel {
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, MethodError> {
        match self {
            SavedModel::KMeans(m) => Predict::predict(m, x),
            SavedModel::Mixture(m) => Predict::predict(m, x),
            SavedModel::AeKMeans(m) => m.predict(x),
            SavedModel::Dec(m) => Predict::predict(m.as_ref(), x),
            SavedModel::N2d(m) => m.as_ref().predict(x),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MethodError + '_ {
    move |source| MethodError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(path: &Path, problem: impl Into<String>) -> MethodError {
    MethodError::BadRunFile {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// `config.json`: the version, the kind, then the fields of `config`.
fn write_config(dir: &Path, kind: &str, config: &impl Serialize) -> Result<(), MethodError> {
    let path = dir.join("config.json");
    let mut map = serde_json::Map::new();
    map.insert("format_version".into(), RUN_FORMAT_VERSION.into());
    map.insert("kind".into(), kind.into());
    match serde_json::to_value(config).map_err(|e| bad(&path, e.to_string()))? {
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                if k != "format_version" && k != "kind" {
                    map.insert(k, v);
                }
            }
        }
        serde_json::Value::Null => {}
        other => {
            map.insert("config".into(), other);
        }
    }
    write_json(&path, &serde_json::Value::Object(map))
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), MethodError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| bad(path, e.to_string()))?;
    weights::write_atomic(path, text.as_bytes()).map_err(io(path))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, MethodError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| bad(path, e.to_string()))
}

fn write_centroids(dir: &Path, centroids: &Array2<f32>) -> Result<(), MethodError> {
    let rows: Vec<Vec<f32>> = centroids.outer_iter().map(|r| r.to_vec()).collect();
    let path = dir.join("centroids.json");
    let text = serde_json::to_string(&rows).map_err(|e| bad(&path, e.to_string()))?;
    weights::write_atomic(&path, text.as_bytes()).map_err(io(&path))
}

fn read_centroids(dir: &Path) -> Result<KMeansModel, MethodError> {
    let path = dir.join("centroids.json");
    let rows: Vec<Vec<f32>> = read_json(&path)?;
    let k = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    if k == 0 || d == 0 || rows.iter().any(|r| r.len() != d) {
        return Err(bad(&path, "expected a non-empty list of equally long rows"));
    }
    let centroids =
        Array2::from_shape_vec((k, d), rows.concat()).map_err(|e| bad(&path, e.to_string()))?;
    KMeansModel::from_centroids(centroids).map_err(|e| bad(&path, e.to_string()))
}

fn create(dir: &Path) -> Result<(), MethodError> {
    std::fs::create_dir_all(dir).map_err(io(dir))
}

impl SaveRun for KMeansModel {
    fn kind(&self) -> &'static str {
        "kmeans"
    }
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError> {
        create(dir)?;
        write_centroids(dir, self.centroids())?;
        write_config(dir, self.kind(), config)
    }
}

impl SaveRun for GmmModel {
    fn kind(&self) -> &'static str {
        "gmm"
    }
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError> {
        create(dir)?;
        write_json(&dir.join("mixture.json"), self)?;
        write_config(dir, self.kind(), config)
    }
}

impl SaveRun for AeKMeansModel {
    fn kind(&self) -> &'static str {
        "ae-kmeans"
    }
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError> {
        create(dir)?;
        let ae_dir = dir.join("autoencoder");
        self.autoencoder.save_for_inference(&ae_dir)?;
        write_centroids(dir, self.kmeans.centroids())?;
        write_config(dir, self.kind(), config)
    }
}

impl SaveRun for DecModel {
    fn kind(&self) -> &'static str {
        self.config().method_name()
    }
    /// `DecModel::save`'s files; its `config.json` holds the DEC and autoencoder settings,
    /// so `config` is written as `run.json` beside it.
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError> {
        self.save(dir)?;
        write_json(&dir.join("run.json"), config)
    }
}

impl SaveRun for N2dModel {
    fn kind(&self) -> &'static str {
        "n2d"
    }
    fn save_run(&self, dir: &Path, config: &impl Serialize) -> Result<(), MethodError> {
        create(dir)?;
        if let Some(ae) = &self.autoencoder {
            ae.save_for_inference(&dir.join("autoencoder"))?;
        }
        write_json(&dir.join("mixture.json"), &self.mixture)?;
        let (Some(codes), Some(layout)) = (self.codes.as_slice(), self.layout.as_slice()) else {
            unreachable!("codes and layout are built in standard layout")
        };
        weights::save_tensors(
            &dir.join("layout.safetensors"),
            &[
                ("codes".into(), self.codes.shape().to_vec(), codes),
                ("layout".into(), self.layout.shape().to_vec(), layout),
            ],
        )?;
        #[derive(Serialize)]
        struct N2dFiles<'a, C: Serialize> {
            n_neighbors: usize,
            #[serde(flatten)]
            config: &'a C,
        }
        write_config(
            dir,
            self.kind(),
            &N2dFiles {
                n_neighbors: self.n_neighbors,
                config,
            },
        )
    }
}

#[derive(serde::Deserialize)]
struct Header {
    #[serde(default)]
    format_version: Option<u32>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    n_neighbors: Option<usize>,
}

fn load(dir: &Path) -> Result<SavedModel, MethodError> {
    let path = dir.join("config.json");
    let header: Header = read_json(&path)?;
    let kind = match (&header.kind, &header.command) {
        (Some(kind), _) => kind.as_str(),
        (None, Some(command)) if command == "kmeans" => "kmeans",
        _ => return Err(bad(&path, "names no method (no `kind`)")),
    };
    let version = header.format_version.unwrap_or(0);
    // DEC folders carry the nn crate's own version, checked by DecModel::load.
    if !matches!(kind, "dec" | "idec") && version != RUN_FORMAT_VERSION {
        return Err(bad(
            &path,
            format!("format version {version}, this build reads {RUN_FORMAT_VERSION}"),
        ));
    }
    Ok(match kind {
        "kmeans" => SavedModel::KMeans(read_centroids(dir)?),
        "gmm" => SavedModel::Mixture(read_json(&dir.join("mixture.json"))?),
        "ae-kmeans" => SavedModel::AeKMeans(AeKMeansModel {
            autoencoder: Autoencoder::load(&dir.join("autoencoder"))?,
            kmeans: read_centroids(dir)?,
        }),
        "dec" | "idec" => SavedModel::Dec(Box::new(DecModel::load(dir)?)),
        "n2d" => {
            let ae_dir = dir.join("autoencoder");
            let autoencoder = if ae_dir.join("config.json").exists() {
                Some(Autoencoder::load(&ae_dir)?)
            } else {
                None
            };
            let mixture: GmmModel = read_json(&dir.join("mixture.json"))?;
            let tensors_path = dir.join("layout.safetensors");
            let mut tensors = weights::load_tensors(&tensors_path)?;
            let mut take = |name: &str| -> Result<Array2<f32>, MethodError> {
                let t = tensors
                    .remove(name)
                    .ok_or_else(|| bad(&tensors_path, format!("no tensor `{name}`")))?;
                if t.shape.len() != 2 {
                    return Err(bad(&tensors_path, format!("`{name}` is not a matrix")));
                }
                Array2::from_shape_vec((t.shape[0], t.shape[1]), t.values)
                    .map_err(|e| bad(&tensors_path, e.to_string()))
            };
            let codes = take("codes")?;
            let layout = take("layout")?;
            if codes.nrows() != layout.nrows() || codes.nrows() == 0 {
                return Err(bad(&tensors_path, "codes and layout differ in rows"));
            }
            if layout.ncols() != mixture.means().ncols() {
                return Err(bad(&tensors_path, "the layout is not the mixture's space"));
            }
            if let Some(ae) = &autoencoder {
                if ae.config().code_dim() != codes.ncols() {
                    return Err(bad(&tensors_path, "the codes are not the autoencoder's"));
                }
            }
            SavedModel::N2d(Box::new(N2dModel {
                autoencoder,
                codes,
                layout,
                mixture,
                n_neighbors: header
                    .n_neighbors
                    .ok_or_else(|| bad(&path, "no `n_neighbors`"))?,
            }))
        }
        other => return Err(bad(&path, format!("unknown kind `{other}`"))),
    })
}

/// Writes `id,cluster` lines (with a header) for every row; ids with commas, quotes or line
/// breaks (file names can hold them) are quoted as CSV requires.
pub fn write_assignments(path: &Path, ids: &[String], labels: &[usize]) -> Result<(), MethodError> {
    if ids.len() != labels.len() {
        return Err(MethodError::InvalidParam(format!(
            "{} ids but {} labels",
            ids.len(),
            labels.len()
        )));
    }
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "id,cluster")?;
        for (id, cluster) in ids.iter().zip(labels) {
            if id.contains([',', '"', '\n', '\r']) {
                writeln!(out, "\"{}\",{cluster}", id.replace('"', "\"\""))?;
            } else {
                writeln!(out, "{id},{cluster}")?;
            }
        }
        out.flush()
    };
    write().map_err(io(path))
}

/// The files of a run folder, for callers that add metrics and assignments to a model.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub dir: PathBuf,
}

impl RunDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RunDir { dir: dir.into() }
    }
    /// `metrics.json`: what the run measured (times, inertia, scores).
    pub fn write_metrics(&self, metrics: &impl Serialize) -> Result<(), MethodError> {
        create(&self.dir)?;
        write_json(&self.dir.join("metrics.json"), metrics)
    }
    /// `assignments.csv`: the cluster of every fitted row.
    pub fn write_assignments(&self, ids: &[String], labels: &[usize]) -> Result<(), MethodError> {
        create(&self.dir)?;
        write_assignments(&self.dir.join("assignments.csv"), ids, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Control;
    use crate::method::{AeKMeans, AeSource, Dec, GaussianMixture, KMeans, Method, N2d};
    use crate::pipeline::KSelect;
    use deepclust_data::Dataset;
    use deepclust_nn::{AutoencoderConfig, DecConfig};

    /// 300 of the generated 28x28 digits, the first 240 to fit, the rest to predict.
    fn digits() -> (Dataset, Dataset) {
        let all = deepclust_data::synthetic::digits(300, 4);
        let fit = all.select(&(0..240).collect::<Vec<_>>());
        let new = all.select(&(240..300).collect::<Vec<_>>());
        (fit, new)
    }

    fn small_ae() -> AutoencoderConfig {
        AutoencoderConfig::default()
            .dims(vec![784, 64, 8])
            .epochs(3)
            .batch_size(64)
            .seed(3)
    }

    /// Saves `model`, loads the folder back, and checks that both predict the same.
    fn round_trip(model: &(impl SaveRun + Predict), new: &Dataset) -> SavedModel {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        model
            .save_run(&run, &serde_json::json!({"seed": 3}))
            .expect("save");
        let loaded = SavedModel::load(&run).expect("load");
        assert_eq!(loaded.kind(), model.kind());
        let before = model.predict(new.features.view()).expect("predict");
        let after = loaded.predict(new.features.view()).expect("predict loaded");
        assert_eq!(
            before,
            after,
            "{} predicts differently once loaded",
            model.kind()
        );
        assert_eq!(after.len(), new.len());
        loaded
    }

    #[test]
    fn every_method_saves_loads_and_predicts_new_rows() {
        let (fit, new) = digits();
        let ctl = Control::none();
        let km = KMeans::params(10)
            .n_init(2)
            .seed(1)
            .fit(&fit, &ctl)
            .expect("kmeans");
        round_trip(&km.model, &new);
        let gmm_data = Dataset::from_features(
            fit.features.slice(ndarray::s![.., 200..205]).to_owned(),
            None,
            "five pixels",
        )
        .expect("ds");
        let gmm = GaussianMixture::params(3)
            .seed(1)
            .fit(&gmm_data, &ctl)
            .expect("gmm");
        let gmm_new = Dataset::from_features(
            new.features.slice(ndarray::s![.., 200..205]).to_owned(),
            None,
            "five pixels",
        )
        .expect("ds");
        round_trip(&gmm.model, &gmm_new);
        let aek = AeKMeans::params(10)
            .encoder(AeSource::Train(small_ae()))
            .fit(&fit, &ctl)
            .expect("ae + kmeans");
        round_trip(&aek.model, &new);
        let dec = Dec::params(10)
            .config(
                DecConfig::dec(10)
                    .maxiter(30)
                    .update_interval(10)
                    .kmeans_n_init(2)
                    .seed(3),
            )
            .encoder(AeSource::Train(small_ae()))
            .fit(&fit, &ctl)
            .expect("dec");
        round_trip(&dec.model, &new);
        let n2d = N2d::params(KSelect::Fixed(10))
            .n_neighbors(10)
            .encoder(AeSource::Train(small_ae()))
            .fit(&fit, &ctl)
            .expect("n2d");
        assert_eq!(n2d.clustering.labels.len(), fit.len());
        round_trip(&n2d.model, &new);
    }

    #[test]
    fn old_kmeans_folders_load_and_broken_ones_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path();
        std::fs::write(
            run.join("config.json"),
            r#"{"format_version": 1, "command": "kmeans", "algorithm": "kmeans"}"#,
        )
        .expect("write");
        std::fs::write(run.join("centroids.json"), "[[0.0, 0.0], [10.0, 10.0]]").expect("write");
        let model = SavedModel::load(run).expect("old kmeans folder");
        let x = ndarray::array![[9.0f32, 9.5], [0.5, -1.0]];
        assert_eq!(model.predict(x.view()).expect("predict"), vec![1, 0]);
        std::fs::write(run.join("centroids.json"), "[[0.0, 0.0], [10.0]]").expect("write");
        let err = SavedModel::load(run).expect_err("ragged centroids");
        let text = format!(
            "{err}: {}",
            std::error::Error::source(&err).expect("source")
        );
        assert!(text.contains("centroids.json"), "{text}");
        std::fs::write(
            run.join("config.json"),
            r#"{"format_version": 1, "kind": "tsne"}"#,
        )
        .expect("write");
        let err = SavedModel::load(run).expect_err("unknown kind");
        let source = std::error::Error::source(&err).expect("source").to_string();
        assert!(source.contains("unknown kind `tsne`"), "{source}");
    }

    #[test]
    fn assignments_quote_ids_that_would_break_the_csv() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.csv");
        let ids = vec!["a.png".to_string(), "b,\"c\".png".to_string()];
        write_assignments(&path, &ids, &[1, 0]).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "id,cluster\na.png,1\n\"b,\"\"c\"\".png\",0\n");
        assert!(write_assignments(&path, &ids, &[1]).is_err());
    }
}
