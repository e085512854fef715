#!/usr/bin/env bash
# The conv VAE against the MLP VAE on dynamically binarized MNIST and
# Fashion-MNIST: the same latent size (20), optimizer (Adam 1e-3, M = 100),
# activation (ReLU), init (He), number of epochs, and about the same number of
# parameters (conv-mnist 0.88M, the 784-500-20 MLP 0.82M); test log p(x) by
# importance sampling (k = 5000) on the first EVAL_LIMIT test images.
# Usage: scripts/conv-vs-mlp.sh [BUILD_DIR]  (env: EPOCHS=10, EVAL_LIMIT=1000, OUT=runs/conv-vs-mlp)
# Prints a Markdown table and writes OUT/results.json. docs/layers.md holds the last run.
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
      rm -f "$run/eval.json"
      "$aevb" train --data "$data" "${net[@]}" "${common[@]}" --out "$run" | grep -v '%' || true
    fi
    [ -f "$run/eval.json" ] ||
      "$aevb" eval --model "$run/model.safetensors" --data "$data" --split test --limit "$eval_limit" --iw 5000 \
        --json --out "$run/eval.json" > /dev/null
  done
done

/usr/bin/python3 - "$out" "$epochs" "$eval_limit" <<'PY'
import json, sys, pathlib
out, epochs, limit = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = {}
# Speed is make bench's business (a quiet machine, the peer in the same run), not this table's.
print(f"| data | network | parameters | test ELBO | test log p(x), k = 5000 ({limit} images) | active units |")
print("|---|---|---:|---:|---:|---:|")
for data in ["mnist", "fashion-mnist"]:
    for arch in ["conv", "mlp"]:
        run = out / f"{data}-{arch}"
        e = json.loads((run / "eval.json").read_text())
        info = json.loads((run / "model.safetensors").read_bytes()[8:8 + int.from_bytes((run / "model.safetensors").read_bytes()[:8], "little")])
        params = sum(eval("*".join(map(str, v["shape"]))) for k, v in info.items() if k != "__metadata__")
        rows[f"{data}-{arch}"] = {"params": params, "elbo": e["elbo"], "log_likelihood": e["log_likelihood"],
                                  "stderr": e["log_likelihood_stderr"], "active_units": e["active_units"],
                                  "epochs": int(epochs)}
        r = rows[f"{data}-{arch}"]
        print(f"| {data} | {arch} | {params:,} | {r['elbo']:.2f} | "
              f"{r['log_likelihood']:.2f} +- {r['stderr']:.2f} | {r['active_units']} |")
(out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
PY
