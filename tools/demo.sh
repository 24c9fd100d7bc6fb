#!/usr/bin/env bash
# The README's first command: install what is missing, build in Release, run the seed-004 demo.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target seed_004_relu_net
# The agrad Python module, installed into /usr/bin/python3's site directory (docs/python.md).
if grep -q '^AG_PYTHON:BOOL=ON' build/CMakeCache.txt; then
  cmake --build build -j"$(nproc)" --target agrad_core
  cmake --install build --component python >/dev/null
fi
build/examples/seed_004_relu_net --graph build/seed_004_graph.png
