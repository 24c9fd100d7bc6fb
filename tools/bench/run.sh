#!/usr/bin/env bash
# Benchmarks side by side with PyTorch: builds ag_bench in Release (build-bench/), installs
# Debian's python3-torch when missing, runs every workload in both at 1 and 2 threads, checks
# that both compute the same numbers, prints the table and writes tools/bench/results.md.
#
#   tools/bench/run.sh            full run (~5 min)
#   tools/bench/run.sh --quick    small sizes, 3 repetitions (< 1 min)
#   extra options go to runner.py: --threads 1 --reps 9 --out FILE --build-dir DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${AG_BENCH_BUILD_DIR:-$ROOT/build-bench}"
JOBS="${AG_BENCH_JOBS:-2}"

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "python3-torch is missing: installing it with apt-get" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y python3-torch python3-numpy
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAG_TEST_AREAS=bench >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target ag_bench ag_bench_peak >/dev/null

exec /usr/bin/python3 "$ROOT/tools/bench/runner.py" --build-dir "$BUILD" \
  --command "tools/bench/run.sh" "$@"
