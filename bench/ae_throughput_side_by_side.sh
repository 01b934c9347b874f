#!/usr/bin/env bash
# Autoencoder training throughput, deepclust-nn (pure-Rust gemm) vs PyTorch CPU, side by side.
# Runs each engine ROUNDS times, alternating, so both see the same machine load.
# Usage: bench/ae_throughput_side_by_side.sh [ROUNDS]   (from the repository root)
# Needs: bench/.venv with torch (python3 -m venv bench/.venv && bench/.venv/bin/pip install torch).
set -euo pipefail
rounds=${1:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p deepclust-nn --example ae_throughput
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  echo "--- round $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$CARGO_TARGET_DIR/release/examples/ae_throughput" 256 2048
  bench/.venv/bin/python bench/torch_ae_throughput.py 256 2048
done
