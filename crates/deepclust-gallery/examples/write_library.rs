//! Writes the demo's generated phone-style library of N photos (EXIF dates with offsets, GPS
//! over three trips and home, screenshots without EXIF, two damaged files) into DIR: the
//! input of the catalogue's scale benchmark (bench/catalog_scale.sh).
//!
//! ```text
//! cargo run --release -p deepclust-gallery --example write_library -- /tmp/lib100k 100000 [SEED]
//! ```
#![allow(clippy::print_stdout)]

use deepclust_gallery::sample_library::write_sample_library;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: write_library DIR N [SEED]")?);
    let n: usize = args
        .next()
        .ok_or("usage: write_library DIR N [SEED]")?
        .parse()?;
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let started = std::time::Instant::now();
    let library = write_sample_library(&dir, n, seed)?;
    println!(
        "{} photos + {} damaged files written to {} in {:.1} s",
        library.photos.len(),
        library.damaged.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
