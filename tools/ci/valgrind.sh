#!/usr/bin/env bash
# Valgrind memcheck over one example end to end (seed 004: Values, backward, printing).
# Usage: tools/ci/valgrind.sh [build-dir] [example]   Exit status: 0 = no error, no leak.
# Leaks that system libraries keep while rendering (fontconfig, pango, Graphviz) are
# suppressed by tools/ci/valgrind.supp; every other leak and every memory error fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-valgrind}
example=${2:-seed_004_relu_net}
if ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind is not installed (apt-get install valgrind): skipped"
  exit 0
fi
# An existing build tree (e.g. the Release build of tools/test.sh) is used as it is.
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake --preset valgrind -S "$root" -B "$build" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "$example"
cd "$build"
valgrind --error-exitcode=1 --suppressions="$root/tools/ci/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --track-origins=yes "examples/$example" >/dev/null
echo "valgrind.sh: examples/$example is memcheck clean"
