#!/usr/bin/env bash
# The main job: train the paper's MNIST VAE (preset paper-mnist: 784-500-20
# tanh, Bernoulli, dynamic binarization, Adagrad, M = 100, L = 1, the N(0, I)
# weight prior) for a few minutes, evaluate it on MNIST test images with the
# importance-sampled log-likelihood (k = 5000), and write the report.
# Usage: scripts/demo.sh [BUILD_DIR]   (env: DEMO_EPOCHS, DEMO_EVAL_LIMIT, DEMO_OUT)
set -euo pipefail
build=${1:-build}
out=${DEMO_OUT:-runs/demo}
epochs=${DEMO_EPOCHS:-20}
eval_limit=${DEMO_EVAL_LIMIT:-500}
aevb="$build/aevb"

"$aevb" train --preset paper-mnist --epochs "$epochs" --out "$out" --overwrite --no-report
"$aevb" eval --model "$out/model.safetensors" --data mnist --split test --limit "$eval_limit" \
  --out "$out/eval.json"
"$aevb" report --run "$out"
echo
echo "demo done: open $out/report.html (figures: $out/curve.svg, $out/samples.png, $out/reconstructions.png)"
