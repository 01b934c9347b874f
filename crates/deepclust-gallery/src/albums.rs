//! Content albums from model signals: the rows clustered (embedding plus text, camera, shape
//! and face signals, each block weighted by design) and names a person recognises, derived
//! from what dominates each album.

use crate::scan::PhotoRecord;
use deepclust_embed::PhotoSignals;

/// Weights of the signal blocks next to the image embedding (weight 1): each block's total
/// spread is scaled to its weight before clustering (see `content::cluster_embeddings_in_blocks`).
/// Chosen on ../shared/data/gallery-dev with equal, round weights (docs/BENCHMARKS.md has the
/// ablation): how much text and in how many boxes; where the text is (4x4 grid); whether a
/// camera took the picture (EXIF make/model: photos vs screenshots and downloaded images);
/// the picture's shape; faces.
pub const TEXT_WEIGHT: f32 = 0.5;
pub const TEXT_LAYOUT_WEIGHT: f32 = 0.5;
pub const CAMERA_WEIGHT: f32 = 0.5;
pub const SHAPE_WEIGHT: f32 = 0.3;
pub const FACE_WEIGHT: f32 = 0.3;

/// Faces below this detector score are not counted: on gallery-dev, BlazeFace's 0.5-0.75
/// detections were nearly all false (textures in scenery, whiteboards, memes).
pub const FACE_SCORE: f32 = 0.75;

/// The faces that count (score at least [`FACE_SCORE`], at least [`MIN_FACE`] of the
/// picture): their indices and shares of the picture.
pub fn counted_faces(f: &deepclust_embed::FaceSignals) -> Vec<(usize, f32)> {
    f.faces
        .iter()
        .enumerate()
        .filter(|(_, b)| b.score >= FACE_SCORE)
        .map(|(i, b)| (i, f.share(b)))
        .filter(|&(_, s)| s >= MIN_FACE)
        .collect()
}

/// Shares of the picture of the faces that count, largest first.
fn face_shares(f: &deepclust_embed::FaceSignals) -> Vec<f32> {
    let mut shares: Vec<f32> = counted_faces(f).into_iter().map(|(_, s)| s).collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    shares
}

fn signals(p: &PhotoRecord) -> Option<&PhotoSignals> {
    p.content.as_ref()?.signals.as_ref()
}

/// Rows to cluster and their block layout: `(length, weight)` pairs covering each row.
pub type SignalRows = (Vec<Vec<f32>>, Vec<(usize, f32)>);

/// Clustering rows and their block layout for photos that all carry model signals; `None`
/// when any photo has none (the caller then clusters the plain embeddings).
pub fn signal_rows(photos: &[PhotoRecord], faces_weight: f32) -> Option<SignalRows> {
    let sig: Vec<&PhotoSignals> = photos.iter().map(signals).collect::<Option<_>>()?;
    let dim = sig.first()?.embedding.len();
    if dim == 0 || sig.iter().any(|s| s.embedding.len() != dim) {
        return None;
    }
    let with_text = sig.iter().all(|s| s.text.is_some());
    let with_faces = faces_weight > 0.0 && sig.iter().all(|s| s.faces.is_some());
    let mut blocks = vec![(dim, 1.0)];
    if with_text {
        let w = TEXT_WEIGHT / 3f32.sqrt();
        blocks.extend([(1, w), (1, w), (1, w), (16, TEXT_LAYOUT_WEIGHT)]);
    }
    blocks.extend([(1, CAMERA_WEIGHT), (1, SHAPE_WEIGHT)]);
    if with_faces {
        let w = faces_weight / 2f32.sqrt();
        blocks.extend([(1, w), (1, w)]);
    }
    let rows = photos
        .iter()
        .zip(&sig)
        .map(|(p, s)| {
            let norm = s
                .embedding
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt()
                .max(1e-12);
            let mut row: Vec<f32> = s.embedding.iter().map(|v| v / norm).collect();
            if let Some(t) = s.text.as_ref().filter(|_| with_text) {
                row.push(t.area.max(0.0).sqrt());
                row.push((t.boxes as f32).ln_1p());
                row.push(t.box_cover.max(0.0).sqrt());
                let mut grid: Vec<f32> = t.grid.iter().map(|g| g.max(0.0).sqrt()).collect();
                grid.resize(16, 0.0);
                row.extend(grid);
            }
            row.push(f32::from(u8::from(p.camera.is_some())));
            let (w, h) = (p.thumb_width.max(1) as f32, p.thumb_height.max(1) as f32);
            row.push((w / h).ln());
            if let Some(f) = s.faces.as_ref().filter(|_| with_faces) {
                let shares = face_shares(f);
                row.push(shares.len().min(3) as f32 / 3.0);
                row.push(shares.first().copied().unwrap_or(0.0).sqrt());
            }
            row
        })
        .collect();
    Some((rows, blocks))
}

