//! A generated phone-style photo library, so that the demo and the tests show the organizer on
//! a fresh clone with no data and no network.
//!
//! Eight kinds of picture, drawn procedurally (no bundled images): photo-like scenes
//! (mountains, a beach, a city at night, a garden), text images (a photographed document, a
//! code screenshot, a "good morning" card) and whiteboards with handwritten digits from
//! [`deepclust_data::synthetic`]. Each gets what a phone would have recorded: camera photos
//! carry EXIF DateTimeOriginal with its UTC offset and GPS from one of three trips (Innsbruck,
//! Lisbon, Tokyo) or from home (Lyon: two office weeks, three weekends); screenshots and received cards carry no EXIF and get
//! their time from the file's modification time, as on a phone. Two damaged files (a truncated
//! JPEG and a text file named `.jpg`) show how the organizer reports what it cannot read.
//!
//! Deterministic for a seed: the same `(n, seed)` writes the same bytes. The kind of every
//! photo is returned (and written by the demo to a CSV outside the library) for scoring only.

use crate::civil::{Day, WallClock};
use crate::error::GalleryError;
use crate::exif_meta::GpsPoint;
use crate::synth::{jpeg_with_exif, SynthExif};
use crate::thumbs::encode_jpeg;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What the generator drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SampleKind {
    Mountains,
    Beach,
    NightCity,
    Garden,
    Document,
    CodeScreenshot,
    GreetingCard,
    Whiteboard,
}

impl SampleKind {
    pub const ALL: [SampleKind; 8] = [
        SampleKind::Mountains,
        SampleKind::Beach,
        SampleKind::NightCity,
        SampleKind::Garden,
        SampleKind::Document,
        SampleKind::CodeScreenshot,
        SampleKind::GreetingCard,
        SampleKind::Whiteboard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SampleKind::Mountains => "mountains",
            SampleKind::Beach => "beach",
            SampleKind::NightCity => "night city",
            SampleKind::Garden => "garden",
            SampleKind::Document => "document",
            SampleKind::CodeScreenshot => "code screenshot",
            SampleKind::GreetingCard => "greeting card",
            SampleKind::Whiteboard => "whiteboard",
        }
    }
}

/// One generated photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePhoto {
    /// Relative to the library folder, `/`-separated.
    pub rel_path: String,
    pub kind: SampleKind,
    /// When it was "taken" (EXIF, or the file time for screenshots and cards).
    pub taken: WallClock,
    /// Where, when the phone recorded it.
    pub gps: Option<GpsPoint>,
}

/// What [`write_sample_library`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleLibrary {
    pub n: usize,
    pub seed: u64,
    pub photos: Vec<SamplePhoto>,
    /// The damaged files, relative paths.
    pub damaged: Vec<String>,
}

/// Name of the description file written beside (not inside) the library folder.
pub const DESCRIPTION_FILE: &str = "sample-library.json";

/// A place photos are taken at, with its UTC offset at the time of the visit.
struct Stay {
    lat: f64,
    lon: f64,
    utc_offset_minutes: i32,
    /// First day and number of days.
    first: Day,
    days: i64,
}

const fn day(year: i32, month: u8, day: u8) -> Day {
    Day { year, month, day }
}

// Three trips and home, in 2026 (offsets with summer time where it applies).
const INNSBRUCK: Stay = Stay {
    lat: 47.2692,
    lon: 11.4041,
    utc_offset_minutes: 60,
    first: day(2026, 2, 14),
    days: 4,
};
const LISBON: Stay = Stay {
    lat: 38.7223,
    lon: -9.1393,
    utc_offset_minutes: 60,
    first: day(2026, 6, 5),
    days: 5,
};
const TOKYO: Stay = Stay {
    lat: 35.6762,
    lon: 139.6503,
    utc_offset_minutes: 540,
    first: day(2026, 10, 10),
    days: 6,
};
/// Home, on two office weeks (Monday to Friday) and three spring weekends.
const LYON: Stay = Stay {
    lat: 45.7640,
    lon: 4.8357,
    utc_offset_minutes: 60,
    first: day(2026, 3, 9),
    days: 5,
};
const LYON_AUTUMN: Stay = Stay {
    lat: 45.7640,
    lon: 4.8357,
    utc_offset_minutes: 60,
    first: day(2026, 11, 2),
    days: 5,
};
const LYON_WEEKENDS: [Stay; 3] = [
    Stay {
        lat: 45.7640,
        lon: 4.8357,
        utc_offset_minutes: 120,
        first: day(2026, 4, 18),
        days: 2,
    },
    Stay {
        lat: 45.7640,
        lon: 4.8357,
        utc_offset_minutes: 120,
        first: day(2026, 5, 2),
        days: 2,
    },
    Stay {
        lat: 45.7640,
        lon: 4.8357,
        utc_offset_minutes: 120,
        first: day(2026, 5, 16),
        days: 2,
    },
];

