//! What an organizer run produced ([`OrganizeReport`]); the manifest, the index page and the
//! command line are written from it.

use crate::apply::ApplyReport;
use crate::content::ContentModel;
use crate::places::Place;
use crate::plan::{Assignment, Plan};
use crate::prune::{PruneReport, SupersededCopy};
use crate::scan::{PhotoRecord, SkippedFile};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One content cluster as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentCluster {
    pub id: usize,
    pub name: String,
    pub folder: String,
    pub size: usize,
    /// Why it has its name (shares of text, camera, faces; leading tags).
    #[serde(default)]
    pub why: String,
    /// Leading ImageNet tags of its members.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContentSummary {
    pub k: usize,
    /// What the photos were embedded with.
    pub embedder: String,
    pub silhouette: Option<f64>,
    pub reused_previous_model: bool,
    /// Why the previous run's clusters were not reused although there were some: the
    /// parameters that changed (`seed 7 -> 8`). `None` when reused or when there were none.
    #[serde(default)]
    pub refit_because: Option<String>,
    pub clusters: Vec<ContentCluster>,
    /// Per photo (same order as `OrganizeReport::photos`).
    pub labels: Vec<usize>,
    /// The fitted (or reused) model: standardisation and centroids, for the clustering
    /// report's distances to the centre (see `html::content_space`). Not serialised: the
    /// cache keeps its own copy.
    #[serde(skip)]
    pub model: Option<ContentModel>,
    /// The rows the clusters were fitted on (before standardisation), per photo, when they
    /// are not stored with the photos (the autoencoder's code + statistics); `None` when
    /// each photo's `clustering_embedding()` is that row. Not serialised.
    #[serde(skip)]
    pub clustering_rows: Option<Vec<Vec<f32>>>,
}

/// Everything a run produced; the CLI prints from it.
#[derive(Debug, Clone, Default)]
pub struct OrganizeReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub photos: Vec<PhotoRecord>,
    pub places: Vec<Option<Place>>,
    pub assignments: Vec<Vec<Assignment>>,
    pub skipped: Vec<SkippedFile>,
    pub other_files: usize,
    pub from_cache: usize,
    pub plan: Plan,
    pub content: Option<ContentSummary>,
    pub apply: Option<ApplyReport>,
    pub manifest: Option<PathBuf>,
    pub index_html: Option<PathBuf>,
    /// Links of the previous run's grouping that this one no longer wants (events merged by
    /// a bridging photo, an edited photo's old day...): removed when provably ours, else kept
    /// (see [`crate::prune`]). In a dry run, what would be removed.
    pub pruned: PruneReport,
    /// Every old version of an edited photo set aside in `superseded/` and still there (this
    /// run's and earlier runs'), as the manifest lists them.
    pub superseded: Vec<SupersededCopy>,
    /// How the content embedder was chosen: fallbacks, missing models.
    pub notes: Vec<String>,
    /// Faces grouped into persons (with `--by people`).
    pub people: Option<crate::people::People>,
}

impl OrganizeReport {
    /// What the run found and did, as one JSON document for scripts (the command line's
    /// `--json`): counts, skipped files with reasons, albums, persons, links made and
    /// failed, the previous run's links removed or kept.
    pub fn summary_json(&self, dry_run: bool) -> serde_json::Value {
        let r = self;
        use serde_json::json;
        let failures: Vec<_> = r.apply.as_ref().map_or(Vec::new(), |a| {
            a.outcomes
                .iter()
                .zip(&r.plan.links)
                .filter_map(|(o, link)| match o {
                    crate::apply::LinkOutcome::Failed { reason } => {
                        Some(json!({"target": link.target, "reason": reason}))
                    }
                    _ => None,
                })
                .collect()
        });
        json!({
            "input": r.input,
            "output": r.output,
            "dry_run": dry_run,
            "photos": r.photos.len(),
            "from_cache": r.from_cache,
            "other_files": r.other_files,
            "skipped": r.skipped.iter().map(|s| json!({"file": crate::relpath::display(&s.rel_path), "reason": s.reason})).collect::<Vec<_>>(),
            "notes": r.notes,
            "content": r.content.as_ref().map(|c| json!({
                "embedder": c.embedder,
                "k": c.k,
                "reused_previous_model": c.reused_previous_model,
                "refit_because": c.refit_because,
                "albums": c.clusters.iter().map(|cl| json!({
                    "name": cl.name, "folder": cl.folder, "photos": cl.size, "tags": cl.tags, "why": cl.why,
                })).collect::<Vec<_>>(),
            })),
            "people": r.people.as_ref().map(|p| json!({
                "persons": p.persons.iter().map(|person| json!({"folder": person.folder(), "faces": person.faces.len()})).collect::<Vec<_>>(),
                "unassigned_faces": p.unassigned.len(),
            })),
            "planned_links": r.plan.links.len(),
            "links": r.apply.as_ref().map(|a| json!({
                "created": a.created,
                "already_present": a.already_present,
                "renamed": a.renamed,
                "failed": a.failed,
                "failures": failures,
            })),
            "previous_links": json!({
                "removed": r.pruned.removed,
                "kept": r.pruned.kept.iter().map(|(l, why)| json!({"link": l, "reason": why})).collect::<Vec<_>>(),
                "set_aside": r.pruned.set_aside,
            }),
            "manifest": r.manifest,
            "index": r.index_html,
        })
    }
}
