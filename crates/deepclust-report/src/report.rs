//! [`ReportBuilder`]: collects what a clustering run knows and writes the report folder.

use crate::charts::{self, category_colour, css_colour, Line};
use crate::confusion::ConfusionTable;
use crate::error::{io_error, ReportError, Result};
use crate::images::{self, ImageShape, ImageSource};
use crate::pca::Pca2;
use crate::templates::{self, GENERATOR};
use deepclust_metrics::{Contingency, Scores};
use image::RgbImage;
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Name of the page inside the report folder.
pub const INDEX_FILE: &str = "index.html";

/// One autoencoder epoch (the fields of `deepclust_nn`'s `EpochReport` the report uses).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AeEpoch {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: Option<f64>,
}

/// One DEC/IDEC target update (the fields of `deepclust_nn`'s `DecReport` the report uses).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecUpdate {
    pub iteration: usize,
    /// Total loss (KL for DEC, KL x gamma + reconstruction for IDEC).
    pub loss: Option<f64>,
    pub kl_loss: Option<f64>,
    pub reconstruction_loss: Option<f64>,
    /// Fraction of items whose cluster changed since the previous update (0..1).
    pub label_change: f64,
    /// ACC/NMI/ARI against the true labels, when they are known.
    pub scores: Option<Scores>,
}

/// Sizes and sampling of the report. `Default` suits 10 clusters of 28 x 28 digits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportOptions {
    /// Most confident members shown per cluster.
    pub top_members: usize,
    /// Least confident members shown per cluster (0 hides them).
    pub least_members: usize,
    /// Tiles per montage row.
    pub montage_columns: usize,
    /// Points drawn on each map (a random sample when there are more items).
    pub map_points: usize,
    /// Thumbnails placed on the thumbnail map (taken from the map's sample).
    pub map_thumbnails: usize,
    /// Side of the thumbnail map picture in pixels.
    pub thumbnail_map_size: u32,
    /// Seed of the map's sample and of the member sample when no confidence is given.
    pub seed: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top_members: 32,
            least_members: 8,
            montage_columns: 8,
            map_points: 5000,
            map_thumbnails: 300,
            thumbnail_map_size: 960,
            seed: 0,
        }
    }
}

impl ReportOptions {
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(ReportError::Invalid(what.to_string()));
        if self.top_members == 0 {
            return bad("top_members must be at least 1");
        }
        if self.montage_columns == 0 {
            return bad("montage_columns must be at least 1");
        }
        if self.map_points < 2 {
            return bad("map_points must be at least 2");
        }
        if !(64..=4096).contains(&self.thumbnail_map_size) {
            return bad("thumbnail_map_size must be 64..=4096 px");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Embedding<'a> {
    /// Any number of columns: the map is its PCA.
    Features {
        rows: ArrayView2<'a, f32>,
        name: String,
    },
    /// Two columns already (UMAP, t-SNE, ...).
    Map {
        points: ArrayView2<'a, f32>,
        method: String,
    },
}

/// What [`ReportBuilder::write`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    /// The page to open.
    pub index: PathBuf,
    /// Every file written (the page first), all inside the report folder.
    pub files: Vec<PathBuf>,
    /// Total size of those files.
    pub bytes: u64,
    /// Items the report describes.
    pub items: usize,
    /// Clusters shown.
    pub clusters: usize,
    /// Points drawn on each map (0 without a map).
    pub map_points: usize,
    /// Problems that did not stop the report (unreadable thumbnails, a skipped chart);
    /// the page lists them too.
    pub warnings: Vec<String>,
}

