//! The `deepclust` command line: parses arguments, calls the library, prints results.
//! Every algorithm lives in the library crates; nothing here computes anything of its own.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;
mod commands;

/// Unsupervised deep clustering of images, and a photo-gallery organizer built on it.
///
/// Start with `deepclust demo` (no data needed). Then cluster your own data, e.g.
/// `deepclust kmeans --data ../shared/data/mnist --k 10`.
#[derive(Parser)]
#[command(name = "deepclust", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Cluster a generated set of 28x28 digits with K-Means and print the scores (no data or
    /// network needed; a quick check that everything works).
    Demo(commands::demo::DemoArgs),
    /// K-Means on raw features (pixels): k-means++ restarts, prints NMI/ACC/ARI when labels exist.
    Kmeans(commands::kmeans::KmeansArgs),
    /// Download MNIST or Fashion-MNIST (checksums verified, cached) for use with --data.
    Download(commands::download::DownloadArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = cli::install_ctrl_c();
    let result = match &cli.command {
        Command::Demo(args) => commands::demo::run(args, cancel),
        Command::Kmeans(args) => commands::kmeans::run(args, cancel),
        Command::Download(args) => commands::download::run(args, cancel),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
