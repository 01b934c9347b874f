//! Builds reports from generated digits and checks the page: every picture it references
//! exists in the folder, nothing points outside it, user text is escaped, and (when Debian's
//! `chromium` is installed) a headless browser loads every image.
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use deepclust_data::synthetic;
use deepclust_metrics::Scores;
use deepclust_report::{confidence, AeEpoch, DecUpdate, ImageShape, ReportBuilder, ReportOptions};
use ndarray::Array2;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Clusters that mostly follow the true class (permuted ids, every 7th item moved to the
/// next cluster), and minus the distance to its cluster's mean as confidence.
fn fake_clustering(features: &Array2<f32>, truth: &[usize]) -> (Vec<usize>, Vec<f32>) {
    let labels: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let c = (t * 3 + 1) % 10;
            if i % 7 == 0 {
                (c + 1) % 10
            } else {
                c
            }
        })
        .collect();
    let mut centroids = Array2::<f32>::zeros((10, features.ncols()));
    let mut counts = [0f32; 10];
    for (row, &l) in features.outer_iter().zip(&labels) {
        let mut c = centroids.row_mut(l);
        c += &row;
        counts[l] += 1.0;
    }
    for (mut c, n) in centroids.outer_iter_mut().zip(counts) {
        c /= n.max(1.0);
    }
    let conf =
        confidence::from_centroid_distance(features.view(), centroids.view(), &labels).unwrap();
    (labels, conf)
}

fn curves() -> (Vec<AeEpoch>, Vec<DecUpdate>) {
    let ae = (1..=20)
        .map(|e| AeEpoch {
            epoch: e,
            train_loss: 0.1 / e as f64 + 0.02,
            val_loss: Some(0.1 / e as f64 + 0.025),
        })
        .collect();
    let dec = (0..10)
        .map(|u| DecUpdate {
            iteration: u * 140,
            loss: (u > 0).then(|| 0.2 / (u as f64 + 1.0)),
            kl_loss: None,
            reconstruction_loss: None,
            label_change: 0.1 / (u as f64 + 1.0),
            scores: Some(Scores {
                acc: 0.6 + 0.02 * u as f64,
                nmi: 0.5 + 0.02 * u as f64,
                ari: 0.4 + 0.03 * u as f64,
            }),
        })
        .collect();
    (ae, dec)
}

/// Writes a full report of `n` generated digits into `dir`.
fn full_report(
    n: usize,
    dir: &Path,
    title: &str,
    ids: &[String],
) -> deepclust_report::ReportSummary {
    let data = synthetic::digits(n, 0);
    let truth = data.labels.clone().unwrap();
    let (labels, conf) = fake_clustering(&data.features, &truth);
    let (h, w) = data.image_shape.unwrap();
    let (ae, dec) = curves();
    ReportBuilder::new(title)
        .data_source(data.source.clone())
        .config(serde_json::json!({"k": 10, "note": "<b>not bold</b>", "n_init": 20}))
        .seed(0)
        .timing("load", 0.01)
        .timing("fit", 1.5)
        .clusters(&labels)
        .confidence_named(&conf, "closeness to the centre")
        .images(data.features.view(), ImageShape::gray(h, w))
        .ids(ids)
        .truth(&truth)
        .ae_curve(ae)
        .dec_curve(dec)
        .embedding(data.features.view(), "pixels")
        .write(dir)
        .unwrap()
}

