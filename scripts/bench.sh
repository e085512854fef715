#!/usr/bin/env bash
# The benchmark of issue 4, in one invocation: aevb_bench (training of the
# peer, paper and conv-mnist models, IW evaluation, SGEMM) and the PyTorch
# peers (training: ../shared/bench/torch_vae.py; conv training:
# bench/torch_conv_vae.py; IW evaluation: bench/torch_iw_eval.py), all
# with the same thread count, then one table with aevb/PyTorch ratios.
#
# usage: scripts/bench.sh [BUILD_DIR]        (make bench: BUILD_DIR = build)
# environment:
#   THREADS=2            threads for aevb and PyTorch alike
#   REPEATS=5            aevb training repeats (one epoch each; the median is reported)
#   STEPS=0              aevb steps per repeat instead of an epoch (0: one epoch)
#   IW_IMAGES=1000       aevb IW evaluation: test images (k = 5000)
#   TORCH_EPOCHS=3       PyTorch training epochs (the median epoch is reported)
#   TORCH_IW_IMAGES=100  PyTorch IW evaluation: test images (it is slow; images/s is compared)
#   CONV_STEPS=100       aevb conv-mnist training: steps per repeat
#   TORCH_CONV_EPOCHS=3  PyTorch conv-mnist training epochs (the median epoch is reported) ...
#   TORCH_CONV_IMAGES=3000  ... of this many training images each (0: all 60,000; slow)
#   KERNELS=1            also run bench/kernels_bench (Google Benchmark) into kernels.json
#   OPENBLAS_CORETYPE    passed through to both sides (unset: OpenBLAS picks by CPU)
# Outputs in BUILD_DIR/bench: results.json, results.md, and each tool's raw output.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ "$build" = /* ]] || build="$root/$build"
threads=${THREADS:-2}
out="$build/bench"
mkdir -p "$out"

data=""
data_dirs=${AEVB_DATA_DIR:-}
for d in ${data_dirs//:/ } "$root/data" "$root/../shared/data"; do
  if [[ -f "$d/mnist/train-images-idx3-ubyte.gz" ]]; then data="$d/mnist"; break; fi
done
[[ -n "$data" ]] || { echo "bench: MNIST not found (looked in \$AEVB_DATA_DIR, data/, ../shared/data)" >&2; exit 1; }

python=/usr/bin/python3
[[ -x $python ]] || python=python3
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "bench: PyTorch is not importable by $python (scripts/install-deps.sh --with-torch)" >&2
  exit 1
fi

# OPENBLAS_CORETYPE (which OpenBLAS kernels run) is passed through as it is:
# aevb and PyTorch's Linear use the same OpenBLAS, so both sides run the same
# kernels. Unset, OpenBLAS picks by CPU (Cooperlake's AVX-512 kernels on a
# Sapphire Rapids); results.md names the kernels that ran.
export OMP_NUM_THREADS=$threads

cmake --build "$build" --target aevb_bench -j "$(nproc)" >/dev/null
if [[ "${KERNELS:-0}" == 1 ]]; then cmake --build "$build" --target kernels_bench -j "$(nproc)" >/dev/null; fi

echo "== aevb_bench ($threads threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto})"
"$build/bench/aevb_bench" --threads "$threads" --repeats "${REPEATS:-5}" --steps "${STEPS:-0}" \
  --iw-images "${IW_IMAGES:-1000}" --conv-steps "${CONV_STEPS:-100}" --json "$out/aevb.json" | tee "$out/aevb.txt"

echo "== PyTorch peer: training (torch_vae.py, ${TORCH_EPOCHS:-3} epochs)"
"$python" "$root/../shared/bench/torch_vae.py" "$data/train-images-idx3-ubyte.gz" \
  --epochs "${TORCH_EPOCHS:-3}" --threads "$threads" | tee "$out/torch_train.jsonl"

echo "== PyTorch peer: conv training (torch_conv_vae.py, ${TORCH_CONV_EPOCHS:-3} epochs of ${TORCH_CONV_IMAGES:-3000} images)"
"$python" "$root/bench/torch_conv_vae.py" "$data/train-images-idx3-ubyte.gz" \
  --epochs "${TORCH_CONV_EPOCHS:-3}" --limit "${TORCH_CONV_IMAGES:-3000}" --threads "$threads" | tee "$out/torch_conv.jsonl"

echo "== PyTorch peer: IW evaluation (torch_iw_eval.py, ${TORCH_IW_IMAGES:-100} images)"
"$python" "$root/bench/torch_iw_eval.py" "$data/t10k-images-idx3-ubyte.gz" \
  --images "${TORCH_IW_IMAGES:-100}" --threads "$threads" | tee "$out/torch_iw.json"

if [[ "${KERNELS:-0}" == 1 ]]; then
  echo "== kernels_bench"
  "$build/bench/kernels_bench" --threads="$threads" --benchmark_min_time=0.1 \
    --benchmark_out="$out/kernels.json" --benchmark_out_format=json
fi

echo "== results ($out/results.json, $out/results.md)"
"$python" "$root/bench/combine_results.py" "$out/aevb.json" "$out/torch_train.jsonl" "$out/torch_iw.json" \
  --torch-conv "$out/torch_conv.jsonl" --json "$out/results.json" --markdown "$out/results.md"
# Training across processes (docs/distributed.md), where MPI is installed.
if command -v mpiexec >/dev/null; then "$root/scripts/bench-mpi.sh" "$build"; fi
