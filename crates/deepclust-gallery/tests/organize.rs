//! End-to-end runs of the organizer on generated libraries and on the shared camera files.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use deepclust_gallery::autoencode::AE_DIR;
use deepclust_gallery::civil::parse_exif_datetime;
use deepclust_gallery::content::KSelect;
use deepclust_gallery::scan::OUTPUT_MARKER;
use deepclust_gallery::synth::{jpeg_with_exif, SynthExif};
use deepclust_gallery::{
    organize, AutoencoderParams, EmbeddingKind, GpsPoint, GroupKind, LinkMode, OrganizeParams,
    WallClock,
};
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

fn at(s: &str, offset_minutes: Option<i32>) -> WallClock {
    let (day, seconds_of_day) = parse_exif_datetime(s).unwrap();
    WallClock {
        day,
        seconds_of_day,
        utc_offset_minutes: offset_minutes,
    }
}

const PARIS: GpsPoint = GpsPoint {
    lat: 48.8566,
    lon: 2.3522,
};
const OSLO: GpsPoint = GpsPoint {
    lat: 59.9139,
    lon: 10.7522,
};

/// A JPEG of `pattern(kind, seed)` taken in Paris at local time `taken` (UTC+2).
fn paris_shot(kind: usize, seed: u64, taken: &str) -> Vec<u8> {
    jpeg_with_exif(
        &pattern(kind, seed),
        &SynthExif {
            taken: Some(at(taken, Some(120))),
            gps: Some(PARIS),
            orientation: None,
            camera: None,
        },
    )
    .unwrap()
}

fn pattern(kind: usize, seed: u64) -> RgbImage {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    RgbImage::from_fn(96, 72, |x, y| {
        let noise = rng.gen_range(0..24u8);
        match kind {
            // Red-orange vertical gradient.
            0 => Rgb([200u8.saturating_add(noise / 2), (y * 2) as u8 + noise, 30]),
            // Blue/white stripes.
            1 => {
                let v = if (x / 8) % 2 == 0 { 230 } else { 40 };
                Rgb([v - noise, v - noise, 250])
            }
            // Green checkerboard.
            _ => {
                let v = if ((x / 12) + (y / 12)) % 2 == 0 {
                    200
                } else {
                    60
                };
                Rgb([30 + noise, v, 40])
            }
        }
    })
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// A small library with a name collision (two IMG_0001.jpg on one day), a PNG without EXIF,
/// a truncated JPEG, a hidden folder and a text file.
fn make_library(root: &Path) {
    let photo = |kind, seed, taken: &str, off, gps| {
        jpeg_with_exif(
            &pattern(kind, seed),
            &SynthExif {
                taken: Some(at(taken, off)),
                gps,
                orientation: None,
                camera: None,
            },
        )
        .unwrap()
    };
    write(
        &root.join("cam1/IMG_0001.jpg"),
        &photo(0, 1, "2021:06:01 10:00:00", Some(120), Some(PARIS)),
    );
    write(
        &root.join("cam2/IMG_0001.jpg"),
        &photo(0, 2, "2021:06:01 11:30:00", Some(120), Some(PARIS)),
    );
    write(
        &root.join("cam1/IMG_0002.jpg"),
        &photo(1, 3, "2021:06:02 09:00:00", Some(120), Some(PARIS)),
    );
    write(
        &root.join("trip/oslo1.jpg"),
        &photo(2, 4, "2021:06:10 15:00:00", Some(120), Some(OSLO)),
    );
    write(
        &root.join("trip/oslo2.jpg"),
        &photo(2, 5, "2021:06:11 08:00:00", Some(120), Some(OSLO)),
    );
    let mut png = Vec::new();
    pattern(1, 6)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    write(&root.join("scans/scan.png"), &png);
    let truncated = photo(1, 7, "2021:06:03 09:00:00", None, None);
    write(
        &root.join("broken/half.jpg"),
        &truncated[..truncated.len() / 2],
    );
    write(
        &root.join(".thumbnails/hidden.jpg"),
        &photo(0, 8, "2021:06:01 10:00:00", None, None),
    );
    write(&root.join("notes.txt"), b"not a photo");
}

/// Content hash, length and modification time of every file under `root`.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (String, u64, SystemTime)> {
    let mut out = BTreeMap::new();
    for e in walkdir_files(root) {
        let meta = fs::symlink_metadata(&e).unwrap();
        let hash = format!("{:x}", Sha256::digest(fs::read(&e).unwrap()));
        out.insert(
            e.strip_prefix(root).unwrap().to_path_buf(),
            (hash, meta.len(), meta.modified().unwrap()),
        );
    }
    out
}

fn walkdir_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn all_groupings(input: &Path, out: &Path) -> OrganizeParams {
    OrganizeParams::new(input, out)
        .by(vec![
            GroupKind::Date,
            GroupKind::Event,
            GroupKind::Place,
            GroupKind::Content,
        ])
        .k(KSelect::Fixed(3))
        .near_duplicates(true)
}

fn run(p: &OrganizeParams) -> deepclust_gallery::OrganizeReport {
    organize(p, &|_| {}, &AtomicBool::new(false)).unwrap()
}

