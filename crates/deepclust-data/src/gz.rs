//! Reading files that may or may not be gzip-compressed. Compression is detected from the
//! gzip magic bytes (1f 8b), never from the file name: downloads are often renamed, and
//! some mirrors serve uncompressed files under `.gz` names.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::{DataError, Result};

/// The two bytes every gzip member starts with.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` start like a gzip stream.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC
}

/// The whole content of `path`, decompressed when it is gzip.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decompress_if_gz(raw, path)
}

/// `raw` itself, or its decompressed content when it is gzip. `path` is only for errors.
pub(crate) fn decompress_if_gz(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !is_gzip(&raw) {
        return Ok(raw);
    }
    // The gzip trailer stores the uncompressed size modulo 2^32 (exact for single-member
    // files under 4 GiB): reserving it up front avoids repeated reallocation and copying.
    let size_hint = raw
        .len()
        .checked_sub(4)
        .and_then(|start| raw.get(start..))
        .map_or(0, |tail| {
            u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize
        });
    // Cap the hint so that a hostile trailer cannot make us reserve gigabytes up front.
    let cap = size_hint.min(raw.len().saturating_mul(1100).max(1 << 20));
    let mut out = Vec::with_capacity(cap);
    MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// The first bytes of the (possibly decompressed) content, for format sniffing.
pub(crate) fn peek_maybe_gz(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut head = Vec::with_capacity(n);
    (&mut file)
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| DataError::io(path, e))?;
    if !is_gzip(&head) {
        return Ok(head);
    }
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut out = Vec::with_capacity(n);
    MultiGzDecoder::new(file)
        .take(n as u64)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::gzip;

    #[test]
    fn plain_and_gzip_give_the_same_bytes() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let p = Path::new("x");
        assert_eq!(decompress_if_gz(data.clone(), p).unwrap(), data);
        assert_eq!(decompress_if_gz(gzip(&data), p).unwrap(), data);
    }

    #[test]
    fn truncated_gzip_is_an_error_naming_the_file() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 13 % 256) as u8).collect();
        let mut gz = gzip(&data);
        gz.truncate(gz.len() / 2);
        let err = decompress_if_gz(gz, Path::new("cut.gz")).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }));
        assert!(err.to_string().contains("cut.gz"), "{err}");
    }
}
