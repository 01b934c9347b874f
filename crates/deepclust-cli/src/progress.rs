//! The library's typed progress as terminal bars: one bar per stage (rate and ETA), log
//! lines above it for autoencoder epochs and DEC updates.

use crate::cli::{log_line, progress_bar};
use deepclust::control::{Progress, Stage};
use indicatif::ProgressBar;
use std::sync::Mutex;

/// Receives a run's [`Progress`]; pass `&|p| bars.update(p)` in a `Control`.
#[derive(Default)]
pub struct MethodBars {
    current: Mutex<Option<(Stage, ProgressBar)>>,
    /// Shown on the K-Means bar (the MNIST walkthrough names what is clustered).
    kmeans_label: Option<&'static str>,
    /// Bars only: no log line per epoch or DEC update (the demo's short table).
    quiet_steps: bool,
}

impl MethodBars {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bars whose K-Means stage is called `label`.
    pub fn with_kmeans_label(label: &'static str) -> Self {
        MethodBars {
            current: Mutex::new(None),
            kmeans_label: Some(label),
            quiet_steps: false,
        }
    }

    /// Bars without a log line per epoch or DEC update.
    pub fn bars_only() -> Self {
        MethodBars {
            current: Mutex::new(None),
            kmeans_label: None,
            quiet_steps: true,
        }
    }

    pub fn update(&self, p: &Progress) {
        let Ok(mut slot) = self.current.lock() else {
            return;
        };
        match p {
            Progress::Started { stage, total } => {
                if let Some((_, old)) = slot.take() {
                    old.finish_and_clear();
                }
                let (unit, message) = match stage {
                    Stage::Autoencoder => ("epochs", "autoencoder".to_string()),
                    Stage::KMeans => (
                        "restarts",
                        self.kmeans_label.unwrap_or("k-means").to_string(),
                    ),
                    Stage::MiniBatchKMeans => ("steps", "mini-batch k-means".to_string()),
                    Stage::Mixture => ("restarts", "mixture".to_string()),
                    Stage::Umap => ("steps", "UMAP".to_string()),
                    Stage::Dec | Stage::Idec => ("steps", dec_name(*stage).to_string()),
                    Stage::Organize => ("files", "organize".to_string()),
                };
                let bar = progress_bar(*total as u64, unit);
                bar.set_message(message);
                *slot = Some((*stage, bar));
            }
            Progress::Finished { .. } => {
                if let Some((_, bar)) = slot.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {
                let Some((_, bar)) = slot.as_ref() else {
                    return;
                };
                show(bar, p, !self.quiet_steps);
            }
        }
    }

    /// Clears a bar left by a run that ended in an error.
    pub fn finish(&self) {
        if let Ok(mut slot) = self.current.lock() {
            if let Some((_, bar)) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

impl Drop for MethodBars {
    fn drop(&mut self) {
        self.finish();
    }
}

fn dec_name(stage: Stage) -> &'static str {
    if stage == Stage::Idec {
        "idec"
    } else {
        "dec"
    }
}

fn show(bar: &ProgressBar, p: &Progress, log_steps: bool) {
    match p {
        Progress::Epoch(r) => {
            bar.inc(1);
            let val = r
                .val_loss
                .map_or(String::new(), |v| format!(", val {v:.5}"));
            bar.set_message(format!(
                "loss {:.5}{val}, {:.0} samples/s",
                r.train_loss, r.samples_per_second
            ));
            if !log_steps {
                return;
            }
            log_line(
                bar,
                format!(
                    "epoch {:>4}: train loss {:.6}{val} ({:.1} s, {:.0} samples/s)",
                    r.epoch, r.train_loss, r.seconds, r.samples_per_second
                ),
            );
        }
        Progress::KMeans {
            stage: Stage::MiniBatchKMeans,
            report,
        } => bar.set_position(report.iteration as u64),
        Progress::KMeans { report, .. } => {
            bar.set_position(report.run as u64);
            bar.set_message(format!(
                "iteration {:>3}, inertia {:.5e}",
                report.iteration, report.inertia
            ));
        }
        Progress::Mixture(m) => bar.set_position(m.run as u64),
        Progress::Umap(u) => {
            bar.set_length(u.total as u64);
            bar.set_position(u.step as u64);
            bar.set_message(format!("UMAP {:?}", u.stage));
        }
        Progress::Dec { stage, report: r } => {
            bar.set_position(r.iter as u64);
            let scores = r.scores.map_or(String::new(), |s| format!(", {s}"));
            if !log_steps {
                return;
            }
            let loss = r.loss.map_or(String::new(), |l| format!(", loss {l:.5}"));
            log_line(
                bar,
                format!(
                    "{} step {:>6}: changed {:.4}{loss}{scores}",
                    dec_name(*stage),
                    r.iter,
                    r.delta_label
                ),
            );
        }
        Progress::Organize(o) => {
            bar.set_length(o.total as u64);
            bar.set_position(o.done as u64);
        }
        Progress::Started { .. } | Progress::Finished { .. } => {}
    }
}
