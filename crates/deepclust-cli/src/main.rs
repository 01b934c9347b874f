//! The `deepclust` command line: parses arguments, calls the library, prints results.
//! Every algorithm lives in the library crates; nothing here computes anything of its own.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

#[macro_use]
mod output;
mod choice;
mod cli;
mod commands;
mod exit;
mod method_args;
mod print;
mod progress;
mod report;

/// Unsupervised deep clustering of images, and a photo-gallery organizer built on it.
///
/// Start with `deepclust demo` (no data needed). Then cluster your own data, e.g.
/// `deepclust kmeans --data ../shared/data/mnist --k 10`.
#[derive(Parser)]
#[command(
    name = "deepclust",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = exit::HELP
)]
struct Cli {
    /// No progress bars and no log lines on stderr (errors and warnings still show).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print the result as one JSON document on stdout (the human report goes to stderr);
    /// supported by kmeans, train-ae, dec, idec, n2d, organize and models.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The product in a minute, offline: a generated phone-style library organized by date,
    /// event, place and content, then deep clustering vs K-Means on generated digits.
    Demo(commands::demo::DemoArgs),
    /// K-Means on raw features (pixels): k-means++ restarts, prints NMI/ACC/ARI when labels exist.
    Kmeans(commands::kmeans::KmeansArgs),
    /// Train an autoencoder (default 784-500-500-2000-10) and save it for dec/idec.
    TrainAe(commands::train_ae::TrainAeArgs),
    /// DEC: fine-tune an autoencoder's encoder with a Student's t clustering layer.
    Dec(commands::dec::DecCommandArgs),
    /// IDEC: DEC that keeps the reconstruction loss (MSE + gamma x KL).
    Idec(IdecArgs),
    /// N2D: autoencoder code -> UMAP -> Gaussian mixture; `--k auto` picks k by silhouette.
    N2d(commands::n2d::N2dArgs),
    /// The MNIST walkthrough: K-Means raw, AE + K-Means, DEC, on the 70/30 split and on all 70,000.
    Mnist(commands::mnist::MnistArgs),
    /// Organize a photo folder by date, event, place and content into a separate tree of
    /// links (originals are never modified, moved or deleted).
    Organize(commands::organize::OrganizeArgs),
    /// Write an organized folder's catalogue (photo ids, paths, signals, embeddings) as
    /// Parquet, e.g. for Spark MLlib.
    Export(commands::export::ExportArgs),
    /// Read cluster ids computed elsewhere (CSV or Parquet: path, cluster) into an organized
    /// folder's catalogue.
    ImportClusters(commands::import_clusters::ImportClustersArgs),
    /// Download MNIST or Fashion-MNIST (checksums verified, cached) for use with --data.
    Download(commands::download::DownloadArgs),
    /// Show which content models (image embedding, text and face detectors) are present, and
    /// install or fetch them (sha256 verified).
    Models(commands::models::ModelsArgs),
}

#[derive(clap::Args)]
struct IdecArgs {
    #[command(flatten)]
    inner: commands::dec::DecCommandArgs,
    /// Weight of the clustering loss: total = MSE + gamma x KL.
    #[arg(long, default_value_t = 0.1)]
    gamma: f32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::set_mode(output::OutputMode {
        quiet: cli.quiet,
        json: cli.json,
    });
    if cli.json
        && !matches!(
            cli.command,
            Command::Kmeans(_)
                | Command::Organize(_)
                | Command::Models(_)
                | Command::TrainAe(_)
                | Command::Dec(_)
                | Command::Idec(_)
                | Command::N2d(_)
        )
    {
        eprintln!(
            "error: --json is supported by kmeans, train-ae, dec, idec, n2d, organize and models"
        );
        return ExitCode::from(exit::USAGE as u8);
    }
    let cancel = cli::install_ctrl_c();
    let result = match &cli.command {
        Command::Demo(args) => commands::demo::run(args, &cancel),
        Command::Kmeans(args) => commands::kmeans::run(args, cancel.clone()),
        Command::TrainAe(args) => commands::train_ae::run(args, &cancel),
        Command::Dec(args) => commands::dec::run(args, None, &cancel),
        Command::Idec(args) => commands::dec::run(&args.inner, Some(args.gamma), &cancel),
        Command::N2d(args) => commands::n2d::run(args, &cancel),
        Command::Mnist(args) => commands::mnist::run(args, &cancel),
        Command::Organize(args) => commands::organize::run(args, cancel.clone()),
        Command::Download(args) => commands::download::run(args, cancel.clone()),
        Command::Models(args) => commands::models::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::ImportClusters(args) => commands::import_clusters::run(args),
    };
    let interrupted = cancel.load(Ordering::SeqCst);
    match result {
        Ok(()) if interrupted => ExitCode::from(exit::INTERRUPTED as u8),
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", exit::message(&err));
            ExitCode::from(exit::code(&err, interrupted) as u8)
        }
    }
}
