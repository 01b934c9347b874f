#!/usr/bin/env python3
"""Is AE + K-Means limited by our K-Means or by the autoencoder's code?

Encodes all 70,000 MNIST images with a saved deepclust autoencoder (numpy forward pass of
its weights, as bench/n2d_vs_python.py), then runs scikit-learn's K-Means (k-means++, one
init per seed) for many seeds and prints inertia, ACC and NMI per restart, sorted by
inertia. Labels only score; the lowest inertia is what any restart strategy without labels
would keep.

    python3 bench/kmeans_on_code.py --ae runs/plain-e100-s0/full/autoencoder \
        --mnist ../shared/data/mnist --restarts 40
"""
import argparse
import os
import sys

from sklearn.cluster import KMeans

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist import load_mnist  # noqa: E402
from n2d_vs_python import encode, scores  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ae", required=True, help="folder with weights.safetensors and config.json")
    ap.add_argument("--mnist", default="../shared/data/mnist")
    ap.add_argument("--restarts", type=int, default=40)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    x, truth = load_mnist(args.mnist)
    code = encode(args.ae, x)
    runs = []
    for seed in range(args.restarts):
        km = KMeans(args.k, n_init=1, init="k-means++", random_state=seed).fit(code)
        s = scores(truth, km.labels_)
        runs.append((km.inertia_, s["acc"], s["nmi"], seed))
    runs.sort()
    print(f"code {code.shape[0]} x {code.shape[1]} from {args.ae}; {args.restarts} restarts, by inertia:")
    for inertia, acc, nmi, seed in runs:
        print(f"  inertia {inertia:10.1f}  ACC {acc:.4f}  NMI {nmi:.4f}  (seed {seed})")
    near_best = sum(r[0] <= runs[0][0] * 1.0001 for r in runs)
    print(f"lowest inertia: ACC {runs[0][1]:.4f} NMI {runs[0][2]:.4f}; restarts within 0.01% of it: {near_best}")


if __name__ == "__main__":
    main()
