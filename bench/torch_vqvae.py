#!/usr/bin/python3
"""PyTorch peer of aevb's `--preset vq-mnist` (the vq family; docs/vq-vae.md),
written from the VQ-VAE paper (van den Oord et al. 2017) as a PyTorch user
would, sharing no code with aevb, and trained the same number of steps on
preloaded tensors so that only the framework's compute and overhead is timed.

The model and training are the preset's (src/train/run_settings.cpp):
encoder Conv2d(1, 32, 4, 2, 1), Conv2d(32, 64, 4, 2, 1), a residual block
y = relu(x + Conv2d(32, 64, 1)(relu(Conv2d(64, 32, 3, 1, 1)(x)))), then
Conv2d(64, 16, 1) to z_e on the 7x7 grid; K = 256 codes of D = 16; decoder
Conv2d(16, 64, 3, 1, 1), the residual block, ConvTranspose2d(64, 32, 4, 2, 1),
ConvTranspose2d(32, 1, 4, 2, 1) -> the mean through a sigmoid; ReLU after
every layer but z_e's and the last; He init (kaiming_normal_, fan_in, zero
biases). Per datapoint the loss is sum (x - mean)^2 (a Gaussian of variance
1/2, its constant dropped) + 0.25 sum ||z_e - sg[e]||^2, straight-through;
the codebook by moving averages (decay 0.99, Laplace smoothing 1e-5, the
assignment counts and sums of the minibatch) and restarts: a code whose
average count per minibatch is below 1 moves to a random z_e of the
minibatch, count 1 (the averages start at 0, so every code starts at an
encoder output after the first step). Adam 2e-3, minibatches of 128.

usage: torch_vqvae.py TRAIN_IMAGES_IDX_GZ TEST_IMAGES_IDX_GZ [--steps S] [--threads T]
                      [--batch B] [--seed S] [--test-limit N]
Prints one JSON line: steps, seconds (training only), samples_per_s, and on
the test images the reconstruction MSE per value, the codes used and the
perplexity over the whole set.
"""
import argparse
import gzip
import json
import math
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

K, D = 256, 16


def read_idx_images(path, limit=0):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, magic
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    x = torch.from_numpy(data.reshape(n, 1, rows, cols).astype(np.float32) / 255.0)
    return x[:limit] if limit else x


class Residual(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 3, 1, 1)
        self.conv2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class VqVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(1, 32, 4, 2, 1)
        self.enc2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.enc_res = Residual(64, 32)
        self.z_e = nn.Conv2d(64, D, 1)
        self.dec1 = nn.Conv2d(D, 64, 3, 1, 1)
        self.dec_res = Residual(64, 32)
        self.dec2 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.dec3 = nn.ConvTranspose2d(32, 1, 4, 2, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                # aevb's "he": std sqrt(2 / fan_in), fan_in = shape[1] * kernel (PyTorch's own fan for conv weights).
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        self.register_buffer("codebook", torch.randn(K, D) * math.sqrt(2.0 / (K + D)))
        self.register_buffer("usage", torch.zeros(K))
        self.register_buffer("sums", torch.zeros(K, D))

    def encode(self, x):
        return self.z_e(self.enc_res(F.relu(self.enc2(F.relu(self.enc1(x))))))

    def decode(self, z):
        return torch.sigmoid(self.dec3(F.relu(self.dec2(self.dec_res(F.relu(self.dec1(z)))))))

    def quantize(self, z_e):
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, D)
        distances = (self.codebook ** 2).sum(1) - 2 * flat @ self.codebook.t()
        codes = distances.argmin(1)
        return flat, codes, self.codebook[codes].view(z_e.shape[0], 7, 7, D).permute(0, 3, 1, 2)

    @torch.no_grad()
    def update_codebook(self, flat, codes, generator):
        counts = torch.bincount(codes, minlength=K).to(flat.dtype)
        sums = torch.zeros(K, D).index_add_(0, codes, flat)
        self.usage.mul_(0.99).add_(0.01 * counts)
        self.sums.mul_(0.99).add_(0.01 * sums)
        n = self.usage.sum()
        smoothed = (self.usage + 1e-5) * n / (n + K * 1e-5)
        self.codebook.copy_(self.sums / smoothed[:, None])
        dead = self.usage < 1.0
        if dead.any():
            picks = torch.randint(flat.shape[0], (int(dead.sum()),), generator=generator)
            self.codebook[dead] = flat[picks]
            self.usage[dead] = 1.0
            self.sums[dead] = flat[picks]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--steps", type=int, default=469)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--test-limit", type=int, default=10000)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    generator = torch.Generator().manual_seed(a.seed)
    x_train, x_test = read_idx_images(a.train), read_idx_images(a.test, a.test_limit)
    model = VqVae()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    step, order, position = 0, torch.randperm(x_train.shape[0], generator=generator), 0
    start = time.perf_counter()
    while step < a.steps:
        if position >= x_train.shape[0]:
            order, position = torch.randperm(x_train.shape[0], generator=generator), 0
        x = x_train[order[position:position + a.batch]]
        position += a.batch
        z_e = model.encode(x)
        flat, codes, z_q = model.quantize(z_e)
        mean = model.decode(z_e + (z_q - z_e).detach())  # straight-through
        m = x.shape[0]
        loss = ((x - mean) ** 2).sum() / m + 0.25 * ((z_e - z_q.detach()) ** 2).sum() / m
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.update_codebook(flat.detach(), codes, generator)
        step += 1
    seconds = time.perf_counter() - start

    with torch.no_grad():
        errors, usage = 0.0, torch.zeros(K)
        for first in range(0, x_test.shape[0], 1000):
            x = x_test[first:first + 1000]
            _, codes, z_q = model.quantize(model.encode(x))
            errors += float(((x - model.decode(z_q)) ** 2).sum())
            usage += torch.bincount(codes, minlength=K).to(usage.dtype)
        f = usage / usage.sum()
        nonzero = f[f > 0]
        result = {
            "steps": step,
            "seconds": seconds,
            "samples_per_s": step * a.batch / seconds,
            "test_images": int(x_test.shape[0]),
            "mse": errors / x_test.numel(),
            "codes_used": int((usage > 0).sum()),
            "perplexity": float(torch.exp(-(nonzero * nonzero.log()).sum())),
            "threads": a.threads,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
