//! The content models on real pictures. Needs onnxruntime (found as at run time: ORT_DYLIB_PATH,
//! a pip-installed onnxruntime, ...) and ../shared/models; skips with a message without them.
#![allow(clippy::print_stderr)]

use deepclust_embed::faces::descriptor_distance as dist;
use deepclust_embed::faces::{face_chip, SAME_PERSON};
use deepclust_embed::{ContentModels, ImageEmbedder, ModelSearch, OrtRuntime, PhotoSignals};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn models() -> Option<ContentModels> {
    let dir = root().join("../shared/models");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not present", dir.display());
        return None;
    }
    let rt = match OrtRuntime::init(None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skipping: {e}");
            return None;
        }
    };
    let search = ModelSearch {
        dirs: vec![dir],
        ..ModelSearch::default()
    };
    Some(ContentModels::load(&rt, &search).expect("the shared models load"))
}

fn load(path: &Path) -> image::RgbImage {
    let img = image::open(path).expect("test image decodes").to_rgb8();
    let (w, h) = img.dimensions();
    let s = 640.0 / w.max(h) as f32;
    if s < 1.0 {
        image::imageops::resize(
            &img,
            (w as f32 * s).round() as u32,
            (h as f32 * s).round() as u32,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    }
}

fn signals(m: &ContentModels, rel: &str) -> PhotoSignals {
    m.embed(&load(&root().join(rel))).expect("embeds")
}

#[test]
fn faces_of_the_same_person_are_close_and_of_others_far() {
    let Some(m) = models() else { return };
    let descriptor = |name: &str| -> Vec<f32> {
        let s = signals(&m, &format!("tests/fixtures/faces/{name}.jpg"));
        let faces = s.faces.expect("face signals");
        assert_eq!(
            faces.faces.len(),
            1,
            "{name}: one face, got {:?}",
            faces.faces
        );
        assert!(faces.faces[0].score > 0.75, "{name}: {:?}", faces.faces[0]);
        faces.faces[0].descriptor.clone().expect("descriptor")
    };
    let (o1, o2, o3, b) = (
        descriptor("obama-1"),
        descriptor("obama-2"),
        descriptor("obama-3"),
        descriptor("biden-1"),
    );
    // models/README.md, BlazeFace-eye alignment: same person 0.387-0.446, others 0.824-0.890.
    for (x, y) in [(&o1, &o2), (&o1, &o3), (&o2, &o3)] {
        let d = dist(x, y);
        assert!(d < SAME_PERSON, "same person at {d}");
    }
    for o in [&o1, &o2, &o3] {
        let d = dist(o, &b);
        assert!(d > 0.7, "different people at {d}");
    }
}

#[test]
fn screenshots_have_many_text_lines_and_photos_none() {
    let Some(m) = models() else { return };
    let gallery = "../shared/data/gallery-dev";
    if !root().join(gallery).is_dir() {
        eprintln!("skipping: gallery-dev is not present");
        return;
    }
    let shot = signals(
        &m,
        &format!("{gallery}/Pictures/Screenshots/Screenshot_20220616-200500.png"),
    );
    let text = shot.text.expect("text signals");
    eprintln!("screenshot: {text:?} tags {:?}", shot.tags);
    assert!(text.boxes >= 8, "{text:?}");
    assert!(text.area > 0.01, "{text:?}");
    assert_eq!(shot.embedding.len(), 1280);
    assert_eq!(shot.tags.len(), 5);
    assert!(shot.tags.windows(2).all(|w| w[0].prob >= w[1].prob));

    let photo = signals(&m, &format!("{gallery}/DCIM/Camera/20220623_172200.jpg"));
    let text = photo.text.expect("text signals");
    eprintln!("scenery: {text:?} tags {:?}", photo.tags);
    assert!(text.boxes <= 1 && text.area < 0.005, "{text:?}");

    // A face chip is 150 x 150 whatever the face's size.
    let obama = load(&root().join("tests/fixtures/faces/obama-1.jpg"));
    let s = m.embed(&obama).unwrap();
    let face = &s.faces.unwrap().faces[0];
    assert_eq!(face_chip(&obama, face).dimensions(), (150, 150));
    assert!(m.class_name(s.tags[0].class).is_some());
}