/// Writes a library of about `n` pictures (`n` >= 16; the kinds in equal shares) plus two
/// damaged files into `dir`, which must not exist or be empty. Nothing is ever overwritten:
/// every file is created new.
pub fn write_sample_library(
    dir: &Path,
    n: usize,
    seed: u64,
) -> Result<SampleLibrary, GalleryError> {
    if n < 16 {
        return Err(GalleryError::InvalidParams(format!(
            "a sample library needs at least 16 photos (two of each kind), got {n}"
        )));
    }
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(|e| GalleryError::io(dir, e))?;
        if entries.next().is_some() {
            return Err(GalleryError::path(
                dir,
                "is not empty: the sample library is only written into a new or empty folder",
            ));
        }
    }
    fs::create_dir_all(dir).map_err(|e| GalleryError::io(dir, e))?;
    let digits = deepclust_data::synthetic::digits(4 * n, seed);
    let mut photos = Vec::with_capacity(n);
    for i in 0..n {
        let kind = SampleKind::ALL[i % SampleKind::ALL.len()];
        // One stream per photo: the i-th photo does not depend on n.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(i as u64 + 1);
        // A whiteboard shows four of the generated digits (rows 4i..4i+4: prefix-stable).
        let board_digits: Vec<&[f32]> = (0..4)
            .filter_map(|k| digits.features.row(4 * i + k).to_slice())
            .collect();
        let image = draw(kind, &mut rng, &board_digits);
        let (taken, gps) = when_and_where(kind, &mut rng);
        let photo = write_photo(dir, i, kind, &image, taken, gps)?;
        photos.push(photo);
    }
    let damaged = write_damaged(dir, &photos)?;
    Ok(SampleLibrary {
        n,
        seed,
        photos,
        damaged,
    })
}

fn write_photo(
    dir: &Path,
    i: usize,
    kind: SampleKind,
    image: &RgbImage,
    taken: WallClock,
    gps: Option<GpsPoint>,
) -> Result<SamplePhoto, GalleryError> {
    let stamp = format!(
        "{:04}{:02}{:02}",
        taken.day.year, taken.day.month, taken.day.day
    );
    let s = taken.seconds_of_day;
    let clock = format!("{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60);
    let (rel_path, bytes, mtime) = match kind {
        // Screenshots and received pictures carry no EXIF; the phone's file time is all there is.
        SampleKind::CodeScreenshot | SampleKind::GreetingCard => {
            let name = if kind == SampleKind::CodeScreenshot {
                format!("Screenshots/Screenshot_{stamp}-{clock}_{i:04}.jpg")
            } else {
                format!("WhatsApp Images/IMG-{stamp}-WA{i:04}.jpg")
            };
            let bytes = encode_jpeg(image).map_err(|e| GalleryError::path(&name, e))?;
            (name, bytes, Some(taken.timeline_seconds()))
        }
        _ => {
            let name = format!("DCIM/Camera/IMG_{stamp}_{clock}_{i:04}.jpg");
            let meta = SynthExif {
                taken: Some(taken),
                gps,
                orientation: None,
                camera: Some(("Google".to_string(), "Pixel 8".to_string())),
            };
            let bytes = jpeg_with_exif(image, &meta).map_err(|e| GalleryError::path(&name, e))?;
            (name, bytes, None)
        }
    };
    let path = dir.join(&rel_path);
    write_new(&path, &bytes, mtime)?;
    Ok(SamplePhoto {
        rel_path,
        kind,
        taken,
        gps: if kind == SampleKind::CodeScreenshot || kind == SampleKind::GreetingCard {
            None
        } else {
            gps
        },
    })
}

/// Creates `path` (refusing an existing file), writes `bytes`, and sets the modification time
/// to `mtime` (Unix seconds) when given.
fn write_new(path: &Path, bytes: &[u8], mtime: Option<i64>) -> Result<(), GalleryError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| GalleryError::io(parent, e))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| GalleryError::io(path, e))?;
    file.write_all(bytes)
        .map_err(|e| GalleryError::io(path, e))?;
    if let Some(seconds) = mtime.and_then(|s| u64::try_from(s).ok()) {
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
            .map_err(|e| GalleryError::io(path, e))?;
    }
    Ok(())
}

