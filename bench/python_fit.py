#!/usr/bin/env python3
"""aevb.VAE.fit from Python against `aevb train` on the same run: the peer
model (784-400-20-400-784, ReLU, Bernoulli, Adam 1e-3, minibatches of 100,
estimator B) on all of MNIST, alternating CLI and Python rounds so that both
see the same machine state. Reports the median per-epoch samples/s of each
(the epoch's steps, as aevb train's metrics.jsonl times them), the Python
side also by wall clock around fit() (its per-epoch overhead included), and
the ratios. The Python module's target: within 5% of the CLI.

usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_fit.py [--cli build/aevb]
       [--rounds 3] [--epochs 2] [--threads 2] [--json out.json]
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import tempfile
import time

import aevb

MODEL = dict(hidden=[400], latent=20, activation="relu", init="glorot")
FIT = dict(optimizer="adam", lr=1e-3, batch=100, estimator="B", samples=1, binarize="dynamic")


def cpu_name():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def cli_round(cli, epochs, threads, work):
    out = pathlib.Path(work) / "run"
    subprocess.run([cli, "train", "--data", "mnist", "--hidden", "400", "--latent", "20", "--activation", "relu",
                    "--init", "glorot", "--optimizer", "adam", "--lr", "1e-3", "--batch", "100", "--estimator", "B",
                    "--samples", "1", "--binarize", "dynamic", "--epochs", str(epochs), "--validation", "0",
                    "--test-eval", "0", "--no-report", "--threads", str(threads), "--out", str(out), "--overwrite"],
                   check=True, capture_output=True)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["samples_per_second"] for line in lines]


def python_round(x, epochs):
    model = aevb.VAE(**MODEL)
    start = time.perf_counter()
    history = model.fit(x, epochs=epochs, progress=False, **FIT)
    wall = time.perf_counter() - start
    return [m["samples_per_second"] for m in history], len(x) * epochs / wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", default=str(pathlib.Path(aevb.__file__).resolve().parents[2] / "aevb"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    aevb.set_threads(args.threads)
    x, _ = aevb.datasets.load("mnist")
    cli, python, python_wall = [], [], []
    with tempfile.TemporaryDirectory() as work:
        for r in range(args.rounds):
            cli += cli_round(args.cli, args.epochs, args.threads, work)
            per_epoch, wall = python_round(x, args.epochs)
            python += per_epoch
            python_wall.append(wall)
            print(f"round {r + 1}: CLI {statistics.median(cli):.0f}, Python {statistics.median(python):.0f} "
                  f"samples/s (medians so far)", flush=True)
    result = {
        "cpu": cpu_name(), "threads": args.threads, "model": "784-400-20 ReLU, Adam, M = 100, dynamic binarization",
        "cli_samples_per_second": statistics.median(cli),
        "python_samples_per_second": statistics.median(python),
        "python_wall_samples_per_second": statistics.median(python_wall),
    }
    result["python_over_cli"] = result["python_samples_per_second"] / result["cli_samples_per_second"]
    result["python_wall_over_cli"] = result["python_wall_samples_per_second"] / result["cli_samples_per_second"]
    print(json.dumps(result, indent=1))
    print(f"Python fit / aevb train: {result['python_over_cli']:.3f} (epoch steps), "
          f"{result['python_wall_over_cli']:.3f} (fit's wall clock) on {result['cpu']}, {args.threads} threads")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("AEVB_DATA_DIR", str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
    main()
