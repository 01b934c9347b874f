//! `content/<album>`: albums learned without labels. The photos are clustered on the model
//! signals when every photo has them, else on their embeddings or the thumbnail
//! autoencoder's code; each album is named from what dominates it, and every photo says why
//! it is there. A cached model is reused only when it was fitted with the same embedder, k
//! and seed ([`ContentModel::key`]).

use super::{plural, Grouping, Library};
use crate::autoencode::{self, AE_DIR};
use crate::content::{cluster_embeddings_in_blocks, cluster_name, ContentModel};
use crate::error::GalleryError;
use crate::exif_meta::TimeSource;
use crate::outcome::{ContentCluster, ContentSummary};
use crate::params::{EmbedderSpec, OrganizeParams};
use crate::places::Place;
use crate::plan::{Assignment, GroupKind};
use crate::scan::{PhotoRecord, Progress};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;

pub(crate) struct ByContent<'a> {
    pub chosen: &'a crate::embedder::ChosenEmbedder,
    pub output: &'a Path,
    /// The earlier run's model, reused when its key matches.
    pub previous: Option<&'a ContentModel>,
    pub progress: &'a (dyn Fn(Progress) + Sync),
    pub cancel: &'a AtomicBool,
    /// The albums and the model of this run (after `assign`).
    pub result: Option<(ContentSummary, ContentModel)>,
}

impl Grouping for ByContent<'_> {
    fn kind(&self) -> GroupKind {
        GroupKind::Content
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        if library.photos.is_empty() {
            return Ok(Vec::new());
        }
        let (summary, model, assignments) = content_albums(
            library.params,
            self.chosen,
            library.photos,
            library.places,
            self.output,
            self.previous,
            self.progress,
            self.cancel,
        )?;
        self.result = Some((summary, model));
        Ok(assignments.into_iter().map(|a| vec![a]).collect())
    }
}

