#!/usr/bin/python3
"""PyTorch peer of the reproduction presets (iwae-mnist-1layer, -2layer):
Burda, Grosse & Salakhutdinov's MNIST VAE with one or two stochastic layers,
trained as the presets train it, to tell a modelling or engine error in aevb
from what the objective and schedule do (docs/reproduction.md).

    /usr/bin/python3 bench/torch_burda.py --layers 2 --epochs 40 [--data ../shared/data/mnist]

Written from the papers, sharing no code with aevb: tanh MLPs 784-200-200
to z1 (50 for one layer, 100 for two), for two layers q(z2|z1) through
100-100 to z2 (50) and p(z1|z2) the mirror; every conditional a diagonal
Gaussian with exp variance; Bernoulli p(x|z1); Glorot-normal weights
(std sqrt(2 / (fan_in + fan_out))), zero biases; Adam (betas 0.9, 0.999,
eps 1e-4), minibatches of 20 from a fresh shuffle each epoch, dynamic
binarization (each minibatch drawn from the pixel intensities), the
schedule lr = 0.001 * 10^(-i/7) for 3^i epochs. The objective is the
single-sample bound: for one layer with the analytic KL (estimator B), for
two layers log p(x, z1, z2) - log q(z1, z2|x) at one draw.

Two switches give what the authors' code (yburda/iwae) does differently:
--mean-output-bias starts the decoder's output bias at the logit of the
training mean (aevb's --output-bias data-mean), --log-sigma makes each
Gaussian head give log sigma instead of log sigma^2.

Each epoch prints one JSON line: the epoch, its rate, its mean training
bound, and the bound on the first 1000 test images binarized once (seed
2015), averaged over 10 draws, with its reconstruction and KL parts and
the active units per layer (Cov_x of the posterior mean above 0.01).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x803:
        sys.exit(f"{path}: expected IDX images (magic 0x803), found {magic:#x}")
    return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows * cols) / 255.0


def glorot(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    nn.init.normal_(layer.weight, 0.0, math.sqrt(2.0 / (n_in + n_out)))
    nn.init.zeros_(layer.bias)
    return layer


class GaussianMlp(nn.Module):
    """n_in -> widths (tanh) -> (mu, logvar) of n_out each."""

    def __init__(self, n_in, widths, n_out, log_sigma=False):
        super().__init__()
        self.log_sigma = log_sigma
        layers, width = [], n_in
        for w in widths:
            layers += [glorot(width, w), nn.Tanh()]
            width = w
        self.body = nn.Sequential(*layers)
        self.mu, self.logvar = glorot(width, n_out), glorot(width, n_out)

    def forward(self, h):
        h = self.body(h)
        scale = 2.0 if self.log_sigma else 1.0  # the head is log sigma (Burda's code) or log sigma^2
        return self.mu(h), scale * self.logvar(h)


def log_normal(z, mu, logvar):
    return (-0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar))).sum(-1)


class BurdaVae(nn.Module):
    def __init__(self, layers, log_sigma, output_bias):
        super().__init__()
        self.layers = layers
        n1 = 100 if layers == 2 else 50
        self.q1 = GaussianMlp(784, [200, 200], n1, log_sigma)
        if layers == 2:
            self.q2 = GaussianMlp(n1, [100, 100], 50, log_sigma)
            self.p1 = GaussianMlp(50, [100, 100], n1, log_sigma)
        self.decoder = nn.Sequential(glorot(n1, 200), nn.Tanh(), glorot(200, 200), nn.Tanh(), glorot(200, 784))
        if output_bias is not None:
            with torch.no_grad():
                self.decoder[-1].bias.copy_(output_bias)

    def bound(self, x):
        """Per-row (bound, reconstruction, kl) at one draw."""
        mu1, lv1 = self.q1(x)
        z1 = mu1 + torch.exp(0.5 * lv1) * torch.randn_like(mu1)
        logits = self.decoder(z1)
        recon = (x * logits - nn.functional.softplus(logits)).sum(-1)
        if self.layers == 1:  # eq. 10 of Kingma & Welling: the analytic KL
            kl = 0.5 * (mu1 ** 2 + torch.exp(lv1) - 1 - lv1).sum(-1)
        else:
            mu2, lv2 = self.q2(z1)
            z2 = mu2 + torch.exp(0.5 * lv2) * torch.randn_like(mu2)
            mud, lvd = self.p1(z2)
            log_q = log_normal(z1, mu1, lv1) + log_normal(z2, mu2, lv2)
            log_p = log_normal(z1, mud, lvd) + log_normal(z2, torch.zeros_like(z2), torch.zeros_like(z2))
            kl = log_q - log_p
        return recon - kl, recon, kl

    def layer_means(self, x):
        mu1, _ = self.q1(x)
        if self.layers == 1:
            return [mu1]
        return [mu1, self.q2(mu1)[0]]


def burda_lr(epoch):
    """Epoch counted from 1: 3^i epochs at 1e-3 * 10^(-i/7)."""
    i, end = 0, 1
    while epoch > end and i < 7:
        i += 1
        end += 3 ** i
    return 1e-3 * 10 ** (-i / 7)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, choices=(1, 2), default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                       "mnist"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log-sigma", action="store_true",
                        help="Gaussian heads give log sigma, not log sigma^2 (the authors' code)")
    parser.add_argument("--mean-output-bias", action="store_true",
                        help="the decoder's output bias starts at the logit of the training mean, clipped to "
                             "[0.001, 0.999] (the authors' code)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train = torch.tensor(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz")), dtype=torch.float32)
    test = torch.tensor(read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))[:1000],
                        dtype=torch.float32)
    test = torch.bernoulli(test, generator=torch.Generator().manual_seed(2015))
    bias = None
    if args.mean_output_bias:
        mean = train.mean(0).clamp(0.001, 0.999)
        bias = torch.log(mean / (1 - mean))
    model = BurdaVae(args.layers, args.log_sigma, bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)
    for epoch in range(1, args.epochs + 1):
        for group in optimizer.param_groups:
            group["lr"] = burda_lr(epoch)
        start, total = time.perf_counter(), 0.0
        for batch in torch.randperm(len(train)).split(20):
            x = torch.bernoulli(train[batch])
            bound = model.bound(x)[0].mean()
            optimizer.zero_grad()
            (-bound).backward()
            optimizer.step()
            total += float(bound) * len(batch)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            parts = [torch.stack(model.bound(test)).mean(1) for _ in range(10)]
            b, r, k = (float(v) for v in torch.stack(parts).mean(0))
            active = [int((m.var(0) > 0.01).sum()) for m in model.layer_means(test)]
        print(json.dumps({"epoch": epoch, "lr": burda_lr(epoch), "seconds": round(seconds, 2),
                          "train_bound": round(total / len(train), 3), "test_bound": round(b, 3),
                          "test_reconstruction": round(r, 3), "test_kl": round(k, 3), "active_units": active}),
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
