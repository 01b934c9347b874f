#!/usr/bin/env python3
"""Writes N full-size 12-megapixel JPEGs (4000x3000, quality 90) made from the photos of a
folder (upscaled, shifted and noised so no two are alike), for timing decodes at camera size.

    python3 bench/make_12mp.py --from ../shared/data/gallery-dev/DCIM --n 300 --out /tmp/big12
"""
import argparse
import os
import random

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    srcs = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.src) for f in fs
                  if f.lower().endswith((".jpg", ".jpeg", ".png")))
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.n):
        img = Image.open(srcs[i % len(srcs)]).convert("RGB")
        w, h = img.size
        dx, dy = rng.randint(0, w // 10), rng.randint(0, h // 10)
        img = img.crop((dx, dy, w - w // 10 + dx, h - h // 10 + dy)).resize((4000, 3000), Image.BILINEAR)
        arr = np.asarray(img, np.int16) + np.random.default_rng(i).integers(-6, 7, (3000, 4000, 3))
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(
            os.path.join(a.out, f"IMG_{i:05d}.jpg"), quality=90)


if __name__ == "__main__":
    main()
