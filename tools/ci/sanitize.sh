#!/usr/bin/env bash
# ASan + UBSan (LeakSanitizer on, clang: the asan preset) over the core, nn and hardening suites.
# Usage: tools/ci/sanitize.sh [build-dir]     Exit status: ctest's (0 = all clean).
# test_extremes and test_memory_return are left out: they measure resident memory, which ASan's shadow memory and
# quarantine make meaningless. The random-graph budget is cut to 2,000 graphs (ASan is ~10x slower).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-asan}
if ! command -v clang++ >/dev/null; then  # the asan preset's compiler
  echo "sanitize.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
cmake --preset asan -S "$root" -B "$build" >/dev/null
suites=(test_value test_tensor_ops test_engine test_nn test_random_graphs test_threads test_bad_inputs
  test_limits test_empty_dims test_file_writes test_weight_tying global_handles fuzz_tensor_ops_replay
  test_random_graphs_extended test_higher_order test_engine_refusals test_op_table test_op_create_graph
  test_user_function test_explain test_grad_hooks test_tape test_tape_memory test_gemm test_gemm_small test_vector_math
  test_explain_create_graph)
cmake --build "$build" -j"$(nproc)" --target "${suites[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tools/ci/lsan.supp:print_suppressions=0
export AG_FUZZ_GRAPHS=2000
cd "$build"
ctest --output-on-failure -j"$(nproc)" -R "^($(IFS='|'; echo "${suites[*]}"))\$"
