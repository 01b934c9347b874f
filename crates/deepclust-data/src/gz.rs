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

/// The most a data file may decompress to (1 GiB: 18x the whole of MNIST). A few megabytes
/// of gzip can expand to terabytes; without a cap a hostile file or mirror exhausts memory.
pub(crate) const MAX_DECOMPRESSED: u64 = 1 << 30;

/// The whole content of `path`, decompressed when it is gzip, refused above
/// [`MAX_DECOMPRESSED`] bytes.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    read_maybe_gz_capped(path, MAX_DECOMPRESSED)
}

/// Like [`read_maybe_gz`] with its own cap: at most `cap` bytes are ever decompressed or
/// held; a longer content is [`DataError::TooLarge`].
pub(crate) fn read_maybe_gz_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decompress_if_gz_capped(raw, path, cap)
}

/// `raw` itself, or its decompressed content when it is gzip. `path` is only for errors.
#[cfg(test)]
pub(crate) fn decompress_if_gz(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    decompress_if_gz_capped(raw, path, MAX_DECOMPRESSED)
}

fn too_large(path: &Path, cap: u64) -> DataError {
    DataError::TooLarge {
        path: path.to_path_buf(),
        limit: cap,
    }
}

fn decompress_if_gz_capped(raw: Vec<u8>, path: &Path, cap: u64) -> Result<Vec<u8>> {
    if !is_gzip(&raw) {
        if raw.len() as u64 > cap {
            return Err(too_large(path, cap));
        }
        return Ok(raw);
    }
    // The gzip trailer stores the uncompressed size modulo 2^32 (exact for single-member
    // files under 4 GiB): reserving it up front avoids repeated reallocation and copying.
    let size_hint = raw
        .len()
        .checked_sub(4)
        .and_then(|start| raw.get(start..))
        .map_or(0, |tail| {
            u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64
        });
    // The trailer is not trusted: the hint never exceeds the cap, nor 1100 times the
    // compressed size (deflate's best ratio is about 1032:1).
    let hint = size_hint
        .min(cap)
        .min((raw.len() as u64).saturating_mul(1100).max(1 << 20));
    let mut out = Vec::with_capacity(hint as usize);
    // One byte past the cap tells "exactly the cap" from "more than the cap".
    MultiGzDecoder::new(raw.as_slice())
        .take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 > cap {
        return Err(too_large(path, cap));
    }
    Ok(out)
}

/// A streaming reader of `path`'s (possibly decompressed) content, for hashing without
/// holding it; the caller caps how much it reads.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = (&mut file)
        .take(2)
        .read(&mut magic)
        .map_err(|e| DataError::io(path, e))?;
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    if n == 2 && is_gzip(&magic) {
        Ok(Box::new(MultiGzDecoder::new(std::io::BufReader::new(file))))
    } else {
        Ok(Box::new(file))
    }
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

    #[test]
    fn a_gzip_bomb_is_refused_without_holding_it() {
        // 64 MiB of zeros compress to about 64 KiB; with a 1 MiB cap the decoder stops
        // after 1 MiB + 1 byte, whatever the trailer claims.
        let mut gz = gzip(&vec![0u8; 64 << 20]);
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&16u32.to_le_bytes());
        let err = decompress_if_gz_capped(gz, Path::new("bomb.gz"), 1 << 20).unwrap_err();
        assert!(matches!(err, DataError::TooLarge { limit, .. } if limit == 1 << 20));
        let msg = err.to_string();
        assert!(msg.contains("bomb.gz") && msg.contains("1 MiB"), "{msg}");
    }

    #[test]
    fn content_of_exactly_the_cap_is_accepted() {
        let data = vec![7u8; 4096];
        let out = decompress_if_gz_capped(gzip(&data), Path::new("x"), 4096).unwrap();
        assert_eq!(out, data);
        let err = decompress_if_gz_capped(data, Path::new("x"), 4095).unwrap_err();
        assert!(matches!(err, DataError::TooLarge { .. }));
    }
}
