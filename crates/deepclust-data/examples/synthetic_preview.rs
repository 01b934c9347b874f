//! Writes a montage of generated digits (10 rows = classes 0..9, `per_class` columns) and,
//! optionally, the raw features for outside analysis.
//!
//! `cargo run -p deepclust-data --release --example synthetic_preview -- montage.png [n seed raw.f32]`
//! The raw file is `n x 784` little-endian f32 followed by nothing; labels are `i % 10`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use deepclust_data::synthetic;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("synthetic.png", String::as_str);
    let n: usize = args.get(2).map_or(2000, |s| s.parse().unwrap());
    let seed: u64 = args.get(3).map_or(0, |s| s.parse().unwrap());
    let ds = synthetic::digits(n.max(100), seed);
    let per_class = 12;
    let (w, h) = (per_class * 28, 10 * 28);
    let mut img = image::GrayImage::new(w as u32, h as u32);
    for class in 0..10 {
        for col in 0..per_class {
            let row = ds.features.row(class + 10 * col);
            for (k, v) in row.iter().enumerate() {
                let (y, x) = (class * 28 + k / 28, col * 28 + k % 28);
                img.put_pixel(x as u32, y as u32, image::Luma([(v * 255.0).round() as u8]));
            }
        }
    }
    img.save(out).unwrap();
    println!("wrote {out}");
    if let Some(raw) = args.get(4) {
        let bytes: Vec<u8> = ds.features.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(raw, bytes).unwrap();
        println!("wrote {raw} ({} x {})", ds.len(), ds.dim());
    }
}
