//! Turning items into small pictures: rows of a pixel matrix (grayscale or RGB) or thumbnail
//! files on disk, and laying them out as montages and as a thumbnail map.

use crate::error::{ReportError, Result};
use image::{imageops, GrayImage, Luma, Rgb, RgbImage};
use ndarray::ArrayView2;
use std::path::{Path, PathBuf};

/// How the values of one row of the image matrix make an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// `true`: all red values, then all green, then all blue (CHW, as neural networks
    /// usually store images); `false`: RGB triples pixel by pixel (HWC). Ignored for
    /// grayscale.
    pub planar: bool,
}

impl ImageShape {
    /// A grayscale image of `height x width` values, row by row (MNIST's layout).
    pub fn gray(height: usize, width: usize) -> Self {
        ImageShape {
            height,
            width,
            channels: 1,
            planar: false,
        }
    }

    /// An RGB image stored as triples pixel by pixel (HWC).
    pub fn rgb(height: usize, width: usize) -> Self {
        ImageShape {
            height,
            width,
            channels: 3,
            planar: false,
        }
    }

    /// An RGB image stored plane by plane (CHW).
    pub fn rgb_planar(height: usize, width: usize) -> Self {
        ImageShape {
            planar: true,
            ..Self::rgb(height, width)
        }
    }

    /// Values per row this shape needs.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// True when the shape has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the shape against the number of columns of the image matrix.
    pub fn validate(&self, columns: usize) -> Result<()> {
        if self.height == 0 || self.width == 0 || !(self.channels == 1 || self.channels == 3) {
            return Err(ReportError::Invalid(format!(
                "image shape must be at least 1 x 1 with 1 or 3 channels, got {} x {} x {}",
                self.height, self.width, self.channels
            )));
        }
        if self.len() != columns {
            return Err(ReportError::ImageShape {
                height: self.height,
                width: self.width,
                channels: self.channels,
                needed: self.len(),
                got: columns,
            });
        }
        Ok(())
    }
}

/// Where the pictures of the items come from.
#[derive(Debug, Clone)]
pub enum ImageSource<'a> {
    /// Row `i` holds item `i`'s pixels, values in `[0, 1]` (clamped).
    Pixels {
        rows: ArrayView2<'a, f32>,
        shape: ImageShape,
    },
    /// `paths[i]` is a picture file (a thumbnail) of item `i`, decoded with the `image`
    /// crate (PNG or JPEG), shrunk to fit the tile.
    Files { paths: &'a [PathBuf], tile: u32 },
}

/// Colour of the gaps between tiles: mid grey separates both dark (MNIST) and light images.
const GAP: Rgb<u8> = Rgb([128, 128, 128]);
/// Colour of a tile whose file could not be read.
const BROKEN: Rgb<u8> = Rgb([200, 60, 60]);

impl ImageSource<'_> {
    /// Number of items the source has pictures for.
    pub fn len(&self) -> usize {
        match self {
            ImageSource::Pixels { rows, .. } => rows.nrows(),
            ImageSource::Files { paths, .. } => paths.len(),
        }
    }

    /// True when the source has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Width and height of one tile in pixels.
    pub fn tile_size(&self) -> (u32, u32) {
        match self {
            ImageSource::Pixels { shape, .. } => (shape.width as u32, shape.height as u32),
            ImageSource::Files { tile, .. } => (*tile, *tile),
        }
    }

    /// How much the browser should enlarge montages so that a tile is about 56 px or more
    /// (28 x 28 digits at 2x, 8 x 8 digits at 7x), with sharp pixels.
    pub fn display_scale(&self) -> u32 {
        let (w, h) = self.tile_size();
        (56 / w.max(h).max(1)).max(1)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            ImageSource::Pixels { rows, shape } => shape.validate(rows.ncols()),
            ImageSource::Files { tile, .. } if *tile == 0 || *tile > 1024 => {
                Err(ReportError::Invalid(format!(
                    "thumbnail tile size must be 1..=1024 px, got {tile}"
                )))
            }
            ImageSource::Files { .. } => Ok(()),
        }
    }

    /// Item `i` as a tile of [`Self::tile_size`]. A file that cannot be read gives a red
    /// tile and the reason (naming the file), so one bad picture cannot stop a report.
    pub fn tile(&self, i: usize) -> (RgbImage, Option<String>) {
        let (w, h) = self.tile_size();
        match self {
            ImageSource::Pixels { rows, shape } => (pixels_to_image(rows, i, shape), None),
            ImageSource::Files { paths, tile } => match load_fitted(&paths[i], *tile) {
                Ok(img) => (img, None),
                Err(reason) => (RgbImage::from_pixel(w, h, BROKEN), Some(reason)),
            },
        }
    }
}

