#!/bin/bash
# The catalogue at scale (issue 15): a generated 100,000-photo library organized model-free
# (then a no-change re-run), the model path on a 10,000-photo part of it, full-size 12 MP
# JPEGs for the decode cost, and the Parquet export with Spark MLlib's K-Means on it.
# Prints wall time, photos/s, peak RSS (/usr/bin/time -v) and the catalogue's size.
#
#   cargo build --release -p deepclust-cli -p deepclust-gallery --example write_library
#   python3 bench/make_12mp.py --from ../shared/data/gallery-dev --n 2000 --out /tmp/big12
#   LIB=/tmp/lib100k BIG12=/tmp/big12 SPARK_PYTHON=/path/to/python-with-pyspark bench/catalog_scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$ROOT/target/release/deepclust}
W=${W:-$ROOT/target/release/examples/write_library}
N=${N:-100000}
LIB=${LIB:-/tmp/lib100k}
WORK=${WORK:-/tmp/catalog-scale}
MODELS=${MODELS:-$ROOT/../shared/models}
SUBSET=${SUBSET:-10000}
mkdir -p "$WORK"
timed() { # label, command...
    local label=$1; shift
    /usr/bin/time -v "$@" > "$WORK/$label.out" 2> "$WORK/$label.time" || { tail -5 "$WORK/$label.time"; exit 1; }
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$WORK/$label.time" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$WORK/$label.time" | awk '{print $NF}')
    echo "$label: wall $wall, peak RSS $((rss / 1024)) MB, load $(cut -d' ' -f1 /proc/loadavg)"
}
[ -d "$LIB" ] || timed generate "$W" "$LIB" "$N" 0
echo "library: $(find "$LIB" -type f | wc -l) files, $(du -sh "$LIB" | cut -f1)"

OUT=$WORK/model-free
rm -rf "$OUT"
timed organize-model-free "$B" --quiet organize "$LIB" --out "$OUT" --by date,event,place,content --embedding stats
grep -E "^photos:" "$WORK/organize-model-free.out"
echo "catalogue: $(du -sh "$OUT/catalog.sqlite" | cut -f1), manifest: $(du -sh "$OUT/manifest.json" | cut -f1)"
timed rerun-model-free "$B" --quiet organize "$LIB" --out "$OUT" --by date,event,place,content --embedding stats
grep -E "^photos:|^links:" "$WORK/rerun-model-free.out"

# The model path on the first SUBSET photos (links to them, same files).
if [ -f "$MODELS/efficientnet-lite2.onnx" ]; then
    PART=$WORK/part-$SUBSET
    if [ ! -d "$PART" ]; then
        mkdir -p "$PART"
        find "$LIB" -name '*.jpg' | sort | head -n "$SUBSET" | while read -r f; do
            rel=${f#"$LIB"/}; mkdir -p "$PART/$(dirname "$rel")"; ln -s "$f" "$PART/$rel"; done
    fi
    OUT=$WORK/models
    rm -rf "$OUT"
    timed organize-models "$B" --quiet organize "$PART" --out "$OUT" --by date,event,place,content --embedding models --models "$MODELS" --follow-symlinks
    grep -E "^photos:|^content embedding" "$WORK/organize-models.out"
    echo "catalogue: $(du -sh "$OUT/catalog.sqlite" | cut -f1)"
    timed rerun-models "$B" --quiet organize "$PART" --out "$OUT" --by date,event,place,content --embedding models --models "$MODELS" --follow-symlinks
    grep -E "^photos:" "$WORK/rerun-models.out"
fi

# Full-size 12 MP JPEGs (bench/make_12mp.py): the decode cost at camera size.
if [ -n "${BIG12:-}" ] && [ -d "$BIG12" ]; then
    OUT=$WORK/big12
    rm -rf "$OUT"
    timed organize-12mp "$B" --quiet organize "$BIG12" --out "$OUT" --by date,content --embedding stats
    grep -E "^photos:" "$WORK/organize-12mp.out"
fi

# Parquet export of the model-free catalogue, and Spark MLlib K-Means on it.
timed export "$B" export "$WORK/model-free" --parquet "$WORK/export"
cat "$WORK/export.out"
if [ -n "${SPARK_PYTHON:-}" ]; then
    timed spark "$SPARK_PYTHON" "$ROOT/recipes/spark_kmeans.py" --parquet "$WORK/export" --k 12 --out "$WORK/spark-clusters"
    cat "$WORK/spark.out"
    timed import "$B" import-clusters "$WORK/spark-clusters" --out "$WORK/model-free" --name spark-kmeans
    head -3 "$WORK/import.out"
fi
