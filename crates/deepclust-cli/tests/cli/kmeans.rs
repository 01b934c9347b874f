use crate::{deepclust, shared, stderr, stdout};

/// Pulls `NAME value` out of a line such as `scores: NMI 0.4887  ACC 0.5385  ARI 0.3793`.
fn metric(text: &str, line_prefix: &str, name: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(line_prefix))
        .unwrap_or_else(|| panic!("no `{line_prefix}` in:\n{text}"));
    let after = &line[line
        .find(name)
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len()..];
    after.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn kmeans_runs_on_generated_digits_and_scores_well_above_chance() {
    // (Was the old `demo`, which ran only this; the demo now shows the organizer.)
    let out = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:1000",
        "--k",
        "10",
        "--n-init",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // The configuration is a log line (stderr); the result goes to stdout.
    assert!(stderr(&out).contains("config:"), "{}", stderr(&out));
    assert!(!text.contains("config:"), "{text}");
    assert!(text.contains("contingency"), "{text}");
    // Chance NMI for 10 balanced classes is ~0; raw-pixel K-Means gets about 0.5.
    assert!(metric(&text, "scores", "NMI") > 0.3, "{text}");
}

#[test]
fn kmeans_writes_one_assignment_per_item_and_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("assign.csv");
    let model = dir.path().join("model");
    let summary = dir.path().join("summary.json");
    let out = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:300",
        "--k",
        "10",
        "--n-init",
        "2",
        "--seed",
        "3",
        "--split",
        "0.7",
        "--output",
        csv.to_str().unwrap(),
        "--save-model",
        model.to_str().unwrap(),
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("scores (validation rows)"), "{text}");
    let lines: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines[0], "id,cluster");
    assert_eq!(lines.len(), 301);
    assert!(lines[1..]
        .iter()
        .all(|l| l.rsplit(',').next().unwrap().parse::<usize>().unwrap() < 10));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["params"]["seed"], 3);
    assert_eq!(config["params"]["n_clusters"], 10);
    let centroids: Vec<Vec<f32>> =
        serde_json::from_str(&std::fs::read_to_string(model.join("centroids.json")).unwrap())
            .unwrap();
    assert_eq!((centroids.len(), centroids[0].len()), (10, 784));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    assert!(summary["validation_scores"]["nmi"].as_f64().unwrap() > 0.2);

    // Same seed, same assignments.
    let csv2 = dir.path().join("assign2.csv");
    let again = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:300",
        "--k",
        "10",
        "--n-init",
        "2",
        "--seed",
        "3",
        "--split",
        "0.7",
        "--output",
        csv2.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&csv2).unwrap());
}

#[test]
fn minibatch_kmeans_runs() {
    let out = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:800",
        "--k",
        "10",
        "--minibatch",
        "--batch-size",
        "256",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(metric(&stdout(&out), "scores (fitted rows)", "NMI") > 0.3);
}