fn to_u8(v: f32) -> u8 {
    // `clamp` keeps NaN; draw it black explicitly rather than rely on the cast.
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

fn pixels_to_image(rows: &ArrayView2<f32>, i: usize, shape: &ImageShape) -> RgbImage {
    let row = rows.row(i);
    let (h, w) = (shape.height, shape.width);
    let plane = h * w;
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let p = y as usize * w + x as usize;
        match (shape.channels, shape.planar) {
            (1, _) => {
                let g = to_u8(row[p]);
                Rgb([g, g, g])
            }
            (_, true) => Rgb([
                to_u8(row[p]),
                to_u8(row[plane + p]),
                to_u8(row[2 * plane + p]),
            ]),
            (_, false) => Rgb([
                to_u8(row[3 * p]),
                to_u8(row[3 * p + 1]),
                to_u8(row[3 * p + 2]),
            ]),
        }
    })
}

/// Decodes a picture and shrinks it to fit a `tile x tile` square (kept aspect ratio,
/// centred on the gap colour).
fn load_fitted(path: &Path, tile: u32) -> Result<RgbImage, String> {
    let decoded = image::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let fitted = if decoded.width() > tile || decoded.height() > tile {
        decoded.thumbnail(tile, tile)
    } else {
        decoded
    }
    .to_rgb8();
    let mut out = RgbImage::from_pixel(tile, tile, GAP);
    let x = (tile - fitted.width().min(tile)) / 2;
    let y = (tile - fitted.height().min(tile)) / 2;
    imageops::replace(&mut out, &fitted, i64::from(x), i64::from(y));
    Ok(out)
}

/// Lays tiles out `columns` per row with a 1 px gap around each. Returns the montage and
/// the reasons of any tiles that could not be read.
pub fn montage(source: &ImageSource, items: &[usize], columns: usize) -> (RgbImage, Vec<String>) {
    let (w, h) = source.tile_size();
    let columns = columns.clamp(1, items.len().max(1));
    let rows = items.len().div_ceil(columns).max(1);
    let mut out =
        RgbImage::from_pixel(columns as u32 * (w + 1) + 1, rows as u32 * (h + 1) + 1, GAP);
    let mut problems = Vec::new();
    for (slot, &item) in items.iter().enumerate() {
        let (tile, problem) = source.tile(item);
        problems.extend(problem);
        let x = (slot % columns) as u32 * (w + 1) + 1;
        let y = (slot / columns) as u32 * (h + 1) + 1;
        imageops::replace(&mut out, &tile, i64::from(x), i64::from(y));
    }
    (out, problems)
}

