//! A fit on a worker thread with the GIL released. The calling thread waits for progress
//! (delivered to the Python callback, or printed with `verbose`), checks for Ctrl-C between
//! waits and turns it into the library's cancel flag, so `KeyboardInterrupt` stops a fit
//! cleanly after its current step.

use crate::convert::MethodErr;
use deepclust::control::{Control, Progress, Stage};
use deepclust::method::MethodError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the waiting thread looks for Ctrl-C when no progress comes.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// One progress report, owned, to cross to the calling thread.
#[derive(Debug, Clone)]
struct Event {
    stage: &'static str,
    event: &'static str,
    step: Option<usize>,
    total: Option<usize>,
    values: Vec<(&'static str, f64)>,
}

impl Event {
    fn from_progress(p: &Progress) -> Event {
        let stage = p.stage().name();
        let mut e = Event {
            stage,
            event: "step",
            step: None,
            total: None,
            values: Vec::new(),
        };
        match p {
            Progress::Started { total, .. } => {
                e.event = "started";
                e.total = Some(*total);
            }
            Progress::Finished { seconds, .. } => {
                e.event = "finished";
                e.values.push(("seconds", *seconds));
            }
            Progress::Epoch(r) => {
                e.event = "epoch";
                e.step = Some(r.epoch);
                e.total = Some(r.last_epoch);
                e.values.push(("loss", r.train_loss));
                if let Some(v) = r.val_loss {
                    e.values.push(("val_loss", v));
                }
                e.values.push(("samples_per_second", r.samples_per_second));
            }
            Progress::KMeans { report, .. } => {
                e.step = Some(report.iteration);
                e.values.push(("run", report.run as f64));
                e.values.push(("inertia", report.inertia));
            }
            Progress::Mixture(m) => {
                e.step = Some(m.iteration);
                e.values.push(("run", m.run as f64));
                e.values
                    .push(("mean_log_likelihood", m.mean_log_likelihood));
            }
            Progress::Umap(u) => {
                e.step = Some(u.step);
                e.total = Some(u.total);
            }
            Progress::Dec { report, .. } => {
                e.event = "update";
                e.step = Some(report.iter);
                e.values.push(("delta_label", report.delta_label));
                if let Some(l) = report.loss {
                    e.values.push(("loss", l));
                }
            }
            Progress::Organize(o) => {
                e.step = Some(o.done);
                e.total = Some(o.total);
            }
        }
        e
    }

    /// Worth a line with `verbose`: stage starts and ends, epochs, DEC updates.
    fn is_milestone(&self) -> bool {
        self.event != "step" || self.stage == Stage::Organize.name()
    }

    fn line(&self) -> String {
        let mut text = format!("[deepclust] {} {}", self.stage, self.event);
        match (self.step, self.total) {
            (Some(s), Some(t)) => text.push_str(&format!(" {s}/{t}")),
            (Some(s), None) => text.push_str(&format!(" {s}")),
            (None, Some(t)) => text.push_str(&format!(" ({t} steps)")),
            (None, None) => {}
        }
        for (k, v) in &self.values {
            text.push_str(&format!(", {k} {v:.6}"));
        }
        text
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("stage", self.stage)?;
        d.set_item("event", self.event)?;
        d.set_item("step", self.step)?;
        d.set_item("total", self.total)?;
        for (k, v) in &self.values {
            d.set_item(*k, *v)?;
        }
        Ok(d)
    }
}

/// Runs `job` with the GIL released; see the module documentation.
pub fn run_detached<T, F>(
    py: Python<'_>,
    callback: Option<&Bound<'_, PyAny>>,
    verbose: bool,
    job: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> Result<T, MethodError> + Send,
{
    run_detached_with(py, callback, verbose, job)?.map_err(|e| MethodErr(e).into())
}

/// [`run_detached`] for any error type: the job's own result, or the Python error that
/// stopped it (Ctrl-C, a failing callback, a panic).
pub fn run_detached_with<T, E, F>(
    py: Python<'_>,
    callback: Option<&Bound<'_, PyAny>>,
    verbose: bool,
    job: F,
) -> PyResult<Result<T, E>>
where
    T: Send,
    E: Send,
    F: FnOnce(&Control) -> Result<T, E> + Send,
{
    let cancel = AtomicBool::new(false);
    let (tx, rx) = channel::<Event>();
    let mut stop: Option<PyErr> = None;
    let outcome = std::thread::scope(|scope| {
        let cancel = &cancel;
        let worker = scope.spawn(move || {
            let progress = move |p: &Progress| {
                // The receiver outlives the fit; a failed send only means nobody listens.
                let _ = tx.send(Event::from_progress(p));
            };
            let control = Control::new(cancel).with_progress(&progress);
            job(&control)
        });
        let mut rx: Receiver<Event> = rx;
        loop {
            let (back, got) = py.detach(move || {
                let got = rx.recv_timeout(SIGNAL_POLL);
                (rx, got)
            });
            rx = back;
            match got {
                Ok(event) if stop.is_none() => {
                    if let Err(e) = deliver(py, callback, verbose, &event) {
                        cancel.store(true, Ordering::Relaxed);
                        stop = Some(e);
                    }
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if stop.is_none() {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    stop = Some(e);
                }
            }
        }
        worker.join()
    });
    let result = outcome.map_err(|_| PyRuntimeError::new_err("deepclust: the fit panicked"))?;
    match stop {
        // Ctrl-C or a failing callback: that is what the caller must see.
        Some(e) => Err(e),
        None => Ok(result),
    }
}

fn deliver(
    py: Python<'_>,
    callback: Option<&Bound<'_, PyAny>>,
    verbose: bool,
    event: &Event,
) -> PyResult<()> {
    if let Some(cb) = callback {
        cb.call1((event.to_dict(py)?,))?;
    }
    if verbose && event.is_milestone() {
        let sys = py.import("sys")?;
        let stderr = sys.getattr("stderr")?;
        stderr.call_method1("write", (format!("{}\n", event.line()),))?;
    }
    Ok(())
}
