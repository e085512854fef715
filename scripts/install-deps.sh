#!/usr/bin/env bash
# Installs the Debian packages aevb builds and tests with, skipping those present.
# Usage: scripts/install-deps.sh [--with-torch] [--with-fuzz]   (--with-torch: the
# PyTorch peer for benchmarks and fixture regeneration; --with-fuzz: clang,
# libFuzzer and llvm-cov for `make fuzz`; the build and tests need neither)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev   # BLAS: OpenBLAS built on OpenMP, the one thread pool we share
  zlib1g-dev               # gzip'd IDX datasets
  libpng-dev               # image grids
  librsvg2-dev             # PNGs of the SVG figures
  nlohmann-json3-dev       # configs, metrics, safetensors headers
  libtomlplusplus-dev      # TOML config files
  libcli11-dev             # command-line parsing
  libgtest-dev libgmock-dev
  libbenchmark-dev
  pybind11-dev python3-dev # the Python module, built for /usr/bin/python3
  python3-numpy python3-pytest
  libcpp-httplib-dev       # aevb explore's HTTP server
  libopenmpi-dev openmpi-bin  # training across processes (mpirun -np P aevb train ...)
  chromium                 # aevb explore's browser test (tests/browser), driven by playwright-core from npm
)
# Node.js for the browser test, unless the machine has one (a newer one from elsewhere is kept).
command -v node >/dev/null || packages+=(nodejs npm)
for option in "$@"; do
  case "$option" in
    --with-torch) packages+=(python3-torch python3-numpy) ;;
    # clang 14 with its libFuzzer and sanitizer runtimes, OpenMP for clang, llvm-cov/llvm-profdata
    --with-fuzz) packages+=(clang libclang-rt-14-dev libomp-dev llvm python3) ;;
    *) echo "install-deps: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# playwright-core, locked in tests/browser/package-lock.json, into tests/browser/node_modules (no browser
# download: it drives Debian's Chromium). Without the npm registry the browser test skips and says why.
install_browser_driver() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  [[ -d $dir/node_modules/playwright-core ]] && return 0
  command -v npm >/dev/null || return 0
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
    echo "install-deps: npm ci in $dir failed (no npm registry?): the browser test will be skipped" >&2
}

if [[ ${#missing[@]} -eq 0 ]]; then
  install_browser_driver
  exit 0
fi

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
install_browser_driver
