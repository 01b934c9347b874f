"""K-Means on MNIST-70k raw pixels: deepclust vs scikit-learn, same k, n_init, max_iter, tol,
measured side by side (interleaved repetitions) on this machine.

    cargo build --release && python3 bench/kmeans_vs_sklearn.py --reps 3

Times are of the fit alone (data already in memory) for both; NMI is against the true labels
(scoring only). Prints a Markdown table for docs/BENCHMARKS.md and writes JSON with every run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
import threadpoolctl
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, os.path.dirname(__file__))
from mnist import load_mnist  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_deepclust(args, seed):
    with tempfile.TemporaryDirectory() as tmp:
        summary = os.path.join(tmp, "summary.json")
        cmd = [args.binary, "kmeans", "--data", args.mnist, "--k", str(args.k), "--n-init", str(args.n_init),
               "--max-iter", str(args.max_iter), "--tol", str(args.tol), "--seed", str(seed),
               "--summary-json", summary]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        with open(summary) as f:
            s = json.load(f)
    return {"fit_seconds": s["fit_seconds"], "wall_seconds": wall, "inertia": s["inertia"],
            "nmi": s["fit_scores"]["nmi"]}


def run_sklearn(x, y, args, seed):
    start = time.perf_counter()
    km = KMeans(args.k, n_init=args.n_init, max_iter=args.max_iter, tol=args.tol, random_state=seed).fit(x)
    seconds = time.perf_counter() - start
    # sklearn's inertia_ is in float32 arithmetic on float32 data; recompute in float64.
    centers = km.cluster_centers_.astype(np.float64)
    inertia = float(sum(((x[km.labels_ == c].astype(np.float64) - centers[c]) ** 2).sum() for c in range(args.k)))
    return {"fit_seconds": seconds, "inertia": inertia, "nmi": normalized_mutual_info_score(y, km.labels_)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mnist", default=os.path.join(ROOT, "..", "shared", "data", "mnist"))
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "deepclust"))
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--n-init", type=int, default=10)
    p.add_argument("--max-iter", type=int, default=300)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    x, y = load_mnist(args.mnist)
    print(f"scikit-learn {sklearn.__version__}, threads: "
          f"{[(i['internal_api'], i['num_threads']) for i in threadpoolctl.threadpool_info()]}", flush=True)
    runs = {"deepclust": [], "sklearn": []}
    for rep in range(args.reps):
        runs["deepclust"].append(run_deepclust(args, rep))
        print("deepclust", rep, runs["deepclust"][-1], flush=True)
        runs["sklearn"].append(run_sklearn(x, y, args, rep))
        print("sklearn  ", rep, runs["sklearn"][-1], flush=True)
    med = {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for name, rs in runs.items()}
    ratio = med["sklearn"]["fit_seconds"] / med["deepclust"]["fit_seconds"]
    print(f"\nMNIST 70,000 x 784, k={args.k}, n_init={args.n_init}, max_iter={args.max_iter}, tol={args.tol}, "
          f"{args.reps} interleaved repetitions (seeds 0..{args.reps - 1}), medians:\n")
    print("| implementation | fit time (s) | inertia | NMI |\n|---|---|---|---|")
    for name in ("deepclust", "sklearn"):
        m = med[name]
        print(f"| {name} | {m['fit_seconds']:.2f} | {m['inertia']:.6g} | {m['nmi']:.4f} |")
    print(f"\nspeed-up (scikit-learn time / deepclust time, medians): {ratio:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "medians": med, "ratio": ratio, "args": vars(args)}, f, indent=2)


if __name__ == "__main__":
    main()
