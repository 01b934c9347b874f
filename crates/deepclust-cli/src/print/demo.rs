//! What `demo` prints: the albums beside what the generator drew, events, places, days and
//! skipped files, then the deep-clustering table.

use deepclust::experiment::demo::{DigitsTable, LibrarySummary};
use deepclust::gallery::relpath::display;
use deepclust::gallery::{GroupKind, OrganizeReport};

/// Albums with their names and sizes (and what the generator drew in each, for scoring only),
/// events, places, skipped files.
pub fn summary(report: &OrganizeReport, summary: &LibrarySummary) {
    if let Some(content) = &report.content {
        outln!(
            "\nalbums (by-content/, {} from {}):",
            content.clusters.len(),
            content.embedder
        );
        for album in &summary.albums {
            let drawn: Vec<String> = album
                .drawn
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            outln!(
                "  {:<40} {:>4} photos   (generator drew: {})",
                album.folder,
                album.size,
                drawn.join(", ")
            );
        }
        if let Some(nmi) = summary.albums_nmi {
            outln!("  albums vs the eight kinds drawn: NMI {nmi:.3} (the kinds are used only to score)");
        }
    }
    for (kind, title, limit) in [
        (GroupKind::Event, "events (by-event/)", 12),
        (GroupKind::Place, "places (by-place/)", 12),
        (GroupKind::Date, "days (by-date/)", 0),
    ] {
        let Some(list) = summary.groups.get(&kind) else {
            continue;
        };
        outln!("\n{title}: {}", list.len());
        for (name, count) in list.iter().take(limit) {
            outln!("  {name:<48} {count:>4} photos");
        }
        if list.len() > limit && limit > 0 {
            outln!("  ... and {} more", list.len() - limit);
        }
    }
    outln!(
        "\nskipped (reported, never touched): {}",
        report.skipped.len()
    );
    for s in &report.skipped {
        outln!("  {}: {}", display(&s.rel_path), s.reason);
    }
}

pub fn digits_table(table: &DigitsTable, dir: &std::path::Path) {
    if table.reused_autoencoder {
        outln!(
            "(the autoencoder of an earlier demo, {}: its training time is not counted)",
            dir.join("autoencoder").display()
        );
    }
    outln!("| method | NMI | ACC | ARI | seconds |\n|---|---|---|---|---|");
    for r in &table.rows {
        let s = &r.scores;
        outln!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.1} |",
            r.method,
            s.nmi,
            s.acc,
            s.ari,
            r.seconds
        );
    }
}
