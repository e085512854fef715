#!/usr/bin/env python3
"""The PyTorch peer of dev/conv_lab.cpp: forward + backward of the conv VAE's
four image layers for 28x28 MNIST at batch 100 (encoder conv:32:4:2:1,
conv:64:4:2:1; decoder deconv:32:4:2:1, deconv:1:4:2:1), each layer timed
alone on random inputs, ReLU after each but the last, the input of the first
layer without a gradient (as in training). Prints one line per layer and the
sum: median milliseconds over the repeats.

usage: /usr/bin/python3 dev/conv_torch.py [--threads 2] [--repeats 30]
"""
import argparse
import statistics
import time

import torch


def layers():
    # (name, module, input shape, activation after it)
    return [
        ("conv 1->32 28->14", torch.nn.Conv2d(1, 32, 4, 2, 1), (1, 28, 28), True),
        ("conv 32->64 14->7", torch.nn.Conv2d(32, 64, 4, 2, 1), (32, 14, 14), True),
        ("deconv 64->32 7->14", torch.nn.ConvTranspose2d(64, 32, 4, 2, 1), (64, 7, 7), True),
        ("deconv 32->1 14->28", torch.nn.ConvTranspose2d(32, 1, 4, 2, 1), (32, 14, 14), False),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    total = 0.0
    for first, (name, module, shape, relu) in zip([True, False, False, False], layers()):
        x = torch.randn(a.batch, *shape, requires_grad=not first)
        def step():
            module.zero_grad(set_to_none=False)
            y = module(x)
            if relu:
                y = torch.relu(y)
            y.backward(torch.ones_like(y))
        for _ in range(5):
            step()
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        ms = 1e3 * statistics.median(times)
        total += ms
        print(f"{name:22s} forward+backward {ms:8.3f} ms")
    print(f"{'sum':22s} {total:8.3f} ms  ({a.batch / total * 1e3:,.0f} samples/s for the four layers)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")


if __name__ == "__main__":
    main()
