//! Downloading MNIST and Fashion-MNIST from a configurable mirror, with checksums and a
//! cache.
//!
//! Each file is verified by the SHA-256 of its *uncompressed* content. The uncompressed
//! bytes are what the loaders read, and they do not depend on how a mirror compressed
//! them (the copies in this project's development data are recompressed: their `.gz`
//! bytes differ from LeCun's originals, while their content has the official MD5s). The
//! digests below were computed from files whose uncompressed MD5s match the official ones.
//!
//! A file already in the cache with the right checksum is not downloaded again. A
//! download goes to a temporary name in the cache folder and is renamed only once
//! verified, so an interrupted run never leaves a file that looks complete.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};
use crate::gz;

/// A public MNIST mirror (PyTorch's, on S3) that serves LeCun's original `.gz` files.
pub const MNIST_BASE_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";
/// Zalando's official Fashion-MNIST bucket.
pub const FASHION_MNIST_BASE_URL: &str =
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// One file of a remote dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, both on the mirror (appended to the base URL) and in the cache.
    pub name: String,
    /// Lowercase hex SHA-256 of the uncompressed content.
    pub sha256: String,
}

/// A dataset made of files on a mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    pub name: String,
    pub default_base_url: String,
    pub files: Vec<RemoteFile>,
}

fn remote(name: &str, sha256: &str) -> RemoteFile {
    RemoteFile {
        name: name.to_string(),
        sha256: sha256.to_string(),
    }
}

/// The datasets this crate knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownDataset {
    Mnist,
    FashionMnist,
}

impl KnownDataset {
    /// `(dataset, name, description)` for a command line.
    pub const CHOICES: &'static [(KnownDataset, &'static str, &'static str)] = &[
        (KnownDataset::Mnist, "mnist", "MNIST handwritten digits"),
        (
            KnownDataset::FashionMnist,
            "fashion-mnist",
            "Fashion-MNIST clothing images",
        ),
    ];

    /// Its files, checksums and usual mirror.
    pub fn spec(self) -> DatasetSpec {
        match self {
            KnownDataset::Mnist => mnist_spec(),
            KnownDataset::FashionMnist => fashion_mnist_spec(),
        }
    }

    /// The sub-folder it is stored in.
    pub fn folder(self) -> &'static str {
        match self {
            KnownDataset::Mnist => "mnist",
            KnownDataset::FashionMnist => "fashion-mnist",
        }
    }
}

