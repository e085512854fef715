#!/usr/bin/python3
"""PyTorch reference for aevb's vq family (VQ-VAE, van den Oord et al. 2017):
writes tests/fixtures/reference_vq_v1.bin.

Regenerate (from the repository root; Debian's python3-torch):

    /usr/bin/python3 tools/make_vq_reference.py

tests/unit/reference_vq_test.cpp reads the committed fixture and needs no
Python. One VQ step of a small MLP model, written here from the paper in
float64 with autograd doing the derivatives, sharing no code with
src/model/family_vq.cpp:

    z_e = W_h tanh(W_1 x + b_1) + b_h          encoder.0, encoder.z_e: [M, D * P], value (d, p) at d * P + p
    k_mp = argmin_k ||z_e[m, :, p] - e_k||^2   latent.codebook [K, D]
    z_q[m, :, p] = e_{k_mp}
    mean = W_o tanh(W_2 z_q + b_2) + b_o        decoder.0, decoder.mean (the mirrored decoder)
    log p(x|z_q) = sum_j log N(x_j; mean_j, c)  (Gaussian of fixed variance c)
    bound = log p(x|z_q) - P log K              (q one-hot, p(z) uniform)

and the loss whose gradient one step follows, per datapoint and averaged
over the minibatch (eq. 3), the decoder reading z_e + sg[z_q - z_e]
(straight-through):

    -log p(x|z_q) + beta ||z_e - sg[e]||^2 [+ ||sg[z_e] - e||^2 when the codebook learns by gradient]

Two configs: "gradient" (the codebook term in the loss) and "ema" (the
codebook by moving averages, App. A.1: from given counts N and sums m,
N' = g N + (1 - g) n_k, m' = g m + (1 - g) s_k, e' = m' / N~, N~ = (N' + eps)
n / (n + K eps), n = sum N'; the codebook gets no gradient). Restarts are
off in both (they draw random numbers from aevb's Philox streams).

Entries per config <c>: <c>/cfg.json (the ModelConfig as a model file
carries it), <c>/param/<name> (every tensor, the codebook's averages
included), x [M, D_x], <c>/codes [M, P] (as floats), <c>/z_q, <c>/bound,
<c>/reconstruction, <c>/kl, <c>/codebook_term (the minibatch mean of
sum ||z_e - e||^2), <c>/grad/<name> (every trained tensor), and for "ema"
ema/after/latent.code_usage, ema/after/latent.code_sums, ema/after/latent.codebook.
"""

import json
import math
import os
import sys
from collections import OrderedDict

import torch

from make_reference import f32, text_entry, write_fixture

SEED = 20171102
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "reference_vq_v1.bin")
DX, HIDDEN, D, P, K, M = 7, 5, 2, 3, 4, 6
# The engine reads the config's numbers as float32: the reference computes with exactly those values.
BETA, VARIANCE, DECAY = (float(torch.tensor(v, dtype=torch.float32)) for v in (0.25, 0.7, 0.9))
LAPLACE = 1e-5


def param_shapes(ema):
    shapes = OrderedDict()
    shapes["encoder.0.weight"], shapes["encoder.0.bias"] = (HIDDEN, DX), (HIDDEN,)
    shapes["encoder.z_e.weight"], shapes["encoder.z_e.bias"] = (D * P, HIDDEN), (D * P,)
    shapes["latent.codebook"], shapes["latent.code_usage"] = (K, D), (K,)
    if ema:
        shapes["latent.code_sums"] = (K, D)
    shapes["decoder.0.weight"], shapes["decoder.0.bias"] = (HIDDEN, D * P), (HIDDEN,)
    shapes["decoder.mean.weight"], shapes["decoder.mean.bias"] = (DX, HIDDEN), (DX,)
    return shapes


