//! `deepclust download`: fetch MNIST / Fashion-MNIST with checksums, into a cache folder.

use crate::choice::one_of;
use crate::cli::{log_line, progress_bar};
use anyhow::{Context, Result};
use clap::Args;
use deepclust::data::download::{fetch_dataset, DownloadEvent, KnownDataset, MirrorConfig};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// Which dataset.
    #[arg(value_parser = one_of(KnownDataset::CHOICES))]
    pub dataset: KnownDataset,
    /// Folder to store the files in (kept as a cache: valid files are not fetched again).
    #[arg(long, default_value = "data")]
    pub dir: PathBuf,
    /// Mirror to download from (the file names are appended); default: the dataset's usual mirror.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

pub fn run(args: &DownloadArgs, cancel: Arc<AtomicBool>) -> Result<()> {
    let (spec, sub) = (args.dataset.spec(), args.dataset.folder());
    let mut config = MirrorConfig::default();
    if let Some(url) = &args.base_url {
        config = config.base_url(url);
    }
    let target = args.dir.join(sub);
    let bar = progress_bar(0, "bytes");
    let folder = fetch_dataset(
        &target,
        &spec,
        &config,
        &mut |event| match event {
            DownloadEvent::Cached { file } => {
                log_line(&bar, format!("{file}: already cached, checksum ok"))
            }
            DownloadEvent::Started { file, url, total } => {
                bar.set_message(file.clone());
                bar.set_length(total.unwrap_or(0));
                bar.set_position(0);
                log_line(&bar, format!("downloading {url}"));
            }
            DownloadEvent::Progress { received, .. } => bar.set_position(*received),
            DownloadEvent::Done { file } => {
                log_line(&bar, format!("{file}: downloaded, checksum ok"))
            }
        },
        &cancel,
    )
    .with_context(|| format!("downloading into {}", target.display()))?;
    bar.finish_and_clear();
    outln!(
        "ready: {} (use --data {})",
        folder.display(),
        folder.display()
    );
    Ok(())
}
