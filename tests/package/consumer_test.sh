#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a small
# consumer against it twice: with CMake's find_package(aevb CONFIG REQUIRED)
# and with pkg-config; then imports the installed Python module (when the
# build has one). Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -x "$prefix/bin/aevb" || { echo "consumer_test: no aevb CLI in $prefix/bin"; exit 1; }
"$prefix/bin/aevb" --version

# CMake
cmake -S "$source/tests/package" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake-build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/cmake-build/consumer"

# pkg-config (libaevb is static: --static brings its dependencies)
pc_dir=$(dirname "$(find "$prefix" -name aevb.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags aevb)
libs=$(PKG_CONFIG_PATH=$pc_dir pkg-config --static --libs aevb)
version=$(PKG_CONFIG_PATH=$pc_dir pkg-config --modversion aevb)
echo "pkg-config: aevb $version"
# shellcheck disable=SC2086  # the flags are words
c++ -std=c++20 $flags "$source/tests/package/consumer.cpp" -o "$work/consumer-pc" $libs
"$work/consumer-pc"

# The Python package, from the prefix alone (not the build tree)
if [[ -d "$build/python/aevb" ]]; then
  site=$(dirname "$(find "$prefix" -name __init__.py -path '*/aevb/*' | head -n 1)")
  test -n "$site" || { echo "consumer_test: no aevb Python package under $prefix"; exit 1; }
  (cd "$work" && PYTHONPATH=$(dirname "$site") /usr/bin/python3 -c '
import aevb, numpy as np
assert aevb.__file__.startswith("'"$prefix"'"), aevb.__file__
model = aevb.VAE(input_dim=6, latent=2, hidden=[4])
mu, var = model.encode(np.full((3, 6), 0.5, np.float32))
assert mu.shape == (3, 2) and (var > 0).all()
print("python: aevb", aevb.__version__, "from", aevb.__file__)
')
fi
