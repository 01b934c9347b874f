//! A small pool of onnxruntime sessions of one model, so photos decoded on several threads
//! run at once (`Session::run` needs exclusive access).

use crate::error::EmbedError;
use crate::runtime::OrtRuntime;
use ort::session::{builder::GraphOptimizationLevel, Session};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(crate) struct SessionPool {
    pub(crate) name: &'static str,
    pub(crate) path: PathBuf,
    sessions: Vec<Mutex<Session>>,
}

impl SessionPool {
    /// One session per rayon thread, each single-threaded inside (the photos are the
    /// parallelism; measured no slower than one session with intra-op threads).
    pub(crate) fn load(
        rt: &OrtRuntime,
        name: &'static str,
        path: &Path,
    ) -> Result<SessionPool, EmbedError> {
        let n = rayon::current_num_threads().max(1);
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let session = Session::builder(&rt.env)
                .and_then(|b| {
                    b.with_optimization_level(GraphOptimizationLevel::Level3)
                        .map_err(ort::Error::from)
                })
                .and_then(|b| b.with_intra_threads(1).map_err(ort::Error::from))
                .and_then(|mut b| b.commit_from_file(path))
                .map_err(|e| EmbedError::model(path, format!("not a usable ONNX model: {e}")))?;
            sessions.push(Mutex::new(session));
        }
        Ok(SessionPool {
            name,
            path: path.to_path_buf(),
            sessions,
        })
    }

    /// Runs `f` on this thread's session.
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<R, EmbedError>,
    ) -> Result<R, EmbedError> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.sessions.len();
        let mut guard = self.sessions[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Names of the model's inputs and outputs (for checks and messages).
    pub(crate) fn io_names(&self) -> (Vec<String>, Vec<String>) {
        self.with(|s| {
            Ok((
                s.inputs().iter().map(|o| o.name().to_string()).collect(),
                s.outputs().iter().map(|o| o.name().to_string()).collect(),
            ))
        })
        .unwrap_or_default()
    }
}

/// One output tensor: its shape and values.
pub(crate) type Output = (Vec<i64>, Vec<f32>);

/// Runs one float input through `session` and returns the named float outputs with shapes.
pub(crate) fn run_f32(
    session: &mut Session,
    model: &'static str,
    input_name: &str,
    shape: [usize; 4],
    data: Vec<f32>,
    outputs: &[&str],
) -> Result<Vec<Output>, EmbedError> {
    let inference = |source| EmbedError::Inference { model, source };
    let tensor = ort::value::Tensor::from_array((shape, data)).map_err(inference)?;
    let result = session
        .run(ort::inputs![input_name => tensor])
        .map_err(inference)?;
    let mut out = Vec::with_capacity(outputs.len());
    for &name in outputs {
        let value = result.get(name).ok_or_else(|| EmbedError::Output {
            model,
            problem: format!("no output named {name}"),
        })?;
        let (shape, values) = value.try_extract_tensor::<f32>().map_err(inference)?;
        out.push((shape.iter().copied().collect(), values.to_vec()));
    }
    Ok(out)
}
