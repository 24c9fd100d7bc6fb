#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those missing.
#   tools/install-deps.sh          what building and the demo need
#   tools/install-deps.sh --test   also what the full test suite needs (PyTorch reader checks,
#                                  Fashion-MNIST, gnuplot, clang for the ASan build and libFuzzer, valgrind)
set -euo pipefail

packages=(g++ make cmake pkg-config libboost-test-dev libfmt-dev libgraphviz-dev graphviz
  libopenblas-dev libcli11-dev zlib1g-dev gnuplot-nox)
packages+=(python3-dev pybind11-dev python3-numpy)  # the agrad Python module (AG_PYTHON)
packages+=(nlohmann-json3-dev)  # JSON: the safetensors header, agexpr --json
packages+=(libopenmpi-dev openmpi-bin)  # autograd::dist (data-parallel training) and its tests
packages+=(libdnnl-dev)  # oneDNN: float32 matrix products (AG_GEMM=auto; CBLAS without it)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3-torch python3-numpy dataset-fashion-mnist clang libclang-rt-14-dev valgrind)
  packages+=(ninja-build)  # the asan and tsan presets (CMakePresets.json)
  packages+=(python3-pytest jupyter-nbconvert python3-ipykernel)  # agrad's pytest suite, notebooks
  packages+=(libblis-dev libxsmm-dev linux-perf)  # tools/bench/gemm_compare.cpp, profiles
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