#[test]
fn k_larger_than_n_is_a_clear_error() {
    let out = deepclust(&["kmeans", "--data", "synthetic:20", "--k", "50"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--k 50") && err.contains("20"), "{err}");
}

#[test]
fn bad_files_are_reported_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    // A truncated IDX images file: right magic, header promises more than is there.
    let idx = dir.path().join("train-images-idx3-ubyte");
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    bytes.extend(vec![0u8; 100]);
    std::fs::write(&idx, bytes).unwrap();
    let out = deepclust(&["kmeans", "--data", idx.to_str().unwrap(), "--format", "idx"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("train-images-idx3-ubyte"),
        "{}",
        stderr(&out)
    );

    // Wrong magic.
    let wrong = dir.path().join("wrong.idx");
    std::fs::write(&wrong, [0u8, 0, 9, 9, 0, 0, 0, 1]).unwrap();
    let out = deepclust(&[
        "kmeans",
        "--data",
        wrong.to_str().unwrap(),
        "--format",
        "idx",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("wrong.idx"), "{}", stderr(&out));

    // Empty folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = deepclust(&["kmeans", "--data", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));

    // A CSV naming a PNG that does not exist.
    let csv_dir = dir.path().join("identify");
    std::fs::create_dir_all(csv_dir.join("Images/train")).unwrap();
    std::fs::write(csv_dir.join("train.csv"), "filename,label\nmissing.png,3\n").unwrap();
    let out = deepclust(&[
        "kmeans",
        "--data",
        csv_dir.join("train.csv").to_str().unwrap(),
        "--k",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing.png"), "{}", stderr(&out));

    // A path that does not exist.
    let out = deepclust(&["kmeans", "--data", "/no/such/place"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/no/such/place"), "{}", stderr(&out));
}

#[test]
fn digits_csv_clusters_well() {
    let Some(path) = shared("data/digits/digits.csv.gz") else {
        return;
    };
    let out = deepclust(&[
        "kmeans",
        "--data",
        path.to_str().unwrap(),
        "--k",
        "10",
        "--n-init",
        "5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // scikit-learn's KMeans gets NMI about 0.74 on these 1,797 digits.
    assert!(
        metric(&stdout(&out), "scores (fitted rows)", "NMI") > 0.65,
        "{}",
        stdout(&out)
    );
}

#[test]
fn help_explains_the_commands() {
    let out = deepclust(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for word in ["demo", "kmeans", "download"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn kmeans_writes_a_report_whose_files_all_exist() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = deepclust(&[
        "kmeans",
        "--data",
        "synthetic:300",
        "--k",
        "10",
        "--n-init",
        "2",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let mut referenced = 0;
    for part in html.split("src=\"").skip(1) {
        let target = &part[..part.find('"').unwrap()];
        assert!(
            report.join(target).is_file(),
            "index.html refers to missing {target}"
        );
        referenced += 1;
    }
    // A montage per cluster at least (small clusters get no separate least-confident strip).
    assert!(referenced >= 10, "{referenced} images referenced");
}

#[test]
fn dec_trains_saves_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let model = dir.path().join("model");
    let out = deepclust(&[
        "dec",
        "--data",
        "synthetic:300",
        "--k",
        "10",
        "--epochs",
        "3",
        "--dims",
        "64,10",
        "--maxiter",
        "280",
        "--out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("AE + K-Means (the initialisation)") && text.contains("dec:"),
        "{text}"
    );
    assert!(model.join("config.json").is_file() && model.join("train_log.csv").is_file());
    // One training log per saved model: the old duplicate is no longer written.
    assert!(!model.join("dec_log.csv").exists());
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for part in html.split("src=\"").skip(1) {
        let target = &part[..part.find('"').unwrap()];
        assert!(
            report.join(target).is_file(),
            "index.html refers to missing {target}"
        );
    }
    assert!(
        html.contains("max q"),
        "the DEC report ranks members by max q"
    );
}

#[test]
fn dec_with_augmentation_saves_it_and_rejects_bad_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let out = deepclust(&[
        "dec",
        "--data",
        "synthetic:200",
        "--k",
        "10",
        "--epochs",
        "2",
        "--dims",
        "64,10",
        "--maxiter",
        "140",
        "--augment",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("\"augmentation\":{\"height\":28,\"width\":28"));
    for config in [
        model.join("config.json"),
        model.join("autoencoder").join("config.json"),
    ] {
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(
            text.contains("\"max_rotation_degrees\": 10.0"),
            "{}: {text}",
            config.display()
        );
    }
    let out = deepclust(&[
        "train-ae",
        "--data",
        "synthetic:50",
        "--augment",
        "--augment-shift",
        "0.9",
        "--out",
        dir.path().join("ae").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("max_shift"), "{}", stderr(&out));
}

#[test]
fn n2d_with_restarts_keeps_the_consensus_run() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("labels.csv");
    let out = deepclust(&[
        "n2d",
        "--data",
        "synthetic:400",
        "--epochs",
        "30",
        "--dims",
        "64,10",
        "--k",
        "10",
        "--n-neighbors",
        "10",
        "--restarts",
        "2",
        "--output",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("restarts, mean agreement (ARI) with the others: seed +0:"),
        "{text}"
    );
    // Chance level is about 0.04 for 10 clusters of 400 items; a 3-layer code of 30 epochs
    // is far from converged, so this only checks the run is meaningful.
    assert!(metric(&text, "N2D: NMI", "NMI") > 0.2, "{text}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 401);
    let out = deepclust(&["n2d", "--data", "synthetic:50", "--restarts", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("restarts"), "{}", stderr(&out));
}
