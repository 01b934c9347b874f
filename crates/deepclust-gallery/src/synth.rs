//! Writing JPEGs with EXIF (capture time, UTC offset, GPS, orientation): used by the tests and
//! the library generator example to build photo libraries with known ground truth.

use crate::civil::WallClock;
use crate::exif_meta::GpsPoint;
use crate::thumbs::encode_jpeg;
use image::RgbImage;

/// EXIF fields to write.
#[derive(Debug, Clone, Default)]
pub struct SynthExif {
    pub taken: Option<WallClock>,
    pub gps: Option<GpsPoint>,
    pub orientation: Option<u16>,
    /// Camera make and model (IFD0 Make and Model), as phones write them.
    pub camera: Option<(String, String)>,
}

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    data: Vec<u8>,
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        kind: 2,
        count: data.len() as u32,
        data,
    }
}

fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
    let data = values
        .iter()
        .flat_map(|(n, d)| n.to_be_bytes().into_iter().chain(d.to_be_bytes()))
        .collect();
    Entry {
        tag,
        kind: 5,
        count: values.len() as u32,
        data,
    }
}

fn long(tag: u16, v: u32) -> Entry {
    Entry {
        tag,
        kind: 4,
        count: 1,
        data: v.to_be_bytes().to_vec(),
    }
}

fn short(tag: u16, v: u16) -> Entry {
    let mut data = v.to_be_bytes().to_vec();
    data.extend_from_slice(&[0, 0]);
    Entry {
        tag,
        kind: 3,
        count: 1,
        data,
    }
}

/// Serialises one IFD at `offset` (from the TIFF header); returns its bytes.
fn ifd(mut entries: Vec<Entry>, offset: u32) -> Vec<u8> {
    entries.sort_by_key(|e| e.tag);
    let table_len = 2 + entries.len() as u32 * 12 + 4;
    let mut table = Vec::new();
    let mut heap = Vec::new();
    table.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for e in &entries {
        table.extend_from_slice(&e.tag.to_be_bytes());
        table.extend_from_slice(&e.kind.to_be_bytes());
        table.extend_from_slice(&e.count.to_be_bytes());
        if e.data.len() <= 4 {
            let mut v = e.data.clone();
            v.resize(4, 0);
            table.extend_from_slice(&v);
        } else {
            let at = offset + table_len + heap.len() as u32;
            table.extend_from_slice(&at.to_be_bytes());
            heap.extend_from_slice(&e.data);
            if heap.len() % 2 == 1 {
                heap.push(0);
            }
        }
    }
    table.extend_from_slice(&0u32.to_be_bytes());
    table.extend_from_slice(&heap);
    table
}

fn dms(deg: f64) -> [(u32, u32); 3] {
    let d = deg.abs();
    let whole = d.floor();
    let minutes = ((d - whole) * 60.0).floor();
    let seconds = (d - whole - minutes / 60.0) * 3600.0;
    [
        (whole as u32, 1),
        (minutes as u32, 1),
        ((seconds * 10_000.0).round() as u32, 10_000),
    ]
}

