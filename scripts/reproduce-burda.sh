#!/usr/bin/env bash
# Burda, Grosse & Salakhutdinov (2015), Table 1, MNIST: each model trained
# with the iwae-mnist-1layer preset (784-200-200-50, their Adam settings and
# 3280-epoch schedule) or, for the names ending in -2layer, iwae-mnist-2layer
# (their two stochastic layers, 100 and 50 units, same training), then L_5000
# (log p(x) by importance sampling, k = 5000) on the 10,000 test images, in a
# table beside the paper's numbers.
# Usage: scripts/reproduce-burda.sh [BUILD_DIR]
#   env: MODELS="vae-k1 iwae-k5 iwae-k50 vae-k1-2layer iwae-k5-2layer iwae-k50-2layer"
#        (default: vae-k1), OUT=runs/reproduce,
#        THREADS=1 (training; minibatches of 20 train faster on one thread than
#        on two: docs/reproduction.md), EVAL_THREADS=0 (all cores), EVAL_LIMIT=10000
# Long runs survive a stop: rerunning resumes each training from its last
# checkpoint (written after every epoch, every 10 minutes inside one, and on
# Ctrl-C or SIGTERM), skips what finished, and evaluates
# only finished models. Writes OUT/table.md (printed) and OUT/results.json.
# docs/reproduction.md has the last table and the time each run took.
set -euo pipefail
build=${1:-build}
models=${MODELS:-vae-k1}
out=${OUT:-runs/reproduce}
threads=${THREADS:-1}
eval_threads=${EVAL_THREADS:-0}
eval_limit=${EVAL_LIMIT:-10000}
aevb="$build/aevb"
mkdir -p "$out"

# Every name is checked before any training starts.
for m in $models; do
  case "$m" in
    vae-k1 | iwae-k5 | iwae-k50 | vae-k1-2layer | iwae-k5-2layer | iwae-k50-2layer) ;;
    *) echo "reproduce-burda.sh: MODELS: expected vae-k1, iwae-k5, iwae-k50 or one of them with -2layer, found '$m'" >&2
       exit 2 ;;
  esac
done

for m in $models; do
  run="$out/$m"
  case "$m" in  # the training objective each of the paper's columns names
    vae-k1*) objective=(--estimator B --samples 1) ;;
    iwae-k5-* | iwae-k5) objective=(--estimator iw --samples 5) ;;
    iwae-k50*) objective=(--estimator iw --samples 50) ;;
  esac
  case "$m" in
    *-2layer) preset=iwae-mnist-2layer ;;
    *) preset=iwae-mnist-1layer ;;
  esac
  if [ -f "$run/checkpoint.safetensors" ]; then
    "$aevb" train --resume "$run" --threads "$threads" --no-report | grep -v '%' || true
  else
    "$aevb" train --preset "$preset" "${objective[@]}" --threads "$threads" --no-report \
      --out "$run" --overwrite | grep -v '%' || true
  fi
  epochs=$(wc -l < "$run/metrics.jsonl")
  if [ "$epochs" -lt 3280 ]; then
    echo "reproduce-burda.sh: $run stopped at epoch $epochs of 3280; rerun to continue" >&2
    exit 1
  fi
  [ -f "$run/eval.json" ] ||
    "$aevb" eval --model "$run/model.safetensors" --data mnist --split test --limit "$eval_limit" --iw 5000 \
      --threads "$eval_threads" --json --out "$run/eval.json" > /dev/null
done

/usr/bin/python3 - "$out" $models <<'PY'
import json, pathlib, sys
out, models = pathlib.Path(sys.argv[1]), sys.argv[2:]
# Table 1 of Burda et al. (2015), MNIST: -log p(x) (L_5000), and active units for 1 stochastic layer.
paper = {"vae-k1": ("VAE, k = 1", 86.76, 19), "iwae-k5": ("IWAE, k = 5", 85.54, 22),
         "iwae-k50": ("IWAE, k = 50", 84.78, 25),
         "vae-k1-2layer": ("VAE, k = 1, 2 layers", 85.33, None),
         "iwae-k5-2layer": ("IWAE, k = 5, 2 layers", 83.89, None),
         "iwae-k50-2layer": ("IWAE, k = 50, 2 layers", 82.90, None)}
rows, results = [], {}
for m in models:
    run = out / m
    e = json.loads((run / "eval.json").read_text())
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    hours = sum(x["seconds"] for x in metrics) / 3600
    name, nll, units = paper[m]
    layers = e.get("active_units_per_layer", [e["active_units"]])
    ours = "+".join(str(u) for u in layers)
    results[m] = {"paper_nll": nll, "paper_active_units": units, "nll": -e["log_likelihood"],
                  "nll_stderr": e["log_likelihood_stderr"], "active_units": e["active_units"],
                  "active_units_per_layer": layers,
                  "test_images": e["count"], "epochs": len(metrics), "training_hours": hours}
    rows.append(f"| {name} | {nll:.2f} | {-e['log_likelihood']:.2f} +- {e['log_likelihood_stderr']:.2f} | "
                f"{units if units is not None else '-'} | {ours} | {len(metrics)} | {hours:.1f} |")
table = "\n".join(["| model | paper -log p(x) | aevb -log p(x) (L_5000) | paper active units | aevb active units "
                   "| epochs | training hours |", "|---|---|---|---|---|---|---|", *rows])
(out / "table.md").write_text(table + "\n")
(out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
print(table)
PY
