use crate::{deepclust, shared, stderr, stdout};

#[test]
fn mnist_walkthrough_prints_the_tutorials_numbers_beside_ours() {
    let Some(data) = shared("data/mnist") else {
        return;
    };
    let out = deepclust(&[
        "mnist",
        "--quick",
        "--data",
        data.to_str().unwrap(),
        "--limit",
        "1000",
        "--epochs",
        "1",
        "--dec-maxiter",
        "140",
        "--protocol",
        "split",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("| tutorial NMI |"), "{text}");
    let row = |method: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {method} | 70/30 split")))
            .unwrap_or_else(|| panic!("no {method} row in:\n{text}"))
            .to_string()
    };
    assert!(row("AE + K-Means").ends_with("| 0.7436 |"), "{text}");
    assert!(row("DEC").ends_with("| 0.7652 |"), "{text}");
    assert!(row("K-Means (raw pixels)").ends_with("| - |"), "{text}");
    // The configuration line names the optimizer it used.
    assert!(text.contains("Adam lr 0.001 batch 256"), "{text}");
}