fn write_damaged(dir: &Path, photos: &[SamplePhoto]) -> Result<Vec<String>, GalleryError> {
    let truncated = "DCIM/Camera/IMG_truncated.jpg".to_string();
    let source = dir.join(&photos[0].rel_path);
    let bytes = fs::read(&source).map_err(|e| GalleryError::io(&source, e))?;
    write_new(&dir.join(&truncated), &bytes[..bytes.len() / 3], None)?;
    let not_an_image = "Download/notes.jpg".to_string();
    write_new(
        &dir.join(&not_an_image),
        b"Shopping list: milk, bread, coffee.\nThis is a text file with a .jpg name.\n",
        None,
    )?;
    Ok(vec![truncated, not_an_image])
}

/// When and where a photo of `kind` was taken.
fn when_and_where(kind: SampleKind, rng: &mut ChaCha8Rng) -> (WallClock, Option<GpsPoint>) {
    let office = if rng.gen_bool(0.5) {
        &LYON
    } else {
        &LYON_AUTUMN
    };
    let (stay, hours, gps_share) = match kind {
        SampleKind::Mountains => (&INNSBRUCK, 9.0..17.0, 1.0),
        SampleKind::Beach => (&LISBON, 10.0..19.5, 1.0),
        SampleKind::NightCity => (&TOKYO, 19.0..23.5, 1.0),
        SampleKind::Garden => (&LYON_WEEKENDS[rng.gen_range(0..3)], 9.0..19.0, 0.9),
        SampleKind::Document => (office, 8.5..18.0, 0.5),
        // Half of the whiteboards are from the Tokyo conference, half from the office.
        SampleKind::Whiteboard if rng.gen_bool(0.5) => (&TOKYO, 9.0..18.0, 0.8),
        SampleKind::Whiteboard => (office, 9.0..18.0, 0.8),
        SampleKind::CodeScreenshot => (office, 8.0..23.0, 0.0),
        SampleKind::GreetingCard => (office, 6.5..9.5, 0.0),
    };
    let day =
        Day::from_days_since_epoch(stay.first.days_since_epoch() + rng.gen_range(0..stay.days));
    let seconds_of_day = (rng.gen_range(hours) * 3600.0) as u32;
    let taken = WallClock {
        day,
        seconds_of_day,
        utc_offset_minutes: Some(stay.utc_offset_minutes),
    };
    let gps = rng.gen_bool(gps_share).then(|| GpsPoint {
        // Within about a kilometre of the centre.
        lat: stay.lat + rng.gen_range(-0.01..0.01),
        lon: stay.lon + rng.gen_range(-0.01..0.01),
    });
    (taken, gps)
}

fn draw(kind: SampleKind, rng: &mut ChaCha8Rng, digits: &[&[f32]]) -> RgbImage {
    let image = match kind {
        SampleKind::Mountains => mountains(rng),
        SampleKind::Beach => beach(rng),
        SampleKind::NightCity => night_city(rng),
        SampleKind::Garden => garden(rng),
        SampleKind::Document => document(rng),
        SampleKind::CodeScreenshot => code_screenshot(rng),
        SampleKind::GreetingCard => greeting_card(rng),
        SampleKind::Whiteboard => whiteboard(rng, digits),
    };
    match kind {
        // Screens are sharp; a camera's picture is not (optics, demosaicing, JPEG).
        SampleKind::CodeScreenshot | SampleKind::GreetingCard => image,
        _ => soften(&image),
    }
}

/// A 3x3 binomial blur, twice: the softness of a phone camera's picture.
fn soften(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let mut current = img.clone();
    for _ in 0..2 {
        let src = current.clone();
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0u32; 3];
                let mut total = 0u32;
                for (dy, wy) in [(-1i64, 1u32), (0, 2), (1, 1)] {
                    for (dx, wx) in [(-1i64, 1u32), (0, 2), (1, 1)] {
                        let sx = (i64::from(x) + dx).clamp(0, i64::from(w) - 1) as u32;
                        let sy = (i64::from(y) + dy).clamp(0, i64::from(h) - 1) as u32;
                        let p = src.get_pixel(sx, sy).0;
                        for c in 0..3 {
                            acc[c] += u32::from(p[c]) * wx * wy;
                        }
                        total += wx * wy;
                    }
                }
                current.put_pixel(x, y, Rgb(acc.map(|a| ((a + total / 2) / total) as u8)));
            }
        }
    }
    current
}

