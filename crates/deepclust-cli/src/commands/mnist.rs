//! `deepclust mnist`: the tutorial's walkthrough end to end (the library's
//! `experiment::mnist`), printed as it runs and as one table beside the tutorial's numbers.

use crate::choice::one_of;
use crate::cli::describe;
use crate::method_args::AugmentArgs;
use crate::progress::MethodBars;
use crate::report::ReportArgs;
use anyhow::{bail, Result};
use clap::Args;
use deepclust::control::Control;
use deepclust::experiment::mnist::{self, MnistParams, Preset};
use deepclust::nn::Optimizer;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Args, Debug)]
pub struct MnistArgs {
    /// The MNIST IDX folder (get it with `deepclust download mnist`).
    #[arg(long, default_value = "../shared/data/mnist")]
    pub data: PathBuf,
    /// The tutorial's comparison in under 5 minutes on 2 cores (measured): its 70/30 split of
    /// all 70,000 images, 24 autoencoder epochs with DEC-DA augmentation, DEC-DA up to 420 steps.
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// The long schedule: all 70,000 images, 200 autoencoder epochs (Adam), DEC to convergence
    /// (about 45 minutes per protocol on 2 cores; 100 epochs already give DEC ACC 0.88 / NMI 0.86).
    #[arg(long, conflicts_with = "best")]
    pub full: bool,
    /// The best method here, N2D, on all 70,000 images: autoencoder 30 epochs (Adam), then
    /// UMAP + Gaussian mixture on the code (about 15 minutes on 2 cores); DEC is skipped.
    #[arg(long, conflicts_with = "quick")]
    pub best: bool,
    /// Default: `split` with --quick, else `both`.
    #[arg(long, value_parser = one_of(mnist::Protocol::CHOICES))]
    pub protocol: Option<mnist::Protocol>,
    /// Autoencoder epochs (overrides the preset).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Maximum DEC steps (overrides the preset).
    #[arg(long)]
    pub dec_maxiter: Option<usize>,
    /// Use only the first N images (overrides the preset).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Autoencoder widths after the input, the last is the code (overrides the preset's
    /// 500,500,2000,10).
    #[arg(long, value_delimiter = ',')]
    pub dims: Option<Vec<usize>>,
    /// Autoencoder optimizer (overrides the preset).
    #[arg(long, value_parser = one_of(Optimizer::CHOICES))]
    pub optimizer: Option<Optimizer>,
    /// Autoencoder learning rate (overrides the preset).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Autoencoder batch size (overrides the preset).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Seed of everything.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// N2D restarts (UMAP + mixture per seed; the consensus run is kept, no labels used).
    #[arg(long, default_value_t = 1)]
    pub n2d_restarts: usize,
    /// DEC-DA: shifts and rotations in autoencoder pretraining and DEC.
    #[command(flatten)]
    pub augment: AugmentArgs,
    /// Folder for the models and results (an autoencoder found there is reused or resumed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// HTML report of the final method (DEC, or N2D with --best) per protocol, in
    /// DIR/split and DIR/full.
    #[command(flatten)]
    pub report: ReportArgs,
}

fn params(args: &MnistArgs) -> MnistParams {
    let preset = match (args.full, args.best, args.quick) {
        (true, _, _) => Preset::Full,
        (_, true, _) => Preset::Best,
        (_, _, true) => Preset::Quick,
        _ => Preset::Default,
    };
    MnistParams {
        preset,
        protocol: args.protocol,
        epochs: args.epochs,
        dec_maxiter: args.dec_maxiter,
        limit: args.limit,
        dims: args.dims.clone(),
        optimizer: args.optimizer,
        lr: args.lr,
        batch_size: args.batch_size,
        seed: args.seed,
        n2d_restarts: args.n2d_restarts,
        augment: args.augment.augment,
        augment_shift: args.augment.augment_shift,
        augment_rotation: args.augment.augment_rotation,
        out: args.out.clone(),
    }
}

pub fn run(args: &MnistArgs, cancel: &AtomicBool) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::cli::check_writable(dir)?;
    }
    let plan = params(args).plan()?;
    if !args.data.exists() {
        bail!(
            "{} does not exist: download MNIST with `deepclust download mnist --dir data` and pass --data data/mnist",
            args.data.display()
        );
    }
    let ds = mnist::load(&args.data, plan.limit)?;
    outln!("data: {}", describe(&ds));
    crate::print::mnist::config(&plan);
    let bars = MethodBars::with_kmeans_label("K-Means, raw pixels");
    let progress = |p: &_| bars.update(p);
    let control = Control::new(cancel).with_progress(&progress);
    let mut report_error = None;
    let rows = mnist::run(&plan, &ds, &control, &mut |event| {
        if let Err(e) = crate::print::mnist::event(event, &args.report) {
            report_error.get_or_insert(e);
        }
    })?;
    drop(bars);
    if let Some(e) = report_error {
        return Err(e);
    }
    outln!();
    crate::print::mnist::table_beside_the_tutorial(&rows);
    if let Some(dir) = &args.out {
        outln!("\nresults saved in {}", dir.join("results.json").display());
    }
    Ok(())
}
