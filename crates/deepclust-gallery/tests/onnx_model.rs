//! The ONNX embedder on the shared MobileNetV2 (only with `--features onnx`; skipped when the
//! model is absent).
#![cfg(feature = "onnx")]
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use deepclust_gallery::onnx::OnnxEmbedder;
use deepclust_gallery::sniff::ImageKind;
use deepclust_gallery::thumbs::decode_thumbnail;
use std::path::PathBuf;

#[test]
fn mobilenet_embeds_1280_values_and_sees_a_copy_as_closest() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let model = root.join("models/mobilenetv2-features.onnx");
    if !model.exists() {
        eprintln!("SKIP: {} not found", model.display());
        return;
    }
    let embedder = OnnxEmbedder::load(&model).unwrap();
    let load = |name: &str| {
        let bytes = std::fs::read(root.join("data/photos/exif").join(name)).unwrap();
        decode_thumbnail(&bytes, ImageKind::Jpeg, 1, 256).unwrap()
    };
    let a = load("beijing-2003-nikon.jpg");
    let a_small = image::imageops::resize(
        &a,
        a.width() / 2,
        a.height() / 2,
        image::imageops::FilterType::Triangle,
    );
    let b = load("dsc_09827.jpg");
    let ea = embedder.embed_vec(&a).unwrap();
    let ea2 = embedder.embed_vec(&a_small).unwrap();
    let eb = embedder.embed_vec(&b).unwrap();
    assert_eq!(ea.len(), 1280);
    let cos = |x: &[f32], y: &[f32]| {
        let d: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
        d / (x.iter().map(|v| v * v).sum::<f32>().sqrt()
            * y.iter().map(|v| v * v).sum::<f32>().sqrt())
    };
    let (same, other) = (cos(&ea, &ea2), cos(&ea, &eb));
    eprintln!("cosine: photo vs its half-size copy {same:.3}, vs another photo {other:.3}");
    assert!(same > other + 0.1, "{same} vs {other}");
}
