//! The organizer's catalogue end to end: `kill -9` at random points then a resume that
//! finishes the job (originals untouched, the tree equal to an uninterrupted run's), the
//! lock, a full disk and a read-only output (clear errors, the catalogue intact).

use crate::{deepclust, link_tree, originals, stderr, stdout};
use deepclust::gallery::catalog::{Catalog, CATALOG_FILE};
use deepclust::gallery::sample_library::write_sample_library;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What the manifest says of the photos and albums (not where the output was).
fn manifest_content(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    let m: serde_json::Value = serde_json::from_str(&text).expect("json");
    serde_json::json!({
        "photos": m["photos"],
        "content_clusters": m["content_clusters"],
        "skipped": m["skipped"],
    })
}

/// Photos the catalogue under `out` holds (0 before there is one); opening it after a kill
/// -9 must work.
fn committed_photos(out: &Path) -> usize {
    Catalog::open_read_only(out)
        .expect("catalogue readable after kill -9")
        .map_or(0, |c| c.photo_count().expect("count"))
}

fn organize_args<'a>(photos: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "organize",
        photos,
        "--out",
        out,
        "--by",
        "date,event,place,content",
        "--embedding",
        "stats",
    ]
}

#[test]
fn kill_9_at_random_points_then_a_resume_finishes_with_the_uninterrupted_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 480, 11).expect("sample library");
    let before = originals(&photos);
    let photos_s = photos.to_str().expect("utf-8");

    let reference = dir.path().join("reference");
    let started = Instant::now();
    let out = deepclust(&organize_args(photos_s, reference.to_str().expect("utf-8")));
    assert!(out.status.success(), "{}", stderr(&out));
    let full_run = started.elapsed();

    // Kill points at random fractions (a fixed LCG: reproducible) of what is left of an
    // uninterrupted run: each resume is shorter than the last, so a delay taken from the
    // whole run's length would often land after the end (and a loaded machine stretches the
    // reference run). Runs that finish before their kill do not count; up to 12 tries.
    let resumed = dir.path().join("resumed");
    let resumed_s = resumed.to_str().expect("utf-8");
    let total = before.len() as f64;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut killed, mut tries) = (0, 0);
    while killed < 4 && tries < 12 {
        tries += 1;
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let fraction = (state >> 33) as f64 / (1u64 << 31) as f64;
        let done = committed_photos(&resumed) as f64;
        let left = (1.0 - done / total).clamp(0.05, 1.0);
        let delay = full_run.mul_f64((0.05 + 0.9 * fraction) * left);
        let mut child = Command::new(env!("CARGO_BIN_EXE_deepclust"))
            .args(organize_args(photos_s, resumed_s))
            .arg("--quiet")
            .env("DEEPCLUST_MODELS", "/nonexistent/deepclust-test-models")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        if child.try_wait().expect("try_wait").is_none() {
            child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
            killed += 1;
        }
        child.wait().expect("reap");
        assert_eq!(
            originals(&photos),
            before,
            "an original changed after a kill"
        );
    }
    assert!(
        killed >= 3,
        "only {killed} of {tries} runs were killed before finishing"
    );

    let committed = committed_photos(&resumed);
    let mut args = organize_args(photos_s, resumed_s);
    args.push("--json");
    let out = deepclust(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let from_cache = report["from_cache"].as_u64().expect("from_cache") as usize;
    assert!(
        from_cache >= committed,
        "the resume decoded again photos the killed runs had committed ({from_cache} < {committed})"
    );
    assert_eq!(originals(&photos), before);
    assert_eq!(link_tree(&resumed), link_tree(&reference));
    assert_eq!(manifest_content(&resumed), manifest_content(&reference));
    let runs = Catalog::open_read_only(&resumed)
        .expect("open")
        .expect("exists")
        .runs()
        .expect("runs");
    assert_eq!(runs.last().map(|r| r.1.as_str()), Some("done"));
    assert!(
        runs.iter().all(|r| r.1 == "done" || r.1 == "interrupted"),
        "{runs:?}"
    );
}

