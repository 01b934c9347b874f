//! End-to-end tests of the `deepclust` binary (one test binary keeps link time down).

mod catalog;
mod demo;
mod faults;
mod kmeans;
mod mnist;
mod models;
mod organize;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
