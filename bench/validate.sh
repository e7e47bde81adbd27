#!/usr/bin/env bash
# Wall time of `atrium validate` on examples/team.yaml: median of RUNS runs (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-15}"
[ -f dist/src/cli/main.js ] || npm run build >/dev/null
node bin/atrium.js validate -c examples/team.yaml >/dev/null  # warm the file cache
times=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s%N)
  node bin/atrium.js validate -c examples/team.yaml >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$(( RUNS / 2 ))]}
echo "atrium validate examples/team.yaml: median ${median} ms over ${RUNS} runs (min ${sorted[0]} ms, max ${sorted[$(( RUNS - 1 ))]} ms)"
