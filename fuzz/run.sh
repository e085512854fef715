#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS seconds each (or
# until FUZZ_RUNS executions, if set and reached first), from
# its committed seeds (fuzz/seeds/<target>) plus the corpus grown by earlier
# runs (<build>/fuzz-corpus/<target>). Exits non-zero when any target finds a
# crash, a sanitizer report, a leak, an input slower than 10 s or an
# allocation past FUZZ_MEMORY_MB; the input is left in <build>/fuzz-findings/.
# Usage: fuzz/run.sh BUILD_DIR [target...]    (docs/reliability.md)
set -uo pipefail
build=${1:?usage: fuzz/run.sh BUILD_DIR [target...]}
shift
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
runs_limit=()
[[ -n ${FUZZ_RUNS:-} ]] && runs_limit=(-runs="$FUZZ_RUNS")
memory=${FUZZ_MEMORY_MB:-2048}
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(idx idx_gz npy csv png png_folder safetensors model checkpoint config_json config_toml)
fi
declare -A dict=([idx]=idx [idx_gz]=idx [npy]=npy [csv]=csv [png]=png [png_folder]=png [safetensors]=safetensors
                 [model]=safetensors [checkpoint]=safetensors [config_json]=config [config_toml]=config)
mkdir -p "$build/fuzz-findings" "$build/fuzz-logs"
failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [[ -x $bin ]] || { echo "fuzz: $bin not built" >&2; exit 2; }
  corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus"
  log="$build/fuzz-logs/$t.log"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$bin" -max_total_time="$seconds" "${runs_limit[@]}" -timeout=10 -rss_limit_mb="$memory" -malloc_limit_mb="$memory" \
      -max_len=16384 -dict="fuzz/dict/${dict[$t]}.dict" -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-findings/$t-" "$corpus" "fuzz/seeds/$t" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  if [[ $rc -eq 0 ]]; then
    echo "fuzz: $t: ${runs:-?} runs, ${speed:-?}/s, $cov: no findings"
  else
    echo "fuzz: $t: FOUND a problem (exit $rc) after ${runs:-?} runs; see $log and $build/fuzz-findings/" >&2
    grep -m3 -E 'ERROR|SUMMARY|runtime error|terminate|uncaught' "$log" >&2
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
