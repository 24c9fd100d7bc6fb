#!/usr/bin/env bash
# Flat profile of one engine workload, warm (the request is served REPEAT times in one process,
# as the runner does): perf when it works, else callgrind (slower: use small sizes).
#   tools/bench/profile.sh chain n=1000000
#   REPEAT=10 AG_BENCH_THREADS=2 tools/bench/profile.sh mlp batch=128 steps=20
# Uses build-bench/tools/ag_bench (tools/bench/run.sh builds it). Prints the top 30 symbols.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${AG_BENCH_BUILD_DIR:-$ROOT/build-bench}/tools/ag_bench"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
THREADS="${AG_BENCH_THREADS:-1}"
REPEAT="${REPEAT:-5}"
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
for _ in $(seq "$REPEAT"); do echo "$*"; done >"$OUT/requests"
if perf record -q -F 4000 -o "$OUT/perf.data" "$BIN" --threads "$THREADS" serve \
  <"$OUT/requests" >"$OUT/replies" 2>/dev/null; then
  perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | sed -E 's/ +- +- *$//' | cut -c1-150 | head -30
else
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" --threads "$THREADS" \
    serve <"$OUT/requests" >"$OUT/replies" 2>/dev/null
  callgrind_annotate "$OUT/cg.out" 2>/dev/null | sed -n '/Ir/,$p' | cut -c1-150 | head -34
fi
grep -o '"seconds_per_unit": [0-9.e-]*' "$OUT/replies" | tail -1
