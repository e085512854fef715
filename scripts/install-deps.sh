#!/usr/bin/env bash
# Installs the Debian packages aevb builds and tests with, skipping those present.
# Usage: scripts/install-deps.sh [--with-torch]   (--with-torch: the PyTorch peer
# for benchmarks and fixture regeneration; the build and tests never need it)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev   # BLAS: OpenBLAS built on OpenMP, the one thread pool we share
  zlib1g-dev               # gzip'd IDX datasets
  libpng-dev               # image grids
  nlohmann-json3-dev       # configs, metrics, safetensors headers
  libtomlplusplus-dev      # TOML config files
  libcli11-dev             # command-line parsing
  libgtest-dev libgmock-dev
  libbenchmark-dev
)
if [[ "${1:-}" == "--with-torch" ]]; then
  packages+=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: need root to install: ${missing[*]} (run: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! ${SUDO:-} apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
  ${SUDO:-} apt-get update -qq || { echo "install-deps: apt-get update failed (no network?); install by hand: ${missing[*]}" >&2; exit 1; }
  ${SUDO:-} apt-get install -y -qq "${missing[@]}" >/dev/null || { echo "install-deps: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
fi
