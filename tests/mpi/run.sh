#!/usr/bin/env bash
# aevb train across processes (docs/distributed.md), end to end under mpiexec:
#  1. 2, 3 and 4 ranks (3 and 4 oversubscribed on 2 cores) write the model file of one
#     process with the same --shards, byte for byte; --shards 1 is the default;
#  2. a run of 2 ranks resumed on 3 ranks equals the uninterrupted one-process run;
#  3. one rank given a missing data file, and a rank killed with SIGKILL, end
#     the whole job within 60 s with a clear line, and the last checkpoint resumes;
#  4. more ranks than shards, and an algorithm that cannot be sharded, are refused;
#  5. aevb eval on 2 and 3 ranks (the bound, L_k, activity, App. D's HMC
#     estimate) prints and writes what one process does (the times are printed).
# Usage: tests/mpi/run.sh MPIEXEC AEVB_BINARY SCRATCH_DIR
# The Open MPI settings for running as root, on 2 cores and in a container are
# set here, not by hand (they are harmless elsewhere).
set -uo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 MPIEXEC AEVB_BINARY SCRATCH_DIR" >&2
  exit 2
fi
mpiexec=$1
aevb=$2
scratch=$3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AEVB_DATA_DIR="${AEVB_DATA_DIR:-$(cd "$here/../../.." && pwd)/shared/data}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
export OMPI_MCA_rmaps_base_oversubscribe=yes                       # 3 ranks on 2 cores
export OMPI_MCA_btl_vader_single_copy_mechanism=none               # no CMA in containers
rm -rf "$scratch"
mkdir -p "$scratch"

failures=0
check() {  # check NAME COMMAND...: runs it, prints ok/FAIL
  local name=$1
  shift
  if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; failures=$((failures + 1)); fi
}

train_args=(train --data mnist --limit 1200 --hidden 32 --latent 4 --batch 50 --binarize dynamic --optimizer adam
            --lr 0.003 --validation 100 --test-eval 0 --no-report --threads 1 --checkpoint-every 0)

# 1. The same model from 1, 2 and 3 processes.
"$aevb" "${train_args[@]}" --epochs 2 --shards 6 --out "$scratch/p1" >"$scratch/p1.log" 2>&1
"$mpiexec" -n 2 "$aevb" "${train_args[@]}" --epochs 2 --shards 6 --out "$scratch/p2" >"$scratch/p2.log" 2>&1
"$mpiexec" -n 3 "$aevb" "${train_args[@]}" --epochs 2 --shards 6 --out "$scratch/p3" >"$scratch/p3.log" 2>&1
"$mpiexec" -n 4 "$aevb" "${train_args[@]}" --epochs 2 --shards 6 --out "$scratch/p4" >"$scratch/p4.log" 2>&1
check "2 ranks write one process's model file" cmp "$scratch/p1/model.safetensors" "$scratch/p2/model.safetensors"
check "3 ranks write one process's model file" cmp "$scratch/p1/model.safetensors" "$scratch/p3/model.safetensors"
check "4 ranks write one process's model file" cmp "$scratch/p1/model.safetensors" "$scratch/p4/model.safetensors"
check "ranks other than 0 print nothing" test "$(grep -c '^model:' "$scratch/p3.log")" -eq 1
"$aevb" "${train_args[@]}" --epochs 2 --out "$scratch/default" >/dev/null 2>&1
"$aevb" "${train_args[@]}" --epochs 2 --shards 1 --out "$scratch/one" >/dev/null 2>&1
check "--shards 1 is the default" cmp "$scratch/default/model.safetensors" "$scratch/one/model.safetensors"
check "6 shards differ from 1 (they are computed apart)" \
  bash -c "! cmp -s '$scratch/one/model.safetensors' '$scratch/p1/model.safetensors'"

# 2. Resume across a change of the number of processes.
"$mpiexec" -n 2 "$aevb" "${train_args[@]}" --epochs 1 --shards 6 --out "$scratch/resumed" >"$scratch/r1.log" 2>&1
"$mpiexec" -n 3 "$aevb" train --resume "$scratch/resumed" --epochs 2 --threads 1 >"$scratch/r2.log" 2>&1
check "2 ranks, resumed on 3, write one process's model" \
  cmp "$scratch/p1/model.safetensors" "$scratch/resumed/model.safetensors"

# 3a. One rank cannot read its data (MPMD: rank 1 gets another --data).
start=$SECONDS
timeout 60 "$mpiexec" -n 1 "$aevb" "${train_args[@]}" --epochs 2 --shards 2 --out "$scratch/missing" : \
  -n 1 "$aevb" "${train_args[@]/mnist/$scratch/no-such-file.idx}" --epochs 2 --shards 2 --out "$scratch/missing" \
  >"$scratch/missing.out" 2>"$scratch/missing.err"