/// A picture of the 2-D map with thumbnails of some items at their positions, each framed
/// in its cluster's colour. `points` are map coordinates, `items` the item of each point,
/// `colours` the frame colour of each point.
pub fn thumbnail_map(
    source: &ImageSource,
    points: &[(f32, f32)],
    items: &[usize],
    colours: &[[u8; 3]],
    canvas: u32,
) -> (RgbImage, Vec<String>) {
    let (w, h) = source.tile_size();
    // Tiles of about 32 px (28 px digits stay 1:1), enlarged by whole factors only.
    let scale = (32 / w.max(h).max(1)).max(1);
    let (tw, th) = (w * scale, h * scale);
    let frame = 2;
    let (fw, fh) = (tw + 2 * frame, th + 2 * frame);
    let mut out = RgbImage::from_pixel(canvas, canvas, Rgb([255, 255, 255]));
    let mut problems = Vec::new();
    if points.is_empty() || canvas <= fw.max(fh) {
        return (out, problems);
    }
    let (min_x, max_x, min_y, max_y) = bounds(points);
    let span_x = (max_x - min_x).max(f32::MIN_POSITIVE);
    let span_y = (max_y - min_y).max(f32::MIN_POSITIVE);
    let room_x = (canvas - fw) as f32;
    let room_y = (canvas - fh) as f32;
    for ((&(px, py), &item), colour) in points.iter().zip(items).zip(colours) {
        let (tile, problem) = source.tile(item);
        problems.extend(problem);
        let tile = if scale > 1 {
            imageops::resize(&tile, tw, th, imageops::FilterType::Nearest)
        } else {
            tile
        };
        let mut framed = RgbImage::from_pixel(fw, fh, Rgb(*colour));
        imageops::replace(&mut framed, &tile, i64::from(frame), i64::from(frame));
        // Map y grows upwards, image rows downwards.
        let x = ((px - min_x) / span_x * room_x).round() as i64;
        let y = ((max_y - py) / span_y * room_y).round() as i64;
        imageops::replace(&mut out, &framed, x, y);
    }
    (out, problems)
}

/// `(min_x, max_x, min_y, max_y)` of finite points (0..1 when there are none).
pub(crate) fn bounds(points: &[(f32, f32)]) -> (f32, f32, f32, f32) {
    let finite = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let mut b = (
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
    );
    for &(x, y) in finite {
        b = (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y));
    }
    if b.0 > b.1 {
        (0.0, 1.0, 0.0, 1.0)
    } else {
        b
    }
}

/// Writes `rgb` (`width x height` RGB triples, row by row) as a PNG, with the same encoder
/// as the report's montages (grayscale when every pixel is grey).
pub fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: Vec<u8>) -> Result<()> {
    let expected = width as usize * height as usize * 3;
    if rgb.len() != expected {
        return Err(ReportError::Invalid(format!(
            "{}: {width} x {height} RGB needs {expected} bytes, got {}",
            path.display(),
            rgb.len()
        )));
    }
    let image = RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| ReportError::Invalid(format!("{}: bad image buffer", path.display())))?;
    save_png(&image, path)
}

