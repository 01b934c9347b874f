//! Where a method's autoencoder comes from: the one rule for training, reusing and resuming.

use super::MethodError;
use crate::control::{Control, Progress, Stage};
use deepclust_data::Dataset;
use deepclust_nn::{Autoencoder, AutoencoderConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many epochs a resumed autoencoder trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeEpochs {
    /// This many more than it has done.
    More(usize),
    /// Until it has done this many in all (none when it already has).
    UpTo(usize),
}

/// The autoencoder of [`AeKMeans`](super::AeKMeans), [`Dec`](super::Dec) and
/// [`N2d`](super::N2d).
#[derive(Debug, Clone, PartialEq)]
pub enum AeSource {
    /// Train a new one; its first width must be the data's number of features.
    Train(AutoencoderConfig),
    /// Use the one saved in this folder as it is.
    Load(PathBuf),
    /// Continue the one saved in `dir` with its own settings and save it back there.
    Resume { dir: PathBuf, epochs: ResumeEpochs },
}

/// The autoencoder a method started from.
#[derive(Debug, Clone)]
pub struct Pretrained {
    pub autoencoder: Autoencoder,
    /// Seconds spent training it in this run (0 when loaded as it was).
    pub seconds: f64,
    /// Epochs trained in this run.
    pub epochs_trained: usize,
    /// Epochs it had before this run (`Load` and `Resume`).
    pub epochs_before: Option<usize>,
    /// Where it was saved in this run.
    pub saved_in: Option<PathBuf>,
}

impl AeSource {
    /// Reuse the autoencoder in `dir` and train it up to `config.epochs` in all, or train a
    /// new one from `config` (saved in `dir`, see [`AeSource::obtain`]) when `dir` holds none.
    pub fn resume_or_train(dir: &Path, config: AutoencoderConfig) -> AeSource {
        if dir.join("config.json").exists() {
            AeSource::Resume {
                dir: dir.to_path_buf(),
                epochs: ResumeEpochs::UpTo(config.epochs),
            }
        } else {
            AeSource::Train(config)
        }
    }

    /// The autoencoder for `train`: trained (with `val`'s loss reported each epoch), loaded or
    /// resumed. A model trained here is saved in `save_to` (`Resume`: its own folder unless
    /// `save_to` is given), also when the cancel flag stops it, so it can be resumed; a
    /// `Train` into a folder that already holds a model is refused.
    pub fn obtain(
        &self,
        train: &Dataset,
        val: Option<&Dataset>,
        save_to: Option<&Path>,
        control: &Control,
    ) -> Result<Pretrained, MethodError> {
        let (mut autoencoder, before, save_to, dir) = match self {
            AeSource::Train(config) => {
                if let Some(dir) = save_to {
                    if dir.join("config.json").exists() {
                        return Err(MethodError::AlreadyExists(dir.to_path_buf()));
                    }
                }
                (Autoencoder::new(config.clone())?, None, save_to, None)
            }
            AeSource::Load(dir) => {
                let ae = Autoencoder::load(dir).map_err(|e| MethodError::load(dir, e))?;
                let before = ae.epochs_done();
                check_input(&ae, train, Some(dir))?;
                return Ok(Pretrained {
                    autoencoder: ae,
                    seconds: 0.0,
                    epochs_trained: 0,
                    epochs_before: Some(before),
                    saved_in: None,
                });
            }
            AeSource::Resume { dir, epochs } => {
                let mut ae = Autoencoder::load(dir).map_err(|e| MethodError::load(dir, e))?;
                let done = ae.epochs_done();
                let mut config = ae.config().clone();
                config.epochs = match *epochs {
                    ResumeEpochs::More(n) => n,
                    ResumeEpochs::UpTo(n) => n.saturating_sub(done),
                };
                ae.set_training(config)?;
                (
                    ae,
                    Some(done),
                    Some(save_to.unwrap_or(dir)),
                    Some(dir.as_path()),
                )
            }
        };
        check_input(&autoencoder, train, dir)?;
        let epochs = autoencoder.config().epochs;
        if epochs == 0 {
            return Ok(Pretrained {
                autoencoder,
                seconds: 0.0,
                epochs_trained: 0,
                epochs_before: before,
                saved_in: None,
            });
        }
        control.report(Progress::Started {
            stage: Stage::Autoencoder,
            total: epochs,
        });
        let start = Instant::now();
        let outcome = autoencoder.train(
            train.features.view(),
            val.map(|v| v.features.view()),
            &mut |r| control.report(Progress::Epoch(r)),
            control.cancel_flag(),
        )?;
        let seconds = start.elapsed().as_secs_f64();
        if let Some(dir) = save_to {
            autoencoder
                .save(dir)
                .map_err(|e| MethodError::save(dir, e))?;
        }
        if outcome.cancelled {
            return Err(MethodError::Interrupted {
                stage: Stage::Autoencoder,
                completed: outcome.epochs_completed,
                saved_to: save_to.map(Path::to_path_buf),
            });
        }
        control.report(Progress::Finished {
            stage: Stage::Autoencoder,
            seconds,
        });
        Ok(Pretrained {
            autoencoder,
            seconds,
            epochs_trained: outcome.epochs_completed,
            epochs_before: before,
            saved_in: save_to.map(Path::to_path_buf),
        })
    }
}

fn check_input(ae: &Autoencoder, data: &Dataset, dir: Option<&Path>) -> Result<(), MethodError> {
    let expected = ae.config().input_dim();
    if expected != data.dim() {
        return Err(MethodError::InputMismatch {
            dir: dir.map(Path::to_path_buf),
            expected,
            found: data.dim(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(epochs: usize) -> AutoencoderConfig {
        AutoencoderConfig::default()
            .dims(vec![64, 16, 4])
            .epochs(epochs)
            .batch_size(32)
            .seed(1)
    }

    #[test]
    fn train_then_resume_up_to_equals_one_longer_run_and_load_reuses_it() {
        let ds = deepclust_data::synthetic::digits(120, 0);
        let ds = ds.select(&(0..120).collect::<Vec<_>>());
        let ds = Dataset::from_features(
            ds.features.slice(ndarray::s![.., ..64]).to_owned(),
            None,
            "digits",
        )
        .expect("dataset");
        let dir = tempfile::tempdir().expect("tempdir");
        let ctl = Control::none();
        let first = AeSource::Train(config(2))
            .obtain(&ds, None, Some(dir.path()), &ctl)
            .expect("train");
        assert_eq!(first.epochs_trained, 2);
        // A second Train into the same folder is refused: it would overwrite the model.
        let again = AeSource::Train(config(2)).obtain(&ds, None, Some(dir.path()), &ctl);
        assert!(matches!(again, Err(MethodError::AlreadyExists(_))));
        let resumed = AeSource::resume_or_train(dir.path(), config(3))
            .obtain(&ds, None, None, &ctl)
            .expect("resume");
        assert_eq!(resumed.epochs_before, Some(2));
        assert_eq!(resumed.epochs_trained, 1);
        let straight = AeSource::Train(config(3))
            .obtain(&ds, None, None, &ctl)
            .expect("straight");
        let a = resumed.autoencoder.encode(ds.features.view()).expect("a");
        let b = straight.autoencoder.encode(ds.features.view()).expect("b");
        assert_eq!(a, b, "resuming to 3 epochs must equal 3 epochs in one go");
        let loaded = AeSource::Load(dir.path().into())
            .obtain(&ds, None, None, &ctl)
            .expect("load");
        assert_eq!(loaded.epochs_before, Some(3));
        assert_eq!(loaded.epochs_trained, 0);
        let wide =
            Dataset::from_features(ndarray::Array2::zeros((4, 65)), None, "wide").expect("ds");
        let mismatch = AeSource::Load(dir.path().into()).obtain(&wide, None, None, &ctl);
        assert!(matches!(
            mismatch,
            Err(MethodError::InputMismatch {
                expected: 64,
                found: 65,
                ..
            })
        ));
    }
}
