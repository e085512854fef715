#!/usr/bin/python3
"""Peer baseline for the conv benchmark: aevb's `--preset conv-mnist` model in
PyTorch, written as a PyTorch user would, trained on preloaded tensors so
that only the framework's compute and overhead is timed (no DataLoader).

The model and settings are the preset's (src/train/run_settings.cpp,
docs/architectures.md): encoder Conv2d(1, 32, 4, 2, 1), Conv2d(32, 64, 4, 2, 1),
Linear(3136, 128), heads Linear(128, 20) for mu and log sigma^2; decoder
Linear(20, 128), Linear(128, 3136), Unflatten(64, 7, 7),
ConvTranspose2d(64, 32, 4, 2, 1), ConvTranspose2d(32, 1, 4, 2, 1) -> logits;
ReLU after every layer but the heads and the last; He init (kaiming_normal_,
fan_in, zero biases, as aevb's `he`); Bernoulli likelihood on dynamically
binarized MNIST (each minibatch drawn x ~ Bernoulli(pixel / 255) afresh:
every image once per epoch, so a new binarization every epoch); estimator B
with L = 1 (analytic KL); Adam lr 1e-3; M = 100; the loss per datapoint.
A few untimed steps first (--warmup, as aevb_bench's warm-up): oneDNN
creates its convolution primitives on the first calls.

usage: torch_conv_vae.py TRAIN_IMAGES_IDX_GZ [--epochs E] [--limit N] [--threads T]
                         [--batch B] [--seed S]
Prints one JSON line per epoch (samples_per_s) and a final summary line, as
../shared/bench/torch_vae.py does.
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, magic
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return torch.from_numpy(data.reshape(n, 1, rows, cols).astype(np.float32) / 255.0)


class ConvVAE(nn.Module):
    def __init__(self, latent=20):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU())
        self.mu = nn.Linear(128, latent)
        self.logvar = nn.Linear(128, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 128), nn.ReLU(),
            nn.Linear(128, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, 2, 1))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def loss_fn(logits, x, mu, logvar):
    """-ELBO per datapoint (estimator B)."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kl) / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (0: all)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before the first epoch")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = read_idx_images(a.images)
    if a.limit:
        x = x[:a.limit]
    n = x.shape[0]
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    def step(xb):
        opt.zero_grad(set_to_none=True)
        logits, mu, logvar = model(xb)
        loss = loss_fn(logits, xb, mu, logvar)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(torch.bernoulli(x[i * a.batch % n:][:a.batch]))
    total_t, total_n = 0.0, 0
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        tot = 0.0
        for i in range(0, n, a.batch):
            xb = torch.bernoulli(x[perm[i:i + a.batch]])
            tot += step(xb) * xb.shape[0]
        dt = time.perf_counter() - t0
        total_t += dt
        total_n += n
        print(json.dumps({"epoch": epoch, "seconds": round(dt, 4), "samples_per_s": round(n / dt, 1),
                          "train_loss_per_sample": round(tot / n, 3)}), flush=True)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": a.threads,
                      "mkldnn": torch.backends.mkldnn.is_available(),
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "images": n, "samples_per_s": round(total_n / total_t, 1)}), flush=True)


if __name__ == "__main__":
    main()