/// What one photo shows, as far as the signals tell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct PhotoTraits {
    /// Some text (a caption, a sign).
    text: bool,
    /// Many separate text lines: a screen or a page.
    lines: bool,
    camera: bool,
    face: bool,
    selfie: bool,
    group: bool,
}

/// Text covering at least this share of the picture counts as text on it.
pub const TEXT_AREA: f32 = 0.01;
/// A screen or a page has at least this many separate text boxes.
pub const MANY_LINES: u32 = 10;
/// A face box covering at least this share of the picture is a selfie or portrait.
pub const SELFIE_FACE: f32 = 0.08;
/// A face smaller than this share of the picture is not counted (background people).
pub const MIN_FACE: f32 = 0.002;

fn traits(p: &PhotoRecord) -> PhotoTraits {
    let Some(s) = signals(p) else {
        return PhotoTraits::default();
    };
    let mut t = PhotoTraits {
        camera: p.camera.is_some(),
        ..PhotoTraits::default()
    };
    if let Some(x) = &s.text {
        t.text = x.area >= TEXT_AREA || x.boxes >= 2;
        t.lines = x.boxes >= MANY_LINES;
    }
    if let Some(f) = &s.faces {
        let shares = face_shares(f);
        t.face = !shares.is_empty();
        t.group = shares.len() >= 3;
        t.selfie = shares.len() <= 2 && shares.iter().any(|&s| s >= SELFIE_FACE);
    }
    t
}

/// An album's name from what dominates its members, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumName {
    /// "Screenshots & documents", "Selfies & portraits", or the leading tags ("seashore,
    /// lakeside").
    pub name: String,
    /// The leading ImageNet tags with their mean probability over the members.
    pub tags: Vec<(String, f32)>,
    /// The shares behind the name, in words.
    pub why: String,
    /// "portrait" or "landscape" when at least 70% of the members are, else `None`: tells
    /// apart albums of the same kind (phone screenshots from computer ones).
    pub orientation: Option<&'static str>,
}

