//! File type by content, not by extension: a `.jpg` that is really HTML is skipped, a PNG
//! named `.jpeg` is read as PNG.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Jpeg,
    Png,
}

/// Bytes needed by [`sniff`].
pub const SNIFF_LEN: usize = 8;

pub fn sniff(head: &[u8]) -> Option<ImageKind> {
    if head.len() >= 3 && head[..3] == [0xFF, 0xD8, 0xFF] {
        Some(ImageKind::Jpeg)
    } else if head.len() >= 8 && head[..8] == *b"\x89PNG\r\n\x1a\n" {
        Some(ImageKind::Png)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }
}