/// MNIST: 60,000 training and 10,000 test digits. Uncompressed MD5s (official):
/// train-images 6bbc9ace898e44ae57da46a324031adb, train-labels
/// a25bea736e30d166cdddb491f175f624, t10k-images 2646ac647ad5339dbf082846283269ea,
/// t10k-labels 27ae3e4e09519cfbb04c329615203637.
pub fn mnist_spec() -> DatasetSpec {
    DatasetSpec {
        name: "MNIST".into(),
        default_base_url: MNIST_BASE_URL.into(),
        files: vec![
            remote(
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            remote(
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            remote(
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            remote(
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ],
    }
}

/// Fashion-MNIST: same layout and sizes as MNIST, 10 clothing classes. Uncompressed MD5s:
/// train-images f4a8712d7a061bf5bd6d2ca38dc4d50a, train-labels
/// 9018921c3c673c538a1fc5bad174d6f9, t10k-images 8181f5470baa50b63fa0f6fddb340f0a,
/// t10k-labels 15d484375f8d13e6eb1aabb0c3f46965.
pub fn fashion_mnist_spec() -> DatasetSpec {
    DatasetSpec {
        name: "Fashion-MNIST".into(),
        default_base_url: FASHION_MNIST_BASE_URL.into(),
        files: vec![
            remote(
                "train-images-idx3-ubyte.gz",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            remote(
                "train-labels-idx1-ubyte.gz",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            remote(
                "t10k-images-idx3-ubyte.gz",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            remote(
                "t10k-labels-idx1-ubyte.gz",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        ],
    }
}

/// Where and how to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorConfig {
    /// Base URL the file names are appended to; `None` uses the dataset's default mirror.
    /// A missing trailing `/` is added.
    pub base_url: Option<String>,
    /// Limit for connecting and for the server to start answering (the body itself may
    /// take as long as it needs; use the cancel flag to stop).
    pub timeout: Duration,
    /// Extra attempts after a network failure (not after a checksum mismatch).
    pub retries: u32,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            base_url: None,
            timeout: Duration::from_secs(30),
            retries: 2,
        }
    }
}

impl MirrorConfig {
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(DataError::InvalidOptions {
                    reason: format!("mirror URL must start with http:// or https://, got {url:?}"),
                });
            }
        }
        if self.timeout.is_zero() {
            return Err(DataError::InvalidOptions {
                reason: "download timeout must be positive".into(),
            });
        }
        Ok(())
    }
}

/// What the download is doing, for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadEvent {
    /// The file is already in the cache with the right checksum.
    Cached { file: String },
    /// A download starts; `total` is the announced size when the server gives one.
    Started {
        file: String,
        url: String,
        total: Option<u64>,
    },
    /// Bytes received so far for `file`.
    Progress {
        file: String,
        received: u64,
        total: Option<u64>,
    },
    /// The file was downloaded, verified and moved into the cache.
    Done { file: String },
}

/// The conventional per-user cache folder for a dataset: `$XDG_CACHE_HOME/deepclust/<name>`,
/// else `$HOME/.cache/deepclust/<name>` (`%LOCALAPPDATA%\deepclust\<name>` on Windows).
/// `None` when none of these variables is set.
pub fn default_cache_dir(dataset: &str) -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .or_else(|| var("LOCALAPPDATA"))?;
    Some(base.join("deepclust").join(dataset))
}

/// Downloads MNIST into `cache_dir` (created if needed) and returns that folder, ready for
/// [`crate::load_idx_dir`].
pub fn fetch_mnist(cache_dir: &Path, config: &MirrorConfig) -> Result<PathBuf> {
    let never = AtomicBool::new(false);
    fetch_dataset(cache_dir, &mnist_spec(), config, &mut |_| {}, &never)
}

/// Downloads Fashion-MNIST into `cache_dir`; see [`fetch_mnist`].
pub fn fetch_fashion_mnist(cache_dir: &Path, config: &MirrorConfig) -> Result<PathBuf> {
    let never = AtomicBool::new(false);
    fetch_dataset(
        cache_dir,
        &fashion_mnist_spec(),
        config,
        &mut |_| {},
        &never,
    )
}

