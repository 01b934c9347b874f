"""The estimators: scikit-learn's checks, the same labels as the command line, save/load and
pickle round trips, bad input as exceptions, Ctrl-C, the GIL, metrics, the organizer."""

import gzip
import os
import pickle
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import deepclust

ROOT = Path(__file__).resolve().parents[4]


def small_estimators():
    """Every estimator with settings small enough for scikit-learn's checks (tens of rows)."""
    tiny_ae = dict(hidden_dims=(8, 2), pretrain_epochs=2, pretrain_batch_size=16)
    return [
        deepclust.KMeans(n_clusters=3, n_init=2),
        deepclust.MiniBatchKMeans(n_clusters=3, batch_size=16, max_iter=5),
        deepclust.GaussianMixture(n_components=2, max_iter=20),
        deepclust.Autoencoder(hidden_dims=(8, 2), epochs=2, batch_size=16),
        deepclust.DEC(n_clusters=3, maxiter=50, update_interval=10, batch_size=16, kmeans_n_init=2, **tiny_ae),
        deepclust.IDEC(n_clusters=3, maxiter=50, update_interval=10, batch_size=16, kmeans_n_init=2, **tiny_ae),
        deepclust.N2D(n_clusters=3, n_neighbors=5, **tiny_ae),
        deepclust.UMAP(n_neighbors=5, n_epochs=20),
    ]