/// Every value of `attr="..."` in the page.
fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        rest = &rest[at + needle.len()..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

#[test]
fn every_picture_and_link_of_the_page_resolves_inside_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600;
    let ids: Vec<String> = (0..n).map(|i| format!("img_{i}.png")).collect();
    let summary = full_report(n, dir.path(), "digits", &ids);
    let html = std::fs::read_to_string(&summary.index).unwrap();

    let sources = attribute_values(&html, "src");
    // 10 clusters x (top + least) + 3 DEC charts + AE chart + 2 maps + thumbnail map.
    assert_eq!(sources.len(), 10 * 2 + 4 + 2 + 1, "{sources:?}");
    for src in &sources {
        assert!(
            !src.contains("://") && !src.starts_with('/') && !src.contains(".."),
            "{src}"
        );
        let path = dir.path().join(src);
        assert!(path.is_file(), "{src} is referenced but missing");
        assert!(
            std::fs::metadata(&path).unwrap().len() > 0,
            "{src} is empty"
        );
    }
    for href in attribute_values(&html, "href") {
        let anchor = href
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-anchor link {href}"));
        assert!(
            html.contains(&format!("id=\"{anchor}\"")),
            "link to missing #{anchor}"
        );
    }
    // Every file written is one the page shows (no orphans), and the summary adds up.
    assert_eq!(summary.files.len(), sources.len() + 1);
    let bytes: u64 = summary
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(bytes, summary.bytes);
    assert_eq!(
        (summary.items, summary.clusters, summary.map_points),
        (n, 10, n)
    );
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);

    // The montages are real PNGs of the expected size: 32 tiles of 28 px, 8 per row.
    let top = image::open(dir.path().join("cluster-1-top.png")).unwrap();
    assert_eq!((top.width(), top.height()), (8 * 29 + 1, 4 * 29 + 1));
    // Least confident: 8 tiles in one row.
    let least = image::open(dir.path().join("cluster-1-least.png")).unwrap();
    assert_eq!((least.width(), least.height()), (8 * 29 + 1, 29 + 1));
    // The page shows them at 2x for 28 px digits.
    assert!(html.contains("src=\"cluster-1-top.png\" width=\"466\" height=\"234\""));
    // Cluster 1 holds class 0 (t * 3 + 1 = 1), so it wears class 0's colour in the cards
    // and on both maps; cluster 0 holds class 3.
    assert!(html.contains("id=\"cluster-1\" style=\"border-left-color: #1f77b4\""));
    assert!(html.contains("id=\"cluster-0\" style=\"border-left-color: #d62728\""));
    // Confusion table and purity of this near-perfect clustering: 6/7 of each class matched.
    assert!(html.contains("id=\"confusion\""));
    assert!(html.contains("ACC 0.857"), "ACC of the fake clustering");
}

#[test]
fn user_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600;
    let ids: Vec<String> = (0..n)
        .map(|i| format!("<img src=x onerror=alert({i})>&\".png"))
        .collect();
    let summary = full_report(n, dir.path(), "<script>alert(1)</script> & co", &ids);
    let html = std::fs::read_to_string(&summary.index).unwrap();
    assert!(!html.contains("<script>alert"), "title not escaped");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; co"),
        "title escaped"
    );
    assert!(!html.contains("<img src=x"), "file names not escaped");
    assert!(html.contains("&lt;img src=x onerror=alert("));
    assert!(!html.contains("<b>not bold</b>"), "config not escaped");
    assert_eq!(
        html.matches("<script").count(),
        0,
        "the page has no scripts"
    );
}

#[test]
fn sections_follow_the_inputs() {
    // Curves only: no clusters, no map, no confusion table.
    let dir = tempfile::tempdir().unwrap();
    let (ae, _) = curves();
    let summary = ReportBuilder::new("pretraining")
        .ae_curve(ae)
        .write(dir.path())
        .unwrap();
    let html = std::fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains("curve-autoencoder.svg"));
    assert!(!html.contains("id=\"clusters\"") && !html.contains("id=\"map\""));
    assert_eq!(summary.files.len(), 2);

    // Clusters without confidence or truth, and a precomputed 2-D map.
    let data = synthetic::digits(50, 1);
    let labels: Vec<usize> = (0..50).map(|i| i % 3).collect();
    let map = Array2::from_shape_fn((50, 2), |(i, j)| (i * (j + 1)) as f32);
    let dir2 = tempfile::tempdir().unwrap();
    let summary = ReportBuilder::new("no scores")
        .clusters(&labels)
        .images(data.features.view(), ImageShape::gray(28, 28))
        .embedding_2d(map.view(), "UMAP")
        .options(ReportOptions {
            top_members: 5,
            ..ReportOptions::default()
        })
        .write(dir2.path())
        .unwrap();
    let html = std::fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains("random sample of 5 members"));
    assert!(html.contains("<p>UMAP; 50 of 50 items drawn"));
    assert!(!html.contains("id=\"confusion\"") && !html.contains("map-truth.svg"));
    assert!(!dir2.path().join("cluster-0-least.png").exists());
}

#[test]
fn inconsistent_inputs_are_errors_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let labels = vec![0usize; 10];
    let truth = vec![0usize; 9];
    let err = ReportBuilder::new("x")
        .clusters(&labels)
        .truth(&truth)
        .write(dir.path())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the true labels has 9 entries but the cluster labels have 10"
    );
    let pixels = Array2::<f32>::zeros((10, 10));
    let err = ReportBuilder::new("x")
        .clusters(&labels)
        .images(pixels.view(), ImageShape::gray(3, 3))
        .write(dir.path())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("needs 9 values per row, the image matrix has 10"),
        "{err}"
    );
    let conf = vec![1.0f32; 10];
    assert!(ReportBuilder::new("x")
        .confidence(&conf)
        .write(dir.path())
        .is_err());
    // A file where the folder should be.
    let file = dir.path().join("taken");
    std::fs::write(&file, b"x").unwrap();
    let err = ReportBuilder::new("x").write(&file).unwrap_err();
    assert!(err.to_string().contains("taken"), "{err}");
}

