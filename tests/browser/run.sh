#!/usr/bin/env bash
# Headless-browser test of `aevb explore`: trains a tiny MNIST model, serves it, drives the
# page in Chromium (explore_test.mjs) and checks that the server stops cleanly on Ctrl-C.
# Usage: tests/browser/run.sh AEVB_BINARY SCRATCH_DIR [SCREENSHOT_DIR]
# Exit status: the test's (0: every check passed), 77 when Chromium, node or playwright-core
# is missing (a skip for ctest), non-zero also when the server does not stop on SIGINT.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 AEVB_BINARY SCRATCH_DIR [SCREENSHOT_DIR]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

missing=()
[[ -x /usr/bin/chromium ]] || missing+=("/usr/bin/chromium")
command -v node >/dev/null 2>&1 || missing+=("node")
[[ -d "$here/node_modules/playwright-core" ]] || missing+=("tests/browser/node_modules/playwright-core")
# playwright-core needs Node.js 20 or later (Debian 12's own nodejs is 18).
if command -v node >/dev/null 2>&1 && (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  missing+=("Node.js >= 20 (found $(node --version))")
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "skipped: ${missing[*]} missing (scripts/install-deps.sh installs them)"
  exit 77
fi

aevb="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[[ -x "$aevb" ]] || { echo "run.sh: $1 is not an executable" >&2; exit 2; }
mkdir -p "$2"
scratch="$(cd "$2" && pwd)"
shots="${3:-$scratch/screenshots}"
mkdir -p "$shots"
export AEVB_DATA_DIR="${AEVB_DATA_DIR:-$(cd "$repo/.." && pwd)/shared/data}"  # beside the checkout

# The model: $MODEL when given (docs/explore.md's screenshots use a longer-trained one), else one
# with visible structure (points spread over the plane, small sigmas), trained in about 3 s.
if [[ -n "${MODEL:-}" ]]; then
  model="$MODEL"
else
  "$aevb" train --data mnist --limit 6000 --hidden 200 --latent 2 --epochs 15 --batch 50 --binarize dynamic \
    --no-report --threads 2 --overwrite --out "$scratch/run" >"$scratch/train.log" 2>&1 ||
    { echo "run.sh: training failed:" >&2; tail -n 20 "$scratch/train.log" >&2; exit 1; }
  model="$scratch/run/model.safetensors"
fi

server=""
stop_server() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap stop_server EXIT

# Job control on: without it bash starts background commands with SIGINT ignored, and the
# test below sends SIGINT (Ctrl-C) to stop the server.
set -m
"$aevb" explore --model "$model" --data mnist --split test --limit 500 --port 0 --threads 2 \
  >"$scratch/explore.out" 2>"$scratch/explore.err" &
server=$!
set +m

url=""
for _ in $(seq 300); do
  url="$(grep -o 'serving http://[^ ]*' "$scratch/explore.out" 2>/dev/null | head -n 1 | cut -d' ' -f2 || true)"
  [[ -n "$url" ]] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "FAIL: aevb explore exited before serving:" >&2
    cat "$scratch/explore.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "FAIL: no 'serving http://...' line from aevb explore within 30 s" >&2
  cat "$scratch/explore.err" >&2
  exit 1
fi
echo "server: $url"

status=0
node "$here/explore_test.mjs" --url "$url" --aevb "$aevb" --model "$model" --scratch "$scratch" \
  --screenshots "$shots" || status=$?

# Ctrl-C must stop the server, with status 0, within 5 s.
kill -INT "$server" 2>/dev/null || true
for _ in $(seq 50); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
  echo "FAIL: aevb explore still running 5 s after SIGINT"
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  exit 1
fi
server_status=0
wait "$server" || server_status=$?
server=""
if [[ $server_status -ne 0 ]]; then
  echo "FAIL: aevb explore exited with status $server_status after SIGINT"
  tail -n 5 "$scratch/explore.err"
  exit 1
fi
echo "ok: aevb explore stopped on SIGINT with status 0"
exit "$status"