#[test]
fn dry_run_plans_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    make_library(&lib);
    let before = snapshot(&lib);
    let out = dir.path().join("out");
    let r = run(&all_groupings(&lib, &out).dry_run(true));
    assert!(!out.exists(), "dry run created the output directory");
    assert_eq!(snapshot(&lib), before);
    assert_eq!(r.photos.len(), 6);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].rel_path, "broken/half.jpg");
    let targets: Vec<String> = r
        .plan
        .links
        .iter()
        .map(|l| l.target.to_string_lossy().into_owned())
        .collect();
    for t in [
        "by-date/2021/2021-06-01/IMG_0001.jpg",
        "by-event/2021/2021-06-01 to 2021-06-02 Paris/IMG_0002.jpg",
        "by-event/2021/2021-06-10 to 2021-06-11 Oslo/oslo1.jpg",
        "by-place/France/Ile-de-France/Paris/IMG_0002.jpg",
        "by-place/Norway/Oslo/Oslo/oslo2.jpg",
        "by-place/unknown-place/scan.png",
    ] {
        assert!(
            targets.iter().any(|x| x == t),
            "{t} not in plan:\n{targets:#?}"
        );
    }
    // The two IMG_0001.jpg on 2021-06-01: cam1 keeps the name, cam2 gets a stable suffix.
    let day: Vec<&String> = targets
        .iter()
        .filter(|t| t.starts_with("by-date/2021/2021-06-01/"))
        .collect();
    assert_eq!(day.len(), 2, "{day:?}");
    assert!(day.iter().any(|t| t.contains("IMG_0001~")));
    // The PNG has no EXIF: its day comes from the file time, and the reason says so.
    let png = r
        .photos
        .iter()
        .position(|p| p.rel_path == "scans/scan.png")
        .unwrap();
    assert!(r.assignments[png][0]
        .reason
        .contains("file modification time"));
}

#[test]
fn originals_never_change_in_any_link_mode() {
    for mode in [LinkMode::Symlink, LinkMode::Hardlink, LinkMode::Copy] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        make_library(&lib);
        let before = snapshot(&lib);
        let out = dir.path().join("out");
        // Someone else's file sits where the plan wants to put a link.
        fs::create_dir_all(out.join("by-date/2021/2021-06-01")).unwrap();
        fs::write(out.join(OUTPUT_MARKER), b"").unwrap();
        let foreign = out.join("by-date/2021/2021-06-01/IMG_0001.jpg");
        fs::write(&foreign, b"someone else's file").unwrap();

        let params = all_groupings(&lib, &out).link(mode);
        let first = run(&params);
        let applied = first.apply.as_ref().unwrap();
        assert_eq!(applied.failed, 0, "{mode:?}: {:?}", applied.outcomes);
        assert!(
            applied.renamed >= 1,
            "{mode:?}: the foreign file must force a new name"
        );
        assert_eq!(
            fs::read(&foreign).unwrap(),
            b"someone else's file",
            "{mode:?} overwrote a target"
        );
        let renamed = out.join("by-date/2021/2021-06-01/IMG_0001~2.jpg");
        assert_eq!(
            fs::read(&renamed).unwrap(),
            fs::read(lib.join("cam1/IMG_0001.jpg")).unwrap()
        );

        // Every link leads to the bytes of its original.
        for (i, outcome) in applied.outcomes.iter().enumerate() {
            let deepclust_gallery::apply::LinkOutcome::Created { target } = outcome else {
                panic!("{mode:?}: {outcome:?}")
            };
            let photo = &first.photos[first.plan.links[i].photo];
            assert_eq!(
                fs::read(target).unwrap(),
                fs::read(lib.join(&photo.rel_path)).unwrap()
            );
            let meta = fs::symlink_metadata(target).unwrap();
            assert_eq!(meta.file_type().is_symlink(), mode == LinkMode::Symlink);
            if mode == LinkMode::Symlink {
                assert!(fs::read_link(target).unwrap().is_relative());
            }
        }

        // Re-run: everything is found in place, nothing re-read, same groups.
        let second = run(&params);
        let applied2 = second.apply.as_ref().unwrap();
        assert_eq!(second.from_cache, 6, "{mode:?}");
        assert_eq!(
            (applied2.created, applied2.failed),
            (0, 0),
            "{mode:?}: {:?}",
            applied2.outcomes
        );
        assert_eq!(applied2.already_present, applied.outcomes.len());
        assert_eq!(second.assignments, first.assignments, "{mode:?}");

        // Grow the library with a third IMG_0001.jpg on the same day: another collision.
        let newcomer = jpeg_with_exif(
            &pattern(1, 99),
            &SynthExif {
                taken: Some(at("2021:06:01 18:00:00", Some(120))),
                gps: Some(PARIS),
                orientation: None,
                camera: None,
            },
        )
        .unwrap();
        write(&lib.join("cam3/IMG_0001.jpg"), &newcomer);
        let before_grown = snapshot(&lib);
        let third = run(&params);
        assert_eq!(third.from_cache, 6, "{mode:?}: only the new photo is read");
        let a3 = third.apply.as_ref().unwrap();
        assert_eq!(a3.failed, 0, "{mode:?}: {:?}", a3.outcomes);
        for (i, p) in first.photos.iter().enumerate() {
            let j = third
                .photos
                .iter()
                .position(|q| q.rel_path == p.rel_path)
                .unwrap();
            // Date, place and content groups of unchanged photos are unchanged (events may merge
            // when a new photo bridges a gap, not here). Near-duplicates are left out: the
            // newcomer is another shot of the stripes of cam1/IMG_0002.jpg and scans/scan.png,
            // so which of them the EXIF-less scan is "the same picture" as may change.
            let groups = |a: &[deepclust_gallery::plan::Assignment]| {
                a.iter()
                    .filter(|x| x.kind != GroupKind::NearDuplicates)
                    .map(|x| (x.kind, x.group.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                groups(&third.assignments[j]),
                groups(&first.assignments[i]),
                "{mode:?} {}",
                p.rel_path
            );
        }
        assert_eq!(
            snapshot(&lib),
            before_grown,
            "{mode:?}: an original changed"
        );
        let mut before_plus = before.clone();
        before_plus.extend(
            before_grown
                .iter()
                .filter(|(k, _)| k.starts_with("cam3"))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        assert_eq!(before_grown, before_plus);
        assert_eq!(fs::read(&foreign).unwrap(), b"someone else's file");

        // Manifest and HTML index are there and mention every photo.
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["photos"].as_array().unwrap().len(), 7);
        assert_eq!(manifest["skipped"][0]["rel_path"], "broken/half.jpg");
        let html = fs::read_to_string(out.join("index.html")).unwrap();
        assert_eq!(html.matches("<img ").count(), third.plan.links.len());
        for p in &third.photos {
            assert!(out.join("thumbs").join(p.thumb_name()).exists());
        }
    }
}

#[test]
fn output_inside_the_photo_tree_is_never_rescanned() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    make_library(&lib);
    let out = lib.join("organized");
    for link in [LinkMode::Copy, LinkMode::Symlink] {
        let r = run(&all_groupings(&lib, &out).link(link));
        assert_eq!(r.photos.len(), 6, "{link:?}");
        assert!(r
            .photos
            .iter()
            .all(|p| !p.rel_path.starts_with("organized")));
    }
    // Even under another name (moved output folder), the marker keeps it out.
    fs::rename(&out, lib.join("moved")).unwrap();
    let other_out = dir.path().join("out2");
    let r = run(&OrganizeParams::new(&lib, &other_out).by(vec![GroupKind::Date]));
    assert_eq!(r.photos.len(), 6);
}

