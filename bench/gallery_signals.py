#!/usr/bin/env python3
"""Python peer of the organizer's content scan: the same steps with Pillow and onnxruntime.

Per photo: a reduced decode (Pillow's JPEG draft mode, the DCT scaling deepclust uses), then
EfficientNet-Lite2 (embedding 1280 + ImageNet logits), the PP-OCRv4 text detector (text-area
fraction and box count at longer side 640) and BlazeFace on the image and four tiles with a dlib
descriptor per face (face count, largest face share), as ../shared/models/README.md specifies. Writes the signals to an .npz and prints photos/s.

    python3 bench/gallery_signals.py --photos ../shared/data/gallery-dev --out /tmp/sig.npz
"""
import argparse
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps
from scipy import ndimage

EXTS = (".jpg", ".jpeg", ".png")


def list_photos(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            if f.lower().endswith(EXTS):
                out.append(os.path.join(d, f))
    return sorted(out)


def load_reduced(path, side):
    img = Image.open(path)
    if img.format == "JPEG":
        img.draft("RGB", (side, side))
    img = ImageOps.exif_transpose(img).convert("RGB")
    w, h = img.size
    if max(w, h) > side:
        s = side / max(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    return img


def effnet_input(img):
    # Plain resize of the whole image to 260x260 (models/README: fine for embeddings).
    x = np.asarray(img.resize((260, 260), Image.BILINEAR), dtype=np.float32) / 255.0
    x = (x - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None]


def text_signals(sess, img, max_side=640):
    w, h = img.size
    r = max_side / max(w, h)
    nw = max(32, int(round(w * r / 32)) * 32)
    nh = max(32, int(round(h * r / 32)) * 32)
    x = np.asarray(img.resize((nw, nh), Image.BILINEAR), dtype=np.float32)[:, :, ::-1] / 255.0
    x = ((x - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()
    prob = sess.run(None, {"x": x})[0][0, 0]
    mask = prob > 0.3
    frac = float(mask.mean())
    mask = ndimage.binary_dilation(mask, structure=np.ones((2, 2), bool))
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = 0
    cover = 0.0
    for i, sl in enumerate(ndimage.find_objects(lab)):
        if sl is None:
            continue
        hh = sl[0].stop - sl[0].start
        ww = sl[1].stop - sl[1].start
        if min(hh, ww) < 3:
            continue
        if prob[sl][lab[sl] == i + 1].mean() < 0.5:
            continue
        boxes += 1
        cover += hh * ww
    # Where the text is: fraction of text pixels in each cell of a 4x4 grid.
    gh, gw = mask.shape[0] // 4 * 4, mask.shape[1] // 4 * 4
    grid = (prob[:gh, :gw] > 0.3).reshape(4, gh // 4, 4, gw // 4).mean(axis=(1, 3)).ravel()
    return frac, boxes, cover / (nw * nh), grid


def anchors():
    out = []
    for n, per in ((16, 2), (8, 6)):
        for y in range(n):
            for x in range(n):
                for _ in range(per):
                    out.append(((x + 0.5) / n, (y + 0.5) / n))
    return np.array(out, np.float32)


ANCHORS = anchors()


def detect(sess, img):
    """BlazeFace on one image: [(score, box x0 y0 x1 y1, right eye, left eye)] in its pixels."""
    w, h = img.size
    s = 128 / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    canvas = Image.new("RGB", (128, 128))
    ox, oy = (128 - nw) // 2, (128 - nh) // 2
    canvas.paste(img.resize((nw, nh), Image.BILINEAR), (ox, oy))
    x = (np.asarray(canvas, np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
    reg, cls = sess.run(None, {"input": x})
    score = 1 / (1 + np.exp(-np.clip(cls[0, :, 0], -80, 80)))
    keep = np.where(score >= 0.5)[0]
    if len(keep) == 0:
        return []
    r = reg[0, keep]
    kx = r[:, 4:16:2] / 128 + ANCHORS[keep, 0:1]
    ky = r[:, 5:16:2] / 128 + ANCHORS[keep, 1:2]
    cx = r[:, 0] / 128 + ANCHORS[keep, 0]
    cy = r[:, 1] / 128 + ANCHORS[keep, 1]
    bw = r[:, 2] / 128
    bh = r[:, 3] / 128
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
    order = np.argsort(-score[keep])
    used = np.zeros(len(keep), bool)
    found = []
    for i in order:
        if used[i]:
            continue
        a = boxes[i]
        ix = np.maximum(0, np.minimum(a[2], boxes[:, 2]) - np.maximum(a[0], boxes[:, 0]))
        iy = np.maximum(0, np.minimum(a[3], boxes[:, 3]) - np.maximum(a[1], boxes[:, 1]))
        inter = ix * iy
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        iou = inter / (area + (a[2] - a[0]) * (a[3] - a[1]) - inter + 1e-9)
        cl = (iou >= 0.3) & ~used
        used |= cl
        wgt = score[keep][cl][:, None]
        b = (boxes[cl] * wgt).sum(0) / wgt.sum()
        ex = (kx[cl, :2] * wgt).sum(0) / wgt.sum()
        ey = (ky[cl, :2] * wgt).sum(0) / wgt.sum()
        px = lambda u: (u * 128 - ox) / s
        py = lambda v: (v * 128 - oy) / s
        found.append((float(score[keep][i]), [px(b[0]), py(b[1]), px(b[2]), py(b[3])],
                      (px(ex[0]), py(ey[0])), (px(ex[1]), py(ey[1]))))
    return found


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])
    return inter / max(area(a) + area(b) - inter, 1e-12)


def faces(sess, desc, img):
    """Faces as deepclust finds them: the whole image and four 60% tiles, plain NMS, then a
    dlib descriptor on each eye-aligned 150x150 chip. Returns (count, largest share)."""
    found = detect(sess, img)
    w, h = img.size
    if min(w, h) >= 256:
        tw, th = w * 3 // 5, h * 3 // 5
        for x0, y0 in ((0, 0), (w - tw, 0), (0, h - th), (w - tw, h - th)):
            for sc, b, re, le in detect(sess, img.crop((x0, y0, x0 + tw, y0 + th))):
                found.append((sc, [b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0],
                              (re[0] + x0, re[1] + y0), (le[0] + x0, le[1] + y0)))
    found.sort(key=lambda f: -f[0])
    kept = []
    for f in found:
        if all(iou(k[1], f[1]) < 0.3 for k in kept):
            kept.append(f)
        if len(kept) == 12:
            break
    for sc, b, re, le in kept:
        # Chip -> image similarity transform putting the eyes at dlib's chip points.
        cr, cl = np.array([47.73, 47.14]), np.array([100.28, 47.12])
        dc, di = complex(*(cl - cr)), complex(le[0] - re[0], le[1] - re[1])
        m = di / dc
        a, bb = m.real, m.imag
        tx = re[0] - (a * cr[0] - bb * cr[1])
        ty = re[1] - (bb * cr[0] + a * cr[1])
        chip = img.transform((150, 150), Image.AFFINE, (a, -bb, tx, bb, a, ty), Image.BILINEAR)
        x = np.asarray(chip, np.float32).transpose(2, 0, 1)[None].copy()
        desc.run(None, {"input": x})
    if not kept:
        return 0, 0.0
    largest = max((b[2] - b[0]) * (b[3] - b[1]) for _, b, _, _ in kept) / (w * h)
    return len(kept), float(largest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", required=True)
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    so = ort.SessionOptions()
    if a.threads:
        so.intra_op_num_threads = a.threads
    m = lambda f: os.path.join(a.models, f)
    eff = ort.InferenceSession(m("efficientnet-lite2.onnx"), so, providers=["CPUExecutionProvider"])
    det = ort.InferenceSession(m("ppocr-v4-det.onnx"), so, providers=["CPUExecutionProvider"])
    bf = ort.InferenceSession(m("blazeface-short.onnx"), so, providers=["CPUExecutionProvider"])
    desc = ort.InferenceSession(m("dlib-face-resnet128.onnx"), so, providers=["CPUExecutionProvider"])
    paths = list_photos(a.photos)
    emb, logits, sig, grids, meta = [], [], [], [], []
    t0 = time.time()
    for p in paths:
        img = load_reduced(p, 640)
        e, l = eff.run(["embedding", "logits"], {"input": effnet_input(img)})
        frac, boxes, cover, grid = text_signals(det, img)
        grids.append(grid)
        raw = Image.open(p)
        exif = raw.getexif()
        meta.append([int(271 in exif or 272 in exif), int(raw.format == "PNG"), raw.size[0] / raw.size[1]])
        nf, largest = faces(bf, desc, img)
        emb.append(e[0])
        logits.append(l[0])
        sig.append([frac, boxes, cover, nf, largest])
    dt = time.time() - t0
    rel = [os.path.relpath(p, a.photos) for p in paths]
    np.savez(a.out, paths=np.array(rel), emb=np.array(emb), logits=np.array(logits), sig=np.array(sig), grid=np.array(grids), meta=np.array(meta))
    print(f"{len(paths)} photos in {dt:.1f} s: {len(paths) / dt:.1f} photos/s", file=sys.stderr)


if __name__ == "__main__":
    main()
