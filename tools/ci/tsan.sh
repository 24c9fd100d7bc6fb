#!/usr/bin/env bash
# ThreadSanitizer over the threading test (concurrent graphs, per-thread modes, shared tables).
# Usage: tools/ci/tsan.sh [build-dir]     Exit status: the test's (0 = no race, all passed).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-tsan}
cmake --preset tsan -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target test_threads test_tape test_gemm
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# test_gemm beside the others: test_threads keeps about 1.3 cores busy for its 20 s, test_gemm
# one for 8 s; one after the other they left a core idle (29.5 s against 22.8, docs/testing.md).
"$build/tests/test_gemm" --report_level=short &
gemm=$!
"$build/tests/test_threads" --report_level=short
"$build/tests/test_tape" --run_test=each_thread_has_its_own_tape --report_level=short
wait "$gemm"  # its exit status (set -e)