/// Writes a PNG, naming the file in any error. A picture whose pixels are all grey is
/// written as 8-bit grayscale: a third of the size for MNIST-like montages.
pub(crate) fn save_png(image: &RgbImage, path: &Path) -> Result<()> {
    let grey = image.pixels().all(|p| p[0] == p[1] && p[1] == p[2]);
    let saved = if grey {
        let luma = GrayImage::from_fn(image.width(), image.height(), |x, y| {
            Luma([image.get_pixel(x, y)[0]])
        });
        luma.save_with_format(path, image::ImageFormat::Png)
    } else {
        image.save_with_format(path, image::ImageFormat::Png)
    };
    saved.map_err(|source| ReportError::Encode {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gray_rgb_and_planar_rows_become_the_same_pixels() {
        // A 1 x 2 image: left pixel (1, 0.5, 0), right pixel (0, 0, 1).
        let hwc = array![[1.0f32, 0.5, 0.0, 0.0, 0.0, 1.0]];
        let chw = array![[1.0f32, 0.0, 0.5, 0.0, 0.0, 1.0]];
        let a = ImageSource::Pixels {
            rows: hwc.view(),
            shape: ImageShape::rgb(1, 2),
        };
        let b = ImageSource::Pixels {
            rows: chw.view(),
            shape: ImageShape::rgb_planar(1, 2),
        };
        let (ta, _) = a.tile(0);
        let (tb, _) = b.tile(0);
        assert_eq!(ta, tb);
        assert_eq!(ta.get_pixel(0, 0), &Rgb([255, 128, 0]));
        assert_eq!(ta.get_pixel(1, 0), &Rgb([0, 0, 255]));
        let gray = array![[0.0f32, 2.0, f32::NAN, -1.0]];
        let g = ImageSource::Pixels {
            rows: gray.view(),
            shape: ImageShape::gray(2, 2),
        };
        let (tg, _) = g.tile(0);
        assert_eq!(
            tg.get_pixel(1, 0),
            &Rgb([255, 255, 255]),
            "values above 1 clamp"
        );
        assert_eq!(tg.get_pixel(0, 1), &Rgb([0, 0, 0]), "NaN draws black");
    }

    #[test]
    fn rgb_pngs_round_trip_and_bad_buffers_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("two.png");
        write_rgb_png(&path, 2, 1, vec![255, 0, 0, 0, 0, 255]).expect("write");
        let back = image::open(&path).expect("read").to_rgb8();
        assert_eq!(back.get_pixel(0, 0), &Rgb([255, 0, 0]));
        assert_eq!(back.get_pixel(1, 0), &Rgb([0, 0, 255]));
        let err = write_rgb_png(&path, 2, 2, vec![0; 5]).expect_err("short buffer");
        assert!(err.to_string().contains("two.png"), "{err}");
    }

    #[test]
    fn shapes_are_checked_against_the_matrix() {
        assert!(ImageShape::gray(28, 28).validate(784).is_ok());
        assert!(ImageShape::gray(28, 28).validate(783).is_err());
        assert!(ImageShape::rgb(2, 2).validate(12).is_ok());
        let two_channels = ImageShape {
            channels: 2,
            ..ImageShape::gray(2, 2)
        };
        assert!(two_channels.validate(8).is_err());
    }

    #[test]
    fn montage_places_tiles_row_by_row_with_gaps() {
        // Three 2 x 2 images of values 0, 0.5 and 1, two per row.
        let rows = array![[0.0f32; 4], [0.5; 4], [1.0; 4]];
        let source = ImageSource::Pixels {
            rows: rows.view(),
            shape: ImageShape::gray(2, 2),
        };
        let (m, problems) = montage(&source, &[2, 0, 1], 2);
        assert!(problems.is_empty());
        assert_eq!((m.width(), m.height()), (2 * 3 + 1, 2 * 3 + 1));
        assert_eq!(m.get_pixel(0, 0), &GAP);
        assert_eq!(m.get_pixel(1, 1), &Rgb([255, 255, 255]), "item 2 first");
        assert_eq!(m.get_pixel(4, 2), &Rgb([0, 0, 0]), "item 0 second");
        assert_eq!(
            m.get_pixel(1, 4),
            &Rgb([128, 128, 128]),
            "item 1 on the second row"
        );
        assert_eq!(m.get_pixel(4, 4), &GAP, "empty last slot");
    }

    #[test]
    fn unreadable_files_give_a_red_tile_and_a_reason_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.png");
        RgbImage::from_pixel(40, 20, Rgb([0, 255, 0]))
            .save(&good)
            .expect("save");
        let bad = dir.path().join("not <an> image.jpg");
        std::fs::write(&bad, b"hello").expect("write");
        let paths = vec![good, bad];
        let source = ImageSource::Files {
            paths: &paths,
            tile: 16,
        };
        let (ok, none) = source.tile(0);
        assert!(none.is_none());
        assert_eq!((ok.width(), ok.height()), (16, 16));
        assert_eq!(
            ok.get_pixel(8, 8),
            &Rgb([0, 255, 0]),
            "centre of the fitted picture"
        );
        assert_eq!(ok.get_pixel(8, 0), &GAP, "letterbox above a wide picture");
        let (broken, reason) = source.tile(1);
        assert_eq!(broken.get_pixel(0, 0), &BROKEN);
        assert!(reason.expect("reason").contains("not <an> image.jpg"));
    }
}
