//! `deepclust models`: listing, installing from a folder and fetching from a wheel, offline.

use crate::{deepclust, shared, stderr, stdout};
use std::fs;
use std::process::Command;

#[test]
fn lists_installs_and_refuses_wrong_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = deepclust(&["models", "--dir", cache.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("efficientnet-lite2.onnx") && text.contains("missing"),
        "{text}"
    );

    // A damaged copy is refused, and nothing is left under its name.
    let src = dir.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("blazeface-short.onnx"), b"not the model").unwrap();
    let out = deepclust(&[
        "models",
        "--dir",
        cache.to_str().unwrap(),
        "--install-from",
        src.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("expected 77ed1511"),
        "{}",
        stderr(&out)
    );
    assert!(!cache.join("blazeface-short.onnx").exists());

    let Some(models) = shared("models") else {
        return;
    };
    let out = deepclust(&[
        "models",
        "--dir",
        cache.to_str().unwrap(),
        "--install-from",
        models.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("ok (sha256 verified)").count(), 6, "{text}");
}

#[test]
fn fetches_the_text_detector_from_its_wheel() {
    let Some(models) = shared("models") else {
        return;
    };
    let pip = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output();
    if !pip.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: python3 -m pip is not available");
        return;
    }
    // An offline mirror holding a wheel of that name and version with the model inside, as
    // rapidocr-onnxruntime 1.4.4 has it.
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    fs::create_dir_all(&mirror).unwrap();
    let script = r#"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1] + "/rapidocr_onnxruntime-1.4.4-py3-none-any.whl", "w")
z.write(sys.argv[2], "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx")
d = "rapidocr_onnxruntime-1.4.4.dist-info/"
z.writestr(d + "METADATA", "Metadata-Version: 2.1\nName: rapidocr-onnxruntime\nVersion: 1.4.4\n")
z.writestr(d + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
z.writestr(d + "RECORD", "")
"#;
    let made = Command::new("python3")
        .args(["-c", script])
        .arg(&mirror)
        .arg(models.join("ppocr-v4-det.onnx"))
        .status()
        .unwrap();
    assert!(made.success());
    let cache = dir.path().join("cache");
    let out = deepclust(&[
        "models",
        "--dir",
        cache.to_str().unwrap(),
        "--fetch",
        "--pip-arg=--no-index",
        &format!("--pip-arg=--find-links={}", mirror.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("fetched") && text.contains("ppocr-v4-det.onnx"),
        "{text}"
    );
    assert!(
        text.contains("not fetched: efficientnet-lite2.onnx is converted"),
        "{text}"
    );
    assert_eq!(
        fs::read(cache.join("ppocr-v4-det.onnx")).unwrap(),
        fs::read(models.join("ppocr-v4-det.onnx")).unwrap()
    );
}
