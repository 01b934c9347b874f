#!/usr/bin/env bash
# Content albums on a labelled gallery, per embedding and signal set, with --k auto and k = 8,
# seeds 0-2: NMI / ACC / ARI and the chosen k (labels only score: bench/score_organize.py).
#   bench/content_ablation.sh [GALLERY] [MODELS]
set -euo pipefail
gallery=${1:-../shared/data/gallery-dev}
models=${2:-../shared/models}
bin=target/release/deepclust
declare -a names=(
  "stats|--embedding stats"
  "autoencoder|--embedding autoencoder"
  "MobileNetV2 (feature model)|--model $models/mobilenetv2-features.onnx"
  "EfficientNet-Lite2, no text, no faces|--models $models --no-text --no-faces"
  "EfficientNet-Lite2 + text|--models $models --no-faces"
  "EfficientNet-Lite2 + text + faces (default)|--models $models"
)
echo "| embedding and signals | k | seed | chosen k | NMI | ACC | ARI |"
echo "|---|---|---|---|---|---|---|"
for entry in "${names[@]}"; do
  label=${entry%%|*}
  flags=${entry#*|}
  for k in auto 8; do
    for seed in 0 1 2; do
      out=$(mktemp -d)/o
      # shellcheck disable=SC2086
      "$bin" organize "$gallery" --out "$out" --by content --no-html --k "$k" --seed "$seed" $flags >/dev/null 2>&1
      python3 bench/score_organize.py --out "$out" --labels "$gallery/labels.csv" \
        | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"| $label | $k | $seed | {r['k']} | {r['nmi']:.3f} | {r['acc']:.3f} | {r['ari']:.3f} |\")"
      rm -rf "$(dirname "$out")"
    done
  done
done