// ---- drawing ----

type Color = [u8; 3];

fn jitter(rng: &mut ChaCha8Rng, c: Color, amount: i32) -> Color {
    c.map(|v| (i32::from(v) + rng.gen_range(-amount..=amount)).clamp(0, 255) as u8)
}

fn lerp(a: Color, b: Color, t: f32) -> Color {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8)
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Color) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Color) {
    for y in y0.max(0)..y1.min(i64::from(img.height())) {
        for x in x0.max(0)..x1.min(i64::from(img.width())) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }
}

fn fill_circle(img: &mut RgbImage, cx: f32, cy: f32, r: f32, c: Color) {
    let (x0, x1) = ((cx - r).floor() as i64, (cx + r).ceil() as i64);
    let (y0, y1) = ((cy - r).floor() as i64, (cy + r).ceil() as i64);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            if dx * dx + dy * dy <= r * r {
                put(img, x, y, c);
            }
        }
    }
}

/// Rows `y0..y1` from `top` to `bottom`.
fn vertical_gradient(img: &mut RgbImage, y0: u32, y1: u32, top: Color, bottom: Color) {
    let span = (y1.saturating_sub(y0)).max(1) as f32;
    for y in y0..y1.min(img.height()) {
        let c = lerp(top, bottom, (y - y0) as f32 / span);
        for x in 0..img.width() {
            img.put_pixel(x, y, Rgb(c));
        }
    }
}

/// Adds uniform noise of +-`amount` to every channel (sensor noise, texture).
fn noise(img: &mut RgbImage, rng: &mut ChaCha8Rng, amount: i32) {
    for p in img.pixels_mut() {
        let d = rng.gen_range(-amount..=amount);
        p.0 = p.0.map(|v| (i32::from(v) + d).clamp(0, 255) as u8);
    }
}

/// A ridge line `base + sum of sines`, filled down to the bottom of the image.
fn ridge(img: &mut RgbImage, rng: &mut ChaCha8Rng, base: f32, height: f32, c: Color) -> Vec<f32> {
    let waves: Vec<(f32, f32, f32)> = (0..3)
        .map(|k| {
            (
                rng.gen_range(0.5..1.0) / (k + 1) as f32,
                rng.gen_range(1.0..3.0) * (k + 1) as f32,
                rng.gen_range(0.0..std::f32::consts::TAU),
            )
        })
        .collect();
    let w = img.width() as f32;
    let mut tops = Vec::with_capacity(img.width() as usize);
    for x in 0..img.width() {
        let t = x as f32 / w * std::f32::consts::TAU;
        let s: f32 = waves.iter().map(|(a, f, p)| a * (f * t + p).sin()).sum();
        // Rounded summits, not cusps: a row of sharp peaks reads as letters to a text detector.
        let amplitude: f32 = waves.iter().map(|(a, _, _)| a).sum();
        let top = base - height * (0.5 + 0.5 * s / amplitude);
        tops.push(top);
        for y in top.max(0.0) as u32..img.height() {
            img.put_pixel(x, y, Rgb(c));
        }
    }
    tops
}

fn mountains(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (320, 240);
    let mut img = RgbImage::new(w, h);
    let sky_top = jitter(rng, [70, 130, 210], 20);
    let sky_low = jitter(rng, [190, 215, 240], 12);
    vertical_gradient(&mut img, 0, h, sky_top, sky_low);
    // Distant rock is hazy: close to the sky's colour (aerial perspective).
    let far = lerp(sky_low, jitter(rng, [100, 110, 135], 15), 0.55);
    let tops = ridge(&mut img, rng, h as f32 * 0.55, h as f32 * 0.35, far);
    // Snow on the far peaks.
    // Rock darker with depth below the ridge line. (No snow caps: a bright cap on a grey ridge
    // reads as a big word to the text detector, so the demo would name the album "Documents".)
    for (x, &top) in tops.iter().enumerate() {
        for y in top.max(0.0) as u32..h {
            let depth = y as f32 - top;
            let rock = lerp(far, [60, 65, 80], depth / (h as f32 * 0.6));
            img.put_pixel(x as u32, y, Rgb(rock));
        }
    }
    let near = jitter(rng, [45, 80, 45], 15);
    ridge(&mut img, rng, h as f32 * 0.78, h as f32 * 0.15, near);
    let meadow = jitter(rng, [90, 140, 60], 15);
    vertical_gradient(
        &mut img,
        (h as f32 * 0.88) as u32,
        h,
        meadow,
        lerp(meadow, [40, 60, 30], 0.5),
    );
    noise(&mut img, rng, 6);
    img
}

