#!/usr/bin/env python3
"""Is AE + K-Means limited by our K-Means or by the autoencoder's code?

Encodes all 70,000 MNIST images with a saved deepclust autoencoder (numpy forward pass of
weights.safetensors, read without the safetensors package), then runs scikit-learn's
K-Means (k-means++, one init per seed) for many seeds and prints inertia, ACC and NMI per
restart, sorted by inertia. Labels only score; the lowest inertia is what any restart
strategy without labels would keep.

    python3 bench/kmeans_on_code.py --ae runs/plain-e100-s0/full/autoencoder \
        --mnist ../shared/data/mnist --restarts 40
"""
import argparse
import glob
import gzip
import json
import os
import struct

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score


def load_safetensors(path):
    raw = open(path, "rb").read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    data = raw[8 + header_len :]
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", f"{path}: {name} is {meta['dtype']}, expected F32"
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(meta["shape"])
    return tensors


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    raw = opener(path, "rb").read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


def find(folder, stem):
    hits = sorted(glob.glob(os.path.join(folder, stem + "*")))
    if not hits:
        raise SystemExit(f"{folder}: no file starting with {stem}")
    return hits[0]


def accuracy(truth, pred, k):
    table = np.zeros((k, k))
    np.add.at(table, (truth, pred), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(truth)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ae", required=True, help="folder with weights.safetensors and config.json")
    ap.add_argument("--mnist", default="../shared/data/mnist")
    ap.add_argument("--restarts", type=int, default=40)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    config = json.load(open(os.path.join(args.ae, "config.json")))["config"]
    dims = config["dims"]
    encoder_layers = len(dims) - 1
    weights = load_safetensors(os.path.join(args.ae, "weights.safetensors"))
    # deepclust's MNIST order: the 60,000 training images, then the 10,000 test images.
    images = np.concatenate(
        [read_idx(find(args.mnist, "train-images")), read_idx(find(args.mnist, "t10k-images"))]
    )
    labels = np.concatenate(
        [read_idx(find(args.mnist, "train-labels")), read_idx(find(args.mnist, "t10k-labels"))]
    ).astype(np.int64)
    code = images.reshape(len(images), -1).astype(np.float32) / 255.0
    for layer in range(encoder_layers):
        code = code @ weights[f"layers.{layer}.weight"] + weights[f"layers.{layer}.bias"]
        if layer + 1 < encoder_layers:  # ReLU inside, linear code
            code = np.maximum(code, 0.0)

    runs = []
    for seed in range(args.restarts):
        km = KMeans(args.k, n_init=1, init="k-means++", random_state=seed).fit(code)
        runs.append(
            (
                km.inertia_,
                accuracy(labels, km.labels_, args.k),
                normalized_mutual_info_score(labels, km.labels_),
                seed,
            )
        )
    runs.sort()
    print(f"code {code.shape[0]} x {code.shape[1]} from {args.ae}; {args.restarts} restarts, by inertia:")
    for inertia, acc, nmi, seed in runs:
        print(f"  inertia {inertia:10.1f}  ACC {acc:.4f}  NMI {nmi:.4f}  (seed {seed})")
    print(
        f"lowest inertia: ACC {runs[0][1]:.4f} NMI {runs[0][2]:.4f}; "
        f"restarts within 0.01% of it: {sum(r[0] <= runs[0][0] * 1.0001 for r in runs)}"
    )


if __name__ == "__main__":
    main()