/// The TIFF-structured EXIF payload (big-endian).
pub fn exif_block(meta: &SynthExif) -> Vec<u8> {
    let mut exif_entries = Vec::new();
    if let Some(t) = meta.taken {
        let s = t.seconds_of_day;
        let text = format!(
            "{:04}:{:02}:{:02} {:02}:{:02}:{:02}",
            t.day.year,
            t.day.month,
            t.day.day,
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        exif_entries.push(ascii(0x9003, &text));
        if let Some(off) = t.utc_offset_minutes {
            let sign = if off < 0 { '-' } else { '+' };
            exif_entries.push(ascii(
                0x9011,
                &format!("{sign}{:02}:{:02}", off.abs() / 60, off.abs() % 60),
            ));
        }
    }
    let mut gps_entries = Vec::new();
    if let Some(g) = meta.gps {
        gps_entries.push(ascii(1, if g.lat < 0.0 { "S" } else { "N" }));
        gps_entries.push(rationals(2, &dms(g.lat)));
        gps_entries.push(ascii(3, if g.lon < 0.0 { "W" } else { "E" }));
        gps_entries.push(rationals(4, &dms(g.lon)));
    }
    let ifd0_entries = |exif_at: Option<u32>, gps_at: Option<u32>| {
        let mut entries = Vec::new();
        if let Some(o) = meta.orientation {
            entries.push(short(0x0112, o));
        }
        if let Some((make, model)) = &meta.camera {
            entries.push(ascii(0x010F, make));
            entries.push(ascii(0x0110, model));
        }
        if let Some(at) = exif_at {
            entries.push(long(0x8769, at));
        }
        if let Some(at) = gps_at {
            entries.push(long(0x8825, at));
        }
        entries
    };
    // IFD0's size does not depend on the pointer values: lay it out once with placeholders.
    let placeholder = |present: bool| present.then_some(0);
    let ifd0_size = ifd(
        ifd0_entries(
            placeholder(!exif_entries.is_empty()),
            placeholder(!gps_entries.is_empty()),
        ),
        8,
    )
    .len() as u32;
    let exif_at = 8 + ifd0_size;
    let exif_bytes = if exif_entries.is_empty() {
        Vec::new()
    } else {
        ifd(exif_entries, exif_at)
    };
    let gps_at = exif_at + exif_bytes.len() as u32;
    let gps_bytes = if gps_entries.is_empty() {
        Vec::new()
    } else {
        ifd(gps_entries, gps_at)
    };
    let ifd0_bytes = ifd(
        ifd0_entries(
            (!exif_bytes.is_empty()).then_some(exif_at),
            (!gps_bytes.is_empty()).then_some(gps_at),
        ),
        8,
    );
    let mut out = b"MM\0\x2a\0\0\0\x08".to_vec();
    out.extend_from_slice(&ifd0_bytes);
    out.extend_from_slice(&exif_bytes);
    out.extend_from_slice(&gps_bytes);
    out
}

/// Encodes `img` as a JPEG with an APP1 EXIF segment right after SOI.
pub fn jpeg_with_exif(img: &RgbImage, meta: &SynthExif) -> Result<Vec<u8>, String> {
    let jpeg = encode_jpeg(img)?;
    let block = exif_block(meta);
    let seg_len = u16::try_from(block.len() + 8).map_err(|_| "EXIF block too large".to_string())?;
    let mut out = Vec::with_capacity(jpeg.len() + block.len() + 10);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&seg_len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&block);
    out.extend_from_slice(&jpeg[2..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::parse_exif_datetime;
    use crate::exif_meta::{find_exif_block, parse_exif, TimeSource};
    use crate::sniff::ImageKind;
    use crate::thumbs::solid;

    #[test]
    fn round_trip_through_the_reader() {
        let (day, seconds_of_day) = parse_exif_datetime("2019:08:15 21:30:05").unwrap();
        let meta = SynthExif {
            taken: Some(WallClock {
                day,
                seconds_of_day,
                utc_offset_minutes: Some(-300),
            }),
            gps: Some(GpsPoint {
                lat: -33.8688,
                lon: 151.2093,
            }),
            orientation: Some(3),
            camera: Some(("Google".into(), "Pixel 8".into())),
        };
        let bytes = jpeg_with_exif(&solid(16, 16, [1, 2, 3]), &meta).unwrap();
        let info = parse_exif(find_exif_block(&bytes, ImageKind::Jpeg).unwrap()).unwrap();
        let (t, src) = info.taken.unwrap();
        assert_eq!(src, TimeSource::ExifOriginal);
        assert_eq!(t, meta.taken.unwrap());
        let g = info.gps.unwrap();
        assert!(
            (g.lat + 33.8688).abs() < 1e-6 && (g.lon - 151.2093).abs() < 1e-6,
            "{g:?}"
        );
        assert_eq!(info.orientation, 3);
        assert_eq!(info.camera.as_deref(), Some("Google Pixel 8"));
        // The image still decodes.
        assert!(crate::thumbs::decode_thumbnail(&bytes, ImageKind::Jpeg, 3, 160).is_ok());
    }
}