/// Builds the HTML report of one clustering run.
///
/// Every input is optional except the title; each section appears when its inputs are
/// there: cluster montages need [`clusters`](Self::clusters) and
/// [`images`](Self::images)/[`image_files`](Self::image_files); the confusion table needs
/// [`truth`](Self::truth) and clusters; the map needs [`embedding`](Self::embedding) or
/// [`embedding_2d`](Self::embedding_2d) (or pixel images, mapped by their PCA).
/// All per-item inputs must have the same length.
///
/// ```no_run
/// # fn main() -> Result<(), deepclust_report::ReportError> {
/// use deepclust_report::{ImageShape, ReportBuilder};
/// # let (pixels, labels, truth, conf) = (ndarray::Array2::<f32>::zeros((2, 4)), vec![0, 1], vec![0, 1], vec![1.0, 1.0]);
/// let summary = ReportBuilder::new("K-Means on MNIST")
///     .data_source("../shared/data/mnist (70,000 images)")
///     .config(serde_json::json!({"k": 10, "n_init": 20}))
///     .seed(7)
///     .timing("fit", 12.3)
///     .clusters(&labels)
///     .confidence(&conf)
///     .images(pixels.view(), ImageShape::gray(2, 2))
///     .truth(&truth)
///     .write("out/report")?;
/// println!("open {}", summary.index.display());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ReportBuilder<'a> {
    title: String,
    config: Option<serde_json::Value>,
    seed: Option<u64>,
    data_source: Option<String>,
    timings: Vec<(String, f64)>,
    notes: Vec<String>,
    labels: Option<&'a [usize]>,
    cluster_names: BTreeMap<usize, String>,
    confidence: Option<(&'a [f32], String)>,
    images: Option<ImageSource<'a>>,
    ids: Option<&'a [String]>,
    truth: Option<&'a [usize]>,
    ae_curve: Vec<AeEpoch>,
    dec_curve: Vec<DecUpdate>,
    embedding: Option<Embedding<'a>>,
    options: ReportOptions,
}

impl<'a> ReportBuilder<'a> {
    pub fn new(title: impl Into<String>) -> Self {
        ReportBuilder {
            title: title.into(),
            config: None,
            seed: None,
            data_source: None,
            timings: Vec::new(),
            notes: Vec::new(),
            labels: None,
            cluster_names: BTreeMap::new(),
            confidence: None,
            images: None,
            ids: None,
            truth: None,
            ae_curve: Vec::new(),
            dec_curve: Vec::new(),
            embedding: None,
            options: ReportOptions::default(),
        }
    }