#[test]
fn refuses_unsafe_directories_and_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    make_library(&lib);
    let err = |p: OrganizeParams| {
        organize(&p, &|_| {}, &AtomicBool::new(false))
            .unwrap_err()
            .to_string()
    };
    assert!(err(OrganizeParams::new(&lib, &lib)).contains("cannot be the photo directory"));
    assert!(err(OrganizeParams::new(&lib, dir.path())).contains("inside the output directory"));
    let foreign = dir.path().join("foreign");
    fs::create_dir_all(&foreign).unwrap();
    fs::write(foreign.join("keep.txt"), b"x").unwrap();
    assert!(err(OrganizeParams::new(&lib, &foreign)).contains("not made by the organizer"));
    assert!(
        err(OrganizeParams::new(&lib, dir.path().join("o")).event_gap_hours(-1.0))
            .contains("event gap")
    );
    assert!(err(OrganizeParams::new(&lib, dir.path().join("o")).by(vec![])).contains("--by"));
    assert!(err(OrganizeParams::new(
        dir.path().join("missing"),
        dir.path().join("o")
    ))
    .contains("missing"));
}

#[test]
fn content_groups_separate_visual_classes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let mut truth = BTreeMap::new();
    for class in 0..3 {
        for i in 0..15 {
            let name = format!("c{class}_{i:02}.jpg");
            let bytes = jpeg_with_exif(
                &pattern(class, (class * 100 + i) as u64),
                &SynthExif::default(),
            )
            .unwrap();
            write(&lib.join(&name), &bytes);
            truth.insert(name, class);
        }
    }
    let r = run(&OrganizeParams::new(&lib, dir.path().join("out"))
        .by(vec![GroupKind::Content])
        .k(KSelect::Auto { min: 2, max: 8 })
        .html(false));
    let content = r.content.as_ref().unwrap();
    let labels_true: Vec<usize> = r.photos.iter().map(|p| truth[&p.rel_path]).collect();
    let nmi = deepclust_metrics::nmi(&labels_true, &content.labels).unwrap();
    eprintln!(
        "k=auto chose {} (silhouette {:?}), NMI {nmi:.3}",
        content.k, content.silhouette
    );
    assert_eq!(content.k, 3);
    assert!(nmi > 0.99, "NMI {nmi}");
    // Without models, albums are named from what the files tell (camera or not, tone).
    assert!(
        content.clusters.iter().all(|c| c.size == 15
            && (c.name.starts_with("Camera photos, ")
                || c.name.starts_with("Screenshots & saved pictures, "))),
        "{:?}",
        content.clusters.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
}

fn shared_photos() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/photos");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: {} not found (shared data is not part of the repository)",
            p.display()
        );
        None
    }
}

