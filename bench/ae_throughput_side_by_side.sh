#!/usr/bin/env bash
# Autoencoder training throughput, deepclust-nn vs PyTorch CPU, side by side.
# Engines: deepclust-nn on the pure-Rust gemm crate; deepclust-nn with --features openblas
# (only when libopenblas is installed: Debian libopenblas-dev); PyTorch (bench/.venv).
# Runs every engine ROUNDS times, alternating, so all see the same machine load.
# Usage (from the repository root): bench/ae_throughput_side_by_side.sh [ROUNDS]
# Env: AE_SAMPLES (samples per timed epoch, default 16384).
# Needs: python3 -m venv bench/.venv && bench/.venv/bin/pip install torch
set -euo pipefail
rounds=${1:-2}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p deepclust-nn --example ae_throughput
cp "$target/release/examples/ae_throughput" "$target/ae_throughput_gemm"
engines=("$target/ae_throughput_gemm")
if ldconfig -p | grep -q libopenblas.so; then
  cargo build --release -q -p deepclust-nn --example ae_throughput --features openblas
  cp "$target/release/examples/ae_throughput" "$target/ae_throughput_openblas"
  engines+=("$target/ae_throughput_openblas")
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
# One untimed round first: on this VM the first minute of a heavy run is often slower for
# every engine (seen 2026-12-04: 3,600 then 7,300 samples/s for the same binary).
echo "--- warm-up round (not counted; load average $(cut -d' ' -f1-3 /proc/loadavg))"
for engine in "${engines[@]}"; do "$engine" 256 2048 >/dev/null; done
bench/.venv/bin/python bench/torch_ae_throughput.py 256 2048 >/dev/null
for r in $(seq "$rounds"); do
  echo "--- round $r (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  for engine in "${engines[@]}"; do "$engine" 256 2048 | grep -v '^threads'; done
  bench/.venv/bin/python bench/torch_ae_throughput.py 256 2048 | grep -v '^torch '
done
