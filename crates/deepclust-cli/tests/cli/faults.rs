//! Hostile input and faults (issue 14): a kill in the middle of a save, a closed pipe,
//! files that are not what they claim. Each test reproduces the fault for real.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::{deepclust, stderr};

fn train_ae(out: &std::path::Path, epochs: &str, resume: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deepclust"));
    cmd.args([
        "train-ae",
        "--data",
        "synthetic:200",
        "--dims",
        "64,10",
        "--epochs",
        epochs,
        "--out",
        out.to_str().unwrap(),
    ]);
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

#[test]
fn a_kill_in_the_middle_of_a_checkpoint_save_keeps_the_previous_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ae");
    let first = train_ae(&model, "1", false).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let weights = model.join("weights.safetensors");
    let before = std::fs::read(&weights).unwrap();

    // The resumed run stops halfway through writing the new weights (fault injection),
    // and is killed there with SIGKILL: no handler runs, as with kill -9 or a power cut.
    let mut child = train_ae(&model, "3", true)
        .env("DEEPCLUST_FAULT_STALL_WRITE", "weights.safetensors")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let stalled = lines.any(|l| l.is_ok_and(|l| l.contains("fault injection: stalled")));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(stalled, "the child reached the save");

    assert_eq!(
        std::fs::read(&weights).unwrap(),
        before,
        "the previous checkpoint is intact, byte for byte"
    );
    let leftovers = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".deepclust-partial-"))
            .collect()
    };
    assert_eq!(
        leftovers(&model).len(),
        1,
        "the killed write left its temporary"
    );

    // The next run resumes from the intact checkpoint and clears the dead temporary.
    let again = train_ae(&model, "2", true).output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(leftovers(&model).is_empty(), "{:?}", leftovers(&model));
}

#[test]
fn absurd_dims_in_a_saved_config_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ae");
    let first = train_ae(&model, "1", false).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let config = model.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replacen("64,", "4000000000,", 1);
    assert_ne!(text, edited, "the config lists the widths");
    std::fs::write(&config, edited).unwrap();
    let out = train_ae(&model, "2", true).output().unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(134), "no abort: {err}");
    assert!(
        err.contains("weights.safetensors") && err.contains("4000000000"),
        "{err}"
    );
}

#[test]
fn a_gzip_bomb_is_refused_with_its_name() {
    // 16 bytes of IDX header announcing 1 x 65536 x 65536 pixels, then 64 MiB of zeros
    // (64 KiB compressed). Refused from the header, before anything is decompressed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.gz");
    {
        use std::io::Write;
        let f = std::fs::File::create(&path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
        for v in [0x803u32, 1, 65536, 65536] {
            gz.write_all(&v.to_be_bytes()).unwrap();
        }
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap();
    }
    let out = deepclust(&["kmeans", "--data", path.to_str().unwrap(), "--k", "1"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("bomb.gz") && err.contains("limit"), "{err}");
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // As `deepclust kmeans ... | head -0`: the reader is gone before anything is printed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepclust"))
        .args([
            "kmeans",
            "--data",
            "synthetic:200",
            "--k",
            "3",
            "--n-init",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn exit_codes_tell_usage_from_data_errors() {
    let usage = deepclust(&["kmeans", "--data", "synthetic:50", "--k", "0"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let flag = deepclust(&["kmeans", "--no-such-flag"]);
    assert_eq!(flag.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.idx");
    let data = deepclust(&["kmeans", "--data", missing.to_str().unwrap()]);
    assert_eq!(data.status.code(), Some(1), "{}", stderr(&data));
    // The path and the OS reason are each said once.
    let err = stderr(&data);
    assert_eq!(err.matches("missing.idx").count(), 1, "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    let help = super::stdout(&deepclust(&["--help"]));
    assert!(
        help.contains("Exit status") && help.contains("130"),
        "{help}"
    );
}

#[test]
fn json_puts_only_the_result_on_stdout() {
    let out = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:200",
        "--k",
        "3",
        "--n-init",
        "2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(value["inertia"].as_f64().unwrap() > 0.0);
    assert_eq!(value["config"]["params"]["n_clusters"], 3);
    assert!(
        stderr(&out).contains("fit:"),
        "the human report moved to stderr"
    );
    // --quiet keeps stderr free of logs; the result stays.
    let quiet = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:200",
        "--k",
        "3",
        "--n-init",
        "2",
        "--json",
        "--quiet",
    ]);
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
    assert!(serde_json::from_slice::<serde_json::Value>(&quiet.stdout).is_ok());
    let unsupported = deepclust(&["demo", "--json"]);
    assert_eq!(unsupported.status.code(), Some(2));
}

#[test]
fn json_results_of_the_deep_commands() {
    let dir = tempfile::tempdir().unwrap();
    let ae = dir.path().join("ae");
    let json = |out: &std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", stderr(out));
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
    };
    let mut train = train_ae(&ae, "2", false);
    let trained = json(&train.arg("--json").output().unwrap());
    assert_eq!(trained["epochs_done"], 2, "{trained}");
    assert_eq!(trained["config"]["dims"][1], 64, "{trained}");
    let ae_arg = ae.to_str().unwrap();
    let dec = json(&deepclust(&[
        "dec",
        "--data",
        "synthetic:200",
        "--ae",
        ae_arg,
        "--k",
        "3",
        "--maxiter",
        "300",
        "--kmeans-n-init",
        "2",
        "--json",
    ]));
    assert_eq!(dec["method"], "dec", "{dec}");
    assert!(dec["steps"].as_u64().unwrap() > 0, "{dec}");
    assert!(dec["scores"]["nmi"].as_f64().is_some(), "{dec}");
    assert!(
        dec["initialisation_scores"]["acc"].as_f64().is_some(),
        "{dec}"
    );
    let n2d = json(&deepclust(&[
        "n2d",
        "--data",
        "synthetic:200",
        "--ae",
        ae_arg,
        "--k",
        "3",
        "--n-neighbors",
        "10",
        "--json",
    ]));
    assert_eq!(n2d["method"], "N2D", "{n2d}");
    assert_eq!(n2d["n_clusters"], 3, "{n2d}");
    assert!(n2d["scores"]["ari"].as_f64().is_some(), "{n2d}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_saves_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ae");
    let mut child = train_ae(&model, "100000", false)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first finished epoch, then interrupt as a terminal would.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("epoch"))));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in lines {}
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130));
    assert!(
        model.join("weights.safetensors").is_file(),
        "progress saved"
    );
}

#[test]
fn an_unwritable_output_fails_before_training() {
    // The output's parent is a regular file: no user, root included, can create it (a
    // read-only folder would not stop root, who runs CI).
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let out = train_ae(&blocker.join("ae"), "1000", false)
        .output()
        .unwrap();
    let text = super::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!text.contains("epoch"), "no epoch was trained: {text}");
    assert!(stderr(&out).contains("a-file"), "{}", stderr(&out));
}

#[test]
fn identical_rows_are_warned_about() {
    // 300 identical 8x8 "digits" in the digits CSV format (64 values, then the label).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identical.csv");
    let row = format!("{},0\n", vec!["3"; 64].join(","));
    std::fs::write(&path, row.repeat(300)).unwrap();
    let out = deepclust(&["kmeans", "--data", path.to_str().unwrap(), "--k", "3"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: the data has only 1 distinct row"),
        "{err}"
    );
    assert!(err.contains("2 of the 3 clusters are empty"), "{err}");
    assert!(
        super::stdout(&out).contains("1 iterations"),
        "{}",
        super::stdout(&out)
    );
}