/// Makes sure every file of `spec` is in `cache_dir` with the right checksum, downloading
/// what is missing or damaged. Reports through `on_event`; stops (removing partial files)
/// when `cancel` becomes true.
pub fn fetch_dataset(
    cache_dir: &Path,
    spec: &DatasetSpec,
    config: &MirrorConfig,
    on_event: &mut dyn FnMut(&DownloadEvent),
    cancel: &AtomicBool,
) -> Result<PathBuf> {
    config.validate()?;
    std::fs::create_dir_all(cache_dir).map_err(|e| DataError::Write {
        path: cache_dir.to_path_buf(),
        source: e,
    })?;
    let mut base = config
        .base_url
        .clone()
        .unwrap_or_else(|| spec.default_base_url.clone());
    if !base.ends_with('/') {
        base.push('/');
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(config.timeout))
        .timeout_recv_response(Some(config.timeout))
        // Per read, not for the whole body: detects a stalled transfer without capping
        // the time a slow but alive connection may take.
        .timeout_per_read(Some(config.timeout))
        .user_agent(concat!("deepclust/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();

    for file in &spec.files {
        let target = cache_dir.join(&file.name);
        if target.is_file() && sha256_uncompressed(&target)? == file.sha256 {
            on_event(&DownloadEvent::Cached {
                file: file.name.clone(),
            });
            continue;
        }
        let url = format!("{base}{}", file.name);
        // Unique per process, so that two runs filling the same cache do not write into
        // each other's partial file.
        let partial = cache_dir.join(format!(".{}.{}.part", file.name, std::process::id()));
        let result = download_verified(
            &agent, &url, &partial, &target, file, config, on_event, cancel,
        );
        if result.is_err() {
            // Best effort: the error being reported matters more than a leftover.
            let _ = std::fs::remove_file(&partial);
        }
        result?;
        on_event(&DownloadEvent::Done {
            file: file.name.clone(),
        });
    }
    Ok(cache_dir.to_path_buf())
}

#[allow(clippy::too_many_arguments)]
fn download_verified(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    target: &Path,
    file: &RemoteFile,
    config: &MirrorConfig,
    on_event: &mut dyn FnMut(&DownloadEvent),
    cancel: &AtomicBool,
) -> Result<()> {
    let mut attempt = 0;
    loop {
        match download_to(agent, url, partial, &file.name, on_event, cancel) {
            Ok(()) => break,
            Err(DataError::Http { .. }) if attempt < config.retries => {
                attempt += 1;
                // Back off a little before retrying a flaky network.
                std::thread::sleep(Duration::from_millis(500 * u64::from(attempt)));
            }
            Err(e) => return Err(e),
        }
    }
    let actual = sha256_uncompressed(partial)?;
    if actual != file.sha256 {
        return Err(DataError::ChecksumMismatch {
            path: target.to_path_buf(),
            url: url.to_string(),
            expected: file.sha256.clone(),
            actual,
        });
    }
    std::fs::rename(partial, target).map_err(|e| DataError::Write {
        path: target.to_path_buf(),
        source: e,
    })
}

fn download_to(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    name: &str,
    on_event: &mut dyn FnMut(&DownloadEvent),
    cancel: &AtomicBool,
) -> Result<()> {
    let http = |reason: String| DataError::Http {
        url: url.to_string(),
        reason,
    };
    let cancelled = || DataError::Cancelled {
        what: format!("downloading {url}"),
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => http(format!("the server answered HTTP {code}")),
        other => http(other.to_string()),
    })?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    on_event(&DownloadEvent::Started {
        file: name.to_string(),
        url: url.to_string(),
        total,
    });
    let mut body = response.into_body().into_reader();
    let write_err = |e| DataError::Write {
        path: partial.to_path_buf(),
        source: e,
    };
    let mut out = File::create(partial).map_err(write_err)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut received: u64 = 0;
    let mut last_report: u64 = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let n = body.read(&mut buf).map_err(|e| http(e.to_string()))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(write_err)?;
        received += n as u64;
        // A mirror that never stops sending is not allowed to fill the disk.
        if received > gz::MAX_DECOMPRESSED {
            return Err(http(format!(
                "the server sent more than {} for one file; refused",
                crate::error::human_bytes(gz::MAX_DECOMPRESSED)
            )));
        }
        if received - last_report >= 1 << 20 {
            last_report = received;
            on_event(&DownloadEvent::Progress {
                file: name.to_string(),
                received,
                total,
            });
        }
    }
    if let Some(total) = total {
        if received != total {
            return Err(http(format!(
                "connection closed after {received} of {total} bytes"
            )));
        }
    }
    out.sync_all().map_err(write_err)?;
    on_event(&DownloadEvent::Progress {
        file: name.to_string(),
        received,
        total,
    });
    Ok(())
}

/// Lowercase hex SHA-256 of the file's content, decompressed first when it is gzip.
///
/// The content is streamed through the hash (nothing is held) and refused past
/// [`gz::MAX_DECOMPRESSED`] bytes, so that a hostile mirror's gzip bomb costs neither
/// memory nor more than a bounded time.
pub fn sha256_uncompressed(path: &Path) -> Result<String> {
    sha256_uncompressed_capped(path, gz::MAX_DECOMPRESSED)
}

