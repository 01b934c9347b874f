"""UMAP: deepclust (crates/deepclust-manifold) vs umap-learn on the same saved matrix.

Input: a NumPy .npy file with a 2-D float32 array (n x d), C order; optional labels .npy
(integers, used for scoring only). To make MNIST inputs (raw pixels -> PCA with numpy):

    python3 bench/umap_vs_umaplearn.py --make-mnist ../shared/data/mnist --out-dir /tmp/umapbench
    # writes mnist{10k,70k}_pca{10,50}.npy and mnist{10k,70k}_labels.npy

Then, after `cargo build --release -p deepclust-manifold --example umap_bench`:

    python3 bench/umap_vs_umaplearn.py --x /tmp/umapbench/mnist70k_pca10.npy \
        --labels /tmp/umapbench/mnist70k_labels.npy --n-components 10 --n-neighbors 20 --min-dist 0

Both run with the same n_components, n_neighbors, min_dist, metric (euclidean) and defaults
for everything else. umap-learn runs twice in one process so that its numba JIT compilation
(first run) is reported apart from its steady-state time (second run). umap-learn runs with
`random_state` set (which forces its single-threaded SGD, as N2D calls it) and, with
--umap-learn-parallel, also without (parallel Hogwild SGD). deepclust runs with its
single-threaded reproducible SGD and, with --parallel, also with its Hogwild SGD.

Scores, computed identically for every embedding: trustworthiness (sklearn, n_neighbors=10)
on a fixed random sample of --trust-sample rows (input vs embedding restricted to the sample),
kNN preservation (fraction of the 10 nearest input neighbours kept in the embedding, same
sample, exact search), and, with labels, NMI of scikit-learn's KMeans(k = #classes, n_init=10,
seed 0) on the embedding (the same clusterer for both, for fairness).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_mnist(folder, out_dir):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mnist import load_mnist

    x, y = load_mnist(folder)
    xc = x - x.mean(0)
    w, v = np.linalg.eigh((xc.T @ xc).astype(np.float64))
    order = np.argsort(w)[::-1]
    os.makedirs(out_dir, exist_ok=True)
    for d in (10, 50):
        p = (xc @ v[:, order[:d]]).astype(np.float32)
        np.save(os.path.join(out_dir, f"mnist70k_pca{d}.npy"), p)
        np.save(os.path.join(out_dir, f"mnist10k_pca{d}.npy"), p[:10000])
    np.save(os.path.join(out_dir, "mnist70k_labels.npy"), y)
    np.save(os.path.join(out_dir, "mnist10k_labels.npy"), y[:10000])


def scores(x, emb, labels, sample):
    from sklearn.cluster import KMeans
    from sklearn.manifold import trustworthiness
    from sklearn.metrics import normalized_mutual_info_score
    from sklearn.neighbors import NearestNeighbors

    xs, es = x[sample], emb[sample]
    out = {"trustworthiness": float(trustworthiness(xs, es, n_neighbors=10))}
    a = NearestNeighbors(n_neighbors=11).fit(xs).kneighbors(return_distance=False)
    b = NearestNeighbors(n_neighbors=11).fit(es).kneighbors(return_distance=False)
    out["knn_preservation"] = float(np.mean([len(set(p[:10]) & set(q[:10])) / 10 for p, q in zip(a, b)]))
    if labels is not None:
        k = len(np.unique(labels))
        pred = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(emb)
        out["kmeans_nmi"] = float(normalized_mutual_info_score(labels, pred))
    return out


def run_ours(args, parallel):
    binary = args.binary or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "umap_bench")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "emb.npy")
        cmd = [binary, "--input", args.x, "--output", out, "--n-components", str(args.n_components),
               "--n-neighbors", str(args.n_neighbors), "--min-dist", str(args.min_dist), "--seed", str(args.seed)]
        if parallel:
            cmd.append("--parallel")
        cmd += ["--knn", args.knn, "--init", args.init, "--sgd-order", args.sgd_order]
        cmd += ["--recall"] if args.recall else []
        start = time.perf_counter()
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        report = json.loads(res.stdout.strip().splitlines()[-1])
        return np.load(out), wall, report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-mnist", metavar="MNIST_DIR")
    ap.add_argument("--out-dir", default="/tmp/umapbench")
    ap.add_argument("--x")
    ap.add_argument("--labels")
    ap.add_argument("--n-components", type=int, default=10)
    ap.add_argument("--n-neighbors", type=int, default=20)
    ap.add_argument("--min-dist", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--trust-sample", type=int, default=3000)
    ap.add_argument("--binary", help="path of the umap_bench example binary")
    ap.add_argument("--parallel", action="store_true", help="also run deepclust's Hogwild SGD")
    ap.add_argument("--umap-learn-parallel", action="store_true",
                    help="also run umap-learn without random_state (parallel SGD)")
    ap.add_argument("--skip-umap-learn", action="store_true")
    ap.add_argument("--knn", choices=["auto", "exact", "nn-descent"], default="auto",
                    help="deepclust's neighbour search (exact: brute force, to separate graph and layout)")
    ap.add_argument("--init", choices=["spectral", "random"], default="spectral",
                    help="initial layout on both sides (random: to separate the spectral step from the SGD)")
    ap.add_argument("--sgd-order", choices=["bfs", "random"], default="bfs",
                    help="deepclust's SGD vertex order (random: as umap-learn on unsorted data)")
    ap.add_argument("--recall", action="store_true",
                    help="report the recall of deepclust's kNN graph against exact search")
    ap.add_argument("--json", help="write every result here")
    ap.add_argument("--rounds", type=int, default=1,
                    help="with N > 1: after umap-learn's JIT run, N interleaved rounds of "
                         "(deepclust 1-thread SGD, umap-learn steady state); prints the medians and their ratio")
    args = ap.parse_args()
    if args.make_mnist:
        make_mnist(args.make_mnist, args.out_dir)
        print(f"wrote MNIST PCA inputs to {args.out_dir}")
        return
    x = np.load(args.x).astype(np.float32)
    labels = np.load(args.labels) if args.labels else None
    sample = np.random.default_rng(0).choice(len(x), size=min(args.trust_sample, len(x)), replace=False)
    rows = []
    if args.rounds > 1:
        return interleaved(args, x, labels, sample)

    for parallel in ([False, True] if args.parallel else [False]):
        emb, wall, rep = run_ours(args, parallel)
        rows.append({"impl": "deepclust" + (" (Hogwild SGD)" if parallel else " (1-thread SGD, seeded)"),
                     "knn": args.knn, "init": args.init, "sgd_order": args.sgd_order, "time_s": rep["total_s"], "process_wall_s": wall, "knn_s": rep["knn_s"],
                     **({"knn_recall": rep["recall"]} if rep.get("recall") is not None else {}),
                     **scores(x, emb, labels, sample)})
        print(json.dumps(rows[-1]), flush=True)

    if not args.skip_umap_learn:
        import umap

        configs = [("umap-learn (random_state, 1-thread SGD)", {"random_state": args.seed})]
        if args.umap_learn_parallel:
            configs.append(("umap-learn (no random_state, parallel SGD)", {}))
        for name, extra in configs:
            for run in ("first run (includes numba JIT)", "second run (steady state)"):
                model = umap.UMAP(n_components=args.n_components, n_neighbors=args.n_neighbors,
                                  min_dist=args.min_dist, metric="euclidean", init=args.init, **extra)
                start = time.perf_counter()
                emb = model.fit_transform(x)
                t = time.perf_counter() - start
                row = {"impl": f"{name}, {run}", "time_s": t}
                if run.startswith("second"):
                    row.update(scores(x, emb, labels, sample))
                rows.append(row)
                print(json.dumps(rows[-1]), flush=True)

    print(f"\n{len(x)} x {x.shape[1]} ({os.path.basename(args.x)}), n_components={args.n_components}, "
          f"n_neighbors={args.n_neighbors}, min_dist={args.min_dist}, {os.cpu_count()} CPUs\n")
    print("| implementation | time (s) | trustworthiness@10 | kNN preservation@10 | K-Means NMI |")
    print("|---|---|---|---|---|")
    for r in rows:
        f = lambda k: f"{r[k]:.4f}" if k in r else "-"
        print(f"| {r['impl']} | {r['time_s']:.1f} | {f('trustworthiness')} | {f('knn_preservation')} | {f('kmeans_nmi')} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def interleaved(args, x, labels, sample):
    """Rounds of (deepclust, umap-learn), each seeded, after one untimed umap-learn run that
    compiles numba's kernels; quality is scored on the first round (seeded: every round gives
    the same layout)."""
    import umap

    def learn():
        model = umap.UMAP(n_components=args.n_components, n_neighbors=args.n_neighbors,
                          min_dist=args.min_dist, metric="euclidean", init=args.init,
                          random_state=args.seed)
        start = time.perf_counter()
        emb = model.fit_transform(x)
        return emb, time.perf_counter() - start

    _, jit = learn()
    print(json.dumps({"impl": "umap-learn, JIT run (not counted)", "time_s": jit}), flush=True)
    ours_t, learn_t, rows = [], [], []
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        emb, _, rep = run_ours(args, False)
        ours_t.append(rep["total_s"])
        row = {"impl": "deepclust (1-thread SGD, seeded)", "round": r, "time_s": rep["total_s"], "load": load}
        if r == 0:
            row.update(scores(x, emb, labels, sample))
        rows.append(row)
        print(json.dumps(row), flush=True)
        load = os.getloadavg()[0]
        emb, t = learn()
        learn_t.append(t)
        row = {"impl": "umap-learn (random_state, 1-thread SGD)", "round": r, "time_s": t, "load": load}
        if r == 0:
            row.update(scores(x, emb, labels, sample))
        rows.append(row)
        print(json.dumps(row), flush=True)
    med = lambda v: float(np.median(v))
    print(f"\n{len(x)} x {x.shape[1]}, n_components={args.n_components}, n_neighbors={args.n_neighbors}, "
          f"min_dist={args.min_dist}, {args.rounds} interleaved rounds, load {os.getloadavg()[0]:.2f} at the end\n")
    print("| implementation | time (s), rounds | median | trustworthiness@10 | kNN preservation@10 | K-Means NMI |")
    print("|---|---|---|---|---|---|")
    for name, times in (("deepclust (1-thread SGD, seeded)", ours_t), ("umap-learn (random_state, 1-thread SGD)", learn_t)):
        first = next(r for r in rows if r["impl"] == name)
        f = lambda k: f"{first[k]:.4f}" if k in first else "-"
        print(f"| {name} | {' / '.join(f'{t:.1f}' for t in times)} | {med(times):.1f} | "
              f"{f('trustworthiness')} | {f('knn_preservation')} | {f('kmeans_nmi')} |")
    print(f"\nspeed-up (umap-learn median / deepclust median): {med(learn_t) / med(ours_t):.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