# Checks that cannot hold for these methods, each with the reason.
_ONE_CLUSTER = (
    "the check sets n_clusters=1; DEC needs 2 or more (with one cluster the KL to the target "
    "is identically 0: nothing to fine-tune), and says so with a ValueError"
)
_DIVERGES = (
    "the check's data has mean 100 and is not scaled; IDEC's reconstruction loss with the "
    "paper's SGD (lr 0.01, momentum 0.9) diverges on it and the fit stops with a RuntimeError "
    "naming the step (scale the data first, e.g. StandardScaler in a pipeline)"
)
_ONE_CLUSTER_CHECKS = ("check_dont_overwrite_parameters", "check_fit2d_1feature", "check_fit2d_predict1d")
EXPECTED_FAILURES = {
    "DEC": {c: _ONE_CLUSTER for c in _ONE_CLUSTER_CHECKS + ("check_methods_subset_invariance",)},
    "IDEC": {
        **{c: _ONE_CLUSTER for c in _ONE_CLUSTER_CHECKS + ("check_methods_subset_invariance",)},
        **{c: _DIVERGES for c in ("check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in")},
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(small_estimators(), expected_failed_checks=expected_failed_checks)
def test_sklearn_checks(estimator, check):
    check(estimator)


def digits():
    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target


def cli():
    """The command line built by `cargo build --release`, or None."""
    path = Path(os.environ.get("DEEPCLUST_BIN", ROOT / "target" / "release" / "deepclust"))
    return path if path.is_file() else None


def read_assignments(path):
    lines = Path(path).read_text().strip().splitlines()[1:]
    return np.array([int(line.rsplit(",", 1)[1]) for line in lines])


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    """scikit-learn's 8x8 digits in the command line's digits format (64 values 0..16, label)."""
    d = load_digits()
    path = tmp_path_factory.mktemp("data") / "digits.csv.gz"
    with gzip.open(path, "wt") as f:
        for row, label in zip(d.data.astype(int), d.target):
            f.write(",".join(map(str, row)) + f",{label}\n")
    return path


def run_cli(*args):
    binary = cli()
    if binary is None:
        pytest.skip("the deepclust binary is not built (cargo build --release, or set DEEPCLUST_BIN)")
    out = subprocess.run([str(binary), "--quiet", *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def test_kmeans_labels_equal_the_command_line(digits_csv, tmp_path):
    X, _ = digits()
    run_cli("kmeans", "--data", digits_csv, "--k", 10, "--seed", 3, "--output", tmp_path / "a.csv")
    py = deepclust.KMeans(10, random_state=3).fit(X)
    assert np.array_equal(read_assignments(tmp_path / "a.csv"), py.labels_)


def test_dec_labels_equal_the_command_line(digits_csv, tmp_path):
    X, _ = digits()
    run_cli(
        "dec", "--data", digits_csv, "--dims", "64,10", "--epochs", 5, "--maxiter", 400,
        "--seed", 1, "--output", tmp_path / "d.csv",
    )
    py = deepclust.DEC(10, hidden_dims=(64, 10), pretrain_epochs=5, maxiter=400, random_state=1).fit(X)
    assert np.array_equal(read_assignments(tmp_path / "d.csv"), py.labels_)


def test_n2d_labels_equal_the_command_line(digits_csv, tmp_path):
    X, _ = digits()
    run_cli(
        "n2d", "--data", digits_csv, "--dims", "64,10", "--epochs", 5, "--seed", 2,
        "--output", tmp_path / "n.csv",
    )
    py = deepclust.N2D(10, hidden_dims=(64, 10), pretrain_epochs=5, random_state=2).fit(X)
    assert np.array_equal(read_assignments(tmp_path / "n.csv"), py.labels_)


def test_a_saved_command_line_model_loads_and_predicts(digits_csv, tmp_path):
    X, _ = digits()
    run_cli("kmeans", "--data", digits_csv, "--k", 10, "--seed", 0, "--save-model", tmp_path / "run")
    loaded = deepclust.load(tmp_path / "run")
    assert isinstance(loaded, deepclust.KMeans)
    assert loaded.n_clusters == loaded.n_clusters_ == 10
    fitted = deepclust.KMeans(10, random_state=0).fit(X)
    assert np.array_equal(loaded.predict(X), fitted.labels_)


def fitted_estimators():
    X, y = make_blobs(300, 6, centers=4, random_state=0)
    tiny = dict(hidden_dims=(16, 4), pretrain_epochs=3)
    ae = deepclust.Autoencoder((16, 4), epochs=3, random_state=0).fit(X)
    return X, [
        deepclust.KMeans(4, random_state=0).fit(X),
        deepclust.MiniBatchKMeans(4, batch_size=64, random_state=0).fit(X),
        deepclust.GaussianMixture(4, random_state=0).fit(X),
        ae,
        deepclust.DEC(4, autoencoder=ae, maxiter=200, random_state=0).fit(X),
        deepclust.IDEC(4, maxiter=200, random_state=0, **tiny).fit(X),
        deepclust.N2D(4, n_neighbors=10, random_state=0, **tiny).fit(X),
        deepclust.N2D("auto", k_range=(2, 6), use_autoencoder=False, random_state=0).fit(X),
        deepclust.UMAP(n_neighbors=10, random_state=0).fit(X),
    ]


def outputs(est, X):
    out = {}
    for method in ("predict", "transform", "predict_proba"):
        if hasattr(est, method):
            out[method] = getattr(est, method)(X)
    return out


def test_save_load_and_pickle_round_trips_give_the_same_outputs(tmp_path):
    X, estimators = fitted_estimators()
    for i, est in enumerate(estimators):
        before = outputs(est, X[:50])
        assert before, type(est).__name__
        est.save(tmp_path / f"m{i}")
        for again in (deepclust.load(tmp_path / f"m{i}"), pickle.loads(pickle.dumps(est))):
            assert type(again) is type(est)
            after = outputs(again, X[:50])
            for method, value in before.items():
                np.testing.assert_allclose(after[method], value, rtol=1e-5, atol=1e-6, err_msg=f"{type(est).__name__}.{method}")


def test_float32_float64_c_and_f_order_give_the_same_labels():
    X, _ = make_blobs(200, 5, centers=3, random_state=1)
    ref = deepclust.KMeans(3, random_state=0).fit(X).labels_
    for arr in (X.astype(np.float32), np.asfortranarray(X), np.asfortranarray(X.astype(np.float32)), X.tolist()):
        assert np.array_equal(deepclust.KMeans(3, random_state=0).fit(arr).labels_, ref)


@pytest.mark.parametrize("make", [lambda: deepclust.KMeans(3), lambda: deepclust.GaussianMixture(3),
                                  lambda: deepclust.DEC(3, hidden_dims=(4, 2), pretrain_epochs=1),
                                  lambda: deepclust.N2D(3, use_autoencoder=False)])
def test_bad_input_raises_value_errors_not_crashes(make):
    X, _ = make_blobs(40, 4, centers=3, random_state=0)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError):
        make().fit(bad)
    with pytest.raises(ValueError):
        make().fit(X[:2])  # k > n
    with pytest.raises(ValueError):
        make().fit(np.zeros((10,)))
    est = make().fit(X)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError):
        deepclust.KMeans("many").fit(X)


def test_library_errors_keep_their_message():
    X, _ = make_blobs(40, 4, centers=3, random_state=0)
    ae = deepclust.Autoencoder((4, 2), epochs=1).fit(X)
    with pytest.raises(ValueError, match="fitted on 4 features"):
        deepclust.DEC(3, autoencoder=ae).fit(X[:, :3])
    with pytest.raises(ValueError, match="optimizer"):
        deepclust.Autoencoder((4, 2), epochs=1, optimizer="rmsprop").fit(X)


def test_a_callback_sees_progress_and_its_exception_stops_the_fit():
    X, _ = make_blobs(500, 8, centers=3, random_state=0)
    seen = []
    deepclust.Autoencoder((8, 2), epochs=3, random_state=0, callback=seen.append).fit(X)
    epochs = [e for e in seen if e["event"] == "epoch"]
    assert [e["step"] for e in epochs] == [1, 2, 3]
    assert all("loss" in e for e in epochs)

    def stop(event):
        if event["event"] == "epoch":
            raise KeyboardInterrupt

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        deepclust.Autoencoder((8, 2), epochs=10_000, callback=stop).fit(X)
    assert time.perf_counter() - started < 30


def test_ctrl_c_interrupts_a_long_fit():
    X, _ = make_blobs(4000, 32, centers=3, random_state=0)
    # Python installs its KeyboardInterrupt handler only where SIGINT was not ignored at
    # start, and a shell's background job (`cmd &`, as CI runners may start us) ignores it:
    # put Python's handler in place, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            deepclust.Autoencoder((64, 2), epochs=100_000, random_state=0).fit(X)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - started < 30


def test_the_gil_is_released_during_a_fit():
    X, _ = make_blobs(3000, 32, centers=3, random_state=0)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    started = time.perf_counter()
    deepclust.Autoencoder((64, 2), epochs=15, random_state=0).fit(X)
    seconds = time.perf_counter() - started
    done.set()
    t.join()
    # A thread that cannot take the GIL would not tick at all while the fit runs.
    assert len(ticks) > 10 * seconds, (len(ticks), seconds)


def test_pipelines_clone_and_grid_search():
    X, y = make_blobs(300, 5, centers=4, random_state=2)
    pipe = make_pipeline(StandardScaler(), deepclust.KMeans(4, random_state=0))
    labels = pipe.fit_predict(X)
    assert deepclust.nmi(y, labels) > 0.95
    est = clone(deepclust.N2D("auto", k_range=(2, 6), use_autoencoder=False, random_state=0))
    assert est.get_params()["n_clusters"] == "auto"
    search = GridSearchCV(deepclust.KMeans(random_state=0), {"n_clusters": [2, 4, 6]}, cv=3).fit(X)
    assert search.best_params_["n_clusters"] in (4, 6)  # score is -inertia: more clusters fit better


def test_auto_picks_the_number_of_blobs():
    X, y = make_blobs(400, 4, centers=5, cluster_std=0.5, random_state=3)
    km = deepclust.KMeans("auto", random_state=0).fit(X)
    assert km.n_clusters_ == 5
    assert len(km.silhouette_scores_) == 14
    gmm = deepclust.GaussianMixture("auto", k_range=(2, 8), random_state=0).fit(X)
    assert gmm.n_components_ == 5


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 7, 500))
    assert deepclust.nmi(a, b) == pytest.approx(normalized_mutual_info_score(a, b), abs=1e-12)
    assert deepclust.ari(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    # A perfect match under relabelling, and labels that are not 0..k-1 integers.
    assert deepclust.acc([0, 0, 1, 1, 2], [7, 7, -1, -1, 3]) == 1.0
    assert deepclust.acc(["a", "a", "b"], [1, 0, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        deepclust.nmi([0, 1], [0, 1, 2])


def test_organize_dry_run_plans_without_writing_and_a_real_run_links(tmp_path):
    photos = tmp_path / "Photos"
    drawn = deepclust._core.write_sample_library(str(photos), 16, 0)
    before = {p: p.stat().st_mtime_ns for p in photos.rglob("*") if p.is_file()}
    out = tmp_path / "Organized"
    report = deepclust.organize(photos, out, by=["date", "place"], dry_run=True)
    assert not out.exists()
    assert report["photos"] == len(drawn) == 16
    assert len(report["skipped"]) == 2  # the two damaged files, with their reasons
    assert all(s["reason"] for s in report["skipped"])
    assert report["plan"] and all(p["reason"] for p in report["plan"])
    done = deepclust.organize(photos, out, by=["date", "place"], dry_run=False, html=False)
    assert done["links"]["created"] == len(report["plan"])
    assert (out / "by-date").is_dir() and (out / "by-place").is_dir()
    after = {p: p.stat().st_mtime_ns for p in photos.rglob("*") if p.is_file()}
    assert after == before  # originals untouched
    with pytest.raises(ValueError, match="by"):
        deepclust.organize(photos, out, by=["colour"])


def test_readme_example_runs():
    """The README's five-line example, as written there."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\n", readme.index("## Python")) + len("```python\n")
    code = readme[start : readme.index("```", start)]
    exec(compile(code, "README.md", "exec"), {})
