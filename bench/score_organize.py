#!/usr/bin/env python3
"""Scores `deepclust organize --by content` against a gallery's labels.csv (path,category):
NMI (arithmetic, as scikit-learn), ACC (Hungarian) and ARI of the albums in OUT/manifest.json.
Labels are read only here, to score; the organizer never sees them.

    python3 bench/score_organize.py --out X --labels ../shared/data/gallery-dev/labels.csv
"""
import argparse
import csv
import json
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--confusion", action="store_true")
    a = ap.parse_args()
    labels = {r["path"]: r["category"] for r in csv.DictReader(open(a.labels))}
    manifest = json.load(open(f"{a.out}/manifest.json"))
    album = {}
    for photo in manifest["photos"]:
        for g in photo.get("groups", []):
            if g["kind"] == "content":
                album[photo["path"]] = g["group"]
    paths = sorted(p for p in album if p in labels)
    missing = [p for p in labels if p not in album]
    cats = sorted(set(labels[p] for p in paths))
    names = sorted(set(album[p] for p in paths))
    y = np.array([cats.index(labels[p]) for p in paths])
    c = np.array([names.index(album[p]) for p in paths])
    m = np.zeros((len(names), len(cats)), int)
    for i, j in zip(c, y):
        m[i, j] += 1
    r, cc = linear_sum_assignment(-m)
    acc = m[r, cc].sum() / len(paths)
    nmi = normalized_mutual_info_score(y, c)
    ari = adjusted_rand_score(y, c)
    print(json.dumps({"photos": len(paths), "unscored": len(missing), "k": len(names),
                      "nmi": round(nmi, 4), "acc": round(acc, 4), "ari": round(ari, 4)}))
    if a.confusion:
        print("album".ljust(48), " ".join(x[:6].rjust(6) for x in cats))
        for i, n in enumerate(names):
            print(n[:48].ljust(48), " ".join(str(v).rjust(6) for v in m[i]))


if __name__ == "__main__":
    sys.exit(main())