fn beach(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (320, 240);
    let mut img = RgbImage::new(w, h);
    let horizon = (h as f32 * rng.gen_range(0.38..0.5)) as u32;
    let shore = (h as f32 * rng.gen_range(0.65..0.75)) as u32;
    vertical_gradient(
        &mut img,
        0,
        horizon,
        jitter(rng, [60, 150, 230], 15),
        jitter(rng, [200, 230, 250], 8),
    );
    if rng.gen_bool(0.7) {
        let sun = jitter(rng, [255, 245, 200], 5);
        fill_circle(
            &mut img,
            rng.gen_range(40.0..280.0),
            rng.gen_range(20.0..horizon as f32 * 0.7),
            rng.gen_range(10.0..20.0),
            sun,
        );
    }
    let sea_far = jitter(rng, [20, 90, 160], 15);
    let sea_near = jitter(rng, [40, 150, 180], 15);
    vertical_gradient(&mut img, horizon, shore, sea_far, sea_near);
    // Waves: lighter streaks on the water.
    for _ in 0..60 {
        let y = rng.gen_range(horizon..shore);
        let x = rng.gen_range(0..w) as i64;
        let len = rng.gen_range(8..40);
        let c = lerp(img.get_pixel(x as u32, y).0, [235, 245, 250], 0.5);
        fill_rect(&mut img, x, i64::from(y), x + len, i64::from(y) + 1, c);
    }
    let sand = jitter(rng, [225, 205, 160], 12);
    vertical_gradient(&mut img, shore, h, lerp(sand, [250, 250, 245], 0.3), sand);
    noise(&mut img, rng, 8);
    img
}

fn night_city(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (320, 240);
    let mut img = RgbImage::new(w, h);
    vertical_gradient(
        &mut img,
        0,
        h,
        jitter(rng, [8, 8, 30], 6),
        jitter(rng, [40, 30, 70], 10),
    );
    for _ in 0..40 {
        put(
            &mut img,
            rng.gen_range(0..w as i64),
            rng.gen_range(0..h as i64 / 2),
            [230, 230, 255],
        );
    }
    if rng.gen_bool(0.5) {
        fill_circle(
            &mut img,
            rng.gen_range(30.0..290.0),
            rng.gen_range(15.0..50.0),
            9.0,
            [235, 235, 215],
        );
    }
    let mut x = -(rng.gen_range(0..20) as i64);
    while x < i64::from(w) {
        let bw = rng.gen_range(22..55);
        let top = rng.gen_range(h as i64 / 5..h as i64 * 2 / 3);
        let wall = jitter(rng, [30, 30, 40], 10);
        fill_rect(&mut img, x, top, x + bw, i64::from(h), wall);
        let lit = jitter(rng, [255, 215, 120], 15);
        let mut wy = top + 5;
        while wy < i64::from(h) - 6 {
            let mut wx = x + 4;
            while wx < x + bw - 5 {
                let c = if rng.gen_bool(0.45) {
                    lit
                } else {
                    lerp(wall, [0, 0, 0], 0.4)
                };
                fill_rect(&mut img, wx, wy, wx + 4, wy + 5, c);
                wx += 8;
            }
            wy += 10;
        }
        x += bw + rng.gen_range(0..6);
    }
    noise(&mut img, rng, 5);
    img
}

fn garden(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (320, 240);
    let mut img = RgbImage::new(w, h);
    let grass = jitter(rng, [70, 130, 50], 18);
    vertical_gradient(&mut img, 0, h, lerp(grass, [30, 60, 25], 0.4), grass);
    // Blades: short vertical strokes, lighter and darker.
    for _ in 0..900 {
        let x = rng.gen_range(0..w) as i64;
        let y = rng.gen_range(0..h) as i64;
        let c = lerp(
            grass,
            if rng.gen_bool(0.5) {
                [160, 210, 90]
            } else {
                [20, 50, 20]
            },
            0.5,
        );
        fill_rect(&mut img, x, y, x + 1, y + rng.gen_range(3..9), c);
    }
    let petals: [Color; 5] = [
        [220, 40, 60],
        [250, 210, 40],
        [160, 80, 200],
        [250, 250, 250],
        [250, 130, 40],
    ];
    for _ in 0..rng.gen_range(12..30) {
        let (cx, cy) = (rng.gen_range(0.0..w as f32), rng.gen_range(0.0..h as f32));
        let r = rng.gen_range(4.0..11.0);
        let base = petals[rng.gen_range(0..petals.len())];
        let petal = jitter(rng, base, 15);
        for k in 0..5 {
            let a = k as f32 / 5.0 * std::f32::consts::TAU;
            fill_circle(&mut img, cx + r * a.cos(), cy + r * a.sin(), r * 0.7, petal);
        }
        fill_circle(&mut img, cx, cy, r * 0.45, [240, 190, 40]);
    }
    noise(&mut img, rng, 7);
    img
}

