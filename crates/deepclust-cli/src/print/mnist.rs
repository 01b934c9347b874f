//! What `mnist` prints: its configuration, each step of the walkthrough as it happens (and
//! the reports of its final methods), and the results table beside the tutorial's numbers.

use crate::cli::{print_n2d_details, print_scores};
use crate::report::{ae_curve, write_dec_report, ReportArgs, RunRecord};
use anyhow::Result;
use deepclust::experiment::mnist::{self, MnistEvent, ResultRow};

pub fn config(plan: &mnist::MnistPlan) {
    let ae = &plan.autoencoder;
    let dec_text = plan.dec.as_ref().map_or("DEC skipped".to_string(), |d| {
        format!(
            "DEC alpha 1, update interval {}, tol {}, maxiter {}, SGD lr {} momentum 0.9",
            d.update_interval, d.tol, d.maxiter, d.lr
        )
    });
    let n2d_text = if plan.protocols == [mnist::Protocol::Split] {
        "N2D skipped (UMAP cannot place validation images)"
    } else {
        "N2D: UMAP n_neighbors 20, min_dist 0, 10 components, then a full-covariance Gaussian mixture"
    };
    let augment = ae.augmentation.as_ref().map_or("no augmentation".to_string(), |a| {
        format!(
            "augmentation (DEC-DA): shifts up to {} of the size, rotations up to {} degrees, in pretraining and DEC",
            a.max_shift, a.max_rotation_degrees
        )
    });
    outln!(
        "config: autoencoder {} {} lr {} batch {} for {} epochs, seed {}; {augment}; {dec_text}; {n2d_text}; K-Means n_init 10 (raw) / 20 (codes)",
        ae.dims.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"),
        match ae.optimizer {
            deepclust::nn::Optimizer::Adam { .. } => "Adam",
            _ => "Sgd",
        },
        ae.lr,
        ae.batch_size,
        ae.epochs,
        plan.seed,
    );
}

/// Prints what the walkthrough reports and writes the reports of its final methods.
pub fn event(event: MnistEvent<'_>, report: &ReportArgs) -> Result<()> {
    match event {
        MnistEvent::Protocol {
            name,
            fitted,
            scored,
        } => outln!(
            "\n== protocol: {name} ({} fitted{})",
            fitted.len(),
            if std::ptr::eq(fitted, scored) {
                String::new()
            } else {
                format!(", {} scored", scored.len())
            }
        ),
        MnistEvent::FoundAutoencoder { dir, epochs_done } => outln!(
            "found an autoencoder in {} after {epochs_done} epochs",
            dir.display()
        ),
        MnistEvent::Autoencoder(p) => outln!("autoencoder training {:.1} s", p.seconds),
        MnistEvent::Scored {
            row,
            predictions,
            scored,
        } => {
            print_scores(&row.method, scored.labels.as_deref(), predictions)?;
        }
        MnistEvent::N2d {
            fitted,
            params,
            pretrained,
            data,
            is_final,
        } => {
            print_n2d_details(&fitted.details, fitted.clustering.n_clusters);
            if is_final {
                let d = &fitted.details;
                let confidence = fitted
                    .clustering
                    .confidence
                    .as_ref()
                    .map(|(c, n)| (c.as_slice(), *n));
                report
                    .for_subfolder("full")
                    .write_if_requested(&RunRecord {
                        confidence,
                        embedding: Some((
                            fitted.model.layout.view(),
                            "UMAP of the autoencoder code",
                        )),
                        timings: vec![
                            ("autoencoder".into(), pretrained.seconds),
                            ("UMAP".into(), d.umap_seconds),
                            ("mixture".into(), d.gmm_seconds),
                        ],
                        ae_curve: ae_curve(&pretrained.autoencoder),
                        ..RunRecord::new(
                            format!("N2D on {}", data.source),
                            data,
                            &fitted.clustering.labels,
                            serde_json::to_value(params)?,
                            params.seed,
                        )
                    })?;
            }
        }
        MnistEvent::Dec {
            protocol,
            fitted,
            predictions,
            scored,
            ae_seconds,
        } => {
            let outcome = &fitted.details.outcome;
            outln!(
                "DEC: {} steps ({:?}), {:.1} s",
                outcome.iterations,
                outcome.stop,
                outcome.seconds
            );
            let sub = match protocol {
                mnist::Protocol::Split => "split",
                _ => "full",
            };
            write_dec_report(
                &report.for_subfolder(sub),
                &fitted.model,
                outcome,
                scored,
                predictions,
                ae_seconds,
            )?;
        }
    }
    Ok(())
}

/// The results table with the tutorial's number beside each row it printed one for.
pub fn table_beside_the_tutorial(rows: &[ResultRow]) {
    outln!("| method | protocol | NMI | ACC | ARI | time (s) | tutorial NMI |\n|---|---|---|---|---|---|---|");
    for r in rows {
        let tutorial = r
            .tutorial_nmi()
            .map_or("-".to_string(), |v| format!("{v:.4}"));
        let scores = r.scores.map_or("- | - | -".to_string(), |s| {
            format!("{:.4} | {:.4} | {:.4}", s.nmi, s.acc, s.ari)
        });
        outln!(
            "| {} | {} | {scores} | {:.1} | {tutorial} |",
            r.method,
            r.protocol,
            r.seconds
        );
    }
}
