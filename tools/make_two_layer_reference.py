#!/usr/bin/python3
"""PyTorch reference for aevb's two-stochastic-layer family (vae-2layer):
writes tests/fixtures/reference_two_layer_v1.bin.

Regenerate (from the repository root; Debian's python3-torch):

    /usr/bin/python3 tools/make_two_layer_reference.py

tests/unit/reference_two_layer_test.cpp reads the committed fixture and needs
no Python. The model is Burda, Grosse & Salakhutdinov (2015, sec. 5) written
here from its definition, in float64 with autograd doing the derivatives,
sharing no code with src/model/family_two_layer.cpp:

    q(z1|x) = N(mu1(x), exp(logvar1(x)))       encoder.{i}, encoder.mu | encoder.logvar
    q(z2|z1) = N(mu2(z1), exp(logvar2(z1)))     latent.encoder.{i}, latent.encoder.mu | .logvar
    p(z2) = N(0, I)
    p(z1|z2) = N(mud(z2), exp(logvard(z2)))     latent.decoder.{i} (top_hidden reversed), latent.decoder.mu | .logvar
    p(x|z1) = Bernoulli(sigmoid(logits(z1)))    decoder.{i} (hidden reversed), decoder.logits

with z1 = mu1 + exp(logvar1 / 2) eps1 and z2 = mu2 + exp(logvar2 / 2) eps2,
eps row r = [eps1 | eps2] (the engine's noise layout), and
log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1).
Objectives: "B" (the family's KL is the Monte Carlo mean of log q - log p,
so B is the mean of log w: reconstruction = mean log p(x|z1), kl = mean
(log q - log p)) and "iw" (mean_m logsumexp_s log w - log S); loss = -bound.

Format: the one of tools/make_reference.py (tests/support/fixture.hpp).
Entries: cfg.json (the engine's ModelConfig as a model file carries it, one
float per character), cfg.dims [D, Nz1, Nz2, M, L], param/<name> (PyTorch
shapes, Linear weight [out, in]), x [M, D], eps [M*L, Nz1 + Nz2], z1, log_w,
and per objective <tag>/bound, <tag>/reconstruction, <tag>/kl, <tag>/grad/<name>.
"""

import json
import math
import os
import sys
from collections import OrderedDict

import torch

from make_reference import f32, text_entry, write_fixture

SEED = 20151101
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "reference_two_layer_v1.bin")
# Widths chosen unequal so that a mirror taken the wrong way round cannot fit.
CFG = {"D": 12, "hidden": [8, 6], "Nz1": 5, "top_hidden": [4, 3], "Nz2": 3, "M": 4, "L": 3}
LOG_2PI = math.log(2 * math.pi)


def mlp_shapes(prefix, n_in, widths, n_out, heads):
    shapes, width = OrderedDict(), n_in
    for i, w in enumerate(widths):
        shapes[f"{prefix}.{i}.weight"], shapes[f"{prefix}.{i}.bias"] = (w, width), (w,)
        width = w
    for head in heads:
        shapes[f"{head}.weight"], shapes[f"{head}.bias"] = (n_out, width), (n_out,)
    return shapes


def param_shapes(c):
    shapes = OrderedDict()
    shapes.update(mlp_shapes("encoder", c["D"], c["hidden"], c["Nz1"], ["encoder.mu", "encoder.logvar"]))
    shapes.update(mlp_shapes("latent.encoder", c["Nz1"], c["top_hidden"], c["Nz2"],
                             ["latent.encoder.mu", "latent.encoder.logvar"]))
    shapes.update(mlp_shapes("latent.decoder", c["Nz2"], c["top_hidden"][::-1], c["Nz1"],
                             ["latent.decoder.mu", "latent.decoder.logvar"]))
    shapes.update(mlp_shapes("decoder", c["Nz1"], c["hidden"][::-1], c["D"], ["decoder.logits"]))
    return shapes


def body(p, prefix, depth, h):
    for i in range(depth):
        h = torch.tanh(h @ p[f"{prefix}.{i}.weight"].T + p[f"{prefix}.{i}.bias"])
    return h


def head(p, name, h):
    return h @ p[f"{name}.weight"].T + p[f"{name}.bias"]