/// Share of a photo's text in the top and bottom quarters: captions of memes sit there,
/// quotes and cards centre theirs.
fn edge_text_share(p: &PhotoRecord) -> Option<f32> {
    let t = signals(p)?.text.as_ref()?;
    if t.grid.len() != 16 {
        return None;
    }
    let row = |r: usize| t.grid[r * 4..r * 4 + 4].iter().sum::<f32>();
    let total: f32 = (0..4).map(row).sum();
    (total > 0.0).then(|| (row(0) + row(3)) / total)
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// Median text area at or above which camera photos with text are pages or boards.
pub const DOCUMENT_TEXT_AREA: f32 = 0.02;
/// ... or with at least this many separate text boxes (a sign or a label has one or two).
pub const DOCUMENT_LINES: u32 = 4;
/// Median share of the text at the top and bottom edges at or above which text on pictures
/// is captions (memes).
pub const CAPTION_EDGE_SHARE: f32 = 0.6;

/// Shares of members with a trait at or above which it names the album.
const DOMINANT: f32 = 0.5;

/// Names an album from its members' signals; `class_name` turns ImageNet indices into words.
pub fn album_name(
    members: &[&PhotoRecord],
    class_name: &dyn Fn(u16) -> Option<String>,
) -> Option<AlbumName> {
    let n = members.len();
    if n == 0 || members.iter().any(|p| signals(p).is_none()) {
        return None;
    }
    let all: Vec<PhotoTraits> = members.iter().map(|p| traits(p)).collect();
    let share = |f: fn(&PhotoTraits) -> bool| all.iter().filter(|t| f(t)).count() as f32 / n as f32;
    let (text, lines, camera) = (share(|t| t.text), share(|t| t.lines), share(|t| t.camera));
    let (face, selfie, group) = (share(|t| t.face), share(|t| t.selfie), share(|t| t.group));
    let mut tag_sum: std::collections::HashMap<u16, f32> = std::collections::HashMap::new();
    for p in members {
        for t in signals(p).map(|s| s.tags.as_slice()).unwrap_or(&[]) {
            *tag_sum.entry(t.class).or_default() += t.prob;
        }
    }
    let mut top: Vec<(u16, f32)> = tag_sum.into_iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let tags: Vec<(String, f32)> = top
        .iter()
        .take(3)
        .filter_map(|&(c, s)| class_name(c).map(|name| (name, s / n as f32)))
        .collect();
    let kind = if lines >= DOMINANT {
        Some(if camera >= DOMINANT {
            "Documents & whiteboards"
        } else {
            "Screenshots & documents"
        })
    } else if group >= 0.4 {
        Some("Group photos")
    } else if selfie >= 0.4 {
        Some("Selfies & portraits")
    } else if text >= DOMINANT {
        let area = median(
            members
                .iter()
                .filter_map(|p| Some(signals(p)?.text.as_ref()?.area))
                .collect(),
        );
        let edges = median(members.iter().filter_map(|p| edge_text_share(p)).collect());
        let boxes = median(
            members
                .iter()
                .filter_map(|p| Some(signals(p)?.text.as_ref()?.boxes as f32))
                .collect(),
        );
        Some(if camera >= DOMINANT {
            if area.is_some_and(|a| a >= DOCUMENT_TEXT_AREA)
                || boxes.is_some_and(|b| b >= DOCUMENT_LINES as f32)
            {
                "Documents & whiteboards"
            } else {
                "Photos with text (signs, labels)"
            }
        } else if edges.is_some_and(|e| e >= CAPTION_EDGE_SHARE) {
            "Memes (captions on pictures)"
        } else {
            "Quotes & cards (text on pictures)"
        })
    } else if face >= DOMINANT {
        Some("People")
    } else {
        None
    };
    let tag_words = tags
        .iter()
        .take(2)
        .map(|(t, _)| t.split(',').next().unwrap_or(t).trim().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let name = match kind {
        Some(k) => k.to_string(),
        None if !tag_words.is_empty() && camera >= DOMINANT => format!("Photos: {tag_words}"),
        None if !tag_words.is_empty() => format!("Pictures: {tag_words}"),
        None => return None,
    };
    let pct = |x: f32| (x * 100.0).round() as u32;
    let why = format!(
        "{}% with text, {}% with many text lines, {}% from a camera, {}% with faces ({}% selfies, {}% groups); tags: {}",
        pct(text),
        pct(lines),
        pct(camera),
        pct(face),
        pct(selfie),
        pct(group),
        tags.iter()
            .map(|(t, p)| format!("{t} {p:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let portrait = members
        .iter()
        .filter(|p| p.thumb_height as f32 > 1.2 * p.thumb_width as f32)
        .count() as f32
        / n as f32;
    let landscape = members
        .iter()
        .filter(|p| p.thumb_width as f32 > 1.2 * p.thumb_height as f32)
        .count() as f32
        / n as f32;
    let orientation = if portrait >= 0.7 {
        Some("portrait")
    } else if landscape >= 0.7 {
        Some("landscape")
    } else {
        None
    };
    Some(AlbumName {
        name,
        tags,
        why,
        orientation,
    })
}

/// "portrait" or "landscape" when at least 70% of the members are.
fn dominant_orientation(members: &[&PhotoRecord]) -> Option<&'static str> {
    let n = members.len().max(1) as f32;
    let share = |f: &dyn Fn(f32, f32) -> bool| {
        members
            .iter()
            .filter(|p| f(p.thumb_width as f32, p.thumb_height as f32))
            .count() as f32
            / n
    };
    if share(&|w, h| h > 1.2 * w) >= 0.7 {
        Some("portrait")
    } else if share(&|w, h| w > 1.2 * h) >= 0.7 {
        Some("landscape")
    } else {
        None
    }
}

/// A word for a mean colour (RGB in 0..=1): "dark", "white", "grey" or the hue.
pub fn tone_word(rgb: [f32; 3]) -> &'static str {
    let [r, g, b] = rgb;
    let luma = 0.299 * r + 0.587 * g + 0.114 * b;
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    if luma < 0.22 {
        "dark"
    } else if max - min < 0.1 {
        if luma > 0.75 {
            "white"
        } else {
            "grey"
        }
    } else if max == g {
        "green"
    } else if max == b {
        "blue"
    } else if g > 0.75 * r {
        "yellow"
    } else if b > 0.75 * r {
        "pink"
    } else {
        "red"
    }
}

/// An album's name without model signals, from what the files themselves tell: whether a
/// camera took the pictures (EXIF make and model) or they are screenshots and saved images,
/// their mean tone (from the model-free embedding's colour statistics) and shape. `None` when
/// the members' embeddings are not the model-free layout.
pub fn plain_album_name(members: &[&PhotoRecord]) -> Option<AlbumName> {
    let n = members.len();
    if n == 0 {
        return None;
    }
    let mut tone = [0f32; 3];
    for p in members {
        let e = &p.content.as_ref()?.embedding;
        if e.len() != crate::thumbs::EMBEDDING_DIM {
            return None;
        }
        // The last six values are (mean, sd) per RGB channel, each times 4.
        let tail = &e[e.len() - 6..];
        for (c, t) in tone.iter_mut().enumerate() {
            *t += tail[2 * c] / 4.0 / n as f32;
        }
    }
    let camera = members.iter().filter(|p| p.camera.is_some()).count() as f32 / n as f32;
    let what = if camera >= DOMINANT {
        "Camera photos"
    } else {
        "Screenshots & saved pictures"
    };
    let word = tone_word(tone);
    let pct = |x: f32| (x * 100.0).round() as u32;
    Some(AlbumName {
        name: format!("{what}, {word}"),
        tags: Vec::new(),
        why: format!(
            "no content models: {}% from a camera (EXIF make and model), mean colour RGB {:.2} {:.2} {:.2} ({word})",
            pct(camera),
            tone[0],
            tone[1],
            tone[2]
        ),
        orientation: dominant_orientation(members),
    })
}

#[cfg(test)]
mod plain_name_tests {
    use super::*;

    #[test]
    fn tone_words_of_plain_colours() {
        assert_eq!(tone_word([0.05, 0.05, 0.1]), "dark");
        assert_eq!(tone_word([0.95, 0.94, 0.93]), "white");
        assert_eq!(tone_word([0.5, 0.5, 0.52]), "grey");
        assert_eq!(tone_word([0.3, 0.6, 0.25]), "green");
        assert_eq!(tone_word([0.4, 0.6, 0.9]), "blue");
        assert_eq!(tone_word([0.9, 0.8, 0.3]), "yellow");
        assert_eq!(tone_word([0.9, 0.3, 0.8]), "pink");
        assert_eq!(tone_word([0.8, 0.2, 0.2]), "red");
    }

    #[test]
    fn camera_photos_and_screenshots_are_told_apart_without_models() {
        let record = |camera: bool, rgb: [u8; 3], w: u32, h: u32| {
            let img = crate::thumbs::solid(w, h, rgb);
            PhotoRecord {
                rel_path: "x.jpg".into(),
                size: 1,
                mtime_secs: 0,
                mtime_nanos: 0,
                kind: crate::sniff::ImageKind::Jpeg,
                taken: crate::civil::WallClock::from_unix_utc(0),
                time_source: crate::exif_meta::TimeSource::FileMtime,
                gps: None,
                orientation: 1,
                camera: camera.then(|| "Google Pixel 8".to_string()),
                thumb_width: w,
                thumb_height: h,
                content: Some(crate::thumbs::features(&img)),
                notes: vec![],
                content_hash: 0,
            }
        };
        let photos = [
            record(true, [40, 140, 50], 160, 120),
            record(true, [50, 150, 60], 160, 120),
        ];
        let refs: Vec<&PhotoRecord> = photos.iter().collect();
        let name = plain_album_name(&refs).unwrap();
        assert_eq!(name.name, "Camera photos, green");
        assert_eq!(name.orientation, Some("landscape"));
        let shots = [
            record(false, [20, 20, 30], 90, 180),
            record(false, [30, 30, 30], 90, 180),
        ];
        let refs: Vec<&PhotoRecord> = shots.iter().collect();
        let name = plain_album_name(&refs).unwrap();
        assert_eq!(name.name, "Screenshots & saved pictures, dark");
        assert_eq!(name.orientation, Some("portrait"));
    }
}
