//! Deep clustering training core for deepclust: a small, exact dense-layer engine
//! (forward/backward of dense layers, ReLU, MSE, Adam, SGD with momentum) on one GEMM seam
//! ([`gemm`]), and on top of it the autoencoder, DEC and IDEC.
//!
//! The library never prints: long work reports progress through a callback and stops when
//! an `&AtomicBool` becomes true.

pub mod augment;
pub mod autoencoder;
pub mod clustering;
pub mod dec;
pub mod error;
pub mod gemm;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod optim;
pub mod weights;

pub use augment::Augmentation;
pub use autoencoder::{
    train_autoencoder, Autoencoder, AutoencoderConfig, EpochReport, TrainOutcome,
};
pub use dec::{run_dec, run_idec, DecConfig, DecModel, DecOutcome, DecReport, StopReason};
pub use deepclust_metrics::Scores;
pub use error::{NnError, Result};
pub use init::Initializer;
pub use mlp::{Activation, Mlp, Workspace};
pub use optim::{Optimizer, OptimizerState};