    /// The run's configuration, shown as pretty-printed JSON.
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = Some(config);
        self
    }

    /// The run's seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Where the data came from (a path, a URL, "synthetic digits, seed 0").
    pub fn data_source(mut self, source: impl Into<String>) -> Self {
        self.data_source = Some(source.into());
        self
    }

    /// One timed step of the run, in seconds (call once per step, in order).
    pub fn timing(mut self, step: impl Into<String>, seconds: f64) -> Self {
        self.timings.push((step.into(), seconds));
        self
    }

    /// Several timed steps at once.
    pub fn timings<S: Into<String>>(mut self, steps: impl IntoIterator<Item = (S, f64)>) -> Self {
        self.timings
            .extend(steps.into_iter().map(|(s, t)| (s.into(), t)));
        self
    }

    /// A free-text line for the overview (e.g. "stopped: labels changed < tol").
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The cluster of each item.
    pub fn clusters(mut self, labels: &'a [usize]) -> Self {
        self.labels = Some(labels);
        self
    }

    /// A name for a cluster label, shown after its number (e.g. the photo organizer's
    /// folder name). Call once per named cluster.
    pub fn cluster_name(mut self, label: usize, name: impl Into<String>) -> Self {
        self.cluster_names.insert(label, name.into());
        self
    }

    /// How typical each item is of its cluster, higher = more typical (DEC's largest q,
    /// or minus the distance to the centre; see [`crate::confidence`]).
    pub fn confidence(self, confidence: &'a [f32]) -> Self {
        self.confidence_named(confidence, "confidence")
    }

    /// [`confidence`](Self::confidence) with the name the page uses for it (e.g. "max q").
    pub fn confidence_named(mut self, confidence: &'a [f32], name: impl Into<String>) -> Self {
        self.confidence = Some((confidence, name.into()));
        self
    }

    /// Pictures of the items as rows of pixels in `[0, 1]`.
    pub fn images(mut self, rows: ArrayView2<'a, f32>, shape: ImageShape) -> Self {
        self.images = Some(ImageSource::Pixels { rows, shape });
        self
    }

    /// Pictures of the items as files (thumbnails; PNG or JPEG), fitted into
    /// `tile x tile` px squares.
    pub fn image_files(mut self, paths: &'a [PathBuf], tile: u32) -> Self {
        self.images = Some(ImageSource::Files { paths, tile });
        self
    }

    /// Names of the items (file names, `train:123`); the least confident are listed.
    pub fn ids(mut self, ids: &'a [String]) -> Self {
        self.ids = Some(ids);
        self
    }

    /// True classes: adds the confusion table, purity and a map coloured by class.
    pub fn truth(mut self, labels: &'a [usize]) -> Self {
        self.truth = Some(labels);
        self
    }

    /// Autoencoder loss per epoch.
    pub fn ae_curve(mut self, epochs: Vec<AeEpoch>) -> Self {
        self.ae_curve = epochs;
        self
    }

    /// DEC/IDEC loss, label change and scores per target update.
    pub fn dec_curve(mut self, updates: Vec<DecUpdate>) -> Self {
        self.dec_curve = updates;
        self
    }

    /// An embedding of the items (n x d, e.g. the autoencoder's code); the map shows its
    /// 2-D PCA. `name` says what it is ("autoencoder code").
    pub fn embedding(mut self, rows: ArrayView2<'a, f32>, name: impl Into<String>) -> Self {
        self.embedding = Some(Embedding::Features {
            rows,
            name: name.into(),
        });
        self
    }

    /// A 2-D map computed elsewhere (n x 2), e.g. by UMAP; `method` names it.
    pub fn embedding_2d(mut self, points: ArrayView2<'a, f32>, method: impl Into<String>) -> Self {
        self.embedding = Some(Embedding::Map {
            points,
            method: method.into(),
        });
        self
    }

    pub fn options(mut self, options: ReportOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks that all per-item inputs agree; returns the number of items.
    fn validate(&self) -> Result<usize> {
        self.options.validate()?;
        if self.confidence.is_some() && self.labels.is_none() {
            return Err(ReportError::Invalid(
                "a confidence score was given without cluster labels".to_string(),
            ));
        }
        let lengths: [(&'static str, Option<usize>); 6] = [
            ("the cluster labels", self.labels.map(<[usize]>::len)),
            ("the true labels", self.truth.map(<[usize]>::len)),
            (
                "the confidence scores",
                self.confidence.as_ref().map(|c| c.0.len()),
            ),
            ("the image list", self.images.as_ref().map(ImageSource::len)),
            ("the item ids", self.ids.map(<[String]>::len)),
            (
                "the embedding",
                self.embedding.as_ref().map(|e| match e {
                    Embedding::Features { rows, .. } => rows.nrows(),
                    Embedding::Map { points, .. } => points.nrows(),
                }),
            ),
        ];
        let mut n = None;
        for (what, len) in lengths {
            match (n, len) {
                (None, Some(len)) => n = Some(len),
                (Some(expected), Some(got)) if expected != got => {
                    return Err(ReportError::LengthMismatch {
                        what,
                        expected,
                        got,
                    })
                }
                _ => {}
            }
        }
        if let Some(images) = &self.images {
            images.validate()?;
        }
        if let Some(Embedding::Map { points, .. }) = &self.embedding {
            if points.ncols() != 2 {
                return Err(ReportError::Invalid(format!(
                    "a 2-D map needs 2 columns, got {}",
                    points.ncols()
                )));
            }
        }
        Ok(n.unwrap_or(0))
    }

    /// Writes `index.html` and its pictures into `dir` (created if needed; files of the
    /// same names are replaced, other files are left alone).
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<ReportSummary> {
        let dir = dir.as_ref();
        let n = self.validate()?;
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut out = Output {
            dir,
            files: Vec::new(),
            warnings: Vec::new(),
        };

        let contingency = match (self.truth, self.labels) {
            (Some(truth), Some(labels)) if n > 0 => Some(Contingency::new(truth, labels)?),
            _ => None,
        };
        let confusion = contingency.as_ref().map(ConfusionTable::new);
        let cluster_colours = self
            .labels
            .map(|labels| cluster_colour_indices(labels, contingency.as_ref()));
        let clusters =
            self.cluster_sections(&mut out, confusion.as_ref(), cluster_colours.as_ref())?;
        let curves = self.curves(&mut out)?;
        let map = self.map(&mut out, n, cluster_colours.as_ref())?;

        let mut facts = vec![Fact::new("items", n.to_string())];
        if let Some(labels) = self.labels {
            facts.push(Fact::new("clusters", distinct(labels).len().to_string()));
        }
        if let Some(truth) = self.truth {
            facts.push(Fact::new("true classes", distinct(truth).len().to_string()));
        }
        if let Some(t) = &confusion {
            facts.push(Fact::new("ACC", format!("{:.4}", t.acc)));
            facts.push(Fact::new("NMI", format!("{:.4}", t.nmi)));
            facts.push(Fact::new("ARI", format!("{:.4}", t.ari)));
        }
        let total_seconds: f64 = self.timings.iter().map(|t| t.1).sum();
        if !self.timings.is_empty() {
            facts.push(Fact::new("time", format_seconds(total_seconds)));
        }
        let config_json = match &self.config {
            Some(value) => Some(serde_json::to_string_pretty(value).map_err(|e| {
                ReportError::Invalid(format!("the configuration cannot be written as JSON: {e}"))
            })?),
            None => None,
        };
        // Pixel art (digits) is enlarged with sharp pixels; photos are smoothed.
        let montage_class = match self.images {
            Some(ImageSource::Pixels { .. }) => "pixels",
            _ => "",
        };
        let page = Page {
            title: &self.title,
            subtitle: self
                .data_source
                .iter()
                .map(|source| format!("Data: {source}"))
                .collect(),
            data_source: self.data_source.as_deref(),
            facts,
            notes: &self.notes,
            ranking: self.ranking_text(),
            clusters,
            montage_class,
            confusion,
            curves,
            map,
            config_json,
            seed: self.seed,
            timings: self
                .timings
                .iter()
                .map(|(step, s)| Fact::new(step.clone(), format_seconds(*s)))
                .collect(),
            generator: GENERATOR,
            warnings: &out.warnings,
        };
        let html = templates::render("report.html", &page)?;
        let index = dir.join(INDEX_FILE);
        fs::write(&index, html).map_err(io_error(&index))?;
        out.files.insert(0, index.clone());
        let mut bytes = 0;
        for f in &out.files {
            bytes += fs::metadata(f).map_err(io_error(f))?.len();
        }
        Ok(ReportSummary {
            index,
            bytes,
            items: n,
            clusters: page.clusters.len(),
            map_points: page.map.as_ref().map_or(0, |m| m.points),
            files: out.files,
            warnings: out.warnings,
        })
    }

    fn ranking_text(&self) -> String {
        let least = self.options.least_members;
        match &self.confidence {
            Some((_, name)) if least > 0 => format!(
                "Members are ranked by {name}: the {} highest first, then the {least} lowest.",
                self.options.top_members
            ),
            Some((_, name)) => format!(
                "The {} members with the highest {name}.",
                self.options.top_members
            ),
            None => format!(
                "No confidence score was given: a random sample of {} members (seed {}).",
                self.options.top_members, self.options.seed
            ),
        }
    }

    fn cluster_sections(
        &self,
        out: &mut Output,
        confusion: Option<&ConfusionTable>,
        colour_of: Option<&BTreeMap<usize, usize>>,
    ) -> Result<Vec<ClusterSection>> {
        let Some(labels) = self.labels else {
            return Ok(Vec::new());
        };
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, &l) in labels.iter().enumerate() {
            members.entry(l).or_default().push(i);
        }
        let n = labels.len().max(1);
        let opts = &self.options;
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut sections = Vec::with_capacity(members.len());
        for (rank, (&label, items)) in members.iter_mut().enumerate() {
            let colour_index = colour_of
                .and_then(|c| c.get(&label).copied())
                .unwrap_or(rank);
            let (top, least): (Vec<usize>, Vec<usize>) = match &self.confidence {
                Some((conf, _)) => {
                    let key = |i: usize| {
                        let c = conf[i];
                        if c.is_nan() {
                            f32::NEG_INFINITY
                        } else {
                            c
                        }
                    };
                    // Most confident first; ties keep item order so reports are stable.
                    items.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
                    let top: Vec<usize> = items.iter().take(opts.top_members).copied().collect();
                    let rest = &items[top.len()..];
                    let least = rest
                        .iter()
                        .rev()
                        .take(opts.least_members)
                        .copied()
                        .collect();
                    (top, least)
                }
                None => {
                    let mut sample = items.clone();
                    sample.shuffle(&mut rng);
                    sample.truncate(opts.top_members);
                    (sample, Vec::new())
                }
            };
            let mean_confidence = self.confidence.as_ref().map(|(conf, name)| {
                let mean =
                    items.iter().map(|&i| f64::from(conf[i])).sum::<f64>() / items.len() as f64;
                format!("mean {name} {mean:.4}")
            });
            let mut section = ClusterSection {
                label,
                name: self.cluster_names.get(&label).cloned(),
                size: items.len(),
                share: items.len() as f64 / n as f64,
                colour: css_colour(category_colour(colour_index)),
                purity: confusion.and_then(|t| t.cluster(label)).cloned(),
                mean_confidence,
                top: None,
                least: None,
                least_ids: Vec::new(),
            };
            if let Some(source) = &self.images {
                let name = format!("cluster-{label}-top.png");
                section.top = Some(out.montage(source, &top, opts.montage_columns, &name)?);
                if !least.is_empty() {
                    let name = format!("cluster-{label}-least.png");
                    section.least =
                        Some(out.montage(source, &least, opts.montage_columns, &name)?);
                }
            }
            if let Some(ids) = self.ids {
                section.least_ids = least.iter().map(|&i| ids[i].clone()).collect();
            }
            sections.push(section);
        }
        Ok(sections)
    }

    fn curves(&self, out: &mut Output) -> Result<Vec<Picture>> {
        let mut pictures = Vec::new();
        if !self.ae_curve.is_empty() {
            let mut lines = vec![Line {
                name: "train".into(),
                colour: category_colour(0),
                points: self
                    .ae_curve
                    .iter()
                    .map(|e| (e.epoch as f64, e.train_loss))
                    .collect(),
            }];
            if self.ae_curve.iter().any(|e| e.val_loss.is_some()) {
                lines.push(Line {
                    name: "validation".into(),
                    colour: category_colour(1),
                    points: self
                        .ae_curve
                        .iter()
                        .filter_map(|e| e.val_loss.map(|v| (e.epoch as f64, v)))
                        .collect(),
                });
            }
            out.chart(
                &mut pictures,
                "curve-autoencoder.svg",
                "Autoencoder loss",
                || charts::line_chart("autoencoder loss", "epoch", "MSE", &lines, None),
            )?;
        }
        if !self.dec_curve.is_empty() {
            let dec = &self.dec_curve;
            let series = |name: &str, colour: usize, f: &dyn Fn(&DecUpdate) -> Option<f64>| Line {
                name: name.to_string(),
                colour: category_colour(colour),
                points: dec
                    .iter()
                    .filter_map(|u| f(u).map(|v| (u.iteration as f64, v)))
                    .collect(),
            };
            let losses: Vec<Line> = [
                series("loss", 0, &|u| u.loss),
                series("KL", 1, &|u| u.kl_loss),
                series("reconstruction", 2, &|u| u.reconstruction_loss),
            ]
            .into_iter()
            .filter(|l| !l.points.is_empty())
            .collect();
            if !losses.is_empty() {
                out.chart(
                    &mut pictures,
                    "curve-dec-loss.svg",
                    "Clustering loss per update",
                    || charts::line_chart("DEC loss", "iteration", "loss", &losses, None),
                )?;
            }
            let change = [series("label change", 3, &|u| Some(u.label_change))];
            out.chart(
                &mut pictures,
                "curve-label-change.svg",
                "Labels changed per update",
                || {
                    charts::line_chart(
                        "label change",
                        "iteration",
                        "fraction changed",
                        &change,
                        Some(0.0),
                    )
                },
            )?;
            if dec.iter().any(|u| u.scores.is_some()) {
                let scores = [
                    series("ACC", 0, &|u| u.scores.map(|s| s.acc)),
                    series("NMI", 1, &|u| u.scores.map(|s| s.nmi)),
                    series("ARI", 2, &|u| u.scores.map(|s| s.ari)),
                ];
                out.chart(
                    &mut pictures,
                    "curve-scores.svg",
                    "ACC / NMI / ARI per update",
                    || charts::line_chart("scores", "iteration", "score", &scores, Some(0.0)),
                )?;
            }
        }
        Ok(pictures)
    }

    fn map(
        &self,
        out: &mut Output,
        n: usize,
        cluster_colour_of: Option<&BTreeMap<usize, usize>>,
    ) -> Result<Option<MapSection>> {
        let (source, method): (Option<ArrayView2<f32>>, String) = match &self.embedding {
            Some(Embedding::Map { points, method }) => (Some(points.view()), method.clone()),
            Some(Embedding::Features { rows, name }) => {
                (Some(rows.view()), format!("PCA of the {name}"))
            }
            None => match &self.images {
                Some(ImageSource::Pixels { rows, .. }) => {
                    (Some(rows.view()), "PCA of the pixels".to_string())
                }
                _ => (None, String::new()),
            },
        };
        let Some(rows) = source else {
            return Ok(None);
        };
        if n < 2 {
            out.warnings
                .push("the map needs at least 2 items".to_string());
            return Ok(None);
        }
        let opts = &self.options;
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        // Random order: drawing order must not follow the data's order (often by class).
        let sample = rand::seq::index::sample(&mut rng, n, n.min(opts.map_points)).into_vec();
        let rows_sample = rows.select(Axis(0), &sample);
        let (coords, method) = match &self.embedding {
            Some(Embedding::Map { .. }) => (rows_sample, method),
            _ => {
                let pca = Pca2::fit(rows_sample.view())?;
                let coords: Array2<f32> = pca.project(rows_sample.view())?;
                let kept = pca.explained_ratio() * 100.0;
                (coords, format!("{method} ({kept:.1}% of the variance)"))
            }
        };
        let points: Vec<(f32, f32)> = coords.outer_iter().map(|r| (r[0], r[1])).collect();
        // Two maps side by side in the page's 1240 px column.
        let size = 560;
        let mut section = MapSection {
            method,
            points: points.len(),
            total: n,
            by_cluster: None,
            by_truth: None,
            cluster_legend: Vec::new(),
            truth_legend: Vec::new(),
            thumbnails: None,
        };
        let cluster_colours = self
            .labels
            .zip(cluster_colour_of)
            .map(|(labels, colour_of)| colour_by(labels, &sample, colour_of));
        if let Some((colours, legend)) = &cluster_colours {
            section.by_cluster = out.svg("map-clusters.svg", size, || {
                charts::scatter("map by cluster", &points, colours, size)
            })?;
            section.cluster_legend = legend.clone();
        }
        if let Some(truth) = self.truth {
            let (colours, legend) = colour_by(truth, &sample, &rank_colours(truth));
            section.by_truth = out.svg("map-truth.svg", size, || {
                charts::scatter("map by true class", &points, &colours, size)
            })?;
            section.truth_legend = legend;
        }
        if cluster_colours.is_none() && self.truth.is_none() {
            let grey = vec![[90, 90, 90]; points.len()];
            section.by_cluster = out.svg("map.svg", size, || {
                charts::scatter("map", &points, &grey, size)
            })?;
        }
        if let Some(images) = &self.images {
            let k = opts.map_thumbnails.min(points.len());
            if k > 0 {
                let grey = vec![[90, 90, 90]; k];
                let colours = cluster_colours.as_ref().map_or(&grey[..], |(c, _)| &c[..k]);
                let (picture, problems) = images::thumbnail_map(
                    images,
                    &points[..k],
                    &sample[..k],
                    colours,
                    opts.thumbnail_map_size,
                );
                out.warnings.extend(problems);
                section.thumbnails = Some(out.png("map-thumbnails.png", &picture, 1)?);
            }
        }
        Ok(Some(section))
    }
}