def step(p, x, ema):
    h = torch.tanh(x @ p["encoder.0.weight"].T + p["encoder.0.bias"])
    z_e = h @ p["encoder.z_e.weight"].T + p["encoder.z_e.bias"]  # [M, D * P]
    grid = z_e.view(M, D, P).permute(0, 2, 1)                    # [M, P, D]
    book = p["latent.codebook"]
    distances = ((grid[:, :, None, :] - book[None, None, :, :]) ** 2).sum(-1)  # [M, P, K]
    codes = distances.argmin(-1)                                               # [M, P]
    e = book[codes]                                                            # [M, P, D]
    z_q = e.permute(0, 2, 1).reshape(M, D * P)
    z_st = z_e + (z_q - z_e).detach()
    mean = torch.tanh(z_st @ p["decoder.0.weight"].T + p["decoder.0.bias"]) @ p["decoder.mean.weight"].T + \
        p["decoder.mean.bias"]
    log_px = (-0.5 * (math.log(2 * math.pi * VARIANCE) + (x - mean) ** 2 / VARIANCE)).sum(1)
    commitment = BETA * ((grid - e.detach()) ** 2).sum((1, 2))
    codebook_term = ((grid.detach() - e) ** 2).sum((1, 2))
    loss = (-log_px + commitment + (0 if ema else codebook_term)).mean()
    return codes, z_q, log_px, loss, grid.detach(), codebook_term.detach().mean()


def main():
    gen = torch.Generator().manual_seed(SEED)
    x = f32(torch.rand((M, DX), generator=gen, dtype=torch.float64))
    entries = OrderedDict()
    entries["x"] = x
    for tag in ("gradient", "ema"):
        ema = tag == "ema"
        params = OrderedDict()
        for name, shape in param_shapes(ema).items():
            if name == "latent.code_usage":
                params[name] = f32(1 + 3 * torch.rand(shape, generator=gen, dtype=torch.float64))
            elif name == "latent.code_sums":
                params[name] = f32(torch.randn(shape, generator=gen, dtype=torch.float64))
            else:
                std = 0.3 if len(shape) == 1 else 1.0 / math.sqrt(shape[1])
                params[name] = f32(std * torch.randn(shape, generator=gen, dtype=torch.float64))
        config = {"family": "vq", "input_dim": DX, "hidden": [HIDDEN], "latent": D * P, "activation": "tanh",
                  "likelihood": "gaussian-fixed", "sigmoid_mean": False, "fixed_variance": 0.7,
                  "codebook": {"codes": K, "dim": D, "commitment": 0.25, "update": tag, "decay": 0.9,
                               "restarts": False}}
        entries[f"{tag}/cfg.json"] = text_entry(json.dumps(config, sort_keys=True))
        for name, v in params.items():
            entries[f"{tag}/param/{name}"] = v
        trained = [n for n in params if n not in ("latent.code_usage", "latent.code_sums") and
                   not (ema and n == "latent.codebook")]
        p = OrderedDict((k, v.clone().requires_grad_(k in trained)) for k, v in params.items())
        codes, z_q, log_px, loss, grid, codebook_term = step(p, x, ema)
        grads = torch.autograd.grad(loss, [p[n] for n in trained])
        entries[f"{tag}/codes"] = codes.to(torch.float64)
        entries[f"{tag}/z_q"] = z_q.detach()
        entries[f"{tag}/reconstruction"] = log_px.detach().mean()
        entries[f"{tag}/kl"] = torch.tensor(P * math.log(K), dtype=torch.float64)
        entries[f"{tag}/bound"] = log_px.detach().mean() - P * math.log(K)
        entries[f"{tag}/codebook_term"] = codebook_term
        for name, g in zip(trained, grads):
            entries[f"{tag}/grad/{name}"] = g
        if ema:
            flat, k = grid.reshape(-1, D), codes.reshape(-1)
            n_k = torch.bincount(k, minlength=K).to(torch.float64)
            s_k = torch.zeros(K, D, dtype=torch.float64).index_add_(0, k, flat)
            usage = DECAY * params["latent.code_usage"] + (1 - DECAY) * n_k
            sums = DECAY * params["latent.code_sums"] + (1 - DECAY) * s_k
            n = usage.sum()
            smoothed = (usage + LAPLACE) * n / (n + K * LAPLACE)
            entries["ema/after/latent.code_usage"] = usage
            entries["ema/after/latent.code_sums"] = sums
            entries["ema/after/latent.codebook"] = sums / smoothed[:, None]
        print(f"{tag}: bound {float(entries[f'{tag}/bound']):.6f}, codes {codes.tolist()}")
    write_fixture(OUT, entries)
    print("torch", torch.__version__, "- regenerate with: /usr/bin/python3 tools/make_vq_reference.py")


if __name__ == "__main__":
    sys.exit(main())