#[test]
fn a_second_run_on_a_locked_output_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 16, 1).expect("sample library");
    let out_dir = dir.path().join("out");
    let (p, o) = (
        photos.to_str().expect("utf-8"),
        out_dir.to_str().expect("utf-8"),
    );
    let first = deepclust(&["organize", p, "--out", o, "--by", "date"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let tree = link_tree(&out_dir);
    // This test process holds the lock as a running organize would.
    let holder = Catalog::open_for_run(&out_dir).expect("lock");
    let second = deepclust(&["organize", p, "--out", o, "--by", "date,place"]);
    assert!(!second.status.success());
    let err = stderr(&second);
    assert!(err.contains("locked") && err.contains("another"), "{err}");
    assert_eq!(link_tree(&out_dir), tree);
    drop(holder);
    let third = deepclust(&["organize", p, "--out", o, "--by", "date,place"]);
    assert!(third.status.success(), "{}", stderr(&third));
}

/// A tmpfs of `size` mounted on a new folder, unmounted when dropped; `None` (with a message)
/// where this process may not mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let point = dir.join("mnt");
        std::fs::create_dir_all(&point).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&point)
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            Some(Tmpfs(point))
        } else {
            eprintln!("skipping: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
            None
        }
    }

    fn remount_read_only(&self) -> bool {
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

fn walk_sizes(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("meta");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

fn catalogue_is_intact(out: &Path) -> usize {
    let c = Catalog::open_read_only(out)
        .expect("the catalogue opens")
        .expect("the catalogue exists");
    c.photo_count().expect("its photos read")
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_catalogue_stays_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 64, 2).expect("sample library");
    let before = originals(&photos);
    // Room for the catalogue and some copies, not for all of them (two per photo).
    let library_bytes: u64 = walk_sizes(&photos);
    let size = format!("{}k", library_bytes * 3 / 2 / 1024);
    let Some(fs) = Tmpfs::mount(dir.path(), &size) else {
        return;
    };
    let out_dir = fs.0.join("out");
    let out = deepclust(&[
        "organize",
        photos.to_str().expect("utf-8"),
        "--out",
        out_dir.to_str().expect("utf-8"),
        "--by",
        "date,place",
        "--link",
        "copy",
        "--no-html",
    ]);
    assert!(
        !out.status.success(),
        "the disk did not fill: {}",
        stdout(&out)
    );
    let err = stderr(&out) + &stdout(&out);
    assert!(
        err.contains("No space left on device") || err.contains("disk is full"),
        "{err}"
    );
    assert!(out_dir.join(CATALOG_FILE).exists());
    assert!(
        !out_dir.join("manifest.json.partial").exists(),
        "a half-written manifest was left"
    );
    assert!(catalogue_is_intact(&out_dir) > 0);
    assert_eq!(originals(&photos), before);
}

#[test]
fn a_read_only_output_is_a_clear_error_and_the_catalogue_stays_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 16, 3).expect("sample library");
    let Some(fs) = Tmpfs::mount(dir.path(), "20m") else {
        return;
    };
    let out_dir = fs.0.join("out");
    let (p, o) = (
        photos.to_str().expect("utf-8"),
        out_dir.to_str().expect("utf-8"),
    );
    let first = deepclust(&["organize", p, "--out", o, "--by", "date"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let photos_before = catalogue_is_intact(&out_dir);
    if !fs.remount_read_only() {
        eprintln!("skipping: cannot remount the tmpfs read-only");
        return;
    }
    let second = deepclust(&["organize", p, "--out", o, "--by", "date,place"]);
    assert!(!second.status.success());
    let err = stderr(&second);
    assert!(
        err.contains("Read-only file system") || err.contains("readonly"),
        "{err}"
    );
    assert_eq!(catalogue_is_intact(&out_dir), photos_before);
}

/// A Python that imports pyspark (`DEEPCLUST_PYSPARK_PYTHON`, else `python3`), with Java on
/// the PATH; `None` (with a message) otherwise.
fn pyspark_python() -> Option<String> {
    let python = std::env::var("DEEPCLUST_PYSPARK_PYTHON").unwrap_or_else(|_| "python3".into());
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let spark = Command::new(&python)
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success());
    if java && spark {
        Some(python)
    } else {
        eprintln!(
            "skipping: the Spark round trip needs Java and PySpark (java found: {java}; `{python} -c 'import pyspark'` works: {spark}); set DEEPCLUST_PYSPARK_PYTHON to a Python that has it"
        );
        None
    }
}

