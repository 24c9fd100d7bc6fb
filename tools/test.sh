#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build in Release, run every
# test with CTest, then the ASan+UBSan, TSan, valgrind and libFuzzer passes (tools/ci/).
# Each step prints its wall time and the CPU time (user+sys) of the processes it ran; the time
# budget per step is in docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cpu_log=$(mktemp)
trap 'rm -f "$cpu_log"' EXIT
# Sets cpu_now to the CPU seconds of every finished child process so far (bash's `times`,
# second line), run in this shell: inside $(...) it would report the subshell's children.
children_cpu() {
  times >"$cpu_log"
  cpu_now=$(awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$cpu_log")
}
step() {
  local name=$1 start=$SECONDS cpu_before
  shift
  children_cpu
  cpu_before=$cpu_now
  "$@"
  children_cpu
  awk -v name="$name" -v wall=$((SECONDS - start)) -v before="$cpu_before" -v after="$cpu_now" \
    'BEGIN { printf "tools/test.sh: step %-9s %5d s wall %6.0f s CPU\n", name, wall, after - before }'
}
quietly() { "$@" >/dev/null; }
step deps tools/install-deps.sh --test
# A fresh tree builds with Ninja, which compiles a target's objects while the libraries it links
# are still building (Makefiles wait for them) and keeps both cores busy; an existing tree keeps
# the generator it was configured with.
generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja)
# The suites' own files at -O1 (the libraries they test stay at Release's -O3): a suite is mostly
# Boost.Test's macros, which -O3 takes 70% longer to compile, for no faster run (docs/testing.md).
step configure quietly cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DAG_TEST_COMPILE_OPTIONS=-O1
step build cmake --build build -j"$(nproc)"
step ctest ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
step asan tools/ci/sanitize.sh build-asan
step tsan tools/ci/tsan.sh build-tsan
step valgrind tools/ci/valgrind.sh build seed_004_relu_net
step fuzz tools/ci/fuzz.sh 10 build-asan
echo "tools/test.sh: all passes clean ($((SECONDS / 60)) min $((SECONDS % 60)) s)"