/// Colour index of each label: its rank among the distinct labels.
fn rank_colours(labels: &[usize]) -> BTreeMap<usize, usize> {
    distinct(labels)
        .into_iter()
        .enumerate()
        .map(|(rank, label)| (label, rank))
        .collect()
}

/// Colour index of each cluster label. With true classes, a cluster matched to a class
/// takes that class's colour, so the map by cluster and the map by class read alike;
/// unmatched clusters take the colours after the classes'. Without, clusters by rank.
fn cluster_colour_indices(labels: &[usize], table: Option<&Contingency>) -> BTreeMap<usize, usize> {
    let Some(table) = table else {
        return rank_colours(labels);
    };
    let class_of: BTreeMap<usize, usize> = table.matching().into_iter().collect();
    let mut next = table.classes().len();
    let mut colours = BTreeMap::new();
    for (j, &label) in table.clusters().iter().enumerate() {
        let index = class_of.get(&j).copied().unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        colours.insert(label, index);
    }
    colours
}

/// Colour of each sampled item from its label's colour index, and the legend.
fn colour_by(
    labels: &[usize],
    sample: &[usize],
    colour_of: &BTreeMap<usize, usize>,
) -> (Vec<[u8; 3]>, Vec<LegendItem>) {
    let colour = |label: usize| category_colour(colour_of.get(&label).copied().unwrap_or(0));
    let colours = sample.iter().map(|&i| colour(labels[i])).collect();
    let legend = colour_of
        .keys()
        .map(|&label| LegendItem {
            label: label.to_string(),
            colour: css_colour(colour(label)),
        })
        .collect();
    (colours, legend)
}