code=$?
check "a rank without its data ends the job (exit $code, $((SECONDS - start)) s)" test "$code" -ne 0 -a "$code" -ne 124
check "... naming the rank and the file" grep -q "aevb: error: rank 1 of 2: .*no-such-file.idx" "$scratch/missing.err"

# 3b. A rank killed in the middle of training.
"$mpiexec" -n 2 "$aevb" "${train_args[@]}" --epochs 1000 --shards 2 --out "$scratch/killed" \
  >"$scratch/killed.out" 2>"$scratch/killed.err" &
job=$!
for _ in $(seq 600); do grep -q '^epoch 2:' "$scratch/killed.out" 2>/dev/null && break; sleep 0.1; done
victim=""
for pid in $(pgrep -f -- "--out $scratch/killed"); do
  grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$pid/environ" 2>/dev/null && victim=$pid
done
start=$SECONDS
if [[ -n "$victim" ]]; then
  kill -KILL "$victim"
  for _ in $(seq 600); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
fi
kill -0 "$job" 2>/dev/null && { echo "FAIL: the job still runs 60 s after rank 1 was killed"; kill -KILL "$job"; failures=$((failures + 1)); }
wait "$job"
code=$?
check "a killed rank ends the job (rank 1 pid ${victim:-not found}, exit $code, $((SECONDS - start)) s)" \
  test -n "$victim" -a "$code" -ne 0
"$aevb" train --resume "$scratch/killed" --epochs 3 --threads 1 >"$scratch/killed-resume.log" 2>&1
code=$?
check "its last checkpoint resumes in one process (exit $code)" test "$code" -eq 0

# 4. Refusals.
"$mpiexec" -n 3 "$aevb" "${train_args[@]}" --epochs 1 --shards 2 --out "$scratch/few" >/dev/null 2>"$scratch/few.err"
check "more ranks than shards is refused" grep -q "3 processes share 2 shards" "$scratch/few.err"
"$mpiexec" -n 2 "$aevb" "${train_args[@]}" --epochs 1 --shards 2 --algorithm wake-sleep --out "$scratch/ws" \
  >/dev/null 2>"$scratch/ws.err"
check "an algorithm that cannot be sharded is refused" grep -q "wake-sleep does not split a minibatch" "$scratch/ws.err"

# 5. Evaluation split across ranks: the same JSON (but its "seconds") and
# per-datapoint file. 1200 rows make 3 chunks of the bound (--samples 20:
# 409 rows each), 24 slices of L_k and 2 of the activity; 600 rows, 2 of HMC.
same_eval() {  # same_eval NAME: NAME.json and NAME.csv equal one process's
  diff <(grep -v '"seconds"' "$scratch/eval-p1.json") <(grep -v '"seconds"' "$scratch/$1.json") >/dev/null &&
    cmp -s "$scratch/eval-p1.csv" "$scratch/$1.csv"
}
eval_args=(eval --model "$scratch/p1/model.safetensors" --data mnist --limit 1200 --iw 50 --samples 20 --threads 1)
"$aevb" "${eval_args[@]}" --json --per-datapoint "$scratch/eval-p1.csv" >"$scratch/eval-p1.json" 2>&1
for ranks in 2 3; do
  "$mpiexec" -n "$ranks" "$aevb" "${eval_args[@]}" --json --per-datapoint "$scratch/eval-p$ranks.csv" \
    >"$scratch/eval-p$ranks.json" 2>&1
  check "aevb eval on $ranks ranks gives one process's numbers and per-datapoint file" same_eval "eval-p$ranks"
done
check "... which are numbers" grep -q '"log_likelihood": -[0-9]' "$scratch/eval-p1.json"
hmc_args=(eval --model "$scratch/p1/model.safetensors" --data mnist --limit 600 --iw 0 --hmc --hmc-samples 4
          --hmc-burn-in 5 --hmc-leapfrog 2 --threads 1 --json)
start=$SECONDS
"$aevb" "${hmc_args[@]}" >"$scratch/hmc-p1.json" 2>&1
one_seconds=$((SECONDS - start))
start=$SECONDS
"$mpiexec" -n 2 "$aevb" "${hmc_args[@]}" >"$scratch/hmc-p2.json" 2>&1
two_seconds=$((SECONDS - start))
check "App. D's estimate on 2 ranks is one process's (${one_seconds} s on 1, ${two_seconds} s on 2)" \
  diff <(grep -v '"seconds"' "$scratch/hmc-p1.json") <(grep -v '"seconds"' "$scratch/hmc-p2.json")
check "... which is a number" grep -qE '"log_likelihood_hmc": -?[0-9]' "$scratch/hmc-p1.json"

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed; logs in $scratch"
  exit 1
fi
echo "all MPI checks passed"
