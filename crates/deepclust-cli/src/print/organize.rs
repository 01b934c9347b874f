//! What `organize` prints: the plan of a dry run, what was linked, kept, set aside or failed,
//! the albums and persons; and the `--report` page of the content clusters.

use anyhow::{Context, Result};
use deepclust::gallery::apply::LinkOutcome;
use deepclust::gallery::relpath::display;
use deepclust::gallery::{OrganizeParams, OrganizeReport};

/// `--report DIR`: the clustering report of the content grouping (deepclust-report's page).
pub fn content_report(
    dir: &std::path::Path,
    report: &OrganizeReport,
    params: &OrganizeParams,
    organize_seconds: f64,
) -> Result<()> {
    let started = std::time::Instant::now();
    let timings = [("organize (scan, group, link)".to_string(), organize_seconds)];
    let summary = deepclust::gallery::html::write_content_report(dir, report, params, &timings)
        .with_context(|| format!("cannot write the report into {}", dir.display()))?;
    outln!(
        "report: {} ({} files, {:.1} MB, written in {:.2} s)",
        summary.index.display(),
        summary.files.len(),
        summary.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for warning in &summary.warnings {
        eprintln!("warning: report: {warning}");
    }
    Ok(())
}

pub fn report(r: &OrganizeReport, dry_run: bool) {
    if dry_run {
        outln!(
            "plan (dry run, nothing written): {} links",
            r.plan.links.len()
        );
        for link in &r.plan.links {
            let photo = &r.photos[link.photo];
            let reason = r.assignments[link.photo]
                .iter()
                .find(|a| a.kind == link.kind)
                .map_or("", |a| a.reason.as_str());
            outln!(
                "{} -> {}  [{}]",
                display(&photo.rel_path),
                link.target.display(),
                reason
            );
        }
    }
    outln!(
        "photos: {} ({} from the cache), other files: {}, skipped: {}",
        r.photos.len(),
        r.from_cache,
        r.other_files,
        r.skipped.len()
    );
    for s in &r.skipped {
        outln!("skipped {}: {}", display(&s.rel_path), s.reason);
    }
    for note in &r.notes {
        eprintln!("note: {note}");
    }
    if let Some(c) = &r.content {
        outln!("content embedding: {}", c.embedder);
        let sil = c
            .silhouette
            .map_or(String::new(), |s| format!(", silhouette {s:.3}"));
        let reused = match (&c.refit_because, c.reused_previous_model) {
            (_, true) => ", clusters of the previous run".to_string(),
            (Some(why), false) => format!(", clusters refitted ({why})"),
            (None, false) => String::new(),
        };
        outln!("content: k = {}{sil}{reused}", c.k);
        for cl in &c.clusters {
            outln!("  {}", cl.name);
        }
    }
    if let Some(p) = &r.people {
        outln!(
            "people: {} persons, {} faces unassigned",
            p.persons.len(),
            p.unassigned.len()
        );
        for person in &p.persons {
            let mut photos: Vec<&str> = person
                .faces
                .iter()
                .map(|f| r.photos[f.photo].rel_path.as_str())
                .collect();
            photos.dedup();
            outln!("  {}: {} photos", person.folder(), photos.len());
        }
    }
    if let Some(a) = &r.apply {
        outln!(
            "links: {} created, {} already present, {} placed under a new name (target taken), {} failed",
            a.created, a.already_present, a.renamed, a.failed
        );
        for stale in &a.stale_temporaries_removed {
            outln!("removed {} (left by a killed earlier run)", stale.display());
        }
        for (o, link) in a.outcomes.iter().zip(&r.plan.links) {
            if let LinkOutcome::Failed { reason } = o {
                outln!("failed {}: {reason}", link.target.display());
            }
        }
    }
    let pruned = &r.pruned;
    if !pruned.removed.is_empty() || !pruned.kept.is_empty() {
        let verb = if dry_run { "would remove" } else { "removed" };
        outln!(
            "links of the previous grouping: {verb} {} (and {} emptied folders), kept {} not provably ours",
            pruned.removed.len(),
            pruned.removed_folders,
            pruned.kept.len()
        );
        for (path, reason) in &pruned.kept {
            outln!("kept {}: {reason}", path.display());
        }
    }
    if !pruned.set_aside.is_empty() {
        outln!(
            "edited photos: {} the old version of {} to {}/ (a fresh copy is linked in its place)",
            if dry_run { "would move" } else { "moved" },
            pruned.set_aside.len(),
            deepclust::gallery::prune::SUPERSEDED_DIR
        );
        for s in &pruned.set_aside {
            outln!("  {} -> {}", s.was.display(), s.now.display());
        }
    }
    if let Some(m) = &r.manifest {
        outln!("manifest: {}", m.display());
    }
    if let Some(h) = &r.index_html {
        outln!("index: {}", h.display());
    }
}