#[test]
fn spark_kmeans_on_the_parquet_export_comes_back_into_the_catalogue() {
    let Some(python) = pyspark_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 64, 5).expect("sample library");
    let out_dir = dir.path().join("out");
    let (p, o) = (
        photos.to_str().expect("utf-8"),
        out_dir.to_str().expect("utf-8"),
    );
    let run = deepclust(&[
        "organize",
        p,
        "--out",
        o,
        "--by",
        "content",
        "--embedding",
        "stats",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let export = dir.path().join("export");
    let exported = deepclust(&["export", o, "--parquet", export.to_str().expect("utf-8")]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(
        stdout(&exported).contains("exported 64 photos"),
        "{}",
        stdout(&exported)
    );
    let clusters = dir.path().join("spark-clusters");
    let recipe = crate::project_root().join("recipes/spark_kmeans.py");
    let spark = Command::new(&python)
        .arg(&recipe)
        .args([
            "--parquet",
            export.to_str().expect("utf-8"),
            "--k",
            "8",
            "--out",
        ])
        .arg(&clusters)
        .output()
        .expect("python runs");
    assert!(spark.status.success(), "{}", stderr(&spark));
    let imported = deepclust(&[
        "import-clusters",
        clusters.to_str().expect("utf-8"),
        "--out",
        o,
        "--name",
        "spark",
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("imported 64 cluster ids"),
        "{}",
        stdout(&imported)
    );
    let catalog = Catalog::open_read_only(&out_dir)
        .expect("open")
        .expect("exists");
    let ids = catalog.imported_clusters("spark").expect("read");
    assert_eq!(ids.len(), 64);
    let distinct: std::collections::BTreeSet<i64> = ids.iter().map(|(_, c)| *c).collect();
    assert!(
        distinct.len() > 1 && distinct.iter().all(|c| (0..8).contains(c)),
        "{distinct:?}"
    );
    drop(catalog);
    // And Spark's clusters as albums.
    let albums = deepclust(&[
        "organize",
        p,
        "--out",
        o,
        "--by",
        "content,imported",
        "--embedding",
        "stats",
    ]);
    assert!(albums.status.success(), "{}", stderr(&albums));
    let linked: usize = std::fs::read_dir(out_dir.join("by-imported/spark"))
        .expect("by-imported/spark")
        .map(|d| {
            std::fs::read_dir(d.expect("entry").path())
                .expect("cluster")
                .count()
        })
        .sum();
    assert_eq!(linked, 64);
}

#[test]
fn imported_clusters_become_albums_on_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photos = dir.path().join("Photos");
    write_sample_library(&photos, 24, 5).expect("sample library");
    let out_dir = dir.path().join("out");
    let (p, o) = (
        photos.to_str().expect("utf-8"),
        out_dir.to_str().expect("utf-8"),
    );
    let before = originals(&photos);

    // Asked for before anything was imported: a note, no folder.
    let first = deepclust(&["organize", p, "--out", o, "--by", "date,imported"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("holds no imported clusters")
            || stdout(&first).contains("holds no imported clusters"),
        "{}{}",
        stdout(&first),
        stderr(&first)
    );
    assert!(!out_dir.join("by-imported").exists());

    // Cluster ids from elsewhere (here: by position), as a notebook or Spark would write them.
    let mut paths: Vec<String> = Catalog::open_read_only(&out_dir)
        .expect("open")
        .expect("exists")
        .photos()
        .expect("photos")
        .into_keys()
        .collect();
    paths.sort();
    let cluster_of: BTreeMap<String, i64> = paths
        .iter()
        .enumerate()
        .map(|(i, path)| (path.clone(), (i % 3) as i64))
        .collect();
    let csv = dir.path().join("clusters.csv");
    let mut text = String::from("path,cluster\n");
    for (path, c) in &cluster_of {
        text.push_str(&format!("{path},{c}\n"));
    }
    std::fs::write(&csv, text).expect("write csv");
    let c = csv.to_str().expect("utf-8");

    let bad = deepclust(&["import-clusters", c, "--out", o, "--name", "../escape"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("becomes a folder"),
        "{}",
        stderr(&bad)
    );
    let imported = deepclust(&["import-clusters", c, "--out", o, "--name", "mine"]);
    assert!(imported.status.success(), "{}", stderr(&imported));

    let again = deepclust(&["organize", p, "--out", o, "--by", "date,imported"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let text = std::fs::read_to_string(out_dir.join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("json");
    let listed = manifest["photos"].as_array().expect("photos");
    assert_eq!(listed.len(), cluster_of.len());
    for photo in listed {
        let path = photo["path"].as_str().expect("path");
        let folder = format!("by-imported/mine/cluster-{}/", cluster_of[path]);
        let links: Vec<&str> = photo["links"]
            .as_array()
            .expect("links")
            .iter()
            .filter_map(|l| l.as_str())
            .filter(|l| l.starts_with("by-imported/"))
            .collect();
        assert_eq!(links.len(), 1, "{path}: {links:?}");
        assert!(links[0].starts_with(&folder), "{path}: {links:?}");
        assert_eq!(
            std::fs::read(out_dir.join(links[0])).expect("link resolves"),
            std::fs::read(photos.join(path)).expect("original"),
            "{path}"
        );
    }
    assert_eq!(originals(&photos), before, "originals untouched");
}
