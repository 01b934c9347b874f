use crate::{deepclust, link_tree, originals, stderr, stdout};
use std::fs;

#[test]
fn demo_generates_a_library_organizes_it_and_reruns_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out_arg = out_dir.to_str().unwrap();
    let args = ["demo", "--out", out_arg, "--n", "32", "--digits", "300"];
    let first = deepclust(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);

    // The library: 32 photos and the two damaged files, its description beside it.
    let photos = out_dir.join("photos");
    let before = originals(&photos);
    assert_eq!(before.len(), 34, "{:?}", before.keys());
    assert!(out_dir.join("sample-library.json").is_file());

    // The organized tree: every grouping, the manifest and the index page.
    let organized = out_dir.join("organized");
    for grouping in ["by-date", "by-event", "by-place", "by-content"] {
        let folder = organized.join(grouping);
        let links = link_tree(&folder);
        assert_eq!(links.len(), 32, "{grouping}: {links:?}\n{text}");
        for link in links.keys().map(|rel| folder.join(rel)) {
            assert!(link.exists(), "dangling link {}", link.display());
        }
    }
    assert!(organized.join("manifest.json").is_file());
    let index = fs::read_to_string(organized.join("index.html")).unwrap();
    assert!(index.contains("by-content"), "the index lists the albums");
    assert!(
        text.contains(&format!("open {}", organized.join("index.html").display())),
        "{text}"
    );

    // The summary: albums with names and counts, events, places, the damaged files, the table.
    for needle in [
        "albums (by-content/",
        "events (by-event/): ",
        "Innsbruck",
        "Tokyo",
        "Lisbon",
        "places (by-place/): ",
        "Austria/Tyrol/Innsbruck",
        "skipped (reported, never touched): 2",
        "IMG_truncated.jpg",
        "notes.jpg: named .jpg but not an image",
        "| K-Means on raw pixels |",
        "| autoencoder + K-Means |",
        "| N2D (autoencoder + UMAP + mixture) |",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    // No models here: the organizer says it falls back.
    assert!(
        text.contains("falling back") || stderr(&first).contains("falling back"),
        "{text}"
    );

    // A re-run reuses the library and every photo from the cache, and touches no original.
    let second = deepclust(&args);
    assert!(second.status.success(), "{}", stderr(&second));
    let again = stdout(&second);
    assert!(again.contains("(from an earlier demo)"), "{again}");
    assert!(again.contains("32 photos (32 from the cache"), "{again}");
    assert!(
        again.contains("(the autoencoder of an earlier demo"),
        "{again}"
    );
    // The reused autoencoder gives the same table (scores; the time column differs).
    let scores = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| method"))
            .map(|l| l.rsplitn(3, '|').nth(2).unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(scores(&again), scores(&text));
    assert_eq!(scores(&text).len(), 3, "{text}");
    assert_eq!(originals(&photos), before, "an original changed");

    // Another size in the same folder is refused, not mixed in.
    let other = deepclust(&["demo", "--out", out_arg, "--n", "40", "--digits", "0"]);
    assert!(!other.status.success());
    assert!(
        stderr(&other).contains("use another --out"),
        "{}",
        stderr(&other)
    );
    assert_eq!(originals(&photos), before);
}