#[test]
fn photo_thumbnails_from_files_with_one_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let mut paths = Vec::new();
    for i in 0..12u8 {
        let p = photos.join(format!("photo {i} & <friends>.png"));
        image::RgbImage::from_pixel(120, 80, image::Rgb([i * 20, 100, 200 - i * 10]))
            .save(&p)
            .unwrap();
        paths.push(p);
    }
    paths[5] = photos.join("missing.jpg");
    let labels: Vec<usize> = (0..12).map(|i| i % 2).collect();
    let out = dir.path().join("report");
    let summary = ReportBuilder::new("photos")
        .clusters(&labels)
        .image_files(&paths, 64)
        .write(&out)
        .unwrap();
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(summary.warnings[0].contains("missing.jpg"));
    let top = image::open(out.join("cluster-0-top.png")).unwrap();
    assert_eq!((top.width(), top.height()), (6 * 65 + 1, 65 + 1));
}

// ---- headless Chromium ----

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|name| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium with the given extra arguments on `url`; returns stdout.
fn run_chromium(chromium: &Path, extra: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Script appended to a copy of the page: after `load`, writes how many images there are,
/// which did not load, and when the load event fired, into the DOM for `--dump-dom`.
const IMAGE_CHECK: &str = r#"<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return i.getAttribute('src'); });
  var nav = performance.getEntriesByType('navigation')[0];
  var out = document.createElement('pre');
  out.id = 'image-check';
  out.textContent = 'images=' + images.length + ';broken=' + broken.length +
    ';load_ms=' + Math.round(nav.loadEventStart) + ';list=' + broken.join('|') + ';end';
  document.body.appendChild(out);
});
</script>"#;

/// Loads `index` in Chromium and returns (images, broken images, list of broken, load ms).
pub fn check_in_chromium(chromium: &Path, index: &Path) -> (usize, usize, String, u64) {
    let html = std::fs::read_to_string(index).unwrap();
    let check = index.with_file_name("image-check.html");
    std::fs::write(
        &check,
        html.replace("</body>", &format!("{IMAGE_CHECK}</body>")),
    )
    .unwrap();
    let url = format!("file://{}", check.display());
    let dom = run_chromium(
        chromium,
        &["--dump-dom", "--virtual-time-budget=10000"],
        &url,
    );
    std::fs::remove_file(&check).unwrap();
    let marker = "<pre id=\"image-check\">";
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no check result in the DOM:\n{dom}"))
        + marker.len();
    let line = &dom[at..dom[at..].find(";end").map_or(dom.len(), |e| at + e)];
    eprintln!("chromium check: {line}");
    let field = |name: &str| -> String {
        let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
        line[start..].split(';').next().unwrap().to_string()
    };
    (
        field("images").parse().unwrap(),
        field("broken").parse().unwrap(),
        field("list"),
        field("load_ms").parse().unwrap(),
    )
}

#[test]
fn headless_chromium_loads_every_image() {
    let Some(chromium) = find_chromium() else {
        eprintln!("SKIP headless_chromium_loads_every_image: no `chromium` on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let n = 600;
    let ids: Vec<String> = (0..n).map(|i| format!("synthetic:{i}")).collect();
    let summary = full_report(n, dir.path(), "digits in Chromium", &ids);
    let (images, broken, list, _load_ms) = check_in_chromium(&chromium, &summary.index);
    assert_eq!(images, 27, "images on the page");
    assert_eq!(broken, 0, "images that did not load: {list}");

    // The check must be able to fail: remove one picture and look again.
    std::fs::remove_file(dir.path().join("map-truth.svg")).unwrap();
    let (_, broken, list, _) = check_in_chromium(&chromium, &summary.index);
    assert_eq!((broken, list.as_str()), (1, "map-truth.svg"));

    // A screenshot is taken (kept when REPORT_SCREENSHOT names a file, to look at).
    let shot = std::env::var_os("REPORT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("screenshot.png"));
    let url = format!("file://{}", summary.index.display());
    run_chromium(
        &chromium,
        &[&format!("--screenshot={}", shot.display())],
        &url,
    );
    let png = image::open(&shot).unwrap();
    assert_eq!((png.width(), png.height()), (1280, 2000));
}
