#!/usr/bin/env bash
# The whole content scan with every signal, deepclust vs the Python peer (Pillow reduced decode
# + onnxruntime, the same models and steps: bench/gallery_signals.py), interleaved rounds.
#   bench/organize_vs_python.sh PHOTOS [ROUNDS]   (models from ../shared/models)
set -euo pipefail
photos=${1:?photos folder}
rounds=${2:-3}
models=${MODELS:-../shared/models}
bin=target/release/deepclust
py=python3
[ -x bench/.venv/bin/python ] && py=bench/.venv/bin/python
# onnxruntime for deepclust: the same wheel the Python peer imports, unless already set.
if [ -z "${ORT_DYLIB_PATH:-}" ]; then
  ORT_DYLIB_PATH=$("$py" -c 'import onnxruntime, glob, os; print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*")))[0])')
  export ORT_DYLIB_PATH
fi
echo "onnxruntime: $ORT_DYLIB_PATH; python: $py"
n=$(find "$photos" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | wc -l)
echo "photos: $n; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  out=$(mktemp -d)/o
  t0=$(date +%s.%N)
  # --embedding models: an error, not a silent fallback to the statistics, if the runtime is missing.
  "$bin" organize "$photos" --out "$out" --by content --no-html --models "$models" --embedding models >/dev/null 2>"$out.log" \
    || { cat "$out.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  "$py" bench/gallery_signals.py --photos "$photos" --models "$models" --out "$(mktemp -d)/sig.npz" 2>/dev/null
  t2=$(date +%s.%N)
  python3 - "$n" "$t0" "$t1" "$t2" "$r" <<'PY'
import sys
n, t0, t1, t2, r = int(sys.argv[1]), *map(float, sys.argv[2:5]), sys.argv[5]
a, b = t1 - t0, t2 - t1
print(f"round {r}: deepclust {a:.1f} s ({n / a:.1f} photos/s), python {b:.1f} s ({n / b:.1f} photos/s), ratio {b / a:.2f}x")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
