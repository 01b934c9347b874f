#!/bin/bash
# The newcomer's path on a fresh clone, release profile only: cold `cargo build --release`,
# the demo twice (the second reuses everything), then `cargo test --workspace --release`.
# Usage: bench/first_build_release.sh [WORKDIR]   (clones this repository's HEAD into WORKDIR/main)
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
rm -rf "$work/main" && git clone -q "$repo" "$work/main" || exit 1
[ -e "$work/shared" ] || [ ! -d "$repo/../shared" ] || ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
cd "$work/main" || exit 1
unset ORT_DYLIB_PATH
export CARGO_TERM_COLOR=never
t() { local log="$work/$1.log"; shift; local s e rc; s=$(date +%s.%N); "$@" >"$log" 2>&1; rc=$?; e=$(date +%s.%N); echo "$(basename "$log") rc=$rc wall=$(echo "$e - $s" | bc) s, load $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "start: $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
t A_build_release cargo build --release
echo "crates compiled: $(grep -c '^ *Compiling' "$work/A_build_release.log")"
echo "release tree: $(du -sh target/release | cut -f1)"
t A_demo /usr/bin/time -f "wall %e s, max RSS %M KB" target/release/deepclust demo
t A_demo_rerun /usr/bin/time -f "wall %e s, max RSS %M KB" target/release/deepclust demo
t B_test_release cargo test --workspace --release
echo "crates compiled in B: $(grep -c '^ *Compiling' "$work/B_test_release.log")"
echo "tree after B: $(du -sh target | cut -f1)"
