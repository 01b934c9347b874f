#!/usr/bin/env python3
"""Clustering methods on the organizer's own signals, and the Python feature baselines.

1. From an organize run's cache (OUT/.deepclust-cache.json, made with the content models), the
   rows deepclust clusters (crates/deepclust-gallery/src/albums.rs: L2-normalised EfficientNet
   embedding, text, text layout, camera, shape and face blocks, each scaled to its weight), then
   K-Means (scikit-learn), a diagonal Gaussian mixture and N2D (umap-learn, then a full mixture),
   each with k chosen by the lowest Davies-Bouldin index over 4..16 and with k = 8, seeds 0-2.
2. `--python-features`: MobileNetV2 and EfficientNet-Lite2 embeddings computed in Python
   (Pillow + onnxruntime), L2-normalised, scikit-learn KMeans with k = 8 (the issue's peer).

Labels (labels.csv) are read only to score.

    python3 bench/content_methods.py --out OUT --labels ../shared/data/gallery-dev/labels.csv
    python3 bench/content_methods.py --python-features ../shared/data/gallery-dev --labels ...
"""
import argparse
import csv
import json
import os
import sys
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture

warnings.filterwarnings("ignore")


def acc(y, c):
    m = np.zeros((c.max() + 1, y.max() + 1))
    for i, j in zip(c, y):
        m[i, j] += 1
    r, cc = linear_sum_assignment(-m)
    return m[r, cc].sum() / len(y)


def score(y, c):
    return normalized_mutual_info_score(y, c), acc(y, c), adjusted_rand_score(y, c)


def block(a, w):
    a = np.atleast_2d(np.asarray(a, float).T).T
    a = a - a.mean(0)
    t = np.sqrt((a ** 2).sum(1).mean())
    return a * (w / t if t > 1e-12 else 0.0)


def rows_from_cache(out):
    c = json.load(open(os.path.join(out, ".deepclust-cache.json")))
    photos = sorted(c["photos"], key=lambda p: p["rel_path"])
    s = [p["content"]["signals"] for p in photos]
    e = np.array([x["embedding"] for x in s], float)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    t = [x["text"] for x in s]
    area = np.array([x["area"] for x in t])
    boxes = np.array([x["boxes"] for x in t])
    cover = np.array([x["box_cover"] for x in t])
    grid = np.array([x["grid"] for x in t])
    cam = np.array([p["camera"] is not None for p in photos], float)
    shape = np.log(np.array([p["thumb_width"] / p["thumb_height"] for p in photos]))
    faces = []
    for x in s:
        f = x["faces"]
        area_px = f["width"] * f["height"]
        shares = sorted(((b["bbox"][2] - b["bbox"][0]) * (b["bbox"][3] - b["bbox"][1]) / area_px
                         for b in f["faces"] if b["score"] >= 0.75), reverse=True)
        shares = [v for v in shares if v >= 0.002]
        faces.append((min(len(shares), 3) / 3, np.sqrt(shares[0]) if shares else 0.0))
    faces = np.array(faces)
    wt = 0.5 / np.sqrt(3)
    x = np.hstack([block(e, 1.0), block(np.sqrt(area), wt), block(np.log1p(boxes), wt),
                   block(np.sqrt(cover), wt), block(np.sqrt(grid), 0.5), block(cam, 0.5),
                   block(shape, 0.3), block(faces[:, 0], 0.3 / np.sqrt(2)),
                   block(faces[:, 1], 0.3 / np.sqrt(2))])
    return [p["rel_path"] for p in photos], x


def fit(method, x, k, seed):
    if method == "kmeans":
        return KMeans(k, n_init=10, random_state=seed).fit_predict(x)
    if method == "gmm-diag":
        return GaussianMixture(k, covariance_type="diag", n_init=3, random_state=seed).fit_predict(x)
    raise ValueError(method)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--python-features")
    ap.add_argument("--models", default="../shared/models")
    a = ap.parse_args()
    labels = {r["path"]: r["category"] for r in csv.DictReader(open(a.labels))}
    cats = sorted(set(labels.values()))
    print("| method | k | seed | chosen k | NMI | ACC | ARI |")
    print("|---|---|---|---|---|---|---|")
    if a.out:
        paths, x = rows_from_cache(a.out)
        y = np.array([cats.index(labels[p]) for p in paths])
        import umap

        for method in ["kmeans", "gmm-diag", "n2d"]:
            for kk in ["auto", 8]:
                for seed in range(3):
                    space = x
                    if method == "n2d":
                        space = umap.UMAP(n_neighbors=20, min_dist=0.0, n_components=10,
                                          random_state=seed).fit_transform(x)
                    inner = "gmm-full" if method == "n2d" else method

                    def run(k):
                        if inner == "gmm-full":
                            return GaussianMixture(k, covariance_type="full", n_init=3,
                                                   random_state=seed).fit_predict(space)
                        return fit(inner, space, k, seed)

                    if kk == "auto":
                        best = min(((davies_bouldin_score(space, l), k, l)
                                    for k in range(4, 17) for l in [run(k)]), key=lambda t: t[0])
                        _, k, l = best
                    else:
                        k, l = kk, run(kk)
                    n, ac, ar = score(y, l)
                    print(f"| {method} on deepclust's rows | {kk} | {seed} | {k} | {n:.3f} | {ac:.3f} | {ar:.3f} |")
    if a.python_features:
        import onnxruntime as ort
        from PIL import Image, ImageOps

        root = a.python_features
        paths = sorted(p for p in labels if os.path.exists(os.path.join(root, p)))
        y = np.array([cats.index(labels[p]) for p in paths])
        specs = {
            "MobileNetV2 (Python)": ("mobilenetv2-features.onnx", 224,
                                     np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]),
                                     None),
            "EfficientNet-Lite2 (Python)": ("efficientnet-lite2.onnx", 260, np.array([0.5] * 3),
                                            np.array([0.5] * 3), ["embedding"]),
        }
        for name, (file, side, mean, std, outs) in specs.items():
            sess = ort.InferenceSession(os.path.join(a.models, file), providers=["CPUExecutionProvider"])
            inp = sess.get_inputs()[0].name
            emb = []
            for p in paths:
                img = ImageOps.exif_transpose(Image.open(os.path.join(root, p))).convert("RGB")
                v = (np.asarray(img.resize((side, side), Image.BILINEAR), np.float32) / 255 - mean) / std
                emb.append(sess.run(outs, {inp: v.transpose(2, 0, 1)[None].astype(np.float32)})[0][0])
            e = np.array(emb)
            e /= np.linalg.norm(e, axis=1, keepdims=True)
            for seed in range(3):
                l = KMeans(8, n_init=10, random_state=seed).fit_predict(e)
                n, ac, ar = score(y, l)
                print(f"| {name} + scikit-learn KMeans | 8 | {seed} | 8 | {n:.3f} | {ac:.3f} | {ar:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
