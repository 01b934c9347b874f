//! `deepclust organize` end to end: the shared camera files, dry runs, every link mode.

use crate::{deepclust, shared, stderr, stdout};
use std::fs;
use std::path::Path;

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// (relative path, bytes, modification time) of every file under `root`.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                let mtime = e.metadata().unwrap().modified().unwrap();
                out.push((rel, fs::read(e.path()).unwrap(), mtime));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn organize_shared_photos_by_date_event_and_place() {
    let Some(photos) = shared("data/photos") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("organized");
    let out = deepclust(&[
        "organize",
        photos.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "date,event,place",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("photos: 8 (0 from the cache), other files: 0, skipped: 3"),
        "{text}"
    );
    assert!(
        text.contains("skipped corrupt/infinite_loop_exif.jpg: malformed EXIF"),
        "{text}"
    );
    let beijing = fs::canonicalize(photos.join("exif/beijing-2003-nikon.jpg")).unwrap();
    for link in [
        "by-date/2003/2003-11-23/beijing-2003-nikon.jpg",
        "by-event/2003/2003-11-23 Beijing/beijing-2003-nikon.jpg",
        "by-place/China/Beijing/Beijing/beijing-2003-nikon.jpg",
    ] {
        let p = out_dir.join(link);
        assert!(
            fs::symlink_metadata(&p).unwrap().file_type().is_symlink(),
            "{link}"
        );
        assert_eq!(fs::canonicalize(&p).unwrap(), beijing, "{link}");
    }
    assert!(out_dir.join("by-place/unknown-place/Bush-dog.jpg").exists());
    assert!(out_dir.join("index.html").exists());
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["photos"].as_array().unwrap().len(), 8);

    // A second run finds everything in place.
    let again = deepclust(&[
        "organize",
        photos.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "date,event,place",
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("links: 0 created, 24 already present"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let Some(photos) = shared("data/photos/exif") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("organized");
    let out = deepclust(&[
        "organize",
        photos.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "place",
        "--dry-run",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("plan (dry run, nothing written): 8 links"),
        "{text}"
    );
    assert!(
        text.contains(
            "beijing-2003-nikon.jpg -> by-place/China/Beijing/Beijing/beijing-2003-nikon.jpg"
        ),
        "{text}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn every_link_mode_leaves_originals_untouched() {
    let Some(photos) = shared("data/photos/exif") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    copy_tree(&photos, &lib);
    // A name collision: the same file name in two folders, same day.
    copy_tree(&photos, &lib.join("again"));
    let before = snapshot(&lib);
    for mode in ["symlink", "hardlink", "copy"] {
        let out_dir = dir.path().join(format!("out-{mode}"));
        for _ in 0..2 {
            let out = deepclust(&[
                "organize",
                lib.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
                "--by",
                "date,place,content",
                "--k",
                "2",
                "--link",
                mode,
                "--duplicates",
            ]);
            assert!(out.status.success(), "{mode}: {}", stderr(&out));
            assert!(
                stdout(&out).contains("0 failed"),
                "{mode}: {}",
                stdout(&out)
            );
        }
        assert_eq!(snapshot(&lib), before, "{mode} changed an original");
        // Both copies of a file appear on its day, one under a suffixed name.
        let day = out_dir.join("by-date/2003/2003-11-23");
        assert_eq!(fs::read_dir(&day).unwrap().count(), 2, "{mode}");
    }
}

#[test]
fn refuses_an_output_folder_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    fs::create_dir_all(&lib).unwrap();
    let foreign = dir.path().join("documents");
    fs::create_dir_all(&foreign).unwrap();
    fs::write(foreign.join("thesis.txt"), b"precious").unwrap();
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        foreign.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not made by the organizer"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(foreign.join("thesis.txt")).unwrap(), b"precious");
    let bad_k = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--k",
        "zero",
    ]);
    assert!(!bad_k.status.success());
    assert!(stderr(&bad_k).contains("--k must be"), "{}", stderr(&bad_k));
    // A model that is not there (or a build without the onnx feature) is a clear error.
    let no_model = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--by",
        "content",
        "--model",
        "missing.onnx",
    ]);
    assert!(!no_model.status.success());
    assert!(
        stderr(&no_model).contains("missing.onnx"),
        "{}",
        stderr(&no_model)
    );
}