#[test]
fn shared_photos_day_place_and_event_of_each_gps_photo() {
    let Some(photos) = shared_photos() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let before = snapshot(&photos);
    let r = run(&OrganizeParams::new(&photos, &out).by(vec![
        GroupKind::Date,
        GroupKind::Event,
        GroupKind::Place,
    ]));
    assert_eq!(snapshot(&photos), before);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let group = |photo: &serde_json::Value, kind: &str| -> String {
        photo["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["kind"] == kind)
            .unwrap()["group"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let expected = [
        (
            "exif/beijing-2003-nikon.jpg",
            "2003/2003-11-23",
            "China/Beijing/Beijing",
            "2003/2003-11-23 Beijing",
        ),
        (
            "exif/beijing-2016-iphone.jpg",
            "2016/2016-03-24",
            "China/Beijing/Wangjing",
            "2016/2016-03-24 Wangjing",
        ),
        (
            "exif/stockholm-2014-iphone.jpg",
            "2014/2014-09-01",
            "Sweden/Stockholm/Stockholm",
            "2014/2014-09-01 Stockholm",
        ),
        (
            "exif/gps-as-string-2014-htc.jpg",
            "2014/2014-04-26",
            "Germany/Saxony-Anhalt/Salzwedel",
            "2014/2014-04-26 Salzwedel",
        ),
        (
            "exif/denmark-2013-nokia.jpg",
            "2013/2013-05-10",
            "Germany/Schleswig-Holstein/List",
            "2013/2013-05-10 List",
        ),
    ];
    let list = manifest["photos"].as_array().unwrap();
    for (file, day, place, event) in expected {
        let p = list.iter().find(|p| p["path"] == file).unwrap();
        assert_eq!(group(p, "date"), day, "{file}");
        assert_eq!(group(p, "place"), place, "{file}");
        assert_eq!(group(p, "event"), event, "{file}");
    }
    for file in [
        "exif/DSCN0614_small.jpg",
        "exif/dsc_09827.jpg",
        "exif/Bush-dog.jpg",
    ] {
        let p = list.iter().find(|p| p["path"] == file).unwrap();
        assert_eq!(group(p, "place"), "unknown-place");
    }
    let skipped: Vec<&str> = manifest["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rel_path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|s| s.starts_with("corrupt/")));
    let link = out.join("by-place/China/Beijing/Beijing/beijing-2003-nikon.jpg");
    assert_eq!(
        fs::canonicalize(&link).unwrap(),
        fs::canonicalize(photos.join("exif/beijing-2003-nikon.jpg")).unwrap()
    );
    assert_eq!(r.photos.len(), 8);
}

#[test]
fn near_duplicates_pair_each_camera_photo_with_its_resized_copy() {
    let Some(photos) = shared_photos() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    fs::create_dir_all(lib.join("copies")).unwrap();
    let mut names = Vec::new();
    for e in fs::read_dir(photos.join("exif")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        fs::copy(&path, lib.join(&name)).unwrap();
        // The copy a messenger app would make: half size, recompressed, EXIF dropped.
        // Upright pixels, as apps write them.
        let mut decoder = image::ImageReader::open(&path)
            .unwrap()
            .into_decoder()
            .unwrap();
        let orientation = image::ImageDecoder::orientation(&mut decoder).unwrap();
        let mut img = image::DynamicImage::from_decoder(decoder).unwrap();
        img.apply_orientation(orientation);
        let img = img.to_rgb8();
        let small = image::imageops::resize(
            &img,
            img.width() / 2,
            img.height() / 2,
            image::imageops::FilterType::Triangle,
        );
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 70)
            .encode_image(&small)
            .unwrap();
        fs::write(lib.join("copies").join(&name), bytes).unwrap();
        names.push(name);
    }
    let r = run(&OrganizeParams::new(&lib, dir.path().join("out"))
        .by(vec![GroupKind::Date])
        .near_duplicates(true)
        .dry_run(true));
    let group_of = |rel: &str| -> Option<String> {
        let i = r.photos.iter().position(|p| p.rel_path == rel).unwrap();
        r.assignments[i]
            .iter()
            .find(|a| a.kind == GroupKind::NearDuplicates)
            .map(|a| a.group.clone())
    };
    let mut groups = std::collections::HashSet::new();
    for name in &names {
        let (a, b) = (group_of(name), group_of(&format!("copies/{name}")));
        // The iPhone portraits are stored rotated (orientation 6) and their copies are upright
        // pixels without EXIF: thumbnails are upright in both, so they still match.
        assert!(a.is_some() && a == b, "{name}: {a:?} vs {b:?}");
        groups.insert(a.unwrap());
    }
    assert_eq!(
        groups.len(),
        names.len(),
        "unrelated photos were grouped together"
    );
}

/// Opens index.html in headless Chromium (when installed) and checks that the thumbnails
/// rendered: a page of text and broken-image icons has few colours, photos have thousands.
#[test]
fn html_index_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        eprintln!("SKIP: no chromium on PATH (Debian package `chromium`)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    make_library(&lib);
    let out = dir.path().join("out");
    run(&all_groupings(&lib, &out));
    let shot = dir.path().join("shot.png");
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,900",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", out.join("index.html").display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() > 90 {
            child.kill().unwrap();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let img = image::open(&shot).unwrap().to_rgb8();
    let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    eprintln!(
        "screenshot {}x{}, {} colours",
        img.width(),
        img.height(),
        colours.len()
    );
    assert!(
        colours.len() > 2000,
        "only {} colours: thumbnails did not render",
        colours.len()
    );
}

/// Every entry (files and symbolic links, not folders) under `root`, relative to it.
fn entries(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_bridging_photo_merges_two_events_and_their_old_links_go() {
    let shot = |seed, taken: &str| paris_shot(0, seed, taken);
    for mode in [LinkMode::Symlink, LinkMode::Hardlink, LinkMode::Copy] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        // 68 h between a and c: two events. d is a later trip that no new photo touches.
        write(&lib.join("a.jpg"), &shot(1, "2021:06:01 12:00:00"));
        write(&lib.join("c.jpg"), &shot(2, "2021:06:04 08:00:00"));
        write(&lib.join("d.jpg"), &shot(3, "2021:08:01 08:00:00"));
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&lib, &out)
            .by(vec![GroupKind::Date, GroupKind::Event])
            .link(mode)
            .html(false);
        let first = run(&params);
        assert_eq!(first.pruned, Default::default(), "{mode:?}");
        let ev = |name: &str| PathBuf::from("by-event/2021").join(name);
        let before_links = entries(&out);
        for e in [
            ev("2021-06-01 Paris/a.jpg"),
            ev("2021-06-04 Paris/c.jpg"),
            ev("2021-08-01 Paris/d.jpg"),
        ] {
            assert!(
                before_links.contains(&e),
                "{mode:?}: {e:?} in {before_links:#?}"
            );
        }
        // The user's own note in an event folder is not ours: it stays, and so does its folder.
        let note = out.join(ev("2021-06-01 Paris/note.txt"));
        fs::write(&note, b"my note").unwrap();

        // b, 34 h after a and 34 h before c, bridges the gap.
        write(&lib.join("b.jpg"), &shot(4, "2021:06:02 22:00:00"));
        let originals = snapshot(&lib);
        let out_before = snapshot(&out);

        let merged = ev("2021-06-01 to 2021-06-04 Paris");
        let dry = run(&params.clone().dry_run(true));
        let mut would: Vec<PathBuf> = dry.pruned.removed.clone();
        would.sort();
        assert_eq!(
            would,
            vec![ev("2021-06-01 Paris/a.jpg"), ev("2021-06-04 Paris/c.jpg")],
            "{mode:?}"
        );
        assert_eq!(snapshot(&out), out_before, "{mode:?}: the dry run wrote");

        let second = run(&params);
        assert_eq!(second.from_cache, 3, "{mode:?}: only b is read");
        let mut removed = second.pruned.removed.clone();
        removed.sort();
        assert_eq!(removed, would, "{mode:?}");
        assert!(
            second.pruned.kept.is_empty(),
            "{mode:?}: {:?}",
            second.pruned
        );
        assert_eq!(
            second.pruned.removed_folders, 1,
            "{mode:?}: 2021-06-04 Paris"
        );
        let after = entries(&out);
        let events: Vec<&PathBuf> = after.iter().filter(|p| p.starts_with("by-event")).collect();
        assert_eq!(
            events,
            vec![
                &ev("2021-06-01 Paris/note.txt"),
                &merged.join("a.jpg"),
                &merged.join("b.jpg"),
                &merged.join("c.jpg"),
                &ev("2021-08-01 Paris/d.jpg"),
            ],
            "{mode:?}"
        );
        assert!(!out.join(ev("2021-06-04 Paris")).exists());
        assert_eq!(fs::read(&note).unwrap(), b"my note");
        // Each link in the merged event is its original, and the manifest lists exactly the
        // links that exist.
        for name in ["a.jpg", "b.jpg", "c.jpg"] {
            assert_eq!(
                fs::read(out.join(&merged).join(name)).unwrap(),
                fs::read(lib.join(name)).unwrap()
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let mut listed: Vec<PathBuf> = manifest["photos"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["links"].as_array().unwrap().clone())
            .map(|l| PathBuf::from(l.as_str().unwrap()))
            .collect();
        listed.sort();
        let mut on_disk: Vec<PathBuf> = after
            .iter()
            .filter(|p| p.starts_with("by-date") || p.starts_with("by-event"))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .cloned()
            .collect();
        on_disk.sort();
        assert_eq!(listed, on_disk, "{mode:?}");
        // Every original: same bytes, same length, same modification time.
        assert_eq!(snapshot(&lib), originals, "{mode:?}: an original changed");

        // A third run has nothing left to prune and finds every link in place.
        let third = run(&params);
        assert_eq!(third.pruned, Default::default(), "{mode:?}");
        assert_eq!(third.apply.as_ref().unwrap().created, 0, "{mode:?}");
        assert_eq!(snapshot(&lib), originals, "{mode:?}");
    }
}

#[test]
fn stale_copies_of_an_edited_photo_are_set_aside() {
    // An edited photo moves to another day; its old copy is the only copy of the old version:
    // it leaves the old day's folder for superseded/, is listed there, and is never deleted.
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let photo = |seed, taken: &str| {
        jpeg_with_exif(
            &pattern(1, seed),
            &SynthExif {
                taken: Some(at(taken, None)),
                gps: None,
                orientation: None,
                camera: None,
            },
        )
        .unwrap()
    };
    write(&lib.join("p.jpg"), &photo(1, "2020:01:01 10:00:00"));
    let out = dir.path().join("out");
    let params = OrganizeParams::new(&lib, &out)
        .by(vec![GroupKind::Date])
        .link(LinkMode::Copy)
        .html(false);
    run(&params);
    let old = out.join("by-date/2020/2020-01-01/p.jpg");
    let old_bytes = fs::read(&old).unwrap();
    write(&lib.join("p.jpg"), &photo(2, "2020:02:02 10:00:00"));
    let r = run(&params);
    assert!(r.pruned.removed.is_empty(), "{:?}", r.pruned);
    assert!(r.pruned.kept.is_empty(), "{:?}", r.pruned.kept);
    let moved = PathBuf::from("superseded/by-date/2020/2020-01-01/p.jpg");
    assert_eq!(r.pruned.set_aside.len(), 1, "{:?}", r.pruned);
    assert_eq!(r.pruned.set_aside[0].now, moved);
    assert_eq!(fs::read(out.join(&moved)).unwrap(), old_bytes);
    assert!(
        !out.join("by-date/2020/2020-01-01").exists(),
        "old day folder left"
    );
    assert!(out.join("by-date/2020/2020-02-02/p.jpg").exists());
    // Listed in the manifest, on this run and the next.
    let again = run(&params);
    assert!(again.pruned.set_aside.is_empty());
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("superseded/by-date/2020/2020-01-01/p.jpg"),
        "{manifest}"
    );
}

/// What a photo editor does on save: a new file renamed over the old name (a new inode, so a
/// hard link to the old one keeps the old version).
fn save_as_editor_does(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("saving");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// The files in a group folder (names), sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_edited_photo_ends_with_one_up_to_date_entry_per_group() {
    // Before: the old copy stayed under the photo's name, the new one came as p~2.jpg, and
    // the manifest forgot the old one.
    let shot = |seed| paris_shot(1, seed, "2021:06:01 12:00:00");
    for mode in [LinkMode::Copy, LinkMode::Hardlink, LinkMode::Symlink] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        write(&lib.join("p.jpg"), &shot(1));
        write(&lib.join("q.jpg"), &shot(2));
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&lib, &out)
            .by(vec![GroupKind::Date, GroupKind::Place])
            .link(mode)
            .html(false);
        let first = run(&params);
        let links: Vec<PathBuf> = first
            .plan
            .links
            .iter()
            .filter(|l| first.photos[l.photo].rel_path == "p.jpg")
            .map(|l| l.target.clone())
            .collect();
        assert_eq!(links.len(), 2, "{mode:?}: one link per grouping");
        // Edited: same day and place, other pixels.
        let edited = shot(3);
        save_as_editor_does(&lib.join("p.jpg"), &edited);
        let dry = run(&params.clone().dry_run(true));
        let second = run(&params);
        for link in &links {
            let folder = out.join(link.parent().unwrap());
            assert_eq!(
                names_in(&folder),
                vec!["p.jpg", "q.jpg"],
                "{mode:?}: {link:?}"
            );
            assert_eq!(
                fs::read(out.join(link)).unwrap(),
                edited,
                "{mode:?}: {link:?}"
            );
        }
        assert_eq!(second.apply.as_ref().unwrap().failed, 0, "{mode:?}");
        if mode == LinkMode::Symlink {
            // A symbolic link follows the edit: nothing to set aside.
            assert!(second.pruned.set_aside.is_empty(), "{mode:?}");
            continue;
        }
        assert_eq!(dry.pruned.set_aside.len(), 2, "{mode:?}: {:?}", dry.pruned);
        assert_eq!(
            second.pruned.set_aside.len(),
            2,
            "{mode:?}: {:?}",
            second.pruned
        );
        for s in &second.pruned.set_aside {
            assert_eq!(s.now, Path::new("superseded").join(&s.was), "{mode:?}");
            assert_eq!(fs::read(out.join(&s.now)).unwrap(), shot(1), "{mode:?}");
        }
        assert_eq!(
            fs::read(lib.join("p.jpg")).unwrap(),
            edited,
            "{mode:?}: original"
        );
        // Edited again: the second old version gets a name of its own beside the first.
        let edited_again = shot(4);
        save_as_editor_does(&lib.join("p.jpg"), &edited_again);
        let third = run(&params);
        assert_eq!(third.pruned.set_aside.len(), 2, "{mode:?}");
        assert!(
            third.pruned.set_aside[0]
                .now
                .to_string_lossy()
                .ends_with("p (2).jpg"),
            "{mode:?}: {:?}",
            third.pruned.set_aside
        );
        assert_eq!(
            third.superseded.len(),
            4,
            "{mode:?}: all four old versions listed"
        );
        for link in &links {
            assert_eq!(fs::read(out.join(link)).unwrap(), edited_again, "{mode:?}");
        }
    }
}

#[test]
fn a_renamed_photo_ends_with_one_entry_per_group() {
    // Before: in copy and hard-link mode the old name stayed beside the new one (its bytes
    // were treated as a possible last copy although the library still holds them).
    let shot = |seed| paris_shot(1, seed, "2021:06:01 12:00:00");
    for mode in [LinkMode::Copy, LinkMode::Hardlink, LinkMode::Symlink] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        write(&lib.join("p.jpg"), &shot(1));
        write(&lib.join("q.jpg"), &shot(2));
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&lib, &out)
            .by(vec![GroupKind::Date])
            .link(mode)
            .html(false);
        run(&params);
        let day = out.join("by-date/2021/2021-06-01");
        fs::create_dir_all(lib.join("trip")).unwrap();
        fs::rename(lib.join("p.jpg"), lib.join("trip/renamed.jpg")).unwrap();
        let second = run(&params);
        assert_eq!(names_in(&day), vec!["q.jpg", "renamed.jpg"], "{mode:?}");
        assert_eq!(
            fs::read(day.join("renamed.jpg")).unwrap(),
            shot(1),
            "{mode:?}"
        );
        assert_eq!(
            second.pruned.removed,
            vec![PathBuf::from("by-date/2021/2021-06-01/p.jpg")],
            "{mode:?}"
        );
        assert!(
            second.pruned.kept.is_empty(),
            "{mode:?}: {:?}",
            second.pruned.kept
        );
    }
}

