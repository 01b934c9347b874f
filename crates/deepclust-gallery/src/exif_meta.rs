//! EXIF extraction: capture time, GPS, orientation, camera.
//!
//! The EXIF block is located by walking the container ourselves (JPEG APP1 segment, PNG eXIf
//! chunk) so its size is capped before any parser sees it: a JPEG segment cannot exceed 64 KiB
//! and a PNG chunk is refused above [`MAX_PNG_EXIF_BYTES`]. kamadak-exif then parses only that
//! slice; it detects IFD loops and truncated values itself (checked on the hostile files in
//! shared/data/photos/corrupt).

use crate::civil::{parse_exif_datetime, parse_exif_offset, WallClock};
use crate::sniff::ImageKind;
use exif::{In, Tag, Value};
use serde::{Deserialize, Serialize};

/// Largest eXIf chunk accepted in a PNG; real ones are a few KiB.
pub const MAX_PNG_EXIF_BYTES: usize = 1 << 20;

/// A GPS position in decimal degrees (north and east positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsPoint {
    pub lat: f64,
    pub lon: f64,
}

/// Which field the capture time came from (recorded in the manifest as the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// EXIF DateTimeOriginal (with OffsetTimeOriginal when the camera wrote it).
    ExifOriginal,
    /// EXIF DateTimeDigitized, used when DateTimeOriginal is missing.
    ExifDigitized,
    /// EXIF DateTime (last modification by the camera or an editor).
    ExifModified,
    /// The file's modification time (UTC), used when EXIF has no usable date.
    FileMtime,
}

/// What the EXIF block told us.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExifInfo {
    pub taken: Option<(WallClock, TimeSource)>,
    pub gps: Option<GpsPoint>,
    /// EXIF orientation 1..=8 (1 = upright); 1 when absent or invalid.
    pub orientation: u16,
    pub camera: Option<String>,
    /// Problems with individual fields (kept, not fatal), e.g. an invalid GPS value.
    pub notes: Vec<String>,
}

/// Finds the raw TIFF-structured EXIF payload inside the container, if any.
pub fn find_exif_block(bytes: &[u8], kind: ImageKind) -> Option<&[u8]> {
    match kind {
        ImageKind::Jpeg => find_jpeg_exif(bytes),
        ImageKind::Png => find_png_exif(bytes),
    }
}

fn find_jpeg_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 2; // after SOI
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return None;
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        // Standalone markers carry no length.
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            pos += 2;
            continue;
        }
        // Start of scan or end of image: metadata segments come before.
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        if len < 2 {
            return None;
        }
        let start = pos + 4;
        let end = (pos + 2 + len).min(bytes.len());
        if marker == 0xE1 && bytes.get(start..start + 6) == Some(b"Exif\0\0".as_slice()) {
            return bytes.get(start + 6..end);
        }
        pos += 2 + len;
    }
    None
}

fn find_png_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 8; // after the signature
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]);
        let len = usize::try_from(len).ok()?;
        let kind = &bytes[pos + 4..pos + 8];
        let start = pos + 8;
        if kind == b"eXIf" {
            if len > MAX_PNG_EXIF_BYTES {
                return None;
            }
            return bytes.get(start..start.checked_add(len)?);
        }
        if kind == b"IEND" {
            return None;
        }
        pos = start.checked_add(len)?.checked_add(4)?; // data + CRC
    }
    None
}

/// Parses an EXIF block. `Err` means the block exists but is malformed (hostile or corrupt).
pub fn parse_exif(block: &[u8]) -> Result<ExifInfo, String> {
    let exif = exif::Reader::new()
        .read_raw(block.to_vec())
        .map_err(|e| e.to_string())?;
    let mut info = ExifInfo {
        orientation: 1,
        ..ExifInfo::default()
    };

    let ascii = |tag: Tag| -> Option<String> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            Value::Ascii(parts) => {
                let s: String = parts
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                let s = s.trim().trim_end_matches('\0').trim().to_string();
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    };

    let candidates = [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            TimeSource::ExifOriginal,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            TimeSource::ExifDigitized,
        ),
        (Tag::DateTime, Tag::OffsetTime, TimeSource::ExifModified),
    ];
    for (time_tag, offset_tag, source) in candidates {
        if let Some(text) = ascii(time_tag) {
            match parse_exif_datetime(&text) {
                Some((day, seconds_of_day)) => {
                    let utc_offset_minutes = ascii(offset_tag).and_then(|o| parse_exif_offset(&o));
                    info.taken = Some((
                        WallClock {
                            day,
                            seconds_of_day,
                            utc_offset_minutes,
                        },
                        source,
                    ));
                    break;
                }
                None => info.notes.push(format!("unusable {time_tag} {text:?}")),
            }
        }
    }

    match read_gps(&exif) {
        Ok(gps) => info.gps = gps,
        Err(note) => info.notes.push(note),
    }

    if let Some(o) = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
    {
        if (1..=8).contains(&o) {
            info.orientation = o as u16;
        } else {
            info.notes
                .push(format!("invalid orientation {o}, treated as upright"));
        }
    }

    let camera = [ascii(Tag::Make), ascii(Tag::Model)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    if !camera.is_empty() {
        info.camera = Some(camera.join(" "));
    }
    Ok(info)
}

