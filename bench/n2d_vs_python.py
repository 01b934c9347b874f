"""N2D's clustering step on a saved autoencoder code: deepclust vs umap-learn + scikit-learn.

Both sides start from the same trained autoencoder (a folder written by `deepclust train-ae`
or `deepclust mnist --out`): deepclust runs `deepclust n2d --ae AE_DIR` (UMAP + full
covariance Gaussian mixture in Rust); the Python peer computes the same code from the same
weights with numpy, then runs umap-learn (n_components 10, n_neighbors 20, min_dist 0,
random_state as N2D sets it) and scikit-learn's GaussianMixture(covariance_type="full"),
exactly N2D's published pipeline. umap-learn runs twice per round in one process so that its
numba compilation (first run) is reported apart from its steady state. Rounds alternate
the two sides so both see the same machine load. Labels are used only to score.

    cargo build --release
    python3 bench/n2d_vs_python.py --ae /tmp/runs/best-s1/full/autoencoder \
        --mnist ../shared/data/mnist --rounds 2
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_safetensors(path):
    raw = open(path, "rb").read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    body = raw[8 + header_len :]
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", f"{path}: {name} is {meta['dtype']}"
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(meta["shape"])
    return tensors


def encode(ae_dir, x):
    """The code of x: ReLU inside the encoder, linear last layer (as deepclust-nn)."""
    config = json.load(open(os.path.join(ae_dir, "config.json")))["config"]
    weights = load_safetensors(os.path.join(ae_dir, "weights.safetensors"))
    layers = len(config["dims"]) - 1
    h = x.astype(np.float32)
    for i in range(layers):
        h = h @ weights[f"layers.{i}.weight"] + weights[f"layers.{i}.bias"]
        if i + 1 < layers:
            np.maximum(h, 0, out=h)
    return h


def scores(truth, pred):
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    k = max(truth.max(), pred.max()) + 1
    table = np.zeros((k, k), dtype=np.int64)
    np.add.at(table, (pred, truth), 1)
    rows, cols = linear_sum_assignment(-table)
    return {
        "nmi": float(normalized_mutual_info_score(truth, pred)),
        "acc": float(table[rows, cols].sum() / len(truth)),
        "ari": float(adjusted_rand_score(truth, pred)),
    }


def run_deepclust(args):
    binary = args.binary or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "deepclust")
    cmd = [binary, "n2d", "--ae", args.ae, "--data", args.mnist, "--k", str(args.k),
           "--n-neighbors", str(args.n_neighbors), "--seed", str(args.seed)]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    m = re.search(r"UMAP ([0-9.]+) s, mixture ([0-9.]+) s", out)
    s = re.search(r"NMI ([0-9.]+)\s+ACC ([0-9.]+)\s+ARI ([0-9.]+)", out)
    assert m and s, out
    return {"impl": "deepclust n2d", "umap_s": float(m.group(1)), "mixture_s": float(m.group(2)),
            "process_wall_s": wall, "nmi": float(s.group(1)), "acc": float(s.group(2)),
            "ari": float(s.group(3))}


def run_python(code, truth, args, first):
    import umap
    from sklearn.mixture import GaussianMixture

    start = time.perf_counter()
    emb = umap.UMAP(n_components=args.k, n_neighbors=args.n_neighbors, min_dist=0.0,
                    metric="euclidean", random_state=args.seed).fit_transform(code)
    umap_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = GaussianMixture(n_components=args.k, covariance_type="full",
                           random_state=args.seed).fit(emb).predict(emb)
    mixture_s = time.perf_counter() - start
    name = "umap-learn + sklearn GaussianMixture" + (" (first run: numba JIT)" if first else "")
    return {"impl": name, "umap_s": umap_s, "mixture_s": mixture_s, **scores(truth, pred)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ae", required=True, help="autoencoder folder (config.json + weights.safetensors)")
    ap.add_argument("--mnist", required=True, help="MNIST IDX folder")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--n-neighbors", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--binary", help="path of the deepclust binary (default target/release)")
    ap.add_argument("--json", help="write every result here")
    args = ap.parse_args()
    from mnist import load_mnist

    x, truth = load_mnist(args.mnist)
    code = encode(args.ae, x)
    print(f"code {code.shape} from {args.ae}; load average {os.getloadavg()}", flush=True)
    rows = []
    first = True
    for r in range(args.rounds):
        for side in ("deepclust", "python"):
            if side == "deepclust":
                row = run_deepclust(args)
            else:
                row = run_python(code, truth, args, first)
                if first:
                    rows.append({**row, "round": r, "load": os.getloadavg()[0]})
                    print(json.dumps(rows[-1]), flush=True)
                    row = run_python(code, truth, args, False)
                    first = False
            rows.append({**row, "round": r, "load": os.getloadavg()[0]})
            print(json.dumps(rows[-1]), flush=True)
    print("\n| implementation | round | UMAP (s) | mixture (s) | NMI | ACC |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['impl']} | {row['round']} | {row['umap_s']:.1f} | {row['mixture_s']:.1f} | "
              f"{row['nmi']:.4f} | {row['acc']:.4f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
