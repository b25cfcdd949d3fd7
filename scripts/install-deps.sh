#!/usr/bin/env bash
# Installs everything squeeze needs to build and test on Debian 12 (non-interactive).
# The CUDA toolkit is not a Debian package: when /usr/local/cuda is present the CUDA engine is
# built too, otherwise everything else is.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config git python3
  qt6-base-dev libqcustomplot-dev libqcustomplot2.1-qt6
  libboost-graph-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  xvfb xauth
  clang libclang-rt-dev  # the libFuzzer targets (preset fuzz); libclang-rt-dev holds libFuzzer
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all Debian packages already installed"
fi
if [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "CUDA toolkit: $(/usr/local/cuda/bin/nvcc --version | tail -n 1) (CUDA engine will be built)"
else
  echo "CUDA toolkit: not found (building without the CUDA engine)"
fi
