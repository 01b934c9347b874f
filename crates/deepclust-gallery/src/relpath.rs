//! A photo's path relative to the library, as a `String` that keeps every byte of the name.
//!
//! File names on Unix are bytes; a camera, an old zip or a Windows share can leave names that
//! are not UTF-8 (`caf\xe9.jpg` in Latin-1). Such a name must still be read, linked and found
//! again on the next run, so the organizer keeps relative paths in one lossless encoding:
//! valid UTF-8 is itself, and each byte `b` (0x80-0xFF) outside valid UTF-8 is the character
//! U+10FF00 + b, from the last private-use plane (the trick of Python's `surrogateescape`,
//! which Rust strings cannot hold). A name that really contains one of those 128 characters
//! has its UTF-8 bytes escaped the same way, so decoding is exact for every name. The
//! manifest writes this form in `path` (and a `path_display` beside it when they differ);
//! people see [`display`], where each escaped byte is U+FFFD.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Escaped bytes are the characters `ESCAPE_BASE + byte`, bytes 0x80..=0xFF.
const ESCAPE_BASE: u32 = 0x10FF00;

fn is_escape(c: char) -> bool {
    (ESCAPE_BASE + 0x80..=ESCAPE_BASE + 0xFF).contains(&(c as u32))
}

fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        // b >= 0x80 here: ASCII bytes are always valid UTF-8, and an escape character's
        // UTF-8 bytes are all >= 0x80.
        out.push(char::from_u32(ESCAPE_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
}

/// The lossless string of one path component or name.
pub fn encode(name: &OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::with_capacity(name.len());
        for chunk in name.as_bytes().utf8_chunks() {
            for c in chunk.valid().chars() {
                if is_escape(c) {
                    push_escaped(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes());
                } else {
                    out.push(c);
                }
            }
            push_escaped(&mut out, chunk.invalid());
        }
        out
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned()
    }
}

/// The `/`-separated lossless relative path of `path` below `root`.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| encode(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// The file a lossless relative path names below `root` (the inverse of [`relative`]).
pub fn join(root: &Path, rel: &str) -> PathBuf {
    root.join(to_path(rel))
}

/// The relative path a lossless string stands for.
fn to_path(rel: &str) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        if !rel.chars().any(is_escape) {
            return PathBuf::from(rel);
        }
        let mut bytes = Vec::with_capacity(rel.len());
        for c in rel.chars() {
            if is_escape(c) {
                bytes.push((c as u32 - ESCAPE_BASE) as u8);
            } else {
                bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(rel)
    }
}

/// The name as people read it: each byte that is not UTF-8 shown as U+FFFD (as
/// `to_string_lossy` would, one per byte).
pub fn display(rel: &str) -> Cow<'_, str> {
    if rel.chars().any(is_escape) {
        Cow::Owned(
            rel.chars()
                .map(|c| {
                    if is_escape(c) {
                        char::REPLACEMENT_CHARACTER
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(rel)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    #[test]
    fn latin1_name_round_trips_and_displays_with_a_replacement() {
        let name = OsStr::from_bytes(b"caf\xe9.jpg");
        let enc = encode(name);
        assert_eq!(enc, "caf\u{10ffe9}.jpg");
        assert_eq!(to_path(&enc).as_os_str(), name);
        assert_eq!(display(&enc), "caf\u{fffd}.jpg");
        assert_eq!(encode(OsStr::new("café.jpg")), "café.jpg");
        assert!(matches!(display("café.jpg"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_name_holding_an_escape_character_is_escaped_too() {
        let tricky = "x\u{10ff80}y";
        let enc = encode(OsStr::new(tricky));
        assert_ne!(enc, tricky);
        assert_eq!(to_path(&enc).as_os_str(), OsStr::new(tricky));
    }

    #[test]
    fn relative_joins_components_with_slashes() {
        let root = Path::new("/lib");
        let path = Path::new(OsStr::from_bytes(b"/lib/trip/\xff\xfe.png"));
        let rel = relative(root, path);
        assert_eq!(rel, "trip/\u{10ffff}\u{10fffe}.png");
        assert_eq!(join(root, &rel), path);
    }

    proptest! {
        #[test]
        fn every_byte_string_round_trips(bytes in proptest::collection::vec(1u8..=255, 0..40)) {
            let bytes: Vec<u8> = bytes.into_iter().filter(|&b| b != b'/').collect();
            let name = std::ffi::OsString::from_vec(bytes);
            let enc = encode(&name);
            prop_assert_eq!(to_path(&enc).into_os_string(), name);
        }
    }
}
