//! Exit statuses and how an error is told to the user.

/// Bad usage: unknown flag, bad or inconsistent parameter value.
pub const USAGE: i32 = 2;
/// Bad data or a failed run: unreadable, corrupt or unsuitable input, a write that failed.
pub const DATA_ERROR: i32 = 1;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it); progress was saved where it can be.
pub const INTERRUPTED: i32 = 130;

/// The exit-status section of `--help`.
pub const HELP: &str =
    "Exit status: 0 done; 1 bad data or a failed run (the message names the file \
and the problem); 2 bad usage or parameters; 130 interrupted by Ctrl-C (what could be saved was \
saved; re-run to resume). A closed output pipe (`| head`) ends the run quietly with 0.";

/// The status for `err`: interrupted when Ctrl-C was pressed, usage when any cause is a
/// parameter error of the library, else a data/run error.
pub fn code(err: &anyhow::Error, interrupted: bool) -> i32 {
    use deepclust::{cluster::ClusterError, data::DataError, gallery::GalleryError};
    use deepclust::{manifold::ManifoldError, nn::NnError};
    if interrupted {
        return INTERRUPTED;
    }
    let usage = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ClusterError>(),
            Some(ClusterError::InvalidParam { .. })
        ) || matches!(
            cause.downcast_ref::<ManifoldError>(),
            Some(ManifoldError::InvalidParam { .. })
        ) || matches!(
            cause.downcast_ref::<NnError>(),
            Some(NnError::InvalidConfig(_))
        ) || matches!(
            cause.downcast_ref::<GalleryError>(),
            Some(GalleryError::InvalidParams(_))
        ) || matches!(
            cause.downcast_ref::<DataError>(),
            Some(DataError::InvalidOptions { .. })
        ) || matches!(
            cause.downcast_ref::<deepclust::pipeline::PipelineError>(),
            Some(deepclust::pipeline::PipelineError::InvalidParam(_))
        ) || cause
            .downcast_ref::<deepclust::method::MethodError>()
            .is_some_and(|e| e.is_param_error())
            || cause.downcast_ref::<UsageError>().is_some()
    });
    if usage {
        USAGE
    } else {
        DATA_ERROR
    }
}

/// A usage problem found by the binary itself (a flag value it parses).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The error chain as one line, each fact once: a cause already contained in the text so far
/// is dropped (an I/O error printed by its wrapper and again as its source), and a cause that
/// starts with the path its context ends with loses that repeat ("cannot load dataset x.gz:
/// x.gz: truncated" becomes "cannot load dataset x.gz: truncated").
pub fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let mut part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if let Some((head, rest)) = part.split_once(": ") {
            if !text.is_empty() && !head.is_empty() && text.ends_with(head) {
                part = rest.to_string();
            }
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fact_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let wrapped = deepclust::nn::NnError::Io {
            path: "m/config.json".into(),
            source: io,
        };
        let err = anyhow::Error::new(wrapped).context("cannot load m/config.json");
        assert_eq!(
            message(&err),
            "cannot load m/config.json: No such file or directory"
        );
        let err = anyhow::anyhow!("b.gz: refused").context("cannot load dataset b.gz");
        assert_eq!(message(&err), "cannot load dataset b.gz: refused");
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(message(&err), "outer: inner");
    }

    #[test]
    fn parameter_errors_are_usage_and_ctrl_c_wins() {
        let param = deepclust::cluster::ClusterError::InvalidParam {
            name: "k",
            reason: "must be at least 1".into(),
        };
        let err = anyhow::Error::new(param).context("invalid K-Means parameters");
        assert_eq!(code(&err, false), USAGE);
        assert_eq!(code(&err, true), INTERRUPTED);
        assert_eq!(code(&anyhow::anyhow!("corrupt"), false), DATA_ERROR);
    }
}
