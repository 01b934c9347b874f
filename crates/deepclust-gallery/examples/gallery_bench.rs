//! Generates a photo library from MNIST-style digits (JPEGs with EXIF dates and GPS), organizes
//! it by content, and prints throughput and NMI against the digit classes.
//!
//! ```text
//! cargo run -p deepclust-gallery --example gallery_bench -- \
//!     --idx ../shared/data/fashion-mnist --n 2000 --side 112 --work /tmp/gallery-bench
//! ```
//! Writes `<work>/library` (the photos, in year folders), `<work>/labels.csv` (ground truth,
//! outside the library) and `<work>/organized`. `--model PATH.onnx` (run by onnxruntime)
//! embeds with a pretrained network instead of the model-free features; `--embedding stats` or
//! `--embedding autoencoder` (with `--ae-hidden 500,500,2000 --ae-epochs 30`) picks the
//! model-free one. Re-running reuses the
//! generated library; the organizer's cache is switched off so every run measures a full scan.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use deepclust_data::idx::{read_idx_images, read_idx_labels};
use deepclust_gallery::civil::{Day, WallClock};
use deepclust_gallery::content::KSelect;
use deepclust_gallery::synth::{jpeg_with_exif, SynthExif};
use deepclust_gallery::{
    organize, AutoencoderParams, EmbeddingKind, GpsPoint, GroupKind, OrganizeParams,
};
use image::{imageops, GrayImage, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const CITIES: [(f64, f64); 6] = [
    (48.8566, 2.3522),    // Paris
    (59.9139, 10.7522),   // Oslo
    (35.6762, 139.6503),  // Tokyo
    (-33.8688, 151.2093), // Sydney
    (40.7128, -74.0060),  // New York
    (39.9156, 116.3908),  // Beijing
];

struct Opts {
    idx: PathBuf,
    n: usize,
    side: u32,
    work: PathBuf,
    k: KSelect,
    model: Option<PathBuf>,
    embedding: EmbeddingKind,
    autoencoder: AutoencoderParams,
    seed: u64,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        idx: PathBuf::from("../shared/data/fashion-mnist"),
        n: 2000,
        side: 112,
        work: std::env::temp_dir().join("gallery-bench"),
        k: KSelect::Fixed(10),
        model: None,
        embedding: EmbeddingKind::default(),
        autoencoder: AutoencoderParams::default(),
        seed: 7,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--idx" => o.idx = PathBuf::from(val()?),
            "--n" => o.n = val()?.parse().map_err(|e| format!("--n: {e}"))?,
            "--side" => o.side = val()?.parse().map_err(|e| format!("--side: {e}"))?,
            "--work" => o.work = PathBuf::from(val()?),
            "--k" => o.k = KSelect::parse(&val()?, deepclust_gallery::content::AUTO_K)?,
            "--model" => o.model = Some(PathBuf::from(val()?)),
            "--embedding" => o.embedding = val()?.parse()?,
            "--seed" => o.seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--ae-epochs" => {
                o.autoencoder.epochs = val()?.parse().map_err(|e| format!("--ae-epochs: {e}"))?
            }
            "--ae-batch" => {
                o.autoencoder.batch_size = val()?.parse().map_err(|e| format!("--ae-batch: {e}"))?
            }
            "--ae-code-weight" => {
                o.autoencoder.code_weight = val()?
                    .parse()
                    .map_err(|e| format!("--ae-code-weight: {e}"))?
            }
            "--ae-layout-weight" => {
                o.autoencoder.layout_weight = val()?
                    .parse()
                    .map_err(|e| format!("--ae-layout-weight: {e}"))?
            }
            "--ae-hidden" => {
                o.autoencoder.hidden = val()?
                    .split(',')
                    .map(|w| w.parse().map_err(|e| format!("--ae-hidden: {e}")))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(o)
}

/// Writes `n` digits (the first n of the train split) as JPEGs with EXIF; returns labels by
/// relative path.
pub fn generate(
    idx: &Path,
    n: usize,
    side: u32,
    library: &Path,
) -> Result<HashMap<String, usize>, String> {
    let images =
        read_idx_images(&idx.join("train-images-idx3-ubyte.gz")).map_err(|e| e.to_string())?;
    let labels =
        read_idx_labels(&idx.join("train-labels-idx1-ubyte.gz")).map_err(|e| e.to_string())?;
    let n = n.min(images.count);
    let (rows, cols) = (images.rows as u32, images.cols as u32);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut truth = HashMap::new();
    for (i, &label) in labels.iter().enumerate().take(n) {
        let px = &images.pixels[i * images.rows * images.cols..(i + 1) * images.rows * images.cols];
        let gray = GrayImage::from_raw(cols, rows, px.to_vec()).ok_or("bad IDX image size")?;
        let big = imageops::resize(&gray, side, side, imageops::FilterType::Triangle);
        let rgb = RgbImage::from_fn(side, side, |x, y| {
            let v = big.get_pixel(x, y)[0];
            Rgb([v, v, v])
        });
        let year = 2015 + rng.gen_range(0..8);
        let day = Day::from_days_since_epoch(
            Day {
                year,
                month: 1,
                day: 1,
            }
            .days_since_epoch()
                + rng.gen_range(0..365),
        );
        let taken = WallClock {
            day,
            seconds_of_day: rng.gen_range(0..86_400),
            utc_offset_minutes: Some(60 * rng.gen_range(-8..10)),
        };
        // A quarter of the photos has no GPS, as on a real phone library.
        let gps = (rng.gen_range(0..4) > 0).then(|| {
            let (lat, lon) = CITIES[rng.gen_range(0..CITIES.len())];
            GpsPoint {
                lat: lat + rng.gen_range(-0.05..0.05),
                lon: lon + rng.gen_range(-0.05..0.05),
            }
        });
        let bytes = jpeg_with_exif(
            &rgb,
            &SynthExif {
                taken: Some(taken),
                gps,
                orientation: None,
                camera: None,
            },
        )?;
        let rel = format!("{year}/img_{i:05}.jpg");
        let path = library.join(&rel);
        fs::create_dir_all(path.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        truth.insert(rel, usize::from(label));
    }
    Ok(truth)
}

fn main() -> Result<(), String> {
    let o = parse()?;
    let library = o.work.join("library");
    let labels_csv = o.work.join("labels.csv");
    let truth: HashMap<String, usize> = if labels_csv.exists() {
        fs::read_to_string(&labels_csv)
            .map_err(|e| e.to_string())?
            .lines()
            .filter_map(|l| l.split_once(','))
            .filter_map(|(p, l)| Some((p.to_string(), l.parse().ok()?)))
            .collect()
    } else {
        let t0 = Instant::now();
        let truth = generate(&o.idx, o.n, o.side, &library)?;
        let mut rows: Vec<String> = truth.iter().map(|(p, l)| format!("{p},{l}")).collect();
        rows.sort();
        fs::write(&labels_csv, rows.join("\n")).map_err(|e| e.to_string())?;
        println!(
            "generated {} JPEGs ({}x{}) in {:.1} s",
            truth.len(),
            o.side,
            o.side,
            t0.elapsed().as_secs_f64()
        );
        truth
    };

    let out = o.work.join("organized");
    let _ = fs::remove_dir_all(&out);
    let params = OrganizeParams::new(&library, &out)
        .by(vec![
            GroupKind::Date,
            GroupKind::Event,
            GroupKind::Place,
            GroupKind::Content,
        ])
        .k(o.k)
        .near_duplicates(true)
        .model(o.model.clone())
        .embedding(o.embedding)
        .autoencoder(o.autoencoder.clone())
        .seed(o.seed)
        .use_cache(false);
    let scan_done = std::sync::Mutex::new(None);
    let t0 = Instant::now();
    let ae_span = std::sync::Mutex::new((None, None));
    let on_progress = |p: deepclust_gallery::Progress| {
        if p.stage == "scan" && p.done == p.total {
            if let Ok(mut s) = scan_done.lock() {
                s.get_or_insert(t0.elapsed().as_secs_f64());
            }
        }
        if p.stage == "autoencoder" {
            if let Ok(mut s) = ae_span.lock() {
                let now = t0.elapsed().as_secs_f64();
                if p.done == 0 {
                    s.0 = Some(now);
                } else if p.done == p.total {
                    s.1 = Some(now);
                }
            }
        }
    };
    let r = organize(&params, &on_progress, &AtomicBool::new(false)).map_err(|e| e.to_string())?;
    let total = t0.elapsed().as_secs_f64();
    let scan_s = scan_done.lock().ok().and_then(|s| *s).unwrap_or(f64::NAN);
    let n = r.photos.len();
    println!(
        "organized {n} photos on {} threads: scan (EXIF + thumbnail + embedding + thumbnail JPEG) {scan_s:.2} s = {:.0} photos/s; whole run {total:.2} s",
        rayon::current_num_threads(),
        n as f64 / scan_s
    );
    if let Ok((Some(a), Some(b))) = ae_span.lock().map(|s| *s) {
        println!(
            "autoencoder {:?} -> {}, {} epochs: {:.2} s",
            o.autoencoder.hidden,
            o.autoencoder.code,
            o.autoencoder.epochs,
            b - a
        );
    }
    if let Some(c) = &r.content {
        let t: Vec<usize> = r.photos.iter().map(|p| truth[&p.rel_path]).collect();
        let nmi = deepclust_metrics::nmi(&t, &c.labels).map_err(|e| e.to_string())?;
        println!(
            "content: k = {}, silhouette {:?}, NMI vs classes {nmi:.4}",
            c.k, c.silhouette
        );
    }
    let dups = r
        .assignments
        .iter()
        .filter(|a| a.iter().any(|x| x.kind == GroupKind::NearDuplicates))
        .count();
    println!(
        "near-duplicate members: {dups}; skipped: {}",
        r.skipped.len()
    );
    Ok(())
}