/// A small generated library: `n` PNG photos of three looks (warm gradients, blue stripes,
/// green checks), in two folders (one name with a space).
fn generated_library(root: &Path, n: u32) {
    for i in 0..n {
        let folder = root.join(if i % 2 == 0 { "trip 1" } else { "home" });
        fs::create_dir_all(&folder).unwrap();
        let (w, h) = (72u32, 54u32);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let noise = ((x * 7 + y * 13 + i * 31) % 23) as u8;
                rgb.extend_from_slice(&match i % 3 {
                    0 => [200 + noise, (y * 4) as u8 + noise, 30],
                    1 => {
                        let v = if (x / 8) % 2 == 0 { 230 } else { 40 };
                        [v - noise, v - noise, 250]
                    }
                    _ => {
                        let v = if ((x / 12) + (y / 12)) % 2 == 0 {
                            200
                        } else {
                            60
                        };
                        [30 + noise, v, 40]
                    }
                });
            }
        }
        deepclust::report::write_rgb_png(&folder.join(format!("img {i}.png")), w, h, rgb).unwrap();
    }
}

#[test]
fn content_report_refers_only_to_files_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 24);
    let out_dir = dir.path().join("organized");
    let report = dir.path().join("report");
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--k",
        "3",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("report: "), "{}", stdout(&out));
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    let mut referenced = 0;
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            if target.starts_with('#') {
                continue;
            }
            assert!(
                !target.contains("://") && !target.starts_with('/') && !target.contains(".."),
                "{target} points outside the report"
            );
            assert!(
                report.join(target).is_file(),
                "index.html refers to missing {target}"
            );
            referenced += 1;
        }
    }
    // A montage of the nearest members per cluster (a cluster of over 16 photos also gets
    // one of the farthest), the map coloured by cluster, the thumbnail map.
    for cluster in 1..=3 {
        assert!(
            html.contains(&format!("src=\"cluster-{cluster}-top.png\"")),
            "{html}"
        );
    }
    for map in ["map-clusters.svg", "map-thumbnails.png"] {
        assert!(html.contains(&format!("src=\"{map}\"")), "{html}");
    }
    assert!(
        (3 + 2..=3 * 2 + 2).contains(&referenced),
        "{referenced} files referenced"
    );
    assert!(
        html.contains("Cluster 3: by-content"),
        "clusters named by folder"
    );
    assert!(!html.contains("id=\"confusion\""), "photos have no labels");

    // Without content grouping there is nothing to report, and a dry run writes nothing.
    let no_content = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "date",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(!no_content.status.success());
    assert!(
        stderr(&no_content).contains("add content to --by"),
        "{}",
        stderr(&no_content)
    );
    let dry = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--dry-run",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(!dry.status.success());
}

#[test]
fn autoencoder_embedding_trains_once_and_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 24);
    let before = snapshot(&lib);
    let out_dir = dir.path().join("organized");
    let args = [
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--k",
        "3",
        "--embedding",
        "autoencoder",
        "--ae-epochs",
        "2",
        "--no-html",
    ];
    let out = deepclust(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("content: k = 3"), "{}", stdout(&out));
    assert!(out_dir.join(".deepclust-autoencoder/config.json").is_file());
    let manifest = fs::read_to_string(out_dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"embedding\": \"autoencoder\""));
    assert!(manifest.contains("an autoencoder's code"));
    // Second run: the kept network and clusters are reused.
    let again = deepclust(&args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("clusters of the previous run"),
        "{}",
        stdout(&again)
    );
    assert_eq!(snapshot(&lib), before);
    let bad = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--embedding",
        "pca",
    ]);
    assert!(!bad.status.success());
}