fn strip_count(name: &str) -> String {
    match name.rfind(" (") {
        Some(i) if name.ends_with(" photos)") => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// Labels, the fitted model, and the rows (code + statistics) the clusters were fitted on.
type AutoencoderClusters = (Vec<usize>, ContentModel, Vec<Vec<f32>>);

/// Content clusters on the autoencoder embedding. The network of an earlier run in `output`
/// is reused (no retraining) when the cached centroids were made with it, so unchanged photos
/// keep their codes and clusters; otherwise a new one is trained and, unless this is a dry
/// run, kept for the next run.
fn autoencoder_clusters(
    params: &OrganizeParams,
    photos: &[PhotoRecord],
    output: &Path,
    prev_model: Option<&ContentModel>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<AutoencoderClusters, GalleryError> {
    let ae_params = &params.autoencoder;
    let pixels: Vec<&[u8]> = photos
        .iter()
        .map(|p| p.content.as_ref().map_or(&[][..], |c| c.pixels.as_slice()))
        .collect();
    let stats: Vec<&[f32]> = photos
        .iter()
        .map(|p| {
            p.content
                .as_ref()
                .map_or(&[][..], |c| c.embedding.as_slice())
        })
        .collect();
    let x = autoencode::pixel_matrix(&pixels)?;
    let dim = ae_params.embedding_len();
    let ae_dir = output.join(AE_DIR);
    let saved = prev_model
        .filter(|m| params.use_cache && m.mean.len() == dim)
        .and_then(|_| autoencode::load_saved(&ae_dir, ae_params));
    let reuse = saved.is_some();
    let ae = match saved {
        Some(ae) => ae,
        None => autoencode::train(x.view(), ae_params, params.seed, progress, cancel)?,
    };
    let codes = autoencode::encode(&ae, x.view())?;
    let rows = autoencode::combine(&codes, &stats, ae_params.layout_weight > 0.0);
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let blocks = autoencode::blocks(ae_params);
    let result = cluster_embeddings_in_blocks(
        &refs,
        &blocks,
        params.k,
        params.seed,
        prev_model.filter(|_| reuse),
    )?;
    if !reuse && !params.dry_run && params.use_cache {
        autoencode::save(&ae, &ae_dir)?;
    }
    let (labels, model) = result;
    Ok((labels, model, rows))
}

/// The content albums of the library (see the module documentation).
#[allow(clippy::too_many_arguments)]
fn content_albums(
    params: &OrganizeParams,
    chosen: &crate::embedder::ChosenEmbedder,
    photos: &[PhotoRecord],
    places: &[Option<Place>],
    output: &Path,
    prev_model: Option<&ContentModel>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(ContentSummary, ContentModel, Vec<Assignment>), GalleryError> {
    let n = photos.len();
    let use_autoencoder = chosen.embedder.is_none()
        && matches!(params.embedder(), EmbedderSpec::ThumbnailAutoencoder(_));
    let signal_rows = chosen
        .embedder
        .as_ref()
        .and_then(|_| crate::albums::signal_rows(photos, crate::albums::FACE_WEIGHT));
    let embedder_id = chosen.embedder.as_ref().map_or(
        if use_autoencoder {
            "autoencoder"
        } else {
            crate::thumbs::BUILTIN_EMBEDDER
        },
        |e| e.id(),
    );
    use crate::content::ContentMethod;
    let n2d = match params.content_method {
        ContentMethod::Auto => signal_rows.is_some(),
        ContentMethod::N2d => !use_autoencoder,
        ContentMethod::KMeans => false,
    };
    let key = format!(
        "{embedder_id}|k={:?}|seed={}|{}",
        params.k,
        params.seed,
        if n2d { "n2d" } else { "kmeans" }
    );
    let refit_because = prev_model
        .filter(|m| m.key != key)
        .map(|m| key_change(&m.key, &key));
    let prev_model = prev_model.filter(|m| m.key == key);
    let (labels, mut model, clustering_rows) = if use_autoencoder {
        let (labels, model, rows) =
            autoencoder_clusters(params, photos, output, prev_model, progress, cancel)?;
        (labels, model, Some(rows))
    } else {
        let (rows, blocks, keep_rows) = match signal_rows {
            Some((rows, blocks)) => (rows, blocks, true),
            None => {
                let rows: Vec<Vec<f32>> = photos
                    .iter()
                    .map(|p| {
                        p.content
                            .as_ref()
                            .map_or(Vec::new(), |c| c.clustering_embedding().to_vec())
                    })
                    .collect();
                let dim = rows.first().map_or(0, Vec::len);
                (rows, crate::thumbs::embedding_blocks(dim), false)
            }
        };
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let cluster = if n2d {
            crate::content::cluster_embeddings_n2d
        } else {
            cluster_embeddings_in_blocks
        };
        let (labels, model) = cluster(&refs, &blocks, params.k, params.seed, prev_model)?;
        (labels, model, keep_rows.then_some(rows))
    };
    model.key = key;
    let reused = prev_model.is_some_and(|m| m.centroids == model.centroids);
    // A reused model keeps every known photo in its album; new photos went to the nearest.
    let mut labels = labels;
    if reused {
        for (l, p) in labels.iter_mut().zip(photos) {
            if let Some(&known) = model.members.get(&p.rel_path) {
                if known < model.centroids.len() {
                    *l = known;
                }
            }
        }
    }
    model.members = photos
        .iter()
        .zip(&labels)
        .map(|(p, &l)| (p.rel_path.clone(), l))
        .collect();
    let method_label = if use_autoencoder || !n2d {
        "K-Means"
    } else {
        "N2D: UMAP, then a Gaussian mixture"
    };
    let embedding_label = if use_autoencoder {
        "an autoencoder's code of the thumbnail, colour and texture".to_string()
    } else {
        chosen.description.clone()
    };
    let class_name = |c: u16| {
        chosen
            .embedder
            .as_ref()
            .and_then(|e| e.class_name(c).map(str::to_string))
    };
    let k = model.centroids.len();
    let mut clusters: Vec<ContentCluster> = Vec::new();
    let mut bases: Vec<(String, Vec<String>)> = Vec::new();
    for c in 0..k {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        let cities: Vec<Option<&str>> = members
            .iter()
            .map(|&i| places[i].as_ref().map(|p| p.city.as_str()))
            .collect();
        let months: Vec<Option<(i32, u8)>> = members
            .iter()
            .map(|&i| {
                let p = &photos[i];
                (p.time_source != TimeSource::FileMtime)
                    .then_some((p.taken.day.year, p.taken.day.month))
            })
            .collect();
        let where_when = cluster_name(c, &cities, &months);
        let where_when = (!where_when.starts_with("cluster ")).then(|| strip_count(&where_when));
        let records: Vec<&PhotoRecord> = members.iter().map(|&i| &photos[i]).collect();
        let album = crate::albums::album_name(&records, &class_name)
            .or_else(|| crate::albums::plain_album_name(&records));
        let base = match (&album, &where_when) {
            (Some(a), Some(w)) => format!("{} - {w}", a.name),
            (Some(a), None) => a.name.clone(),
            (None, Some(w)) => w.clone(),
            (None, None) => format!("cluster {}", c + 1),
        };
        let distinguishers: Vec<String> = album
            .as_ref()
            .map(|a| {
                a.orientation
                    .map(str::to_string)
                    .into_iter()
                    .chain(
                        a.tags
                            .iter()
                            .map(|(t, _)| t.split(',').next().unwrap_or(t).trim().to_string()),
                    )
                    .collect()
            })
            .unwrap_or_default();
        bases.push((base, distinguishers));
        clusters.push(ContentCluster {
            id: c,
            name: String::new(),
            folder: String::new(),
            size: members.len(),
            why: album.as_ref().map_or(String::new(), |a| a.why.clone()),
            tags: album
                .map(|a| a.tags.into_iter().map(|(t, _)| t).collect())
                .unwrap_or_default(),
        });
    }
    // Albums sharing a name are told apart by their shape or leading tags (the first one
    // their twins do not lead with), then by number.
    let mut used_folders: HashSet<String> = HashSet::new();
    for (c, (base, marks)) in bases.iter().enumerate() {
        let twins: Vec<&Vec<String>> = bases
            .iter()
            .enumerate()
            .filter(|&(o, (b, _))| o != c && b == base)
            .map(|(_, (_, m))| m)
            .collect();
        let mark = marks
            .iter()
            .find(|m| !base.contains(m.as_str()) && twins.iter().all(|t| t.first() != Some(*m)));
        let mut name = match mark {
            Some(m) if !twins.is_empty() => format!("{base} ({m})"),
            _ => base.clone(),
        };
        let mut folder = name.replace(['/', '\\'], "-");
        if !used_folders.insert(folder.clone()) {
            folder = format!("{folder} #{}", c + 1);
            name = format!("{name} #{}", c + 1);
            used_folders.insert(folder.clone());
        }
        clusters[c].name = format!("{name} ({})", plural(clusters[c].size, "photo"));
        clusters[c].folder = folder;
    }
    let assignments = labels
        .iter()
        .map(|&l| Assignment {
            kind: GroupKind::Content,
            group: clusters[l].folder.clone(),
            reason: format!(
                "content album {} of {k} ({method_label} on {embedding_label}){}",
                l + 1,
                if clusters[l].why.is_empty() {
                    String::new()
                } else {
                    format!("; named from: {}", clusters[l].why)
                }
            ),
        })
        .collect();
    let summary = ContentSummary {
        k,
        embedder: embedding_label,
        silhouette: model.silhouette,
        reused_previous_model: reused,
        refit_because,
        clusters,
        labels,
        model: Some(model.clone()),
        clustering_rows,
    };
    Ok((summary, model, assignments))
}

/// What differs between a cached content model's key and this run's, in words: the
/// parameters that change the clusters (`seed 7 -> 8; k 5 -> auto`).
fn key_change(old: &str, new: &str) -> String {
    if old.is_empty() {
        return "the cached clusters record no parameters (an older version made them)".into();
    }
    // Keys are `embedder|k=..|seed=..|method`; a part is named by its `name=` prefix, or by
    // its position for the embedder and the method.
    let parts = |key: &str| -> Vec<(String, String)> {
        key.split('|')
            .enumerate()
            .map(|(i, part)| match part.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None if i == 0 => ("embedding".to_string(), part.to_string()),
                None => ("method".to_string(), part.to_string()),
            })
            .collect()
    };
    // The k part is written with Debug (`Fixed(5)`, `Auto { min: 2, max: 12 }`).
    let shown = |value: &str| -> String {
        if let Some(k) = value
            .strip_prefix("Fixed(")
            .and_then(|v| v.strip_suffix(')'))
        {
            return k.to_string();
        }
        if let Some(range) = value.strip_prefix("Auto { min: ") {
            return format!(
                "auto ({})",
                range.trim_end_matches(" }").replace(", max: ", "-")
            );
        }
        value.to_string()
    };
    let (old, new) = (parts(old), parts(new));
    let changes: Vec<String> = new
        .iter()
        .filter_map(|(name, value)| {
            let before = old
                .iter()
                .find(|(n, _)| n == name)
                .map_or("(none)", |(_, v)| v.as_str());
            (before != value).then(|| format!("{name} {} -> {}", shown(before), shown(value)))
        })
        .collect();
    if changes.is_empty() {
        "the cached clusters were made with other parameters".into()
    } else {
        changes.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::key_change;

    #[test]
    fn names_each_changed_parameter_in_words() {
        let old = "builtin|k=Fixed(5)|seed=7|kmeans";
        assert_eq!(
            key_change(old, "builtin|k=Fixed(5)|seed=8|kmeans"),
            "seed 7 -> 8"
        );
        assert_eq!(
            key_change(old, "onnx:lite2|k=Auto { min: 2, max: 12 }|seed=7|n2d"),
            "embedding builtin -> onnx:lite2; k 5 -> auto (2-12); method kmeans -> n2d"
        );
        assert!(key_change("", old).contains("older version"));
    }
}
