#!/usr/bin/env bash
# Training across processes (docs/distributed.md), measured: samples/s of the
# paper's MNIST model (784-400-20, batch 100) in one process without shards,
# with 2 and 4 shards, and on 2 ranks of one thread each; then the ordered sum
# against MPI_Allreduce by message size (bench/mpi_sum_bench) on 2 ranks.
# usage: scripts/bench-mpi.sh [BUILD_DIR]   (scripts/bench.sh runs it when mpiexec exists)
# environment: EPOCHS=3 (the median epoch is reported)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ "$build" = /* ]] || build="$root/$build"
out="$build/bench/mpi"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
cmake --build "$build" --target aevb mpi_sum_bench -j "$(nproc)" >/dev/null
args=(train --data mnist --hidden 400 --latent 20 --batch 100 --binarize dynamic --optimizer adam --lr 1e-3
      --validation 0 --test-eval 0 --no-report --threads 1 --checkpoint-every 0 --epochs "${EPOCHS:-3}" --overwrite)
median_rate() {  # the median of the "N samples/s" of a log's epoch lines
  grep -o '[0-9]* samples/s' "$1" | awk '{print $1}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
echo "== training across processes ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), one thread per rank)"
printf '%-28s %12s\n' "run" "samples/s" | tee "$out/training.txt"
for run in "1 1" "1 2" "1 4" "2 2" "2 4"; do
  read -r ranks shards <<<"$run"
  log="$out/train-p$ranks-s$shards.log"
  if [[ $ranks -eq 1 ]]; then
    "$build/aevb" "${args[@]}" --shards "$shards" --out "$out/run" >"$log" 2>&1
  else
    mpiexec -n "$ranks" "$build/aevb" "${args[@]}" --shards "$shards" --out "$out/run" >"$log" 2>&1
  fi
  printf '%-28s %12s\n' "$ranks process(es), $shards shard(s)" "$(median_rate "$log")" | tee -a "$out/training.txt"
done
echo "== ordered sum vs MPI_Allreduce, 2 ranks"
mpiexec -n 2 "$build/bench/mpi_sum_bench" | tee "$out/sum.txt"