#[test]
fn changed_content_parameters_refit_the_clusters_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 16);
    let out_dir = dir.path().join("organized");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "organize",
            lib.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--by",
            "content",
            "--no-html",
        ];
        args.extend_from_slice(extra);
        let out = deepclust(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let first = run(&["--k", "3", "--seed", "1"]);
    assert!(first.contains("content: k = 3"), "{first}");
    assert!(!first.contains("previous run"), "{first}");
    let same = run(&["--k", "3", "--seed", "1"]);
    assert!(same.contains("clusters of the previous run"), "{same}");
    // Before: both of these kept the first run's clusters silently.
    let reseeded = run(&["--k", "3", "--seed", "2"]);
    assert!(
        reseeded.contains("clusters refitted (seed 1 -> 2)"),
        "{reseeded}"
    );
    let other_k = run(&["--k", "4", "--seed", "2"]);
    assert!(other_k.contains("content: k = 4"), "{other_k}");
    assert!(
        other_k.contains("clusters refitted (k 3 -> 4)"),
        "{other_k}"
    );
}

#[test]
fn a_broken_onnxruntime_gives_a_clear_note_and_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 12);
    let fake = dir.path().join("libonnxruntime.so");
    fs::write(&fake, b"this is not a shared library").unwrap();
    let out_dir = dir.path().join("organized");
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--ort-lib",
        fake.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("content models not used"), "{err}");
    assert!(
        err.contains(fake.to_str().unwrap()),
        "names the library: {err}"
    );
    assert!(
        stdout(&out).contains("content embedding: thumbnail layout"),
        "{}",
        stdout(&out)
    );

    // Asking for the models explicitly turns the same problem into an error.
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--embedding",
        "models",
        "--ort-lib",
        fake.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(fake.to_str().unwrap()) && err.contains("cannot be used"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Copies `per_class` photos of each gallery-dev category (the labels only pick the files).
fn gallery_sample(to: &Path, per_class: usize) -> Option<Vec<(String, String)>> {
    let gallery = shared("data/gallery-dev")?;
    let labels = fs::read_to_string(gallery.join("labels.csv")).unwrap();
    let mut taken: std::collections::HashMap<String, usize> = Default::default();
    let mut picked = Vec::new();
    for line in labels.lines().skip(1) {
        let (path, class) = line.split_once(',').unwrap();
        let n = taken.entry(class.to_string()).or_default();
        if *n < per_class {
            *n += 1;
            let dst = to.join(path);
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::copy(gallery.join(path), &dst).unwrap();
            picked.push((path.to_string(), class.to_string()));
        }
    }
    Some(picked)
}

fn content_groups(manifest: &Path) -> std::collections::HashMap<String, String> {
    let m: serde_json::Value = serde_json::from_slice(&fs::read(manifest).unwrap()).unwrap();
    let mut out = std::collections::HashMap::new();
    for p in m["photos"].as_array().unwrap() {
        for g in p["groups"].as_array().unwrap() {
            if g["kind"] == "content" {
                out.insert(
                    p["path"].as_str().unwrap().to_string(),
                    g["group"].as_str().unwrap().to_string(),
                );
            }
        }
    }
    out
}

#[test]
fn content_models_group_and_name_real_photos() {
    let Some(models) = shared("models") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let Some(picked) = gallery_sample(&lib, 5) else {
        return;
    };
    let out_dir = dir.path().join("organized");
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--models",
        models.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    if stderr(&out).contains("content models not used") {
        eprintln!("skipping: onnxruntime is not available ({})", stderr(&out));
        return;
    }
    let text = stdout(&out);
    assert!(
        text.contains("content embedding: EfficientNet-Lite2"),
        "{text}"
    );
    let groups = content_groups(&out_dir.join("manifest.json"));
    assert_eq!(groups.len(), picked.len());
    // The screenshots land in albums named from their text, never in a photo album (the
    // category also holds camera shots of screens, named as photos with text).
    for (path, class) in &picked {
        let album = &groups[path];
        if class == "screenshot" && path.starts_with("Pictures/Screenshots/") {
            assert!(
                album.starts_with("Screenshots") || album.starts_with("Documents"),
                "{path}: {album}\n{text}"
            );
        }
        if class == "scenery" {
            assert!(
                !album.starts_with("Screenshots") && !album.starts_with("Memes"),
                "{path}: {album}"
            );
        }
    }
    // A re-run reads every photo's signals from the cache and keeps the albums.
    let again = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--models",
        models.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains(&format!("({} from the cache)", picked.len())),
        "{}",
        stdout(&again)
    );
    assert_eq!(content_groups(&out_dir.join("manifest.json")), groups);
}

