#!/usr/bin/env python3
"""The PyTorch peer of dev/conv_lab.cpp: forward + backward of a conv
network's image layers for 28x28 MNIST, each layer timed alone on random
inputs, ReLU after each but the last of each side, the input of the first
layer without a gradient (as in training). --net vae (the default): the conv
VAE's four layers at batch 100 (encoder conv:32:4:2:1, conv:64:4:2:1; decoder
deconv:32:4:2:1, deconv:1:4:2:1); --net vq: the vq-mnist preset's eight at
batch 128 (bench/torch_vqvae.py's residual block). Prints one line per layer
and the sum: median milliseconds over the repeats.

usage: /usr/bin/python3 dev/conv_torch.py [--threads 2] [--repeats 30] [--batch N] [--net vae|vq]
"""
import argparse
import statistics
import time

import torch


class Residual(torch.nn.Module):
    """relu(x + conv1x1(relu(conv3x3(x)))), aevb's residual:HIDDEN."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, hidden, 3, 1, 1)
        self.conv2 = torch.nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        return x + self.conv2(torch.relu(self.conv1(x)))


def vq_layers():
    return [
        ("conv 1->32 28->14", torch.nn.Conv2d(1, 32, 4, 2, 1), (1, 28, 28), True),
        ("conv 32->64 14->7", torch.nn.Conv2d(32, 64, 4, 2, 1), (32, 14, 14), True),
        ("residual 64:32 7x7", Residual(64, 32), (64, 7, 7), True),
        ("conv 1x1 64->16 7x7", torch.nn.Conv2d(64, 16, 1), (64, 7, 7), False),
        ("conv 3x3 16->64 7x7", torch.nn.Conv2d(16, 64, 3, 1, 1), (16, 7, 7), True),
        ("residual 64:32 7x7", Residual(64, 32), (64, 7, 7), True),
        ("deconv 64->32 7->14", torch.nn.ConvTranspose2d(64, 32, 4, 2, 1), (64, 7, 7), True),
        ("deconv 32->1 14->28", torch.nn.ConvTranspose2d(32, 1, 4, 2, 1), (32, 14, 14), False),
    ]


def vae_layers():
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
    ap.add_argument("--batch", type=int, default=0, help="default: 100 (vae), 128 (vq)")
    ap.add_argument("--net", choices=("vae", "vq"), default="vae")
    a = ap.parse_args()
    a.batch = a.batch or (128 if a.net == "vq" else 100)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    total = 0.0
    for i, (name, module, shape, relu) in enumerate(vq_layers() if a.net == "vq" else vae_layers()):
        first = i == 0
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
    print(f"{'sum':22s} {total:8.3f} ms  ({a.batch / total * 1e3:,.0f} samples/s for the layers)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")


if __name__ == "__main__":
    main()
