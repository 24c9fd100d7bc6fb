#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build in Release, run every
# test with CTest, then the ASan+UBSan, TSan, valgrind and libFuzzer passes (tools/ci/).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
tools/ci/sanitize.sh build-asan
tools/ci/tsan.sh build-tsan
tools/ci/valgrind.sh build seed_004_relu_net
tools/ci/fuzz.sh 10 build-fuzz
echo "tools/test.sh: all passes clean"
