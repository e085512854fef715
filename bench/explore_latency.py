#!/usr/bin/python3
"""Latency of `aevb explore`'s API (docs/explore.md): trains nothing, serves a
given model on a free port, times each kind of request the page makes
(REPEATS times, after one warm-up) and prints the median and 90th percentile
in milliseconds, with the CPU named.

usage: bench/explore_latency.py AEVB MODEL [--data mnist] [--limit 10000] [--repeats 50] [--threads 2]
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.request


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def request(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req) as reply:
        payload = reply.read()
    return (time.perf_counter() - start) * 1000.0, payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aevb")
    ap.add_argument("model")
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    server = subprocess.Popen([a.aevb, "explore", "--model", a.model, "--data", a.data, "--limit", str(a.limit),
                               "--port", "0", "--threads", str(a.threads)], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"serving (http://\S+/)", line)
        if not m:
            sys.exit(f"explore_latency: the server did not start: {line!r}")
        base = m.group(1)
        info = json.loads(request(base + "api/info")[1])
        d = info["latent"]
        cases = [
            ("hover: decode 1 point", "api/decode", {"z": [[0.1] * d]}),
            ("traverse strip: decode 16 points", "api/decode", {"z": [[0.1 * k] * d for k in range(16)]}),
            ("interpolate 10 steps (slerp)", "api/interpolate", {"a": 0, "b": 1, "steps": 10, "mode": "slerp"}),
            ("select: point (reconstruction)", "api/point?i=5", None),
            ("select: 8 neighbours", "api/neighbours?i=5&k=8", None),
            (f"scatter: points ({info['count']})", "api/points", None),
        ]
        if info["manifold"]:
            cases.append(("manifold 15x15", "api/grid?n=15", None))
        print(f"aevb explore latency, {info['model']} ({info['family']}, latent {d}, input {info['input_dim']}), "
              f"{info['count']} datapoints, {a.threads} threads, {cpu_name()}")
        print(f"{'request':40s} {'median ms':>10s} {'p90 ms':>8s} {'reply KB':>9s}")
        for name, path, body in cases:
            request(base + path, body)  # warm-up
            times, size = [], 0
            for _ in range(a.repeats):
                ms, payload = request(base + path, body)
                times.append(ms)
                size = len(payload)
            times.sort()
            p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
            print(f"{name:40s} {statistics.median(times):10.2f} {p90:8.2f} {size / 1024:9.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