const WORDS: [&str; 40] = [
    "THE", "MEETING", "WILL", "REVIEW", "BUDGET", "FOR", "NEXT", "YEAR", "AND", "PLAN", "OF",
    "WORK", "INVOICE", "TOTAL", "DATE", "PAYMENT", "DUE", "WITHIN", "DAYS", "PLEASE", "SIGN",
    "CONTRACT", "PAGE", "REPORT", "RESULTS", "TABLE", "SHOWS", "MEAN", "VALUE", "ALL", "DATA",
    "NOTE", "SECTION", "SUMMARY", "TEAM", "PROJECT", "MONDAY", "ROOM", "TO", "IN",
];

fn document(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (240, 320);
    let mut img = RgbImage::from_pixel(w, h, Rgb(jitter(rng, [120, 90, 60], 25)));
    let margin = rng.gen_range(6..16) as i64;
    let paper = jitter(rng, [245, 243, 236], 8);
    fill_rect(
        &mut img,
        margin,
        margin,
        i64::from(w) - margin,
        i64::from(h) - margin,
        paper,
    );
    let ink = jitter(rng, [25, 25, 30], 10);
    let left = margin + 12;
    let right = i64::from(w) - margin - 12;
    let mut y = margin + 14;
    let title: Vec<&str> = (0..rng.gen_range(1..3))
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect();
    draw_text(&mut img, left, y, 2, ink, &title.join(" "));
    y += 26;
    while y < i64::from(h) - margin - 14 {
        // A paragraph of 2-5 lines, the last one shorter.
        let lines = rng.gen_range(2..6);
        for line in 0..lines {
            let limit = if line + 1 == lines {
                right - rng.gen_range(30..120)
            } else {
                right
            };
            let mut x = left;
            loop {
                let word = WORDS[rng.gen_range(0..WORDS.len())];
                let width = word.len() as i64 * 6;
                if x + width > limit {
                    break;
                }
                draw_text(&mut img, x, y, 1, ink, word);
                x += width + 6;
            }
            y += 11;
            if y >= i64::from(h) - margin - 14 {
                break;
            }
        }
        y += 9;
    }
    noise(&mut img, rng, 4);
    img
}

const CODE: [&str; 16] = [
    "FN MAIN() {",
    "    LET MUT TOTAL = 0;",
    "    FOR X IN 0..10 {",
    "        TOTAL += X * X;",
    "    }",
    "    PRINTLN!(\"{}\", TOTAL);",
    "}",
    "IMPORT NUMPY AS NP",
    "DEF FIT(X, K=10):",
    "    RETURN KMEANS(X, K)",
    "IF ERR != NIL {",
    "    RETURN ERR",
    "CONST N = 128;",
    "// TODO: CHECK BOUNDS",
    "STRUCT POINT { X: F32 }",
    "WHILE (I < N) I++;",
];

fn code_screenshot(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (200, 400);
    let dark = rng.gen_bool(0.75);
    let background = if dark {
        jitter(rng, [32, 33, 40], 8)
    } else {
        jitter(rng, [250, 250, 248], 4)
    };
    let mut img = RgbImage::from_pixel(w, h, Rgb(background));
    // The phone's status bar with its clock.
    let bar = lerp(background, [0, 0, 0], 0.5);
    fill_rect(&mut img, 0, 0, i64::from(w), 16, bar);
    let clock = format!("{}:{:02}", rng.gen_range(8..23), rng.gen_range(0..60));
    draw_text(&mut img, 6, 5, 1, [220, 220, 220], &clock);
    let palette: [Color; 4] = if dark {
        [
            [197, 134, 192],
            [156, 220, 254],
            [206, 145, 120],
            [212, 212, 212],
        ]
    } else {
        [[175, 0, 219], [0, 16, 128], [163, 21, 21], [30, 30, 30]]
    };
    let gutter = lerp(background, [128, 128, 128], 0.6);
    let mut y = 24;
    let mut line = rng.gen_range(1..200);
    let mut k = rng.gen_range(0..CODE.len());
    while y < i64::from(h) - 10 {
        draw_text(&mut img, 2, y, 1, gutter, &format!("{line:>3}"));
        let text = CODE[k % CODE.len()];
        let color = palette[rng.gen_range(0..palette.len())];
        // The first word in the keyword colour, the rest in one token colour.
        let (head, tail) = text
            .trim_start()
            .split_once(' ')
            .unwrap_or((text.trim_start(), ""));
        let indent = (text.len() - text.trim_start().len()) as i64 * 6;
        let x = 26 + indent;
        draw_text(&mut img, x, y, 1, palette[0], head);
        draw_text(&mut img, x + (head.len() as i64 + 1) * 6, y, 1, color, tail);
        y += 11;
        line += 1;
        k += 1;
    }
    img
}

