//! How a caller steers a long fit: a cancel flag checked between steps, and typed progress.
//!
//! Every [`Method`](crate::method::Method) takes a [`Control`]. The command line turns the
//! progress into bars; a Python binding into a callback; a test ignores it
//! ([`Control::none`]).

use deepclust_cluster::{GmmProgress, KMeansProgress};
use deepclust_manifold::UmapProgress;
use deepclust_nn::{DecReport, EpochReport};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

/// A step of a run, as its progress names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Autoencoder training (epochs).
    Autoencoder,
    /// K-Means (restarts): on raw features, or on a code.
    KMeans,
    /// Mini-batch K-Means (steps).
    MiniBatchKMeans,
    /// A Gaussian mixture (restarts).
    Mixture,
    /// UMAP (its own stages: neighbours, graph, layout).
    Umap,
    /// DEC fine-tuning (gradient steps).
    Dec,
    /// IDEC fine-tuning (gradient steps).
    Idec,
    /// The photo organizer (its own stages inside).
    Organize,
}

impl Stage {
    /// The stage's name as the tables and logs print it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Autoencoder => "autoencoder",
            Stage::KMeans => "K-Means",
            Stage::MiniBatchKMeans => "mini-batch K-Means",
            Stage::Mixture => "mixture",
            Stage::Umap => "UMAP",
            Stage::Dec => "DEC",
            Stage::Idec => "IDEC",
            Stage::Organize => "organize",
        }
    }
}

/// One report of a running fit.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A stage starts; `total` is its number of steps (epochs, restarts, gradient steps, or
    /// mini-batch steps), an upper bound where it may stop early.
    Started { stage: Stage, total: usize },
    /// An autoencoder epoch ended.
    Epoch(EpochReport),
    /// A K-Means iteration ended (also mini-batch K-Means, whose `iteration` counts steps).
    KMeans {
        stage: Stage,
        report: KMeansProgress,
    },
    /// A mixture EM iteration ended.
    Mixture(GmmProgress),
    /// UMAP advanced.
    Umap(UmapProgress),
    /// DEC/IDEC recomputed its target distribution.
    Dec { stage: Stage, report: DecReport },
    /// A stage ended after `seconds`.
    Finished { stage: Stage, seconds: f64 },
    /// The organizer advanced (its stages are named: scan, autoencoder, link).
    Organize(deepclust_gallery::Progress),
}

impl Progress {
    /// The stage this report belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            Progress::Started { stage, .. }
            | Progress::KMeans { stage, .. }
            | Progress::Dec { stage, .. }
            | Progress::Finished { stage, .. } => *stage,
            Progress::Epoch(_) => Stage::Autoencoder,
            Progress::Mixture(_) => Stage::Mixture,
            Progress::Umap(_) => Stage::Umap,
            Progress::Organize(_) => Stage::Organize,
        }
    }
}

/// The receiver of [`Progress`]; `Sync` so that a fit may run on another thread than the
/// caller (a Python binding that released the GIL).
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Sync);

static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);

fn ignore(_: &Progress) {}

/// Cancel flag + progress receiver of one run.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    cancel: &'a AtomicBool,
    progress: ProgressFn<'a>,
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl<'a> Control<'a> {
    /// A run stopped when `cancel` becomes true (checked between steps); no progress.
    pub fn new(cancel: &'a AtomicBool) -> Self {
        Control {
            cancel,
            progress: &ignore,
        }
    }

    /// A run that is never cancelled and reports nothing.
    pub fn none() -> Control<'static> {
        Control::new(&NEVER_CANCELLED)
    }

    /// The same control, reporting to `progress`.
    pub fn with_progress(self, progress: ProgressFn<'a>) -> Self {
        Control { progress, ..self }
    }

    /// The flag the engines check between steps.
    pub fn cancel_flag(&self) -> &'a AtomicBool {
        self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Sends one report.
    pub fn report(&self, progress: Progress) {
        (self.progress)(&progress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn reports_reach_the_receiver_in_order_and_name_their_stage() {
        let seen = Mutex::new(Vec::new());
        let receiver = |p: &Progress| seen.lock().expect("lock").push(p.stage());
        let flag = AtomicBool::new(false);
        let control = Control::new(&flag).with_progress(&receiver);
        control.report(Progress::Started {
            stage: Stage::Dec,
            total: 3,
        });
        control.report(Progress::Finished {
            stage: Stage::Umap,
            seconds: 1.0,
        });
        assert_eq!(*seen.lock().expect("lock"), vec![Stage::Dec, Stage::Umap]);
        assert!(!control.is_cancelled());
        flag.store(true, Ordering::Relaxed);
        assert!(control.is_cancelled());
        assert!(!Control::none().is_cancelled());
    }
}