/// Degrees/minutes/seconds from either three rationals or a string. Strings seen in the wild:
/// `"52,00000,50,00000,34,01180"` (HTC: comma as the decimal separator, so six numbers are
/// three decimals), `"52,50,34.0118"` and `"52.84278"`.
fn dms_to_degrees(value: &Value) -> Option<f64> {
    let parts: Vec<f64> = match value {
        Value::Rational(r) => r.iter().map(|x| x.to_f64()).collect(),
        Value::SRational(r) => r.iter().map(|x| x.to_f64()).collect(),
        Value::Ascii(a) => {
            let text: String = a
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            parse_dms_text(&text)?
        }
        _ => return None,
    };
    if parts.is_empty() || parts.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return None;
    }
    let minutes = parts.get(1).copied().unwrap_or(0.0);
    let seconds = parts.get(2).copied().unwrap_or(0.0);
    Some(parts[0] + minutes / 60.0 + seconds / 3600.0)
}

fn parse_dms_text(text: &str) -> Option<Vec<f64>> {
    let cleaned = text.trim().trim_end_matches('\0');
    let fields: Vec<&str> = cleaned
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let nums = |xs: &[&str]| {
        xs.iter()
            .map(|s| s.parse::<f64>().ok())
            .collect::<Option<Vec<_>>>()
    };
    if fields.len() == 6 && fields.iter().all(|f| f.bytes().all(|c| c.is_ascii_digit())) {
        // Three decimals written with a comma: "int,frac,int,frac,int,frac".
        let joined: Vec<String> = fields
            .chunks(2)
            .map(|pair| format!("{}.{}", pair[0], pair[1]))
            .collect();
        return nums(&joined.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if (1..=3).contains(&fields.len()) {
        return nums(&fields);
    }
    None
}

fn read_gps(exif: &exif::Exif) -> Result<Option<GpsPoint>, String> {
    let (Some(lat), Some(lon)) = (
        exif.get_field(Tag::GPSLatitude, In::PRIMARY),
        exif.get_field(Tag::GPSLongitude, In::PRIMARY),
    ) else {
        return Ok(None);
    };
    let reference = |tag: Tag| -> Option<u8> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            Value::Ascii(a) => a.first()?.first().map(u8::to_ascii_uppercase),
            _ => None,
        }
    };
    let (Some(mut lat_deg), Some(mut lon_deg)) =
        (dms_to_degrees(&lat.value), dms_to_degrees(&lon.value))
    else {
        return Err(format!(
            "unreadable GPS position ({} / {})",
            lat.display_value(),
            lon.display_value()
        ));
    };
    if reference(Tag::GPSLatitudeRef) == Some(b'S') {
        lat_deg = -lat_deg;
    }
    if reference(Tag::GPSLongitudeRef) == Some(b'W') {
        lon_deg = -lon_deg;
    }
    if !(-90.0..=90.0).contains(&lat_deg) || !(-180.0..=180.0).contains(&lon_deg) {
        return Err(format!("GPS position out of range ({lat_deg}, {lon_deg})"));
    }
    // Exactly (0, 0) is what many phones write when they had no fix.
    if lat_deg == 0.0 && lon_deg == 0.0 {
        return Err("GPS position (0, 0) treated as missing".to_string());
    }
    Ok(Some(GpsPoint {
        lat: lat_deg,
        lon: lon_deg,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dms_strings() {
        let v = parse_dms_text("52,00000,50,00000,34,01180").unwrap();
        assert_eq!(v, vec![52.0, 50.0, 34.0118]);
        assert_eq!(
            parse_dms_text("52,50,34.5").unwrap(),
            vec![52.0, 50.0, 34.5]
        );
        assert_eq!(parse_dms_text("52.84278").unwrap(), vec![52.84278]);
        assert!(parse_dms_text("north").is_none());
        let deg = dms_to_degrees(&Value::Ascii(vec![b"52,00000,50,00000,34,01180".to_vec()]));
        assert!((deg.unwrap() - (52.0 + 50.0 / 60.0 + 34.0118 / 3600.0)).abs() < 1e-12);
    }

    #[test]
    fn jpeg_segment_walk_finds_app1() {
        // SOI, APP0 (len 4), APP1 Exif with 4 payload bytes, SOS.
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xE1, 0x00, 0x0C,
        ];
        b.extend_from_slice(b"Exif\0\0");
        b.extend_from_slice(&[1, 2, 3, 4]);
        b.extend_from_slice(&[0xFF, 0xDA]);
        assert_eq!(find_jpeg_exif(&b), Some([1u8, 2, 3, 4].as_slice()));
        // A segment length running past the end is clipped, not trusted.
        let mut t = vec![0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF];
        t.extend_from_slice(b"Exif\0\0xy");
        assert_eq!(find_jpeg_exif(&t), Some(b"xy".as_slice()));
        assert_eq!(find_jpeg_exif(&[0xFF, 0xD8, 0x00]), None);
    }

    #[test]
    fn png_chunk_walk_caps_size() {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        b.extend_from_slice(b"eXIf");
        assert_eq!(find_png_exif(&b), None);
        let mut ok = b"\x89PNG\r\n\x1a\n".to_vec();
        ok.extend_from_slice(&3u32.to_be_bytes());
        ok.extend_from_slice(b"eXIfabc");
        assert_eq!(find_png_exif(&ok), Some(b"abc".as_slice()));
    }
}
