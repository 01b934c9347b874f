//! End-to-end tests of the `deepclust` binary (one test binary keeps link time down).

mod catalog;
mod demo;
mod faults;
mod kmeans;
mod mnist;
mod models;
mod organize;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

/// Runs the binary. The user's model cache is hidden (DEEPCLUST_MODELS points nowhere) so a
/// developer's downloaded models do not change what a test sees; tests that want the models
/// pass `--models`.
pub fn deepclust(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepclust"))
        .args(args)
        .env("DEEPCLUST_MODELS", "/nonexistent/deepclust-test-models")
        .output()
        .expect("the deepclust binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `root` (not following symbolic links): relative path -> (its bytes, its
/// modification time). Equal before and after a run: no original was touched.
pub fn originals(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("inside").to_path_buf();
                let bytes = std::fs::read(&path).expect("read");
                out.insert(rel, (bytes, meta.modified().expect("mtime")));
            }
        }
    }
    out
}

/// Every symbolic link under `dir`: relative path -> its target.
pub fn link_tree(dir: &Path) -> BTreeMap<PathBuf, PathBuf> {
    let mut links = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.file_type().is_symlink() {
                let rel = path.strip_prefix(dir).expect("inside").to_path_buf();
                links.insert(rel, std::fs::read_link(&path).expect("readlink"));
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    links
}

/// The workspace root (this crate lives in `crates/deepclust-cli`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/<rel>` beside the project root, or `None` (with a message) when absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = project_root().join("../shared").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipping: {} is not present (shared data lives beside the project)",
            p.display()
        );
        None
    }
}
