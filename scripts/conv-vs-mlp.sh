#!/usr/bin/env bash
# The conv VAE against the MLP VAE on dynamically binarized MNIST and
# Fashion-MNIST: the same latent size (20), optimizer (Adam 1e-3, M = 100),
# activation (ReLU), init (He), number of epochs, and about the same number of
# parameters (conv-mnist 0.88M, the 784-500-20 MLP 0.82M); test log p(x) by
# importance sampling (k = 5000) on the first EVAL_LIMIT test images.
# Usage: scripts/conv-vs-mlp.sh [BUILD_DIR]  (env: EPOCHS=10, EVAL_LIMIT=1000, OUT=runs/conv-vs-mlp)
# Prints a Markdown table and writes OUT/results.json. docs/architectures.md holds the last run.
# Both models of a dataset are evaluated on the same binarized images (same
# seed), so each image's log p(x) pairs up (aevb eval --per-datapoint): the
# last column is the mean paired difference with its own standard error, far
# smaller than either model's, as the images' spread cancels.
# Rerunning it skips the trainings and evaluations that already finished.
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-10}
eval_limit=${EVAL_LIMIT:-1000}
out=${OUT:-runs/conv-vs-mlp}
aevb="$build/aevb"
mkdir -p "$out"

common=(--epochs "$epochs" --latent 20 --activation relu --init he --optimizer adam --lr 1e-3 --batch 100
        --binarize dynamic --test-eval 0 --no-report --overwrite)
for data in mnist fashion-mnist; do
  for arch in conv mlp; do
    run="$out/$data-$arch"
    if [ "$arch" = conv ]; then net=(--preset conv-mnist); else net=(--hidden 500); fi
    done_epochs=0
    [ -f "$run/metrics.jsonl" ] && done_epochs=$(wc -l < "$run/metrics.jsonl")
    if [ "$done_epochs" -ne "$epochs" ]; then
      rm -f "$run/eval.json" "$run/log_likelihoods.csv"
      "$aevb" train --data "$data" "${net[@]}" "${common[@]}" --out "$run" | grep -v '%' || true
    fi
    [ -f "$run/eval.json" ] && [ -f "$run/log_likelihoods.csv" ] ||
      "$aevb" eval --model "$run/model.safetensors" --data "$data" --split test --limit "$eval_limit" --iw 5000 \
        --json --out "$run/eval.json" --per-datapoint "$run/log_likelihoods.csv" > /dev/null
  done
done

/usr/bin/python3 - "$out" "$epochs" "$eval_limit" <<'PY'
import csv, json, math, sys, pathlib
out, epochs, limit = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = {}

def per_image(run):
    with open(run / "log_likelihoods.csv") as f:
        return [float(r["log_likelihood"]) for r in csv.DictReader(f)]

def paired(a, b):
    """Mean of a - b over the same images, and its standard error."""
    d = [x - y for x, y in zip(a, b, strict=True)]
    mean = sum(d) / len(d)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1) / len(d))

# Speed is make bench's business (a quiet machine, the peer in the same run), not this table's.
print(f"| data | network | parameters | test ELBO | test log p(x), k = 5000 ({limit} images) | active units "
      "| conv - MLP, paired per image |")
print("|---|---|---:|---:|---:|---:|---:|")
for data in ["mnist", "fashion-mnist"]:
    for arch in ["conv", "mlp"]:
        run = out / f"{data}-{arch}"
        e = json.loads((run / "eval.json").read_text())
        raw = (run / "model.safetensors").read_bytes()  # safetensors: 8-byte header length, JSON header
        info = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
        params = sum(math.prod(v["shape"]) for k, v in info.items() if k != "__metadata__")
        rows[f"{data}-{arch}"] = {"params": params, "elbo": e["elbo"], "log_likelihood": e["log_likelihood"],
                                  "stderr": e["log_likelihood_stderr"], "active_units": e["active_units"],
                                  "epochs": int(epochs)}
    conv, mlp = per_image(out / f"{data}-conv"), per_image(out / f"{data}-mlp")
    diff, diff_se = paired(conv, mlp)
    rows[f"{data}-conv"].update({"paired_difference": diff, "paired_difference_stderr": diff_se})
    for arch in ["conv", "mlp"]:
        r = rows[f"{data}-{arch}"]
        pair = f"{diff:+.2f} +- {diff_se:.2f}" if arch == "conv" else ""
        print(f"| {data} | {arch} | {r['params']:,} | {r['elbo']:.2f} | "
              f"{r['log_likelihood']:.2f} +- {r['stderr']:.2f} | {r['active_units']} | {pair} |")
(out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
PY
