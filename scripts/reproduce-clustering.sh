#!/usr/bin/env bash
# The clustering numbers (docs/clustering.md): the cluster-mnist and
# cluster-fashion-mnist presets (or vade-*) trained with each of SEEDS, each evaluated
# on its data's test and training sets, then a table of the mean and
# standard deviation over the seeds of the Hungarian accuracy, the majority
# accuracy, NMI and ARI, with the training time per run.
# Usage: scripts/reproduce-clustering.sh [BUILD_DIR]
#   env: DATASETS="mnist fashion-mnist", SEEDS="1 2 3 4 5", EPOCHS (default:
#        the presets'), FAMILY=cluster (Su's model) or vade,
#        OUT=runs/clustering (FAMILY=vade: runs/clustering-vade), THREADS=1
# Rerunning skips what finished and resumes an interrupted training.
# Writes OUT/table.md (printed) and OUT/results.json.
set -euo pipefail
build=${1:-build}
datasets=${DATASETS:-mnist fashion-mnist}
seeds=${SEEDS:-1 2 3 4 5}
family=${FAMILY:-cluster}
case "$family" in
  cluster) out=${OUT:-runs/clustering} ;;
  vade) out=${OUT:-runs/clustering-vade} ;;
  *) echo "reproduce-clustering.sh: FAMILY: expected cluster or vade, found '$family'" >&2; exit 2 ;;
esac
threads=${THREADS:-1}
aevb="$build/aevb"
epochs_flag=()
[ -n "${EPOCHS:-}" ] && epochs_flag=(--epochs "$EPOCHS")
mkdir -p "$out"

for d in $datasets; do
  case "$d" in
    mnist | fashion-mnist) ;;
    *) echo "reproduce-clustering.sh: DATASETS: expected mnist or fashion-mnist, found '$d'" >&2; exit 2 ;;
  esac
done

for d in $datasets; do
  for seed in $seeds; do
    run="$out/$d-seed$seed"
    if [ ! -f "$run/eval-test.json" ]; then
      if [ -f "$run/checkpoint.safetensors" ]; then
        "$aevb" train --resume "$run" --threads "$threads" --no-report "${epochs_flag[@]}" | grep -v '%' || true
      else
        start=$(date +%s)
        "$aevb" train --preset "$family-$d" --seed "$seed" --test-eval 0 --threads "$threads" --no-report \
          "${epochs_flag[@]}" --out "$run" --overwrite | grep -v '%' || true
        # Wall time with the pretraining, which metrics.jsonl does not count (a resumed run has none).
        echo $(($(date +%s) - start)) > "$run/wall_seconds"
      fi
      for split in train test; do
        "$aevb" eval --model "$run/model.safetensors" --data "$d" --split "$split" --iw 0 --threads "$threads" \
          --json --out "$run/eval-$split.json" > /dev/null
      done
    fi
  done
done

/usr/bin/python3 - "$out" "$datasets" "$seeds" <<'PY'
import json, pathlib, statistics, sys
out, datasets, seeds = pathlib.Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split()
keys = [("cluster_accuracy", "accuracy (Hungarian)"), ("cluster_accuracy_majority", "accuracy (majority)"),
        ("nmi", "NMI"), ("ari", "ARI")]
rows, results = [], {}
def spread(values):
    return f"{statistics.mean(values):.4f} +- {statistics.stdev(values) if len(values) > 1 else 0:.4f}"
for d in datasets:
    runs = [out / f"{d}-seed{s}" for s in seeds]
    for split in ("test", "train"):
        evals = [json.loads((r / f"eval-{split}.json").read_text()) for r in runs]
        results.setdefault(d, {})[split] = {k: [e[k] for e in evals] for k, _ in keys}
        rows.append(f"| {d} | {split} | " + " | ".join(spread([e[k] for e in evals]) for k, _ in keys) + " |")
    minutes = [sum(json.loads(l)["seconds"] for l in (r / "metrics.jsonl").read_text().splitlines()) / 60
               for r in runs]
    epochs = len((runs[0] / "metrics.jsonl").read_text().splitlines())
    walls = [int((r / "wall_seconds").read_text()) / 60 for r in runs if (r / "wall_seconds").exists()]
    results[d]["training_minutes"], results[d]["epochs"], results[d]["wall_minutes"] = minutes, epochs, walls
    wall = f"{statistics.mean(walls):.1f}" if len(walls) == len(runs) else "-"
    rows[-2] += f" {epochs} | {statistics.mean(minutes):.1f} | {wall} |"
    rows[-1] += " | | |"
header = ("| data | split | " + " | ".join(name for _, name in keys) +
          " | epochs | training minutes per run | wall minutes per run (with pretraining) |")
table = "\n".join([f"{len(seeds)} seeds, mean +- standard deviation", "", header,
                   "|" + "---|" * (len(keys) + 5), *rows])
(out / "table.md").write_text(table + "\n")
(out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
print(table)
PY