#[test]
fn a_kept_copy_of_a_deleted_photo_stays_tracked() {
    // The last copy of a deleted photo is kept; the manifest keeps listing it, so a later run
    // still knows it (before: dropped from the manifest after one run, then never mentioned).
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    write(&lib.join("a.jpg"), &paris_shot(1, 1, "2021:06:01 12:00:00"));
    write(&lib.join("b.jpg"), &paris_shot(1, 2, "2021:07:01 12:00:00"));
    let out = dir.path().join("out");
    let params = OrganizeParams::new(&lib, &out)
        .by(vec![GroupKind::Date])
        .link(LinkMode::Copy)
        .html(false);
    run(&params);
    fs::remove_file(lib.join("b.jpg")).unwrap();
    let link = PathBuf::from("by-date/2021/2021-07-01/b.jpg");
    for round in 0..2 {
        let r = run(&params);
        assert!(
            r.pruned
                .kept
                .iter()
                .any(|(l, why)| l == &link && why.contains("last copy")),
            "round {round}: {:?}",
            r.pruned
        );
        let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
        assert!(manifest.contains("\"kept_links\""), "{manifest}");
        assert!(
            manifest.contains("2021-07-01/b.jpg"),
            "round {round}: {manifest}"
        );
    }
    // The photo comes back under another name: its kept copy is now provably redundant.
    write(
        &lib.join("back.jpg"),
        &paris_shot(1, 2, "2021:07:01 12:00:00"),
    );
    let r = run(&params);
    assert_eq!(r.pruned.removed, vec![link.clone()], "{:?}", r.pruned);
    assert!(!out.join(&link).exists());
    assert!(out.join("by-date/2021/2021-07-01/back.jpg").exists());
}

