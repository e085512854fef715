#!/usr/bin/env bash
# Puts the canonical dataset files where `aevb --data mnist|fashion-mnist|frey`
# looks for them: DIR/<name>/ (default DIR: ./data). Every file is checked
# against its md5 (values from ../shared/data/SOURCES.md); a verified copy in
# ../shared/data is used before the network.
#
#   scripts/fetch-data.sh [--dir DIR] [--frey-mat FILE] [mnist] [fashion-mnist] [frey]
#
# Without names: mnist and fashion-mnist. Frey Face has no canonical IDX
# download: it is copied from ../shared/data, or converted from a copy of
# Sam Roweis' frey_rawface.mat given with --frey-mat (needs python3 + scipy).
# Not run by the tests.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="data"
frey_mat=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a folder}"; shift 2 ;;
    --frey-mat) frey_mat="${2:?--frey-mat needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    mnist|fashion-mnist|frey) names+=("$1"); shift ;;
    *) echo "fetch-data.sh: unknown argument '$1' (expected mnist, fashion-mnist, frey, --dir DIR, --frey-mat FILE)" >&2; exit 2 ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(mnist fashion-mnist)
shared="$repo/../shared/data"

mnist_mirrors=(https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist http://yann.lecun.com/exdb/mnist)
fashion_mirrors=(http://fashion-mnist.s3-website.eu-central-1.amazonaws.com https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion)

declare -A md5=(
  [mnist/train-images-idx3-ubyte.gz]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [mnist/train-labels-idx1-ubyte.gz]=d53e105ee54ea40749a09fcbcd1e9432
  [mnist/t10k-images-idx3-ubyte.gz]=9fb629c4189551a2d022fa330f9573f3
  [mnist/t10k-labels-idx1-ubyte.gz]=ec29112dd5afa0611ce80d1b7f02629c
  [fashion-mnist/train-images-idx3-ubyte.gz]=8d4fb7e6c68d591d4c3dfef9ec88bf0d
  [fashion-mnist/train-labels-idx1-ubyte.gz]=25c81989df183df01b3e8a0aad5dffbe
  [fashion-mnist/t10k-images-idx3-ubyte.gz]=bef4ecab320f06d8554ea6380940ec79
  [fashion-mnist/t10k-labels-idx1-ubyte.gz]=bb300cfdad3c16e7a12a480ee83cd310
  [frey/frey-faces-idx3-ubyte.gz]=a3a6ca5e68236278028ed73022613f24
)
frey_raw_md5=89345f69fe36cf572b86d2e0eac04823  # the uncompressed IDX of the shared copy

md5_of() { md5sum "$1" | cut -d' ' -f1; }

download() {  # url target
  if command -v curl > /dev/null; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget > /dev/null; then
    wget -q --tries=2 --timeout=20 -O "$2" "$1"
  else
    echo "fetch-data.sh: neither curl nor wget is installed" >&2
    return 1
  fi
}

# Makes $dir/$rel exist with the right md5: already there, a shared copy, or a mirror.
fetch() {  # rel mirrors...
  local rel="$1"; shift
  local want="${md5[$rel]}" target="$dir/$rel"
  mkdir -p "$(dirname "$target")"
  if [ -f "$target" ] && [ "$(md5_of "$target")" = "$want" ]; then
    echo "ok      $target"; return 0
  fi
  if [ -f "$shared/$rel" ] && [ "$(md5_of "$shared/$rel")" = "$want" ]; then
    cp "$shared/$rel" "$target.part" && mv "$target.part" "$target"
    echo "copied  $target (from $shared)"; return 0
  fi
  local base
  for base in "$@"; do
    if download "$base/$(basename "$rel")" "$target.part" 2> /dev/null; then
      if [ "$(md5_of "$target.part")" = "$want" ]; then
        mv "$target.part" "$target"
        echo "fetched $target (from $base)"; return 0
      fi
      echo "warning: $base/$(basename "$rel") has the wrong md5; trying the next mirror" >&2
    fi
    rm -f "$target.part"
  done
  [ $# -eq 0 ] || echo "fetch-data.sh: could not get $rel (offline? tried: $*)" >&2
  return 1
}

fetch_frey() {
  local rel=frey/frey-faces-idx3-ubyte.gz
  if [ -n "$frey_mat" ]; then
    mkdir -p "$dir/frey"
    python3 - "$frey_mat" "$dir/$rel.part" << 'PY' || { echo "fetch-data.sh: converting $frey_mat needs python3 with numpy and scipy" >&2; return 1; }
import gzip, struct, sys
import numpy as np, scipy.io
ff = scipy.io.loadmat(sys.argv[1])["ff"]          # (560, 1965) uint8, one face per column
faces = np.ascontiguousarray(ff.T.astype(np.uint8))  # (1965, 560): 28 rows of 20 pixels each
with gzip.GzipFile(sys.argv[2], "wb", mtime=0) as f:
    f.write(struct.pack(">IIII", 2051, faces.shape[0], 28, 20) + faces.tobytes())
PY
    mv "$dir/$rel.part" "$dir/$rel"
    if [ "$(gzip -dc "$dir/$rel" | md5sum | cut -d' ' -f1)" = "$frey_raw_md5" ]; then
      echo "made    $dir/$rel (from $frey_mat; identical to the shared copy)"
    else
      echo "made    $dir/$rel (from $frey_mat; differs from the shared copy, see docs/data.md)"
    fi
    return 0
  fi
  fetch "$rel" && return 0
  echo "fetch-data.sh: Frey Face cannot be downloaded as IDX. Get frey_rawface.mat (Sam Roweis' data page)" \
       "and run: scripts/fetch-data.sh frey --frey-mat PATH/frey_rawface.mat" >&2
  return 1
}

status=0
for name in "${names[@]}"; do
  case "$name" in
    mnist|fashion-mnist)
      if [ "$name" = mnist ]; then mirrors=("${mnist_mirrors[@]}"); else mirrors=("${fashion_mirrors[@]}"); fi
      for file in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
        fetch "$name/$file" "${mirrors[@]}" || status=1
      done ;;
    frey) fetch_frey || status=1 ;;
  esac
done
exit $status
