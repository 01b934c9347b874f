#!/usr/bin/env bash
# Measures how long headless Chromium takes to render a report folder:
#   1. the page's own navigation timing (ms until the load event, i.e. every image decoded),
#      read from a copy of index.html with a small script appended;
#   2. the wall time of a full `chromium --headless --screenshot` run, minus the same run on
#      an empty page (browser start-up).
# Usage: render_time.sh REPORT_DIR [RUNS]     (needs Debian's chromium package)
set -euo pipefail
dir=$(cd "$1" && pwd)
runs=${2:-5}
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --hide-scrollbars
       --window-size=1280,2000)
check="$dir/render-check.html"
trap 'rm -f "$check" "$dir/blank.html"; rm -rf "$profile"' EXIT
profile=$(mktemp -d)
sed 's#</body>#<script>window.addEventListener("load",function(){var i=Array.prototype.slice.call(document.images);var b=i.filter(function(x){return !(x.complete\&\&x.naturalWidth>0)}).length;var n=performance.getEntriesByType("navigation")[0];var p=document.createElement("pre");p.id="render-check";p.textContent="images="+i.length+" broken="+b+" load_ms="+Math.round(n.loadEventStart);document.body.appendChild(p);});</script></body>#' \
  "$dir/index.html" > "$check"
echo '<!DOCTYPE html><html><body></body></html>' > "$dir/blank.html"
ms() { date +%s%N | cut -c1-13; }
for i in $(seq "$runs"); do
  out=$(chromium "${flags[@]}" --user-data-dir="$profile" --dump-dom "file://$check" 2>/dev/null \
        | grep -o 'images=[0-9]* broken=[0-9]* load_ms=[0-9]*' || true)
  t0=$(ms); chromium "${flags[@]}" --user-data-dir="$profile" --screenshot=/tmp/render-shot.png "file://$dir/blank.html" >/dev/null 2>&1; t1=$(ms)
  chromium "${flags[@]}" --user-data-dir="$profile" --screenshot=/tmp/render-shot.png "file://$dir/index.html" >/dev/null 2>&1; t2=$(ms)
  echo "run $i: $out | screenshot blank $((t1 - t0)) ms, report $((t2 - t1)) ms, difference $((t2 - t1 - (t1 - t0))) ms"
done
