"""The Python package against the Python stack, in one process on the same arrays.

1. K-Means on MNIST-70k raw pixels: `deepclust.KMeans` vs `sklearn.cluster.KMeans` (Lloyd),
   same k 10, n_init 10, max_iter 300, tol 1e-4, seeds 0..R-1, interleaved.
2. N2D on one saved autoencoder code (`--ae DIR`, e.g. from `deepclust train-ae --out DIR`):
   `deepclust.N2D(use_autoencoder=False)` vs umap-learn (n_components 10, n_neighbors 20,
   min_dist 0) + `sklearn.mixture.GaussianMixture(10, covariance_type="full")`, N2D's
   published pipeline; umap-learn's first call (numba compilation) is timed apart.

Times are of the fit alone (data in memory); NMI is against the labels (scoring only).

    pip install target/wheels/deepclust-*.whl umap-learn
    deepclust train-ae --data ../shared/data/mnist --epochs 20 --out /tmp/ae20
    python3 bench/python_side_by_side.py --mnist ../shared/data/mnist --ae /tmp/ae20 --rounds 3
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans as SkKMeans
from sklearn.metrics import normalized_mutual_info_score as nmi
from sklearn.mixture import GaussianMixture

import deepclust

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist import load_mnist  # noqa: E402


def timed(f):
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", default="../shared/data/mnist")
    ap.add_argument("--ae", help="autoencoder folder for the N2D comparison")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    x, y = load_mnist(args.mnist)
    print(f"MNIST {x.shape}, deepclust {deepclust.__version__}, scikit-learn {sklearn.__version__}, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for seed in range(args.rounds):
        km, t_ours = timed(lambda: deepclust.KMeans(10, n_init=10, max_iter=300, tol=1e-4, random_state=seed).fit(x))
        sk, t_sk = timed(lambda: SkKMeans(10, n_init=10, max_iter=300, tol=1e-4, algorithm="lloyd", random_state=seed).fit(x))
        row = dict(bench="kmeans", seed=seed, deepclust_s=t_ours, sklearn_s=t_sk,
                   deepclust_nmi=nmi(y, km.labels_), sklearn_nmi=nmi(y, sk.labels_),
                   deepclust_inertia=km.inertia_, sklearn_inertia=float(sk.inertia_),
                   load=os.getloadavg()[0])
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.ae:
        import umap

        code = deepclust.load(args.ae).transform(x)
        print(f"code {code.shape} from {args.ae}", flush=True)
        # umap-learn compiles its numba kernels on first use: once, untimed, on a subset.
        _, t_warm = timed(lambda: umap.UMAP(n_components=10, n_neighbors=20, min_dist=0.0).fit_transform(code[:3000]))
        print(f"umap-learn warm-up (numba compilation) on 3,000 rows: {t_warm:.1f} s", flush=True)
        for r in range(args.rounds):
            seed = r
            ours, t_ours = timed(lambda: deepclust.N2D(10, use_autoencoder=False, n_neighbors=20, random_state=seed).fit(code))

            def peer():
                layout = umap.UMAP(n_components=10, n_neighbors=20, min_dist=0.0, metric="euclidean",
                                   random_state=seed).fit_transform(code)
                gmm = GaussianMixture(10, covariance_type="full", random_state=seed).fit(layout)
                return gmm.predict(layout)

            labels, t_peer = timed(peer)
            row = dict(bench="n2d", round=r, deepclust_s=t_ours, peer_s=t_peer,
                       deepclust_nmi=nmi(y, ours.labels_), peer_nmi=nmi(y, labels),
                       load=os.getloadavg()[0])
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| benchmark | deepclust (median s) | peer (median s) | ratio | NMI deepclust / peer |")
    print("|---|---|---|---|---|")
    for bench, peer_key, name in (("kmeans", "sklearn", "scikit-learn KMeans"), ("n2d", "peer", "umap-learn + GaussianMixture")):
        sel = [r for r in rows if r["bench"] == bench]
        if not sel:
            continue
        a = statistics.median(r["deepclust_s"] for r in sel)
        b = statistics.median(r[f"{peer_key}_s"] for r in sel)
        na = statistics.median(r["deepclust_nmi"] for r in sel)
        nb = statistics.median(r[f"{peer_key}_nmi"] for r in sel)
        print(f"| {bench} vs {name} ({len(sel)} rounds) | {a:.2f} | {b:.2f} | {b / a:.2f}x | {na:.4f} / {nb:.4f} |")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