fn sha256_uncompressed_capped(path: &Path, cap: u64) -> Result<String> {
    let reader = gz::open_maybe_gz(path)?;
    let mut hasher = Sha256::new();
    let mut limited = reader.take(cap.saturating_add(1));
    let n = std::io::copy(&mut limited, &mut hasher).map_err(|e| DataError::Gzip {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if n > cap {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            limit: cap,
        });
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{gzip, idx_images_bytes, idx_labels_bytes};
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    /// A minimal HTTP/1.1 server on 127.0.0.1 serving `files` by path (`/name`), 404
    /// otherwise; counts the requests it answers. Lives until the test process ends.
    fn serve(files: HashMap<String, Vec<u8>>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Skip the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok() && line.trim() != "" {
                    line.clear();
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let path = request_line.split_whitespace().nth(1).unwrap_or("/");
                let (status, body) = match files.get(path.trim_start_matches('/')) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"not here".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: \
                     application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        (base, hits)
    }

    /// A tiny IDX dataset in the MNIST file layout, with a spec whose checksums are
    /// computed from the generated content.
    fn tiny_mnist() -> (HashMap<String, Vec<u8>>, DatasetSpec) {
        let contents = [
            (
                "train-images-idx3-ubyte.gz",
                idx_images_bytes(6, 4, 4, |i| (i * 5) as u8),
            ),
            (
                "train-labels-idx1-ubyte.gz",
                idx_labels_bytes(&[0, 1, 2, 0, 1, 2]),
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                idx_images_bytes(2, 4, 4, |i| (i * 3) as u8),
            ),
            ("t10k-labels-idx1-ubyte.gz", idx_labels_bytes(&[2, 1])),
        ];
        let files = contents
            .iter()
            .map(|(n, c)| (n.to_string(), gzip(c)))
            .collect();
        let spec = DatasetSpec {
            name: "tiny".into(),
            default_base_url: "http://127.0.0.1:9/unused/".into(),
            files: contents
                .iter()
                .map(|(n, c)| remote(n, &sha256_hex(c)))
                .collect(),
        };
        (files, spec)
    }

    #[test]
    fn round_trip_through_a_local_server_then_cache() {
        let (files, spec) = tiny_mnist();
        let (base, hits) = serve(files);
        let cache = tempfile::tempdir().unwrap();
        let config = MirrorConfig::default()
            .base_url(base.trim_end_matches('/'))
            .retries(0);
        let never = AtomicBool::new(false);
        let mut events = Vec::new();
        let dir = fetch_dataset(
            cache.path(),
            &spec,
            &config,
            &mut |e| events.push(e.clone()),
            &never,
        )
        .unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 4);
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, DownloadEvent::Done { .. }))
                .count(),
            4
        );
        let ds = crate::load_idx_dir(&dir, crate::IdxSubset::All).unwrap();
        assert_eq!(ds.len(), 8);
        assert_eq!(ds.labels, Some(vec![0, 1, 2, 0, 1, 2, 2, 1]));
        // No partial file left behind.
        let leftovers: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty());

        // Second run: everything is cached, no request.
        let mut events = Vec::new();
        fetch_dataset(
            cache.path(),
            &spec,
            &config,
            &mut |e| events.push(e.clone()),
            &never,
        )
        .unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 4);
        assert!(events
            .iter()
            .all(|e| matches!(e, DownloadEvent::Cached { .. })));

        // A damaged cached file is downloaded again.
        std::fs::write(cache.path().join("t10k-labels-idx1-ubyte.gz"), b"garbage").unwrap();
        fetch_dataset(cache.path(), &spec, &config, &mut |_| {}, &never).unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn checksum_mismatch_is_an_error_and_leaves_nothing() {
        let (mut files, spec) = tiny_mnist();
        // The mirror serves different labels than the checksums expect.
        files.insert(
            "train-labels-idx1-ubyte.gz".into(),
            gzip(&idx_labels_bytes(&[9, 9, 9, 9, 9, 9])),
        );
        let (base, _) = serve(files);
        let cache = tempfile::tempdir().unwrap();
        let config = MirrorConfig::default().base_url(base).retries(0);
        let never = AtomicBool::new(false);
        let err = fetch_dataset(cache.path(), &spec, &config, &mut |_| {}, &never).unwrap_err();
        assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("train-labels-idx1-ubyte.gz") && msg.contains("checksum mismatch"),
            "{msg}"
        );
        assert!(!cache.path().join("train-labels-idx1-ubyte.gz").exists());
        let names: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".part")), "{names:?}");
    }

    #[test]
    fn a_gzip_bomb_is_hashed_in_bounded_memory_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bomb.gz");
        {
            // Streamed out, so the test itself never holds the expanded content.
            let f = File::create(&p).unwrap();
            let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..8 {
                enc.write_all(&zeros).unwrap();
            }
            enc.finish().unwrap();
        }
        let err = sha256_uncompressed_capped(&p, 4 << 20).unwrap_err();
        assert!(matches!(err, DataError::TooLarge { .. }), "{err:?}");
        // Under the cap the streamed hash equals the hash of the bytes.
        let ok = sha256_uncompressed_capped(&p, 8 << 20).unwrap();
        assert_eq!(ok, sha256_hex(&vec![0u8; 8 << 20]));
    }

    #[test]
    fn http_error_names_the_url() {
        let (_, spec) = tiny_mnist();
        let (base, _) = serve(HashMap::new());
        let cache = tempfile::tempdir().unwrap();
        let config = MirrorConfig::default().base_url(base).retries(0);
        let never = AtomicBool::new(false);
        let err = fetch_dataset(cache.path(), &spec, &config, &mut |_| {}, &never).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::Http { .. }), "{err:?}");
        assert!(
            msg.contains("train-images-idx3-ubyte.gz") && msg.contains("404"),
            "{msg}"
        );
    }

    #[test]
    fn refused_connection_is_an_http_error() {
        let (_, spec) = tiny_mnist();
        // Bind then drop: nothing listens on that port any more.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cache = tempfile::tempdir().unwrap();
        let config = MirrorConfig::default()
            .base_url(format!("http://127.0.0.1:{port}/mnist"))
            .retries(0);
        let never = AtomicBool::new(false);
        let err = fetch_dataset(cache.path(), &spec, &config, &mut |_| {}, &never).unwrap_err();
        assert!(matches!(err, DataError::Http { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&format!(
                "127.0.0.1:{port}/mnist/train-images-idx3-ubyte.gz"
            )),
            "{err}"
        );
    }

    #[test]
    fn cancel_stops_before_writing() {
        let (files, spec) = tiny_mnist();
        let (base, _) = serve(files);
        let cache = tempfile::tempdir().unwrap();
        let config = MirrorConfig::default().base_url(base);
        let cancel = AtomicBool::new(true);
        let err = fetch_dataset(cache.path(), &spec, &config, &mut |_| {}, &cancel).unwrap_err();
        assert!(matches!(err, DataError::Cancelled { .. }));
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }

    #[test]
    fn real_mirrors_stay_in_the_code() {
        assert_eq!(mnist_spec().default_base_url, MNIST_BASE_URL);
        assert!(MNIST_BASE_URL.starts_with("https://"));
        assert_eq!(fashion_mnist_spec().files.len(), 4);
        if let Some(dir) = default_cache_dir("mnist") {
            assert!(dir.ends_with("deepclust/mnist"), "{}", dir.display());
        }
    }

    #[test]
    fn bad_config_is_rejected() {
        let config = MirrorConfig::default().base_url("ftp://example.org/");
        assert!(config.validate().is_err());
        assert!(MirrorConfig::default()
            .timeout(Duration::ZERO)
            .validate()
            .is_err());
    }

    /// The digests above match the development copies (skipped without them).
    #[test]
    fn shared_files_match_the_built_in_checksums() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        for (dir, spec) in [
            ("mnist", mnist_spec()),
            ("fashion-mnist", fashion_mnist_spec()),
        ] {
            let dir = root.join(dir);
            if !dir.is_dir() {
                eprintln!("skipping: {} not present", dir.display());
                continue;
            }
            // Only the small label files: hashing the image files takes seconds in debug.
            for file in spec.files.iter().filter(|f| f.name.contains("labels")) {
                assert_eq!(
                    sha256_uncompressed(&dir.join(&file.name)).unwrap(),
                    file.sha256
                );
            }
        }
    }
}
