#!/usr/bin/env bash
# The README's two commands on a fresh clone, timed: cold release build, the demo, the tests
# reusing the release build, then the dev/test profile from scratch for comparison.
# Usage: bench/first_build.sh [WORKDIR]   (clones this repository's HEAD into WORKDIR/main)
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
rm -rf "$work/main" && git clone -q "$repo" "$work/main" || exit 1
# Tests that use ../shared find it beside the clone.
[ -e "$work/shared" ] || [ ! -d "$repo/../shared" ] || ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
cd "$work/main"
unset ORT_DYLIB_PATH   # as a newcomer: the model tests skip with a message
export CARGO_TERM_COLOR=never
t() {
  local log="$work/$1.log"; shift
  local s e rc; s=$(date +%s.%N); "$@" >"$log" 2>&1; rc=$?; e=$(date +%s.%N)
  echo "$(basename "$log") rc=$rc wall=$(echo "$e - $s" | bc) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
echo "start: load $(cut -d' ' -f1-3 /proc/loadavg)"
t A_build_release cargo build --release
t A_demo target/release/deepclust demo
echo "release tree: $(du -sh target/release | cut -f1)"
t B_test_release cargo test --workspace --release
echo "tree after B: $(du -sh target | cut -f1)"
t C_test_dev cargo test --workspace
echo "tree after C: $(du -sh target | cut -f1)"
