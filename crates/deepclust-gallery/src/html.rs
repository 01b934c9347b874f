//! The organizer's HTML outputs, both rendered by `deepclust-report` with the same templates,
//! stylesheet and picture markup as every run report:
//!
//! - [`write_index`]: `index.html` in the output tree, every group with its thumbnails (the
//!   small JPEGs in `thumbs/`), each linking to the photo's entry in the organized tree;
//! - [`write_content_report`]: the clustering report of the content grouping (`--report DIR`):
//!   per cluster a montage of the photos nearest its centre and of the farthest, the 2-D PCA
//!   map of the embedding with thumbnails, and the run record.

use crate::apply::LinkOutcome;
use crate::error::GalleryError;
use crate::layout::THUMBS_DIR;
use crate::manifest::Manifest;
use crate::outcome::OrganizeReport;
use crate::params::OrganizeParams;
use crate::plan::GroupKind;
use deepclust_report::{
    IndexGroup, IndexSection, PhotoIndex, ReportBuilder, ReportOptions, ReportSummary, SkippedItem,
    Thumbnail,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Writes the index page of a finished run into `path`.
pub fn write_index(
    path: &Path,
    r: &OrganizeReport,
    manifest: &Manifest,
) -> Result<(), GalleryError> {
    // (kind, group folder) -> [(photo index, link target relative to output)]
    let mut groups: BTreeMap<(GroupKind, PathBuf), Vec<(usize, PathBuf)>> = BTreeMap::new();
    for (idx, link) in r.plan.links.iter().enumerate() {
        let target = match r.apply.as_ref().and_then(|a| a.outcomes.get(idx)) {
            Some(LinkOutcome::Created { target })
            | Some(LinkOutcome::AlreadyPresent { target }) => target
                .strip_prefix(&r.output)
                .unwrap_or(target)
                .to_path_buf(),
            _ => continue,
        };
        let dir = link
            .target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        groups
            .entry((link.kind, dir))
            .or_default()
            .push((link.photo, target));
    }

    // What people browse first: albums, people, events and places, then the long day list
    // (its groups start closed), then near-duplicates.
    let rank = |k: GroupKind| match k {
        GroupKind::Content => 0,
        GroupKind::People => 1,
        GroupKind::Imported => 2,
        GroupKind::Event => 3,
        GroupKind::Place => 4,
        GroupKind::Date => 5,
        GroupKind::NearDuplicates => 6,
    };
    let mut ordered: Vec<_> = groups.iter().collect();
    ordered.sort_by_key(|((kind, _), _)| rank(*kind));
    let mut sections: Vec<IndexSection> = Vec::new();
    for ((kind, dir), members) in ordered {
        let shown = dir
            .strip_prefix(kind.folder())
            .unwrap_or(dir)
            .display()
            .to_string();
        let count = format!(
            "{} photo{}",
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        );
        let album = (*kind == GroupKind::Content)
            .then(|| {
                manifest
                    .content_clusters
                    .iter()
                    .find(|c| Path::new(&c.folder) == Path::new(&shown))
            })
            .flatten();
        let (title, caption) = match album {
            Some(c) => (
                c.name.clone(),
                if c.tags.is_empty() {
                    c.why.clone()
                } else {
                    format!("tags: {} · {}", c.tags.join("; "), c.why)
                },
            ),
            None => (format!("{shown} ({count})"), String::new()),
        };
        let mut thumbnails: Vec<Thumbnail> = Vec::new();
        if *kind == GroupKind::People {
            let cover = Path::new(THUMBS_DIR).join(format!("{shown}.jpg"));
            if r.output.join(&cover).is_file() {
                thumbnails.push(Thumbnail::new(
                    &cover,
                    &Path::new(kind.folder()).join(&shown),
                    (crate::people::COVER_SIDE, crate::people::COVER_SIDE),
                    format!("{shown}: face"),
                    format!("{shown}: the clearest face"),
                ));
            }
        }
        thumbnails.extend(members.iter().map(|(photo, target)| {
            let p = &r.photos[*photo];
            Thumbnail::new(
                &Path::new(THUMBS_DIR).join(p.thumb_name()),
                target,
                (p.thumb_width, p.thumb_height),
                crate::relpath::display(&p.rel_path).into_owned(),
                format!("{} — {}", crate::relpath::display(&p.rel_path), p.taken),
            )
        }));
        let mut group = IndexGroup::new(title, thumbnails);
        group.caption = caption;
        match sections.last_mut() {
            Some(s) if s.heading == kind.folder() => s.groups.push(group),
            _ => sections.push(IndexSection::new(kind.folder(), vec![group])),
        }
    }
    for s in &mut sections {
        if s.heading == GroupKind::Date.folder() && s.groups.len() > 12 {
            s.groups.iter_mut().for_each(|g| g.open = false);
        }
    }
    let mut subtitle = vec![format!(
        "{} photos from {} · {} skipped · generated by deepclust organize",
        r.photos.len(),
        r.input.display(),
        r.skipped.len()
    )];
    if let Some(people) = &r.people {
        if !people.unassigned.is_empty() {
            let names: Vec<&str> = people
                .unassigned
                .iter()
                .map(|f| r.photos[f.photo].rel_path.as_str())
                .collect();
            subtitle.push(format!(
                "{} faces belong to no person yet (too few look alike): {}",
                names.len(),
                names.join(", ")
            ));
        }
    }
    let index = PhotoIndex {
        title: "Photo index".to_string(),
        subtitle,
        sections,
        skipped: r
            .skipped
            .iter()
            .map(|s| SkippedItem {
                name: crate::relpath::display(&s.rel_path).into_owned(),
                reason: s.reason.clone(),
            })
            .collect(),
    };
    index
        .write(path)
        .map_err(|e| GalleryError::path(path, e.to_string()))
}

/// The content clustering as K-Means saw it, for reports.
#[derive(Debug, Clone)]
pub struct ContentSpace {
    /// One row per photo (order of `OrganizeReport::photos`): its content embedding,
    /// standardised with the model's mean and block scales, i.e. the space of the centroids.
    pub embedding: ndarray::Array2<f32>,
    /// Content cluster of each photo (0-based, as `ContentCluster::id`).
    pub labels: Vec<usize>,
    /// Euclidean distance of each photo to the centre of its cluster in that space.
    pub distance_to_centre: Vec<f32>,
}

/// The content embedding, clusters and distances to the centres of a run that grouped by
/// content; `None` without content grouping (or photos without features).
pub fn content_space(r: &OrganizeReport) -> Option<ContentSpace> {
    let content = r.content.as_ref()?;
    let model = content.model.as_ref()?;
    let dim = model.mean.len();
    if dim == 0 || model.scale.len() != dim || content.labels.len() != r.photos.len() {
        return None;
    }
    let rows: Vec<&[f32]> = match &content.clustering_rows {
        Some(rows) => rows.iter().map(Vec::as_slice).collect(),
        None => r
            .photos
            .iter()
            .map(|p| {
                p.content
                    .as_ref()
                    .map_or(&[][..], |c| c.clustering_embedding())
            })
            .collect(),
    };
    if rows.len() != r.photos.len() || rows.iter().any(|row| row.len() != dim) {
        return None;
    }
    let embedding = ndarray::Array2::from_shape_fn((rows.len(), dim), |(i, j)| {
        (rows[i][j] - model.mean[j]) * model.scale[j]
    });
    let mut distance_to_centre = Vec::with_capacity(rows.len());
    for (row, &label) in embedding.outer_iter().zip(&content.labels) {
        let centre = model.centroids.get(label).filter(|c| c.len() == dim)?;
        let d2: f32 = row.iter().zip(centre).map(|(a, b)| (a - b) * (a - b)).sum();
        distance_to_centre.push(d2.sqrt());
    }
    Some(ContentSpace {
        embedding,
        labels: content.labels.clone(),
        distance_to_centre,
    })
}

/// The model-free statistics embedding of every photo, the content clusters, and each
/// photo's distance to its cluster's mean statistics; `None` when a photo has none.
fn statistics_space(r: &OrganizeReport) -> Option<ContentSpace> {
    let labels = &r.content.as_ref()?.labels;
    let rows: Vec<&[f32]> = r
        .photos
        .iter()
        .map(|p| p.content.as_ref().map(|c| c.embedding.as_slice()))
        .collect::<Option<_>>()?;
    let dim = rows.first()?.len();
    if dim == 0 || rows.iter().any(|row| row.len() != dim) || labels.len() != rows.len() {
        return None;
    }
    let embedding = ndarray::Array2::from_shape_fn((rows.len(), dim), |(i, j)| rows[i][j]);
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut means = ndarray::Array2::<f32>::zeros((k, dim));
    let mut counts = vec![0f32; k];
    for (row, &l) in embedding.outer_iter().zip(labels) {
        let mut mean = means.row_mut(l);
        mean += &row;
        counts[l] += 1.0;
    }
    for (mut mean, count) in means.outer_iter_mut().zip(counts) {
        mean /= count.max(1.0);
    }
    let distance_to_centre = embedding
        .outer_iter()
        .zip(labels)
        .map(|(row, &l)| {
            let d2: f32 = row
                .iter()
                .zip(means.row(l))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            d2.sqrt()
        })
        .collect();
    Some(ContentSpace {
        embedding,
        labels: labels.clone(),
        distance_to_centre,
    })
}

/// Side of a photo's tile in the report's montages and thumbnail map, in pixels.
pub const REPORT_TILE: u32 = 96;

/// Writes the clustering report of the content grouping into `dir` (`index.html` plus its
/// PNG and SVG files): per cluster, the photos nearest its centre and the farthest, with its
/// size; the 2-D PCA map of the embedding coloured by cluster, with thumbnails; the run's
/// parameters, seed, `timings` (step, seconds) and source folder. Pictures come from the
/// thumbnails of the run (`thumbs/`), or from the originals when there are none.
///
/// `dir` may not lie inside the photo folder (unless inside the output folder): the
/// organizer never writes into the photos.
pub fn write_content_report(
    dir: &Path,
    r: &OrganizeReport,
    params: &OrganizeParams,
    timings: &[(String, f64)],
) -> Result<ReportSummary, GalleryError> {
    let content = r.content.as_ref().ok_or_else(|| {
        GalleryError::InvalidParams(
            "the clustering report needs the content grouping (by content)".to_string(),
        )
    })?;
    let absolute = std::path::absolute(dir).map_err(|e| GalleryError::io(dir, e))?;
    if absolute.starts_with(&r.input) && !absolute.starts_with(&r.output) {
        return Err(GalleryError::path(
            dir,
            "the report folder lies inside the photo folder, which is never written to",
        ));
    }
    // Folder names count from 1 ("cluster 3"); so do the report's cluster numbers.
    let labels: Vec<usize> = content.labels.iter().map(|&l| l + 1).collect();
    // The clustering's own space (statistics, model embeddings, or the autoencoder's code
    // kept in the summary); else (a summary without it, e.g. read back from a manifest) the
    // thumbnail statistics every photo has, with each cluster's mean as its centre.
    let exact = content_space(r);
    let clustered_space = exact.is_some();
    let space = exact.or_else(|| statistics_space(r));
    let closeness: Option<Vec<f32>> = space
        .as_ref()
        // 1 / (1 + distance): ranks like the distance, reads as "higher is closer" in (0, 1].
        .map(|s| {
            s.distance_to_centre
                .iter()
                .map(|d| 1.0 / (1.0 + d))
                .collect()
        });
    let thumbs = r.output.join(THUMBS_DIR);
    let pictures: Vec<PathBuf> = r
        .photos
        .iter()
        .map(|p| {
            let thumb = thumbs.join(p.thumb_name());
            if thumb.is_file() {
                thumb
            } else {
                crate::relpath::join(&r.input, &p.rel_path)
            }
        })
        .collect();
    let ids: Vec<String> = r.photos.iter().map(|p| p.rel_path.clone()).collect();
    let config = serde_json::to_value(params)
        .map_err(|e| GalleryError::InvalidParams(format!("parameters as JSON: {e}")))?;
    let mut facts = format!("k = {}", content.k);
    if let Some(s) = content.silhouette {
        facts.push_str(&format!(", silhouette {s:.3} (on a sample of the photos)"));
    }
    if content.reused_previous_model {
        facts.push_str(", centres of the previous run reused (cached model)");
    }
    let mut builder = ReportBuilder::new(format!("Content clusters of {}", r.input.display()))
        .data_source(format!("{} ({} photos)", r.input.display(), r.photos.len()))
        .config(config)
        .seed(params.seed)
        .timings(timings.iter().cloned())
        .note(facts)
        .note(format!(
            "Linked into {}; montages and the map show the thumbnails of the photos.",
            r.output.join(GroupKind::Content.folder()).display()
        ))
        .clusters(&labels)
        .image_files(&pictures, REPORT_TILE)
        .ids(&ids)
        .options(ReportOptions {
            top_members: 16,
            least_members: 8,
            montage_columns: 8,
            map_points: 5000,
            map_thumbnails: 200,
            thumbnail_map_size: 1200,
            seed: params.seed,
        });
    if let (Some(space), Some(closeness)) = (&space, &closeness) {
        builder = if clustered_space {
            builder
                .confidence_named(closeness, "closeness to the centre, 1/(1+distance)")
                .embedding(space.embedding.view(), "content embedding")
        } else {
            builder
                .confidence_named(
                    closeness,
                    "closeness to the mean statistics, 1/(1+distance)",
                )
                .embedding(space.embedding.view(), "thumbnail statistics")
                .note(
                    "The clustering's embedding is not kept per photo for this embedding kind: \
                 members are ranked and mapped by their thumbnail statistics.",
                )
        };
    }
    for c in &content.clusters {
        builder = builder.cluster_name(
            c.id + 1,
            format!("{}/{}", GroupKind::Content.folder(), c.folder),
        );
    }
    builder
        .write(dir)
        .map_err(|e| GalleryError::path(dir, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::KSelect;
    use image::{Rgb, RgbImage};
    use std::sync::atomic::AtomicBool;

    /// Eight photos of two looks (red gradients, blue stripes) in `dir/lib`, organized by
    /// content into `dir/out` with the index page.
    fn organized(dir: &Path) -> (OrganizeParams, OrganizeReport) {
        let lib = dir.join("lib");
        std::fs::create_dir_all(lib.join("a b")).expect("mkdir");
        for i in 0..8u32 {
            let img = RgbImage::from_fn(64, 48, |x, y| {
                let noise = ((x * 7 + y * 13 + i * 31) % 17) as u8;
                if i % 2 == 0 {
                    Rgb([200 + noise, (y * 4) as u8 + noise, 30])
                } else {
                    let v = if (x / 8) % 2 == 0 { 230 } else { 40 };
                    Rgb([v - noise, v - noise, 250])
                }
            });
            img.save(lib.join("a b").join(format!("photo #{i}.png")))
                .expect("save");
        }
        let params = OrganizeParams::new(&lib, dir.join("out"))
            .by(vec![GroupKind::Date, GroupKind::Content])
            .k(KSelect::Fixed(2))
            .seed(3);
        let report = crate::organize(&params, &|_| {}, &AtomicBool::new(false)).expect("organize");
        (params, report)
    }

    /// Every `src="..."` / `href="..."` value of a page (anchors left out).
    fn references(html: &str) -> Vec<String> {
        let mut out = Vec::new();
        for attr in [" src=\"", " href=\""] {
            for part in html.split(attr).skip(1) {
                let value = &part[..part.find('"').expect("closing quote")];
                if !value.starts_with('#') {
                    out.push(value.to_string());
                }
            }
        }
        out
    }

    fn decode_url(url: &str) -> PathBuf {
        let bytes = url.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        PathBuf::from(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn index_and_content_report_reference_only_files_that_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (params, report) = organized(dir.path());
        let out = &report.output;

        let index = std::fs::read_to_string(out.join("index.html")).expect("index");
        assert_eq!(index.matches("<img ").count(), report.plan.links.len());
        assert!(index.contains("photo%20%230.png"), "names are URL-encoded");
        for url in references(&index) {
            assert!(out.join(decode_url(&url)).exists(), "index: {url}");
        }

        let report_dir = dir.path().join("report");
        let timings = vec![("organize".to_string(), 0.5)];
        let summary =
            write_content_report(&report_dir, &report, &params, &timings).expect("report");
        assert_eq!((summary.items, summary.clusters), (8, 2));
        let html = std::fs::read_to_string(&summary.index).expect("report page");
        let sources = references(&html);
        // A montage per cluster (4 photos each: all nearest, no farthest beyond them), the
        // map and the thumbnail map.
        assert_eq!(sources.len(), 2 + 2, "{sources:?}");
        for url in &sources {
            assert!(report_dir.join(decode_url(url)).is_file(), "report: {url}");
        }
        assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
        assert!(
            html.contains("Cluster 1: by-content&#x2f;"),
            "clusters carry their folder name"
        );
        assert!(!html.contains("id=\"confusion\""), "photos have no labels");
        assert!(html.contains("&quot;seed&quot;: 3"), "the run's parameters");

        // The two looks are the two clusters.
        let labels = &report.content.as_ref().expect("content").labels;
        for (i, p) in report.photos.iter().enumerate() {
            let look = p
                .rel_path
                .trim_end_matches(".png")
                .ends_with(['0', '2', '4', '6']);
            let first = report
                .photos
                .iter()
                .position(|q| q.rel_path.ends_with("#0.png"))
                .expect("photo 0");
            assert_eq!(labels[i] == labels[first], look, "{}", p.rel_path);
        }
    }

    #[test]
    fn distances_are_to_the_own_centre_in_the_clustered_space() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, report) = organized(dir.path());
        let content = report.content.as_ref().expect("content");
        let model = content.model.as_ref().expect("model");
        let photo_dim = report.photos[0]
            .content
            .as_ref()
            .expect("features")
            .clustering_embedding()
            .len();
        let space = content_space(&report).expect("the clustered space");
        assert_eq!(model.mean.len(), photo_dim);
        assert_eq!(space.embedding.nrows(), report.photos.len());
        for (i, row) in space.embedding.outer_iter().enumerate() {
            let to = |c: usize| -> f32 {
                row.iter()
                    .zip(&model.centroids[c])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt()
            };
            let own = content.labels[i];
            assert!((space.distance_to_centre[i] - to(own)).abs() < 1e-4);
            // K-Means labels: the own centre is the nearest.
            for c in 0..model.centroids.len() {
                assert!(to(own) <= to(c) + 1e-4, "photo {i}: centre {c} is nearer");
            }
        }
    }

    #[test]
    fn the_report_is_never_written_into_the_photos() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (params, report) = organized(dir.path());
        let inside = report.input.join("report");
        let err = write_content_report(&inside, &report, &params, &[]).expect_err("refused");
        assert!(err.to_string().contains("photo folder"), "{err}");
        assert!(!inside.exists());
    }
}