#[test]
fn autoencoder_embedding_separates_classes_and_is_kept_for_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let mut truth = BTreeMap::new();
    for class in 0..3 {
        for i in 0..15 {
            let name = format!("c{class}_{i:02}.jpg");
            let bytes = jpeg_with_exif(
                &pattern(class, (class * 100 + i) as u64),
                &SynthExif::default(),
            )
            .unwrap();
            write(&lib.join(&name), &bytes);
            truth.insert(name, class);
        }
    }
    let out = dir.path().join("out");
    let params = OrganizeParams::new(&lib, &out)
        .by(vec![GroupKind::Content])
        .k(KSelect::Fixed(3))
        .embedding(EmbeddingKind::Autoencoder)
        .autoencoder(AutoencoderParams {
            hidden: vec![64],
            code: 4,
            epochs: 20,
            batch_size: 16,
            ..AutoencoderParams::default()
        })
        .html(false);
    let epochs = std::sync::Mutex::new(0);
    let on_progress = |p: deepclust_gallery::Progress| {
        if p.stage == "autoencoder" {
            *epochs.lock().unwrap() = p.done;
        }
    };
    let first = organize(&params, &on_progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(*epochs.lock().unwrap(), 20, "progress reports each epoch");
    let content = first.content.as_ref().unwrap();
    let labels_true: Vec<usize> = first.photos.iter().map(|p| truth[&p.rel_path]).collect();
    let nmi = deepclust_metrics::nmi(&labels_true, &content.labels).unwrap();
    eprintln!("autoencoder embedding: NMI {nmi:.3}");
    assert!(nmi > 0.9, "NMI {nmi}");
    assert!(out.join(AE_DIR).join("config.json").exists());
    // The report's space is the code the clusters were fitted on: each photo's own centre
    // is its nearest.
    let space = deepclust_gallery::html::content_space(&first).expect("the autoencoder space");
    let model = content.model.as_ref().unwrap();
    for (i, row) in space.embedding.outer_iter().enumerate() {
        let to = |c: usize| -> f32 {
            row.iter()
                .zip(&model.centroids[c])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt()
        };
        let own = content.labels[i];
        assert!((space.distance_to_centre[i] - to(own)).abs() < 1e-3);
        assert!((0..model.centroids.len()).all(|c| to(own) <= to(c) + 1e-3));
    }

    // Grow the library: the kept network encodes (no training), unchanged photos keep their
    // clusters.
    let newcomer = jpeg_with_exif(&pattern(1, 999), &SynthExif::default()).unwrap();
    write(&lib.join("new.jpg"), &newcomer);
    *epochs.lock().unwrap() = 0;
    let second = organize(&params, &on_progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        *epochs.lock().unwrap(),
        0,
        "retrained instead of reusing the network"
    );
    let c2 = second.content.as_ref().unwrap();
    assert!(c2.reused_previous_model);
    for (i, p) in first.photos.iter().enumerate() {
        let j = second
            .photos
            .iter()
            .position(|q| q.rel_path == p.rel_path)
            .unwrap();
        assert_eq!(c2.labels[j], content.labels[i], "{}", p.rel_path);
    }
}

