#!/usr/bin/env bash
# libFuzzer short runs of every target in tests/fuzz/ (expression parser, IDX, safetensors, and
# the tensor API driven by op programs), each for SECONDS (default 20) starting from its corpus in tests/fuzz/.
# New inputs go to the build tree, never into tests/. Needs clang; without it: skipped.
# Usage: tools/ci/fuzz.sh [seconds] [build-dir]   Exit status: 0 = no crash in any target.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
build=${2:-$root/build-asan}
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang): libFuzzer runs skipped"
  exit 0
fi
# The asan preset's build: its libraries carry the coverage the fuzzer steers by, under ASan and
# UBSan, so after tools/ci/sanitize.sh only the four targets (tests/fuzz.cmake) are left to build.
targets=(expr_parser idx safetensors tensor_ops)
cmake --preset asan -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
declare -A corpus=([expr_parser]=corpus [idx]=corpus_idx [safetensors]=corpus_safetensors
  [tensor_ops]=corpus_tensor_ops)
# $(nproc) targets at a time, each one process on one core for its full SECONDS; the reports are
# printed in the list's order.
fuzz_one() {
  local target=$1 exe="$build/tests/fuzz_$1" work="$build/fuzz_$1_work"
  mkdir -p "$work"
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz_${target}_" "$work" "$root/tests/fuzz/${corpus[$target]}" \
    >"$build/fuzz_$target.log" 2>&1
}
declare -A pid
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  echo "fuzz.sh: fuzz_$target for ${seconds}s (corpus tests/fuzz/${corpus[$target]})"
  fuzz_one "$target" &
  pid[$target]=$!
done
status=0
for target in "${targets[@]}"; do
  if ! wait "${pid[$target]}"; then
    echo "fuzz.sh: fuzz_$target FAILED: see $build/fuzz_$target.log and $build/fuzz_${target}_crash-*"
    [[ -f "$build/fuzz_$target.log" ]] && tail -30 "$build/fuzz_$target.log"
    status=1
  else
    echo "fuzz.sh: fuzz_$target:"
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$target.log" | tail -2
  fi
done
exit $status
