#!/usr/bin/env python3
"""PyTorch peer for aevb_bench's IW section: log p(x) by importance sampling
with q(z|x) as the proposal (L_k, Burda et al. 2015), k = 5000, for the peer
model (784-400-20, ReLU, Bernoulli decoder on grey MNIST) from
../shared/bench/torch_vae.py, freshly initialized: the timing does not depend
on the weights.

One datapoint at a time, as aevb does: encode x once, draw k eps, decode the
k latent samples in one batch, sum log p(x|z) + log p(z) - log q(z|x) over
the pixels and latents, log-mean-exp over k. Everything under no_grad.

usage: torch_iw_eval.py TEST_IMAGES_IDX_GZ [--images N] [--k K] [--threads T]
Prints one JSON line: images/s, seconds, mean log p(x).
"""
import argparse, gzip, json, math, struct, time
import numpy as np
import torch
import torch.nn.functional as F


def read_idx_images(path, limit):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, magic
        n = min(n, limit)
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return torch.from_numpy(data.reshape(n, rows * cols).astype(np.float32) / 255.0)


class VAE(torch.nn.Module):  # the same modules as torch_vae.py
    def __init__(self, d, h, z):
        super().__init__()
        self.fc1 = torch.nn.Linear(d, h)
        self.fc21 = torch.nn.Linear(h, z)
        self.fc22 = torch.nn.Linear(h, z)
        self.fc3 = torch.nn.Linear(z, h)
        self.fc4 = torch.nn.Linear(h, d)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))


LOG_2PI = math.log(2 * math.pi)


def log_likelihood(model, x, k):
    """L_k for one datapoint x [1, D]."""
    mu, logvar = model.encode(x)
    eps = torch.randn(k, mu.shape[1])
    z = mu + torch.exp(0.5 * logvar) * eps
    logits = model.decode_logits(z)
    log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(1)
    log_pz = -0.5 * (LOG_2PI + z * z).sum(1)
    log_qz = -0.5 * (LOG_2PI + logvar + eps * eps).sum(1)
    return (torch.logsumexp(log_px_z + log_pz - log_qz, 0) - math.log(k)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("--images", dest="count", type=int, default=100)
    ap.add_argument("--k", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = read_idx_images(a.images, a.count)
    model = VAE(x.shape[1], a.hidden, a.latent)
    with torch.no_grad():
        log_likelihood(model, x[:1], a.k)  # warm-up
        t0 = time.perf_counter()
        ll = [log_likelihood(model, x[i:i + 1], a.k) for i in range(len(x))]
        dt = time.perf_counter() - t0
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": a.threads, "k": a.k,
                      "images": len(x), "seconds": round(dt, 4), "images_per_s": round(len(x) / dt, 3),
                      "mean_log_likelihood": round(sum(ll) / len(ll), 3)}), flush=True)


if __name__ == "__main__":
    main()
