//! Writes the sample library (as `deepclust demo` does) and a PNG contact sheet of its first
//! photos, one column per kind, to look at what the generator draws.
//!
//! ```text
//! cargo run --release -p deepclust-gallery --example sample_library_preview -- /tmp/sample 48 [CELL]
//! ```
#![allow(clippy::print_stdout)]

use deepclust_gallery::sample_library::write_sample_library;
use image::{imageops, RgbImage};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: sample_library_preview DIR [N]")?);
    let n: usize = args.next().map_or(Ok(32), |s| s.parse())?;
    let library = write_sample_library(&dir.join("photos"), n, 0)?;
    let cell: u32 = args.next().map_or(Ok(160), |s| s.parse())?;
    let columns = 8u32;
    let rows = (library.photos.len() as u32).div_ceil(columns);
    let mut sheet = RgbImage::new(cell * columns, cell * rows);
    for (i, photo) in library.photos.iter().enumerate() {
        let img = image::open(dir.join("photos").join(&photo.rel_path))?.to_rgb8();
        let thumb = imageops::resize(&img, cell - 4, cell - 4, imageops::FilterType::Triangle);
        let (x, y) = ((i as u32 % columns) * cell, (i as u32 / columns) * cell);
        imageops::overlay(&mut sheet, &thumb, i64::from(x + 2), i64::from(y + 2));
    }
    let path = dir.join("contact-sheet.png");
    sheet.save(&path)?;
    println!("{}", path.display());
    Ok(())
}