fn distinct(labels: &[usize]) -> Vec<usize> {
    let mut v = labels.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

fn format_seconds(s: f64) -> String {
    if s >= 120.0 {
        format!("{:.0} min {:.0} s", (s / 60.0).floor(), s % 60.0)
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

/// Files written so far and problems met, for the summary.
struct Output<'d> {
    dir: &'d Path,
    files: Vec<PathBuf>,
    warnings: Vec<String>,
}

impl Output<'_> {
    fn png(&mut self, name: &str, picture: &RgbImage, scale: u32) -> Result<Picture> {
        let path = self.dir.join(name);
        images::save_png(picture, &path)?;
        self.files.push(path);
        Ok(Picture {
            file: name.to_string(),
            title: String::new(),
            width: picture.width() * scale,
            height: picture.height() * scale,
        })
    }

    fn montage(
        &mut self,
        source: &ImageSource,
        items: &[usize],
        columns: usize,
        name: &str,
    ) -> Result<Picture> {
        let (picture, problems) = images::montage(source, items, columns);
        self.warnings.extend(problems);
        self.png(name, &picture, source.display_scale())
    }

    /// Writes an SVG; a chart that cannot be drawn becomes a warning, not a failed report.
    fn svg(
        &mut self,
        name: &str,
        size: u32,
        draw: impl FnOnce() -> Result<String>,
    ) -> Result<Option<Picture>> {
        self.svg_sized(name, (size, size), draw)
    }

    fn svg_sized(
        &mut self,
        name: &str,
        (width, height): (u32, u32),
        draw: impl FnOnce() -> Result<String>,
    ) -> Result<Option<Picture>> {
        match draw() {
            Ok(svg) => {
                let path = self.dir.join(name);
                fs::write(&path, svg).map_err(io_error(&path))?;
                self.files.push(path);
                Ok(Some(Picture {
                    file: name.to_string(),
                    title: String::new(),
                    width,
                    height,
                }))
            }
            Err(e @ ReportError::Chart { .. }) => {
                self.warnings.push(e.to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn chart(
        &mut self,
        pictures: &mut Vec<Picture>,
        name: &str,
        title: &str,
        draw: impl FnOnce() -> Result<String>,
    ) -> Result<()> {
        if let Some(mut p) = self.svg_sized(name, charts::CHART_SIZE, draw)? {
            p.title = title.to_string();
            pictures.push(p);
        }
        Ok(())
    }
}

// ---- what the template sees ----

#[derive(Serialize)]
struct Page<'p> {
    title: &'p str,
    /// Lines under the title.
    subtitle: Vec<String>,
    data_source: Option<&'p str>,
    facts: Vec<Fact>,
    notes: &'p [String],
    ranking: String,
    clusters: Vec<ClusterSection>,
    /// CSS class of the montages and the thumbnail map ("pixels" for sharp enlargement).
    montage_class: &'static str,
    confusion: Option<ConfusionTable>,
    curves: Vec<Picture>,
    map: Option<MapSection>,
    config_json: Option<String>,
    seed: Option<u64>,
    timings: Vec<Fact>,
    generator: &'static str,
    warnings: &'p [String],
}

#[derive(Serialize, Clone)]
struct Fact {
    name: String,
    value: String,
}

impl Fact {
    fn new(name: impl Into<String>, value: String) -> Self {
        Fact {
            name: name.into(),
            value,
        }
    }
}

/// A picture file of the report with its display size.
#[derive(Serialize, Clone)]
struct Picture {
    file: String,
    title: String,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct ClusterSection {
    label: usize,
    name: Option<String>,
    size: usize,
    share: f64,
    colour: String,
    purity: Option<crate::confusion::ClusterPurity>,
    mean_confidence: Option<String>,
    top: Option<Picture>,
    least: Option<Picture>,
    least_ids: Vec<String>,
}

#[derive(Serialize, Clone)]
struct LegendItem {
    label: String,
    colour: String,
}

#[derive(Serialize)]
struct MapSection {
    method: String,
    points: usize,
    total: usize,
    by_cluster: Option<Picture>,
    by_truth: Option<Picture>,
    cluster_legend: Vec<LegendItem>,
    truth_legend: Vec<LegendItem>,
    thumbnails: Option<Picture>,
}
