//! Where the binary's output goes. stdout carries the result (the human report, or with
//! `--json` one JSON document); logs, notes and progress go to stderr, and `--quiet` drops
//! them. A closed stdout (`deepclust ... | head -1`) ends the process quietly, as ripgrep does,
//! instead of panicking in `println!`.

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;

/// The process-wide output settings, set once from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputMode {
    /// No progress bars and no log lines (errors and warnings still go to stderr).
    pub quiet: bool,
    /// The result as one JSON document on stdout; the human report moves to stderr.
    pub json: bool,
}

static MODE: OnceLock<OutputMode> = OnceLock::new();

pub fn set_mode(mode: OutputMode) {
    let _ = MODE.set(mode);
}

pub fn mode() -> OutputMode {
    MODE.get().copied().unwrap_or_default()
}

/// Exit status when stdout was closed by the reader: not an error of ours.
const EXIT_BROKEN_PIPE: i32 = 0;

fn write_or_exit(mut out: impl Write, args: fmt::Arguments<'_>, newline: bool) {
    let result = out
        .write_fmt(args)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    if let Err(e) = result {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        // stderr may still be open; the data the user asked for could not be written.
        let _ = writeln!(io::stderr(), "error: cannot write the output: {e}");
        std::process::exit(crate::exit::DATA_ERROR);
    }
}

/// A line of the human report: stdout, or stderr under `--json` (dropped with `--quiet`).
pub fn report(args: fmt::Arguments<'_>, newline: bool) {
    let mode = mode();
    if mode.json {
        if !mode.quiet {
            write_or_exit(io::stderr().lock(), args, newline);
        }
    } else {
        write_or_exit(io::stdout().lock(), args, newline);
    }
}

/// A log line (configuration, timings, notes): stderr, dropped with `--quiet`.
pub fn log(args: fmt::Arguments<'_>) {
    if !mode().quiet {
        write_or_exit(io::stderr().lock(), args, true);
    }
}

/// The machine-readable result, when `--json` was given.
pub fn json_result(value: &serde_json::Value) {
    if mode().json {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        write_or_exit(io::stdout().lock(), format_args!("{text}"), true);
    }
}

/// `println!` for the report, without the panic on a closed pipe.
macro_rules! outln {
    () => { $crate::output::report(format_args!(""), true) };
    ($($t:tt)*) => { $crate::output::report(format_args!($($t)*), true) };
}

/// A log line on stderr (dropped with `--quiet`).
macro_rules! logln {
    ($($t:tt)*) => { $crate::output::log(format_args!($($t)*)) };
}