#[test]
fn links_of_a_deleted_photo_go_only_when_they_are_dangling_symlinks() {
    let shot = |seed, taken: &str| paris_shot(1, seed, taken);
    for mode in [LinkMode::Symlink, LinkMode::Hardlink, LinkMode::Copy] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        write(&lib.join("a.jpg"), &shot(1, "2021:06:01 12:00:00"));
        write(&lib.join("b.jpg"), &shot(2, "2021:07:01 12:00:00"));
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&lib, &out)
            .by(vec![GroupKind::Date])
            .link(mode)
            .html(false);
        run(&params);
        let link = PathBuf::from("by-date/2021/2021-07-01/b.jpg");
        assert!(fs::symlink_metadata(out.join(&link)).is_ok(), "{mode:?}");
        fs::remove_file(lib.join("b.jpg")).unwrap();
        let originals = snapshot(&lib);

        let dry = run(&params.clone().dry_run(true));
        let second = run(&params);
        assert_eq!(snapshot(&lib), originals, "{mode:?}: an original changed");
        let still_there = fs::symlink_metadata(out.join(&link)).is_ok();
        if mode == LinkMode::Symlink {
            assert_eq!(dry.pruned.removed, vec![link.clone()]);
            assert_eq!(second.pruned.removed, vec![link.clone()]);
            assert!(
                !still_there,
                "the dangling link of the deleted photo stayed"
            );
            assert!(!out.join("by-date/2021/2021-07-01").exists());
        } else {
            // The copy or hard link may be the photo's last copy: kept, and said so.
            assert!(
                still_there,
                "{mode:?}: the last copy of a deleted photo went"
            );
            assert!(second.pruned.removed.is_empty(), "{mode:?}");
            assert!(
                second
                    .pruned
                    .kept
                    .iter()
                    .any(|(l, why)| l == &link && why.contains("last copy")),
                "{mode:?}: {:?}",
                second.pruned.kept
            );
            assert_eq!(
                fs::read(out.join(&link)).unwrap(),
                shot(2, "2021:07:01 12:00:00")
            );
        }
        assert!(
            out.join("by-date/2021/2021-06-01/a.jpg").exists(),
            "{mode:?}"
        );
    }
}