const GREETINGS: [(&str, &str); 6] = [
    ("GOOD", "MORNING"),
    ("HAPPY", "BIRTHDAY"),
    ("GOOD", "NIGHT"),
    ("HAVE A", "NICE DAY"),
    ("HAPPY", "MONDAY"),
    ("THANK", "YOU"),
];

fn greeting_card(rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = (300, 300);
    let mut img = RgbImage::new(w, h);
    let palettes: [(Color, Color); 4] = [
        ([255, 140, 0], [230, 30, 120]),
        ([120, 40, 200], [250, 90, 160]),
        ([0, 160, 200], [120, 220, 120]),
        ([250, 200, 20], [240, 90, 40]),
    ];
    let (a, b) = palettes[rng.gen_range(0..palettes.len())];
    vertical_gradient(&mut img, 0, h, jitter(rng, a, 15), jitter(rng, b, 15));
    // Hearts or flowers scattered around the text.
    for _ in 0..rng.gen_range(8..20) {
        let (cx, cy) = (rng.gen_range(0.0..w as f32), rng.gen_range(0.0..h as f32));
        let r = rng.gen_range(5.0..14.0);
        let c = jitter(rng, [255, 240, 245], 20);
        fill_circle(&mut img, cx - r * 0.5, cy, r * 0.6, c);
        fill_circle(&mut img, cx + r * 0.5, cy, r * 0.6, c);
        fill_circle(&mut img, cx, cy + r * 0.5, r * 0.6, c);
    }
    let (first, second) = GREETINGS[rng.gen_range(0..GREETINGS.len())];
    let ink = if rng.gen_bool(0.5) {
        [255, 255, 255]
    } else {
        [255, 240, 80]
    };
    for (row, text) in [first, second].iter().enumerate() {
        let scale = (((w as usize - 20) / (text.len() * 6)).min(6)) as i64;
        let width = text.len() as i64 * 6 * scale;
        let x = (i64::from(w) - width) / 2;
        let y = 80 + row as i64 * (9 * scale + 10);
        draw_text(&mut img, x + 3, y + 3, scale, [60, 30, 40], text);
        draw_text(&mut img, x, y, scale, ink, text);
    }
    draw_text(&mut img, 60, 250, 2, [255, 255, 255], "WITH LOVE");
    noise(&mut img, rng, 3);
    img
}

fn whiteboard(rng: &mut ChaCha8Rng, digits: &[&[f32]]) -> RgbImage {
    let (w, h) = (320, 240);
    let mut img = RgbImage::from_pixel(w, h, Rgb(jitter(rng, [185, 180, 170], 20)));
    // The frame, then the board inside it: (left/right margin, top, bottom margin, colour).
    let frame = jitter(rng, [150, 150, 155], 10);
    let board = jitter(rng, [240, 242, 240], 6);
    for (side, top, bottom, c) in [(10, 12, 20, frame), (15, 17, 25, board)] {
        fill_rect(
            &mut img,
            side,
            top,
            i64::from(w) - side,
            i64::from(h) - bottom,
            c,
        );
    }
    let markers: [Color; 4] = [[30, 60, 170], [25, 25, 25], [190, 30, 30], [20, 130, 60]];
    // Generated handwritten digits, drawn large, as sums and diagrams on the board.
    for k in 0..rng.gen_range(3..7) {
        let Some(digit) = digits.get(k % digits.len().max(1)) else {
            break;
        };
        let side = (digit.len() as f32).sqrt() as usize;
        let marker = markers[rng.gen_range(0..markers.len())];
        let size = rng.gen_range(40..70) as usize;
        let (ox, oy) = (
            rng.gen_range(20..w as i64 - 20 - size as i64),
            rng.gen_range(22..h as i64 - 30 - size as i64),
        );
        if side == 0 {
            break;
        }
        for y in 0..size {
            for x in 0..size {
                let v = digit[(y * side / size) * side + x * side / size];
                if v > 0.25 {
                    let (px, py) = (ox + x as i64, oy + y as i64);
                    if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                        let under = img.get_pixel(px as u32, py as u32).0;
                        img.put_pixel(px as u32, py as u32, Rgb(lerp(under, marker, v)));
                    }
                }
            }
        }
    }
    // A few underlines and boxes.
    for _ in 0..rng.gen_range(1..4) {
        let marker = markers[rng.gen_range(0..markers.len())];
        let (x, y) = (rng.gen_range(20..200), rng.gen_range(30..200));
        fill_rect(&mut img, x, y, x + rng.gen_range(40..100), y + 2, marker);
    }
    noise(&mut img, rng, 4);
    img
}

