#!/usr/bin/env bash
# aevb's vq-mnist preset against its PyTorch peer (bench/torch_vqvae.py, the
# same architecture, loss, codebook updates and optimizer) trained the same
# number of steps in the same run: training time, and on the test images the
# reconstruction MSE, the codes used and the perplexity (docs/vq-vae.md).
#
# usage: bench/vq_vs_torch.sh [BUILD_DIR]
# environment: THREADS=2 (both sides), EPOCHS=1 (of 469 steps: 60,000 images,
# minibatches of 128), REPEATS=1 (pairs run, alternating; the medians are
# reported), FIRST_SEED=1 (pair r trains both sides with seed FIRST_SEED + r - 1),
# TEST_LIMIT=10000. Writes BUILD_DIR/bench/vq.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ "$build" = /* ]] || build="$root/$build"
threads=${THREADS:-2}
epochs=${EPOCHS:-1}
repeats=${REPEATS:-1}
first_seed=${FIRST_SEED:-1}
test_limit=${TEST_LIMIT:-10000}
out="$build/bench"
mkdir -p "$out"
data=""
for d in ${AEVB_DATA_DIR:-} "$root/data" "$root/../shared/data"; do
  if [[ -f "$d/mnist/train-images-idx3-ubyte.gz" ]]; then data="$d/mnist"; break; fi
done
[[ -n "$data" ]] || { echo "vq_vs_torch: MNIST not found (\$AEVB_DATA_DIR, data/, ../shared/data)" >&2; exit 1; }
steps=$(( epochs * (60000 + 127) / 128 ))
export OMP_NUM_THREADS=$threads
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)

: > "$out/vq_runs.jsonl"
for r in $(seq "$first_seed" $((first_seed + repeats - 1))); do
  run="$out/vq_run"
  "$build/aevb" train --preset vq-mnist --epochs "$epochs" --validation 0 --test-eval 0 --no-report \
    --threads "$threads" --seed "$r" --out "$run" --overwrite > "$out/vq_aevb_train.txt"
  aevb_seconds=$(/usr/bin/python3 -c "import json,sys; print(sum(json.loads(l)['seconds'] for l in open(sys.argv[1])))" "$run/metrics.jsonl")
  "$build/aevb" eval --model "$run/model.safetensors" --data mnist --limit "$test_limit" --threads "$threads" \
    --json > "$out/vq_aevb_eval.json"
  /usr/bin/python3 "$root/bench/torch_vqvae.py" "$data/train-images-idx3-ubyte.gz" "$data/t10k-images-idx3-ubyte.gz" \
    --steps "$steps" --threads "$threads" --seed "$r" --test-limit "$test_limit" > "$out/vq_torch.json"
  /usr/bin/python3 - "$out/vq_aevb_eval.json" "$out/vq_torch.json" "$aevb_seconds" "$steps" >> "$out/vq_runs.jsonl" <<'PY'
import json, sys
a, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(json.dumps({"aevb": {"seconds": float(sys.argv[3]), "mse": a["mse"], "codes_used": a["codes_used"],
                           "perplexity": a["perplexity"]},
                  "torch": {k: t[k] for k in ("seconds", "mse", "codes_used", "perplexity")},
                  "steps": int(sys.argv[4])}))
PY
done
/usr/bin/python3 - "$out/vq_runs.jsonl" "$threads" "$cpu" "$out/vq.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = lambda side, key: statistics.median(r[side][key] for r in runs)
summary = {"cpu": sys.argv[3], "threads": int(sys.argv[2]), "steps": runs[0]["steps"], "pairs": len(runs),
           "aevb": {k: med("aevb", k) for k in ("seconds", "mse", "codes_used", "perplexity")},
           "torch": {k: med("torch", k) for k in ("seconds", "mse", "codes_used", "perplexity")}}
summary["speedup"] = summary["torch"]["seconds"] / summary["aevb"]["seconds"]
json.dump(summary, open(sys.argv[4], "w"), indent=2)
a, t = summary["aevb"], summary["torch"]
print(f"{summary['cpu']}, {summary['threads']} threads, {summary['steps']} steps, median of {len(runs)} pair(s)")
print(f"{'':8}{'seconds':>10}{'test MSE':>12}{'codes used':>12}{'perplexity':>12}")
for name, s in (("aevb", a), ("PyTorch", t)):
    print(f"{name:8}{s['seconds']:>10.1f}{s['mse']:>12.5f}{s['codes_used']:>12.0f}{s['perplexity']:>12.1f}")
print(f"aevb is {summary['speedup']:.2f}x PyTorch's speed; MSE ratio aevb/PyTorch {a['mse'] / t['mse']:.3f}")
PY
