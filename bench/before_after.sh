#!/bin/bash
# Checks that two builds of `deepclust` give bit-identical results on fixed seeds (issue 11:
# a refactor must not change behaviour): K-Means, mini-batch K-Means, DEC, IDEC, N2D (fixed k
# and --k auto) and train-ae + --resume on the 8x8 digits, the MNIST walkthrough on 3,000
# images, organize on ../shared/data/photos, K-Means on a 70/30 split and the demo (32 photos,
# 600 digits). Compares assignments, weights, centroids,
# results.json (without times) and the manifest (without its paths).
#
#   git worktree add /tmp/old <commit> && CARGO_TARGET_DIR=/tmp/old-target cargo build --release --manifest-path /tmp/old/Cargo.toml
#   bench/before_after.sh /tmp/old-target/release/deepclust target/release/deepclust
set -euo pipefail
OLD=$1; NEW=$2
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
D=$SHARED/data/digits/digits.csv.gz
run() {
    local B=$1 O=$2
    rm -rf "$O"; mkdir -p "$O"
    $B --quiet kmeans --data $D --k 10 --seed 0 --output $O/km.csv --save-model $O/kmmodel > $O/km.log 2>&1
    $B --quiet kmeans --data $D --k 10 --seed 0 --minibatch --output $O/mb.csv > $O/mb.log 2>&1
    $B --quiet dec --data $D --dims 64,64,10 --epochs 10 --seed 0 --output $O/dec.csv --out $O/decmodel > $O/dec.log 2>&1
    $B --quiet idec --data $D --dims 64,64,10 --epochs 10 --seed 0 --output $O/idec.csv > $O/idec.log 2>&1
    $B --quiet n2d --data $D --dims 64,64,10 --epochs 10 --seed 0 --output $O/n2d.csv > $O/n2d.log 2>&1
    $B --quiet n2d --data $D --dims 64,64,10 --epochs 10 --seed 0 --k auto --k-max 12 --output $O/n2dauto.csv > $O/n2dauto.log 2>&1
    $B --quiet train-ae --data $D --dims 64,64,10 --epochs 4 --seed 0 --out $O/ae > $O/ae.log 2>&1
    $B --quiet train-ae --data $D --dims 64,64,10 --epochs 3 --seed 0 --out $O/ae --resume > $O/ae2.log 2>&1
    $B --quiet mnist --data $SHARED/data/mnist --limit 3000 --epochs 3 --dec-maxiter 200 --out $O/mnist > $O/mnist.log 2>&1
    $B --quiet organize $SHARED/data/photos --out $O/org --embedding stats --no-html > $O/org.log 2>&1
    $B --quiet kmeans --data $D --k 10 --seed 0 --split 0.7 --output $O/kmsplit.csv > $O/kmsplit.log 2>&1
    $B --quiet demo --out $O/demo --n 32 --digits 600 > $O/demo.log 2>&1
}
T=$(mktemp -d)
run "$OLD" $T/old
run "$NEW" $T/new
fail=0
same() { if cmp -s "$T/old/$1" "$T/new/$1"; then echo "same      $1"; else echo "DIFFERENT $1"; fail=1; fi; }
for f in km.csv kmsplit.csv mb.csv dec.csv idec.csv n2d.csv n2dauto.csv kmmodel/centroids.json \
    decmodel/weights.safetensors ae/weights.safetensors mnist/split/dec/weights.safetensors \
    mnist/full/dec/weights.safetensors; do same $f; done
if diff -q <(grep -v seconds $T/old/mnist/results.json) <(grep -v seconds $T/new/mnist/results.json) > /dev/null; then
    echo "same      mnist/results.json (times left out)"; else echo "DIFFERENT mnist/results.json"; fail=1; fi
if diff -q <(sed "s#$T/old#X#g" $T/old/org/manifest.json) <(sed "s#$T/new#X#g" $T/new/org/manifest.json) > /dev/null; then
    echo "same      org/manifest.json (output path left out)"; else echo "DIFFERENT org/manifest.json"; fail=1; fi
# The demo's printed summary and table, without times and its own folder.
strip() { sed -e "s#$T/$1#X#g" -e 's/[0-9.]* s\b//g' -e 's/| [0-9.]* |$//' $T/$1/demo.log; }
if diff -q <(strip old) <(strip new) > /dev/null; then
    echo "same      demo.log (times and folder left out)"; else echo "DIFFERENT demo.log"; diff <(strip old) <(strip new) | head -20; fail=1; fi
exit $fail