#[test]
fn people_groups_the_same_person_across_photos() {
    let Some(models) = shared("models") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let faces = crate::project_root().join("tests/fixtures/faces");
    copy_tree(&faces, &lib);
    let out_dir = dir.path().join("organized");
    let run = || {
        deepclust(&[
            "organize",
            lib.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--by",
            "people",
            "--models",
            models.to_str().unwrap(),
        ])
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    if stderr(&out).contains("content models not used") {
        eprintln!("skipping: onnxruntime is not available ({})", stderr(&out));
        return;
    }
    let text = stdout(&out);
    // Three photos of one man make a person; the other man's single face stays unassigned
    // (a person needs 3 faces that look alike, Immich's default).
    assert!(
        text.contains("people: 1 persons, 1 faces unassigned"),
        "{text}"
    );
    let person = out_dir.join("by-people/person-001");
    let mut linked: Vec<String> = fs::read_dir(&person)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    linked.sort();
    assert_eq!(linked, vec!["obama-1.jpg", "obama-2.jpg", "obama-3.jpg"]);
    assert!(
        out_dir.join("thumbs/person-001.jpg").is_file(),
        "face cover"
    );
    let index = fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(index.contains("thumbs/person-001.jpg"));
    assert!(index.contains("biden-1.jpg"), "unassigned faces are listed");
    // A re-run keeps the person's id and links.
    let again = run();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("person-001: 3 photos"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_killed_copys_temporary_is_removed_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 6);
    let out_dir = dir.path().join("out");
    let run = || {
        deepclust(&[
            "organize",
            lib.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--by",
            "content",
            "--k",
            "2",
            "--link",
            "copy",
        ])
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    // What a kill -9 in the middle of a copy leaves: a temporary of a dead process (pid
    // above Linux's pid_max) beside the copies.
    let album = fs::read_dir(out_dir.join("by-content"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let stale = album.join(".img 0.png.deepclust-partial-4194399");
    fs::write(&stale, b"half a copy").unwrap();
    let second = run();
    assert!(second.status.success(), "{}", stderr(&second));
    if Path::new("/proc/self").exists() {
        assert!(!stale.exists(), "{}", stdout(&second));
        assert!(stdout(&second).contains("left by a killed earlier run"));
    }
}

#[cfg(unix)]
#[test]
fn hard_links_across_file_systems_are_refused_up_front() {
    // /dev/shm is a separate (tmpfs) file system on Linux; elsewhere there is nothing to test.
    let shm = Path::new("/dev/shm");
    let dir = tempfile::tempdir().unwrap();
    let other = match tempfile::tempdir_in(shm) {
        Ok(d) => d,
        Err(_) => {
            eprintln!("skipped: no /dev/shm to put the output on another file system");
            return;
        }
    };
    let dev = |p: &Path| std::os::unix::fs::MetadataExt::dev(&fs::metadata(p).unwrap());
    if dev(dir.path()) == dev(other.path()) {
        eprintln!("skipped: /dev/shm is on the same file system as the temp folder");
        return;
    }
    let lib = dir.path().join("lib");
    generated_library(&lib, 4);
    let out_dir = other.path().join("out");
    let out = deepclust(&[
        "organize",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--by",
        "content",
        "--k",
        "2",
        "--link",
        "hardlink",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("same file system") && err.contains("--link copy"),
        "{err}"
    );
    assert!(!stdout(&out).contains("failed /"), "no link was attempted");
}

#[test]
fn a_second_photo_folder_into_the_same_output_is_refused_unless_replacing() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    generated_library(&first, 4);
    generated_library(&second, 4);
    let out_dir = dir.path().join("out");
    let organize = |lib: &Path, extra: &[&str]| {
        let mut args = vec![
            "organize",
            lib.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--by",
            "content",
            "--k",
            "2",
        ];
        args.extend_from_slice(extra);
        deepclust(&args)
    };
    assert!(organize(&first, &[]).status.success());
    let refused = organize(&second, &[]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("another folder") && err.contains("--replace-source"),
        "{err}"
    );
    let replaced = organize(&second, &["--replace-source"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(
        stderr(&replaced).contains("removed 4 links"),
        "{}",
        stderr(&replaced)
    );
    // Every link left points into the second folder.
    let second_canon = fs::canonicalize(&second).unwrap();
    let mut pending = vec![out_dir.join("by-content")];
    let mut links = 0;
    while let Some(d) = pending.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_symlink() {
                links += 1;
                assert!(
                    fs::canonicalize(&p).unwrap().starts_with(&second_canon),
                    "{}",
                    p.display()
                );
            } else if p.is_dir() {
                pending.push(p);
            }
        }
    }
    assert_eq!(links, 4);
}

/// A Latin-1 name (not UTF-8) is linked, found again on the next run, and shown readably.
/// Before: never linked, reported as "changed since it was scanned", exit 0.
#[cfg(target_os = "linux")]
#[test]
fn a_name_that_is_not_utf8_is_linked_and_found_again() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    for mode in ["symlink", "copy", "hardlink"] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        generated_library(&lib, 4);
        let latin1 = lib.join("home").join(OsStr::from_bytes(b"caf\xe9 1.png"));
        fs::rename(lib.join("home/img 1.png"), &latin1).unwrap();
        let original = fs::read(&latin1).unwrap();
        let out_dir = dir.path().join("out");
        let run = || {
            deepclust(&[
                "organize",
                lib.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
                "--by",
                "date",
                "--link",
                mode,
                "--json",
            ])
        };
        let first = run();
        assert!(first.status.success(), "{mode}: {}", stderr(&first));
        let result: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
        assert_eq!(result["links"]["created"], 4, "{mode}: {result}");
        assert_eq!(result["links"]["failed"], 0, "{mode}: {result}");
        // The link is named by the display form and opens the original's bytes.
        let day = fs::read_dir(out_dir.join("by-date"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap();
        let mut links = Vec::new();
        let mut stack = vec![day];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    links.push(p);
                }
            }
        }
        let link = links
            .iter()
            .find(|p| p.file_name().unwrap().to_str() == Some("caf\u{fffd} 1.png"))
            .unwrap_or_else(|| panic!("{mode}: no display-named link in {links:?}"));
        assert_eq!(fs::read(link).unwrap(), original, "{mode}");
        let manifest = fs::read_to_string(out_dir.join("manifest.json")).unwrap();
        assert!(
            manifest.contains("\"path_display\": \"home/caf\u{fffd} 1.png\""),
            "{mode}: {manifest}"
        );
        // Found again: nothing new, nothing failed, nothing stale.
        let second = run();
        assert!(second.status.success(), "{mode}: {}", stderr(&second));
        let result: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
        assert_eq!(result["links"]["created"], 0, "{mode}: {result}");
        assert_eq!(result["links"]["already_present"], 4, "{mode}: {result}");
        assert_eq!(
            fs::read(&latin1).unwrap(),
            original,
            "{mode}: original untouched"
        );
    }
}

/// Links that cannot be made (here a file stands where the grouping's folder goes, which
/// holds even for root) make the run exit 1 and list each failure. Before: exit 0.
#[test]
fn failed_links_are_listed_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    generated_library(&lib, 3);
    let out_dir = dir.path().join("out");
    let run = |json: bool| {
        let mut args = vec![
            "organize",
            lib.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--by",
            "date",
            "--no-html",
        ];
        if json {
            args.push("--json");
        }
        deepclust(&args)
    };
    let first = run(false);
    assert!(first.status.success(), "{}", stderr(&first));
    fs::remove_dir_all(out_dir.join("by-date")).unwrap();
    fs::write(out_dir.join("by-date"), b"in the way").unwrap();
    let second = run(false);
    assert_eq!(second.status.code(), Some(1), "{}", stdout(&second));
    let text = stdout(&second);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("failed by-date/"))
            .count(),
        3,
        "{text}"
    );
    assert!(
        stderr(&second).contains("3 of 3 links could not be written"),
        "{}",
        stderr(&second)
    );
    let third = run(true);
    assert_eq!(third.status.code(), Some(1));
    let result: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(result["links"]["failed"], 3, "{result}");
    assert_eq!(result["links"]["failures"].as_array().unwrap().len(), 3);
    assert_eq!(fs::read(out_dir.join("by-date")).unwrap(), b"in the way");
}