/// A re-run takes the links the manifest recorded for unchanged photos from their folders'
/// listings; a link deleted since is made again, a link replaced by the user's own file is
/// left alone (the photo is linked under a new name beside it).
#[test]
fn a_rerun_remakes_deleted_links_and_leaves_a_replaced_one_alone() {
    for mode in [LinkMode::Symlink, LinkMode::Copy] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        write(&lib.join("a.jpg"), &paris_shot(0, 1, "2021:06:01 12:00:00"));
        write(&lib.join("b.jpg"), &paris_shot(1, 2, "2021:06:01 13:00:00"));
        let out = dir.path().join("out");
        let params = OrganizeParams::new(&lib, &out)
            .by(vec![GroupKind::Date])
            .link(mode)
            .html(false);
        let first = run(&params);
        assert_eq!(first.apply.as_ref().unwrap().created, 2);
        let day = out.join("by-date/2021/2021-06-01");
        fs::remove_file(day.join("a.jpg")).unwrap();
        fs::remove_file(day.join("b.jpg")).unwrap();
        fs::write(day.join("b.jpg"), b"the user's own file").unwrap();

        let again = run(&params);
        let applied = again.apply.as_ref().unwrap();
        assert_eq!(
            (applied.created, applied.already_present),
            (2, 0),
            "{mode:?}"
        );
        assert_eq!(
            applied.renamed, 1,
            "{mode:?}: b goes beside the user's file"
        );
        assert_eq!(fs::read(day.join("b.jpg")).unwrap(), b"the user's own file");
        assert_eq!(
            fs::read(day.join("a.jpg")).unwrap(),
            fs::read(lib.join("a.jpg")).unwrap()
        );
        assert_eq!(
            fs::read(day.join("b~2.jpg")).unwrap(),
            fs::read(lib.join("b.jpg")).unwrap()
        );

        let third = run(&params);
        let applied = third.apply.as_ref().unwrap();
        assert_eq!(
            (applied.created, applied.already_present),
            (0, 2),
            "{mode:?}"
        );
    }
}
