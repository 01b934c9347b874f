#!/usr/bin/env bash
# Every side-by-side benchmark in sequence, each printing its own table, with the machine's
# load said before and after each one, so figures from a busy machine never reach
# docs/BENCHMARKS.md unmarked.
#
#   bench/run_all.sh [--allow-busy] [--only NAME[,NAME...]] [--ae AE_DIR] [--photos DIR]
#
# NAME: kmeans, ae, umap, n2d, organize-free, organize. The peers run from bench/.venv when it exists, else
# from the system python3; one whose packages are missing is skipped with a message:
#   python3 -m venv bench/.venv
#   bench/.venv/bin/pip install numpy scikit-learn umap-learn torch onnxruntime pillow
# n2d needs a trained autoencoder (--ae DIR: `deepclust train-ae ... --out DIR`, or
# `deepclust mnist --best --out RUN` then RUN/full/autoencoder); organize needs --photos
# (default ../shared/data/gallery-dev) and the models in ../shared/models.
#
# Before each benchmark the script waits up to 3 minutes (env BENCH_MAX_WAIT, seconds) for the 1-minute load average to
# fall below 1.5 (the previous benchmark's own load decays). If it does not, it stops
# (exit 3) -- or with --allow-busy goes on and prints "BUSY" with the load above and below
# that benchmark's table.
set -uo pipefail
cd "$(dirname "$0")/.."
max_load=1.5
allow_busy=0
only="kmeans,ae,umap,n2d,organize-free,organize"
ae_dir=""
photos=../shared/data/gallery-dev
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-busy) allow_busy=1 ;;
    --only) only="$2"; shift ;;
    --ae) ae_dir="$2"; shift ;;
    --photos) photos="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
py=python3
[ -x bench/.venv/bin/python ] && py=bench/.venv/bin/python
load1() { cut -d' ' -f1 /proc/loadavg; }
above() { awk -v a="$1" -v b="$max_load" 'BEGIN { exit !(a > b) }'; }
has_py() { "$py" -c "import $1" >/dev/null 2>&1; }

# Waits for a quiet machine; prints the verdict. Returns 1 when the run must stop.
busy=0
wait_quiet() {
  local waited=0
  while above "$(load1)" && [ "$waited" -lt "${BENCH_MAX_WAIT:-180}" ]; do sleep 10; waited=$((waited + 10)); done
  busy=0
  if above "$(load1)"; then
    busy=1
    if [ "$allow_busy" -eq 0 ]; then
      echo "refused: 1-minute load $(load1) > $max_load after waiting ${waited} s;" \
        "stop what else runs, or pass --allow-busy to mark the figures BUSY" >&2
      return 1
    fi
  fi
}

run_one() {
  local name="$1"; shift
  case ",$only," in *",$name,"*) ;; *) return 0 ;; esac
  wait_quiet || exit 3
  local tag=""
  [ "$busy" -eq 1 ] && tag="BUSY "
  echo
  echo "=== ${tag}$name: $(date -u '+%Y-%m-%d %H:%M UTC'), load before $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "    \$ $*"
  "$@"
  echo "=== ${tag}$name: exit $?, load after $(cut -d' ' -f1-3 /proc/loadavg)"
}

skip() { echo; echo "=== $1: skipped: $2"; }

cargo build --release -q || exit 1
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); python: $py"

if has_py sklearn; then
  run_one kmeans "$py" bench/kmeans_vs_sklearn.py --reps 3
else
  skip kmeans "scikit-learn is not installed for $py"
fi

if [ -x bench/.venv/bin/python ] && bench/.venv/bin/python -c "import torch" 2>/dev/null; then
  run_one ae bench/ae_throughput_side_by_side.sh 3
else
  skip ae "PyTorch is not installed in bench/.venv"
fi

if has_py umap && has_py sklearn; then
  umap_dir=$(mktemp -d)
  cargo build --release -q -p deepclust-manifold --example umap_bench
  "$py" bench/umap_vs_umaplearn.py --make-mnist ../shared/data/mnist --out-dir "$umap_dir" >/dev/null
  run_one umap "$py" bench/umap_vs_umaplearn.py --x "$umap_dir/mnist70k_pca10.npy" \
    --labels "$umap_dir/mnist70k_labels.npy" --n-components 10 --n-neighbors 20 --min-dist 0 --rounds 3
else
  skip umap "umap-learn or scikit-learn is not installed for $py"
fi

if [ -z "$ae_dir" ]; then
  skip n2d "no --ae DIR (a trained autoencoder) given"
elif has_py umap && has_py sklearn; then
  run_one n2d "$py" bench/n2d_vs_python.py --ae "$ae_dir" --mnist ../shared/data/mnist --rounds 3
else
  skip n2d "umap-learn or scikit-learn is not installed for $py"
fi

# The model-free scan (EXIF, thumbnail, statistics embedding, thumbnail file) on 2,000
# generated Fashion-MNIST JPEGs, against the same steps in Pillow + numpy (2 processes).
if [ ! -d ../shared/data/fashion-mnist ]; then
  skip organize-free "no ../shared/data/fashion-mnist to generate the library from"
elif has_py PIL && has_py numpy; then
  cargo build --release -q -p deepclust-gallery --example gallery_bench
  gb_dir=$(mktemp -d)
  target/release/examples/gallery_bench --idx ../shared/data/fashion-mnist --n 2000 --side 112 \
    --work "$gb_dir" --embedding stats >/dev/null
  organize_free() {
    for round in 1 2 3; do
      echo "round $round"
      target/release/examples/gallery_bench --work "$gb_dir" --embedding stats | grep scan
      "$py" bench/organizer_peer.py "$gb_dir/library" --variant pixels
    done
  }
  run_one organize-free organize_free
else
  skip organize-free "Pillow or numpy is not installed for $py"
fi

if [ ! -d "$photos" ] || [ ! -d ../shared/models ]; then
  skip organize "no photo folder $photos or no ../shared/models"
elif has_py onnxruntime && has_py PIL; then
  run_one organize bench/organize_vs_python.sh "$photos" 3
else
  skip organize "onnxruntime or Pillow is not installed for $py"
fi