def gaussian(p, prefix, depth, h):
    h = body(p, prefix, depth, h)
    return head(p, f"{prefix}.mu", h), head(p, f"{prefix}.logvar", h)


def log_normal(z, mu, logvar):
    return (-0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / torch.exp(logvar))).sum(-1)


def forward(c, p, x, eps):
    L, n1 = c["L"], c["Nz1"]
    mu1, lv1 = gaussian(p, "encoder", len(c["hidden"]), x)
    mu1, lv1 = mu1.repeat_interleave(L, 0), lv1.repeat_interleave(L, 0)  # row m*L + s
    z1 = mu1 + torch.exp(0.5 * lv1) * eps[:, :n1]
    mu2, lv2 = gaussian(p, "latent.encoder", len(c["top_hidden"]), z1)
    z2 = mu2 + torch.exp(0.5 * lv2) * eps[:, n1:]
    mud, lvd = gaussian(p, "latent.decoder", len(c["top_hidden"]), z2)
    logits = head(p, "decoder.logits", body(p, "decoder", len(c["hidden"]), z1))
    xr = x.repeat_interleave(L, 0)
    log_px = (xr * logits - torch.nn.functional.softplus(logits)).sum(-1)
    log_p = log_normal(z1, mud, lvd) + log_normal(z2, torch.zeros_like(z2), torch.zeros_like(z2))
    log_q = log_normal(z1, mu1, lv1) + log_normal(z2, mu2, lv2)
    return z1, log_px, log_p, log_q


def objectives(c, p, x, eps):
    M, L = c["M"], c["L"]
    z1, log_px, log_p, log_q = forward(c, p, x, eps)
    log_w = (log_px + log_p - log_q).view(M, L)
    recon, kl = log_px.view(M, L).mean(), (log_q - log_p).view(M, L).mean()
    iw = (torch.logsumexp(log_w, 1) - math.log(L)).mean()
    return z1, log_w.flatten(), {"B": (recon - kl, recon, kl), "iw": (iw, None, None)}


def main():
    c = CFG
    gen = torch.Generator().manual_seed(SEED)
    params = OrderedDict()
    for name, shape in param_shapes(c).items():
        std = 0.2 if len(shape) == 1 else 1.0 / math.sqrt(shape[1])  # pre-activations O(1)
        params[name] = f32(std * torch.randn(shape, generator=gen, dtype=torch.float64))
    x = torch.rand((c["M"], c["D"]), generator=gen, dtype=torch.float64)
    x = f32(torch.where(x < 0.15, torch.zeros_like(x), torch.where(x > 0.85, torch.ones_like(x), x)))
    eps = f32(torch.randn((c["M"] * c["L"], c["Nz1"] + c["Nz2"]), generator=gen, dtype=torch.float64))

    p = OrderedDict((k, v.clone().requires_grad_(True)) for k, v in params.items())
    z1, log_w, objs = objectives(c, p, x, eps)
    entries = OrderedDict()
    config = {"family": "vae-2layer", "input_dim": c["D"], "hidden": c["hidden"], "latent": c["Nz1"],
              "top_latent": c["Nz2"], "top_hidden": c["top_hidden"], "activation": "tanh",
              "likelihood": "bernoulli"}
    entries["cfg.json"] = text_entry(json.dumps(config, sort_keys=True))
    entries["cfg.dims"] = torch.tensor([c["D"], c["Nz1"], c["Nz2"], c["M"], c["L"]], dtype=torch.float64)
    for name, v in params.items():
        entries[f"param/{name}"] = v
    entries["x"], entries["eps"] = x, eps
    entries["z1"], entries["log_w"] = z1.detach(), log_w.detach()
    for tag, (bound, recon, kl) in objs.items():
        grads = torch.autograd.grad(-bound, list(p.values()), retain_graph=True)
        entries[f"{tag}/bound"] = bound.detach()
        if recon is not None:
            entries[f"{tag}/reconstruction"], entries[f"{tag}/kl"] = recon.detach(), kl.detach()
        for name, g in zip(p, grads):
            entries[f"{tag}/grad/{name}"] = g
        print(f"{tag}: bound {float(bound):.6f}")
    write_fixture(OUT, entries)
    print("torch", torch.__version__, "- regenerate with: /usr/bin/python3 tools/make_two_layer_reference.py")


if __name__ == "__main__":
    sys.exit(main())