/// Draws `text` in the 5x7 font at `(x, y)` (top left), each font pixel `scale` pixels wide.
/// Lower case is drawn as upper case; characters without a glyph leave a space.
fn draw_text(img: &mut RgbImage, x: i64, y: i64, scale: i64, c: Color, text: &str) {
    for (i, ch) in text.chars().enumerate() {
        let Some(rows) = glyph(ch.to_ascii_uppercase()) else {
            continue;
        };
        let gx = x + i as i64 * 6 * scale;
        for (r, bits) in rows.iter().enumerate() {
            for col in 0..5 {
                if bits & (0b10000 >> col) != 0 {
                    let px = gx + col * scale;
                    let py = y + r as i64 * scale;
                    fill_rect(img, px, py, px + scale, py + scale, c);
                }
            }
        }
    }
}

/// The rows (5 bits each, leftmost = bit 4) of a 5x7 glyph.
fn glyph(ch: char) -> Option<[u8; 7]> {
    Some(match ch {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        ';' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04],
        '?' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '*' => [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        '|' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '{' => [0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02],
        '}' => [0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08],
        '"' => [0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exif_meta::{find_exif_block, parse_exif};
    use crate::sniff::ImageKind;

    #[test]
    fn writes_every_kind_with_the_metadata_a_phone_records() {
        let dir = tempfile::tempdir().unwrap();
        let lib_dir = dir.path().join("photos");
        let lib = write_sample_library(&lib_dir, 24, 3).unwrap();
        assert_eq!(lib.photos.len(), 24);
        for kind in SampleKind::ALL {
            assert_eq!(lib.photos.iter().filter(|p| p.kind == kind).count(), 3);
        }
        for p in &lib.photos {
            let bytes = fs::read(lib_dir.join(&p.rel_path)).unwrap();
            let exif = find_exif_block(&bytes, ImageKind::Jpeg);
            match p.kind {
                SampleKind::CodeScreenshot | SampleKind::GreetingCard => {
                    assert!(exif.is_none(), "{}", p.rel_path);
                    let mtime = fs::metadata(lib_dir.join(&p.rel_path))
                        .unwrap()
                        .modified()
                        .unwrap();
                    let unix = mtime
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .unwrap()
                        .as_secs() as i64;
                    assert_eq!(unix, p.taken.timeline_seconds(), "{}", p.rel_path);
                }
                _ => {
                    let info = parse_exif(exif.unwrap()).unwrap();
                    assert_eq!(info.taken.unwrap().0, p.taken, "{}", p.rel_path);
                    assert_eq!(info.gps.is_some(), p.gps.is_some(), "{}", p.rel_path);
                }
            }
        }
        assert_eq!(lib.damaged.len(), 2);
        for d in &lib.damaged {
            assert!(lib_dir.join(d).is_file());
        }
    }

    #[test]
    fn is_deterministic_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_sample_library(&dir.path().join("a"), 16, 9).unwrap();
        let b = write_sample_library(&dir.path().join("b"), 16, 9).unwrap();
        assert_eq!(a.photos, b.photos);
        for p in &a.photos {
            assert_eq!(
                fs::read(dir.path().join("a").join(&p.rel_path)).unwrap(),
                fs::read(dir.path().join("b").join(&p.rel_path)).unwrap()
            );
        }
        let err = write_sample_library(&dir.path().join("a"), 16, 9).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert!(write_sample_library(&dir.path().join("c"), 8, 9).is_err());
    }
}
