#!/usr/bin/python3
"""Independent PyTorch reference for aevb: writes tests/fixtures/reference_v1.bin
(MLP VAEs) and tests/fixtures/reference_conv_v1.bin (layer-declared networks:
convolutions, transposed convolutions, residual blocks).

Regenerate (from the repository root; Debian's python3-torch and numpy):

    /usr/bin/python3 tools/make_reference.py

The tests tests/unit/reference_test.cpp and reference_conv_test.cpp read the
committed fixtures; they need no Python. This script shares no code with the C++ engine: every equation below is
written straight from Kingma & Welling 2013 ("Auto-Encoding Variational
Bayes"), all values are computed in float64 with autograd doing the
derivatives, and the optimizer steps are torch.optim's own Adagrad and Adam.
The script is deterministic (fixed torch seed, CPU only): running it twice
writes the same bytes (it prints the SHA-256).

Binary format, version 1 (all integers and floats little-endian)
----------------------------------------------------------------
    magic    8 bytes  b"AEVBFIX\\0"
    version  uint32   1
    count    uint32   number of entries
    count x entry:
        name_len  uint32
        name      name_len bytes, UTF-8, no terminator
        ndim      uint32            (0 = scalar, one value)
        dims      ndim x uint64     (row-major, last dim fastest)
        data      prod(dims) x float32
No padding, nothing after the last entry. Names are unique.

Conventions (the C++ engine must match them)
--------------------------------------------
* linear: y = x W^T + b, W [out, in] (PyTorch); the activation follows every
  hidden layer, the heads are linear.
* encoder x -> h1 -> ... -> hn -> (mu, logvar), two linear heads [App. C.2].
* decoder z -> hn -> ... -> h1 -> head (mirror of the encoder).
* z = mu + exp(0.5 logvar) * eps                                   [sec. 2.4]
* log q(z|x) = sum_j -0.5 (log 2pi + logvar_j + eps_j^2)
* log p(z)   = sum_j -0.5 (log 2pi + z_j^2)
* KL(q||p)   = -0.5 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))   [App. B]
* Bernoulli:  log p(x|z) = sum_d x_d l_d - softplus(l_d), l the logits
* Gaussian:   log p(x|z) = sum_d -0.5 (log 2pi + v_d + (x_d - m_d)^2 exp(-v_d)),
              m = sigmoid(mean_pre), v the decoder's log-variance   [App. C.2]
* eps rows: row m*L + s is sample s of datapoint m.
* loss = -(1/M) sum_m objective_m, with
    B:  objective_m = (1/L) sum_s log p(x_m|z_ms) - beta KL_m          [eq. 7]
    A:  objective_m = (1/L) sum_s [log p(x_m|z_ms)
                                   - beta (log q(z_ms|x_m) - log p(z_ms))] [eq. 6]
    iw: objective_m = logsumexp_s(log w_ms) - log L,
        log w = log p(x|z) + log p(z) - log q(z|x)      (L_k with k = L)

Entries (every name starts with the config, "bernoulli/" or "gaussian/")
-----------------------------------------------------------------------
  cfg.dims                [4]  D, Nz, M, L
  cfg.hidden              [n]  encoder widths h1..hn (decoder mirrors them)
  param/<p>               initial value of parameter <p> (names below)
  x                       [M, D]
  eps                     [M*L, Nz]
  mu, logvar              [M, Nz]   encoder heads
  z                       [M*L, Nz]
  bernoulli: logits       [M*L, D]
             probs        [M*L, D]  sigmoid(logits), E[x|z]
  gaussian:  mean_pre     [M*L, D]  decoder mean head before the sigmoid
             mean         [M*L, D]  sigmoid(mean_pre)
             dec_logvar   [M*L, D]  decoder log-variance head
  log_w                   [M, L]    log p(x|z) + log p(z) - log q(z|x)
  <obj>/reconstruction    []  mean over m, s of log p(x_m|z_ms)
  <obj>/kl                []  B: mean_m analytic KL; A and iw: mean over m, s of
                              log q(z|x) - log p(z)
  <obj>/bound             []  A, B: reconstruction - kl (the true bound, for any
                              beta); iw: the L_k value, mean_m of objective_m
  <obj>/loss              []  the loss whose gradient follows:
                              -(reconstruction - beta kl) for A and B, -bound for iw
  <obj>/grad/<p>          d loss / d <p>
      <obj> in: A.beta1, A.beta0.5, B.beta1, B.beta0.5, iw
  <opt>/hyper             [5]  lr, weight_decay, eps, beta1, beta2
  <opt>/eps               [5, M*L, Nz]  the noise of steps 1..5
  <opt>/loss              [5]  -(bound) of estimator B, beta 1, at each step
                               before its update (without the weight-decay term)
  <opt>/param/<p>         parameters after the 5 updates
      <opt> in: adagrad (torch.optim.Adagrad lr 0.02, weight_decay 0.01, eps 1e-10),
                adam    (torch.optim.Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8,
                         weight_decay 0.01)
      Each step: zero grads, loss of estimator B (beta 1) with that step's eps,
      backward, optimizer.step().

Parameter names <p> for hidden widths [h1..hn] (PyTorch conventions):
  encoder.{i}.weight [h_{i+1}, in_i], encoder.{i}.bias, i = 0..n-1 (in_0 = D)
  encoder.mu.weight [Nz, hn], encoder.mu.bias, encoder.logvar.weight, encoder.logvar.bias
  decoder.{i}.weight / bias mirrored: decoder.0.weight [hn, Nz] ... decoder.{n-1}.weight [h1, h2]
  bernoulli head: decoder.logits.weight [D, h1], decoder.logits.bias
  gaussian heads: decoder.mean.weight [D, h1], decoder.mean.bias,
                  decoder.logvar.weight [D, h1], decoder.logvar.bias

Layer-declared networks (reference_conv_v1.bin, same binary format)
--------------------------------------------------------------------
Two configs (CONV_CONFIGS below), entry names starting "gaussian/" or
"bernoulli/"; the math is the same as above, the networks are built from
declared layers (docs/model-format.md; torch.nn.functional.conv2d and
conv_transpose2d, NCHW rows):
  cfg.json          [n]  the engine's ModelConfig as aevb_config JSON, one
                         value per character (its code point)
  cfg.dims          [6]  C, H, W, Nz, M, L  (D = C H W)
  param/<p>              initial value of parameter <p>, every parameter of the
                         network in the engine's order; names and shapes as
                         torch.nn names them (encoder.{i}.weight, a residual
                         block's encoder.{i}.conv1.weight, decoder.mean.weight...)
  x [M, D], eps [M*L, Nz], mu, logvar, z, the decoder outputs (logits and
  probs, or mean_pre, mean and dec_logvar, each [M*L, D], NCHW flattened),
  log_w, and <obj>/reconstruction, kl, bound, loss, grad/<p> as above for
  <obj> in B.beta1, iw. No optimizer runs: the optimizers see flat buffers and
  are covered by reference_v1.bin.

Exactness: every input (weights, x, eps) is rounded to float32 before the
float64 computation, so the fixture's stored inputs are exactly the inputs of
the reference; the only differences left for the C++ test are its own float32
arithmetic and the final rounding of the stored outputs. The script also replays
everything in float32 with torch and prints the deviation per tensor group, an
estimate of how far an honest float32 implementation lands from the float64
reference (the tolerances in the C++ test are chosen against it).
"""

import hashlib
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

MAGIC = b"AEVBFIX\0"
VERSION = 1
SEED = 20131220  # arXiv 1312.6114 submission date
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "reference_v1.bin")
LOG2PI = math.log(2.0 * math.pi)
STEPS = 5
GAIN = 10.0      # gradient noise of the sensitivity analysis, in float32 errors
SENS_DRAWS = 8

CONFIGS = [
    # name, D, hidden, Nz, M, L, activation, likelihood
    dict(name="bernoulli", D=24, hidden=[16, 12], Nz=4, M=6, L=2, act="tanh", lik="bernoulli"),
    dict(name="gaussian", D=24, hidden=[16], Nz=4, M=6, L=2, act="softplus", lik="gaussian"),
]
OBJECTIVES = [("A.beta1", "A", 1.0), ("A.beta0.5", "A", 0.5), ("B.beta1", "B", 1.0),
              ("B.beta0.5", "B", 0.5), ("iw", "iw", 1.0)]
OPTIMIZERS = OrderedDict([
    ("adagrad", dict(lr=0.02, weight_decay=0.01, eps=1e-10, beta1=0.0, beta2=0.0)),
    ("adam", dict(lr=1e-3, weight_decay=0.01, eps=1e-8, beta1=0.9, beta2=0.999)),
])

# The layer-declared (convolutional) networks: tests/fixtures/reference_conv_v1.bin.
OUT_CONV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "reference_conv_v1.bin")
CONV_CONFIGS = [
    # A Gaussian decoder with learned variance whose output layer is a
    # convolution (two parallel heads), two channels, a non-square image, a
    # residual block on each side, a deconv with output padding 1.
    dict(name="gaussian", shape=(2, 8, 10), Nz=3, M=3, L=2, act="leaky-relu", slope=0.25, lik="gaussian",
         encoder="conv:4:3:2:1,residual:3,conv:6:3:1:0,dense:5",
         decoder="dense:80,unflatten:4:4:5,deconv:5:3:2:1:1,residual:2,conv:2:3:1:1"),
    # Bernoulli with the mirrored decoder: the engine is given no decoder and
    # builds the mirror; the reference computes the mirror as written here by
    # hand from the rule of docs/model-format.md (dense to the encoder's last
    # shape, the dense layer undone with an unflatten, each conv undone by a
    # deconv of the same kernel, stride and padding, output padding 1 to get
    # from 4 back to 8).
    dict(name="bernoulli", shape=(1, 8, 8), Nz=2, M=3, L=2, act="tanh", slope=0.01, lik="bernoulli",
         encoder="conv:4:3:2:1,conv:6:3:1:0,dense:5", decoder="",
         reference_decoder="dense:5,dense:24,unflatten:6:2:2,deconv:4:3:1:0,deconv:1:3:2:1:1"),
]
CONV_OBJECTIVES = [("B.beta1", "B", 1.0), ("iw", "iw", 1.0)]


def f32(t):
    """Round to the nearest float32, keep float64 storage."""
    return t.to(torch.float32).to(torch.float64)


# ---------------------------------------------------------------- the math


def softplus(v):
    # log(1 + e^v), stable for any v (no threshold approximation)
    return torch.clamp(v, min=0) + torch.log1p(torch.exp(-torch.abs(v)))


def activation(name, v, slope=None):
    if name == "tanh":
        return torch.tanh(v)
    if name == "softplus":
        return softplus(v)
    if name == "relu":
        return torch.clamp(v, min=0)
    if name == "leaky-relu":
        return torch.where(v > 0, v, slope * v)
    if name == "sigmoid":
        return torch.sigmoid(v)
    raise ValueError(name)


def linear(p, prefix, h):
    return h @ p[prefix + ".weight"].t() + p[prefix + ".bias"]


def param_shapes(cfg):
    D, Nz, hidden = cfg["D"], cfg["Nz"], cfg["hidden"]
    shapes = OrderedDict()
    n = len(hidden)
    ins = [D] + hidden[:-1]
    for i in range(n):
        shapes[f"encoder.{i}.weight"] = (hidden[i], ins[i])
        shapes[f"encoder.{i}.bias"] = (hidden[i],)
    for head in ("mu", "logvar"):
        shapes[f"encoder.{head}.weight"] = (Nz, hidden[-1])
        shapes[f"encoder.{head}.bias"] = (Nz,)
    rev = list(reversed(hidden))
    dins = [Nz] + rev[:-1]
    for i in range(n):
        shapes[f"decoder.{i}.weight"] = (rev[i], dins[i])
        shapes[f"decoder.{i}.bias"] = (rev[i],)
    heads = ("logits",) if cfg["lik"] == "bernoulli" else ("mean", "logvar")
    for head in heads:
        shapes[f"decoder.{head}.weight"] = (D, hidden[0])
        shapes[f"decoder.{head}.bias"] = (D,)
    return shapes


def encode(cfg, p, x):
    if "encoder" in cfg:
        return conv_encode(cfg, p, x)
    h = x
    for i in range(len(cfg["hidden"])):
        h = activation(cfg["act"], linear(p, f"encoder.{i}", h))
    return linear(p, "encoder.mu", h), linear(p, "encoder.logvar", h)


def decode(cfg, p, z):
    if "encoder" in cfg:
        return conv_decode(cfg, p, z)
    h = z
    for i in range(len(cfg["hidden"])):
        h = activation(cfg["act"], linear(p, f"decoder.{i}", h))
    if cfg["lik"] == "bernoulli":
        logits = linear(p, "decoder.logits", h)
        return {"logits": logits, "probs": torch.sigmoid(logits)}
    mean_pre = linear(p, "decoder.mean", h)
    return {"mean_pre": mean_pre, "mean": torch.sigmoid(mean_pre),
            "dec_logvar": linear(p, "decoder.logvar", h)}


def log_px(cfg, x_rep, dec):
    if cfg["lik"] == "bernoulli":
        lg = dec["logits"]
        return (x_rep * lg - softplus(lg)).sum(1)
    m, v = dec["mean"], dec["dec_logvar"]
    return (-0.5 * (LOG2PI + v + (x_rep - m) ** 2 * torch.exp(-v))).sum(1)


def forward(cfg, p, x, eps):
    """Every intermediate of one pass; eps rows m*L + s."""
    M, L = cfg["M"], cfg["L"]
    mu, logvar = encode(cfg, p, x)
    mu_r = mu.repeat_interleave(L, 0)
    lv_r = logvar.repeat_interleave(L, 0)
    z = mu_r + torch.exp(0.5 * lv_r) * eps                               # sec. 2.4
    dec = decode(cfg, p, z)
    lpx = log_px(cfg, x.repeat_interleave(L, 0), dec).reshape(M, L)     # log p(x|z)
    lpz = (-0.5 * (LOG2PI + z ** 2)).sum(1).reshape(M, L)               # log p(z)
    lq = (-0.5 * (LOG2PI + lv_r + eps ** 2)).sum(1).reshape(M, L)       # log q(z|x)
    kl = -0.5 * (1.0 + logvar - mu ** 2 - torch.exp(logvar)).sum(1)     # App. B, [M]
    out = dict(mu=mu, logvar=logvar, z=z, lpx=lpx, lpz=lpz, lq=lq, kl=kl)
    out.update(dec)
    out["log_w"] = lpx + lpz - lq
    return out


def objective(cfg, f, estimator, beta):
    """(reconstruction, kl, bound, loss), per-datapoint means, as 0-d tensors."""
    L = cfg["L"]
    recon = f["lpx"].mean()
    if estimator == "B":                                                  # eq. 7
        kl = f["kl"].mean()
        return recon, kl, recon - kl, -(recon - beta * kl)
    kl_mc = (f["lq"] - f["lpz"]).mean()
    if estimator == "A":                                                  # eq. 6
        return recon, kl_mc, recon - kl_mc, -(recon - beta * kl_mc)
    lk = (torch.logsumexp(f["log_w"], dim=1) - math.log(L)).mean()       # L_k
    return recon, kl_mc, lk, -lk


def self_check(cfg, p, x, eps):
    """A second opinion on the hand-written densities from torch.distributions."""
    from torch.distributions import Bernoulli, Normal, kl_divergence
    L = cfg["L"]
    f = forward(cfg, p, x, eps)
    mu_r = f["mu"].repeat_interleave(L, 0)
    sd_r = torch.exp(0.5 * f["logvar"].repeat_interleave(L, 0))
    q = Normal(mu_r, sd_r)
    prior = Normal(torch.zeros_like(f["z"]), torch.ones_like(f["z"]))
    x_r = x.repeat_interleave(L, 0)
    if cfg["lik"] == "bernoulli":
        lpx = Bernoulli(logits=f["logits"], validate_args=False).log_prob(x_r).sum(1)
    else:
        lpx = Normal(f["mean"], torch.exp(0.5 * f["dec_logvar"])).log_prob(x_r).sum(1)
    kl = kl_divergence(Normal(f["mu"], torch.exp(0.5 * f["logvar"])),
                       Normal(torch.zeros_like(f["mu"]), torch.ones_like(f["mu"]))).sum(1)
    for name, mine, theirs in (("log p(x|z)", f["lpx"].flatten(), lpx),
                               ("log q(z|x)", f["lq"].flatten(), q.log_prob(f["z"]).sum(1)),
                               ("log p(z)", f["lpz"].flatten(), prior.log_prob(f["z"]).sum(1)),
                               ("KL", f["kl"], kl)):
        err = float((mine - theirs).abs().max())
        if err > 1e-10 * max(1.0, float(theirs.abs().max())):
            raise AssertionError(f"{cfg['name']}: {name} disagrees with torch.distributions by {err}")


# ---------------------------------------------------------------- layer-declared networks
# Rows are NCHW images; layer i of a network is named <net>.{i}; shapes follow
# torch.nn: Conv2d weight [out, in, k, k], ConvTranspose2d [in, out, k, k],
# Linear [out, in] on the flattened (NCHW) input, Unflatten no parameters,
# residual:H = conv1 (3x3, pad 1, C -> H) and conv2 (1x1, H -> C) with
# y = act(x + conv2(act(conv1(x)))). An activation follows every dense, conv
# and deconv layer except the decoder's last (the output layer, named by the
# likelihood and doubled into mean and logvar heads for the learned-variance
# Gaussian); the encoder ends in the linear heads mu and logvar.


def parse_layers(text):
    out = []
    for item in filter(None, text.split(",")):
        kind, *v = item.split(":")
        v = [int(a) for a in v]
        if kind == "deconv" and len(v) == 4:
            v.append(0)
        out.append((kind, *v))
    return out


def layer_out_shape(shape, layer):
    kind, *v = layer
    if kind == "dense":
        return (v[0],)
    if kind == "unflatten":
        return tuple(v)
    if kind == "residual":
        return shape
    c, h, w = shape
    out, k, st, pad = v[:4]
    if kind == "conv":
        return (out, (h + 2 * pad - k) // st + 1, (w + 2 * pad - k) // st + 1)
    return (out, (h - 1) * st - 2 * pad + k + v[4], (w - 1) * st - 2 * pad + k + v[4])


def layer_params(name, layer, shape):
    kind, *v = layer
    if kind == "dense":
        return [(f"{name}.weight", (v[0], math.prod(shape))), (f"{name}.bias", (v[0],))]
    if kind == "conv":
        return [(f"{name}.weight", (v[0], shape[0], v[1], v[1])), (f"{name}.bias", (v[0],))]
    if kind == "deconv":
        return [(f"{name}.weight", (shape[0], v[0], v[1], v[1])), (f"{name}.bias", (v[0],))]
    if kind == "residual":
        c, hid = shape[0], v[0]
        return [(f"{name}.conv1.weight", (hid, c, 3, 3)), (f"{name}.conv1.bias", (hid,)),
                (f"{name}.conv2.weight", (c, hid, 1, 1)), (f"{name}.conv2.bias", (c,))]
    return []


def conv_decoder(cfg):
    return parse_layers(cfg.get("reference_decoder", cfg["decoder"]))


def conv_param_shapes(cfg):
    """Every parameter, in the engine's order (encoder layers, the two heads as
    one stacked weight then bias, decoder layers, the output layer)."""
    shapes = OrderedDict()
    s = cfg["shape"]
    for i, layer in enumerate(parse_layers(cfg["encoder"])):
        shapes.update(layer_params(f"encoder.{i}", layer, s))
        s = layer_out_shape(s, layer)
    for suffix, shape in (("weight", (cfg["Nz"], math.prod(s))), ("bias", (cfg["Nz"],))):
        for head in ("mu", "logvar"):
            shapes[f"encoder.{head}.{suffix}"] = shape
    dec = conv_decoder(cfg)
    s = (cfg["Nz"],)
    for i, layer in enumerate(dec[:-1]):
        shapes.update(layer_params(f"decoder.{i}", layer, s))
        s = layer_out_shape(s, layer)
    heads = ("logits",) if cfg["lik"] == "bernoulli" else ("mean", "logvar")
    per_head = [layer_params(f"decoder.{h}", dec[-1], s) for h in heads]
    if dec[-1][0] == "dense":  # a dense pair is stacked: both weights, then both biases
        per_head = [[ph[0] for ph in per_head], [ph[1] for ph in per_head]]
    for group in per_head:
        shapes.update(group)
    return shapes


def apply_layer(cfg, p, name, layer, h, output=False):
    """One layer and its activation (none for the output layer and unflatten;
    the residual block's is part of it)."""
    kind, *v = layer
    act = lambda t: activation(cfg["act"], t, cfg["slope"])
    if kind == "unflatten":
        return h.reshape(h.shape[0], *v)
    if kind == "residual":
        inner = act(F.conv2d(h, p[f"{name}.conv1.weight"], p[f"{name}.conv1.bias"], padding=1))
        return act(h + F.conv2d(inner, p[f"{name}.conv2.weight"], p[f"{name}.conv2.bias"]))
    w, b = p[f"{name}.weight"], p[f"{name}.bias"]
    if kind == "dense":
        y = h.flatten(1) @ w.t() + b
    elif kind == "conv":
        y = F.conv2d(h, w, b, stride=v[2], padding=v[3])
    else:
        y = F.conv_transpose2d(h, w, b, stride=v[2], padding=v[3], output_padding=v[4])
    return y if output else act(y)


def conv_encode(cfg, p, x):
    h = x.reshape(x.shape[0], *cfg["shape"])
    for i, layer in enumerate(parse_layers(cfg["encoder"])):
        h = apply_layer(cfg, p, f"encoder.{i}", layer, h)
    return linear(p, "encoder.mu", h.flatten(1)), linear(p, "encoder.logvar", h.flatten(1))


def conv_decode(cfg, p, z):
    dec = conv_decoder(cfg)
    h = z
    for i, layer in enumerate(dec[:-1]):
        h = apply_layer(cfg, p, f"decoder.{i}", layer, h)
    if cfg["lik"] == "bernoulli":
        logits = apply_layer(cfg, p, "decoder.logits", dec[-1], h, output=True).flatten(1)
        return {"logits": logits, "probs": torch.sigmoid(logits)}
    mean_pre = apply_layer(cfg, p, "decoder.mean", dec[-1], h, output=True).flatten(1)
    return {"mean_pre": mean_pre, "mean": torch.sigmoid(mean_pre),
            "dec_logvar": apply_layer(cfg, p, "decoder.logvar", dec[-1], h, output=True).flatten(1)}


def conv_engine_config(cfg):
    """The ModelConfig the engine is given, as aevb_config JSON (docs/model-format.md)."""
    c, h, w = cfg["shape"]
    return json.dumps({"family": "vae", "input_dim": c * h * w, "image_channels": c, "image_height": h,
                       "image_width": w, "encoder": cfg["encoder"], "decoder": cfg["decoder"],
                       "latent": cfg["Nz"], "activation": cfg["act"], "leaky_slope": cfg["slope"],
                       "likelihood": cfg["lik"], "sigmoid_mean": True}, sort_keys=True)


# ---------------------------------------------------------------- building the fixture


def make_config_data(cfg, gen):
    """Float32-representable inputs (float64 storage) for one config."""
    D, Nz, M, L = cfg["D"], cfg["Nz"], cfg["M"], cfg["L"]
    params = OrderedDict()
    for name, shape in param_shapes(cfg).items():
        params[name] = f32(0.3 * torch.randn(shape, generator=gen, dtype=torch.float64))
    if cfg["lik"] == "bernoulli":
        # grey levels in [0, 1], with some exact 0s and 1s (the binary case)
        x = torch.rand((M, D), generator=gen, dtype=torch.float64)
        u = torch.rand((M, D), generator=gen, dtype=torch.float64)
        x = torch.where(u < 0.1, torch.zeros_like(x), torch.where(u > 0.9, torch.ones_like(x), x))
    else:
        x = 0.02 + 0.96 * torch.rand((M, D), generator=gen, dtype=torch.float64)  # in (0, 1)
    x = f32(x)
    eps = f32(torch.randn((M * L, Nz), generator=gen, dtype=torch.float64))
    step_eps = OrderedDict()
    for opt in OPTIMIZERS:
        step_eps[opt] = f32(torch.randn((STEPS, M * L, Nz), generator=gen, dtype=torch.float64))
    return params, x, eps, step_eps


def compute(cfg, params0, x, eps, step_eps, dtype, grad_noise=None):
    """Every stored output for one config, computed in `dtype`.

    grad_noise: (generator, gain) adds gain * |e| * N(0, 1) to every gradient
    element of the optimizer runs, e being that element's float32 rounding
    error at that step, to measure how far float32-sized gradient errors move
    the 5-step results (the sensitivity analysis printed by main)."""
    out = OrderedDict()
    names = list(params0)
    p = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in params0.items())
    xd, epsd = x.to(dtype), eps.to(dtype)

    f = forward(cfg, p, xd, epsd)
    for key in ("mu", "logvar", "z"):
        out[key] = f[key]
    for key in ("logits", "probs", "mean_pre", "mean", "dec_logvar"):
        if key in f:
            out[key] = f[key]
    out["log_w"] = f["log_w"]
    for tag, est, beta in OBJECTIVES:
        recon, kl, bound, loss = objective(cfg, f, est, beta)
        grads = torch.autograd.grad(loss, [p[n] for n in names], retain_graph=True)
        out[f"{tag}/reconstruction"] = recon
        out[f"{tag}/kl"] = kl
        out[f"{tag}/bound"] = bound
        out[f"{tag}/loss"] = loss
        for n, g in zip(names, grads):
            out[f"{tag}/grad/{n}"] = g

    for opt_name, h in OPTIMIZERS.items():
        q = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in params0.items())
        if opt_name == "adagrad":
            opt = torch.optim.Adagrad(list(q.values()), lr=h["lr"], weight_decay=h["weight_decay"],
                                      eps=h["eps"])
        else:
            opt = torch.optim.Adam(list(q.values()), lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                   eps=h["eps"], weight_decay=h["weight_decay"])
        losses = []
        min_ratio = float("inf")
        for t in range(STEPS):
            opt.zero_grad()
            ft = forward(cfg, q, xd, step_eps[opt_name][t].to(dtype))
            _, _, _, loss = objective(cfg, ft, "B", 1.0)
            loss.backward()
            losses.append(loss.detach())
            if grad_noise is not None:
                # the same gradient in float32, element by element: its error
                # is that of an honest float32 implementation at this point
                ngen, gain = grad_noise
                q32 = OrderedDict((k, v.detach().to(torch.float32).requires_grad_(True))
                                  for k, v in q.items())
                f32t = forward(cfg, q32, xd.to(torch.float32),
                               step_eps[opt_name][t].to(torch.float32))
                g32 = torch.autograd.grad(objective(cfg, f32t, "B", 1.0)[3], list(q32.values()))
                with torch.no_grad():
                    for v, g in zip(q.values(), g32):
                        err = (g.to(dtype) - v.grad).abs()
                        v.grad += gain * err * torch.randn(v.shape, generator=ngen, dtype=dtype)
            # Adagrad and Adam divide by the gradient's own magnitude, so an
            # element whose total gradient (data + decay) is near 0 would make
            # the step's direction depend on float32 rounding; track the margin.
            with torch.no_grad():
                for v in q.values():
                    g = v.grad + h["weight_decay"] * v
                    min_ratio = min(min_ratio, float(g.abs().min() / g.abs().max()))
            opt.step()
        out[f"{opt_name}/loss"] = torch.stack(losses)
        out[f"{opt_name}/min_rel_grad"] = torch.tensor(min_ratio, dtype=dtype)
        for n in names:
            out[f"{opt_name}/param/{n}"] = q[n].detach()
    return OrderedDict((k, v.detach().to(torch.float64)) for k, v in out.items())


def build():
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    torch.set_num_threads(1)  # one fixed summation order
    entries = OrderedDict()
    report = []
    sens = OrderedDict()
    for cfg in CONFIGS:
        c = cfg["name"]
        params, x, eps, step_eps = make_config_data(cfg, gen)
        self_check(cfg, params, x, eps)
        ref = compute(cfg, params, x, eps, step_eps, torch.float64)
        r32 = compute(cfg, params, x, eps, step_eps, torch.float32)

        entries[f"{c}/cfg.dims"] = torch.tensor([cfg["D"], cfg["Nz"], cfg["M"], cfg["L"]],
                                                dtype=torch.float64)
        entries[f"{c}/cfg.hidden"] = torch.tensor(cfg["hidden"], dtype=torch.float64)
        for n, v in params.items():
            entries[f"{c}/param/{n}"] = v
        entries[f"{c}/x"] = x
        entries[f"{c}/eps"] = eps
        for opt_name, h in OPTIMIZERS.items():
            entries[f"{c}/{opt_name}/hyper"] = torch.tensor(
                [h["lr"], h["weight_decay"], h["eps"], h["beta1"], h["beta2"]], dtype=torch.float64)
            entries[f"{c}/{opt_name}/eps"] = step_eps[opt_name]
        for k, v in ref.items():
            if k.endswith("/min_rel_grad"):
                report.append((f"{c}/{k}", float(v), None))
                continue
            entries[f"{c}/{k}"] = v
            scale = float(v.abs().max())
            dev = float((r32[k] - v).abs().max())
            report.append((f"{c}/{k}", dev, dev / scale if scale > 0 else 0.0))
        # Sensitivity of the 5-step runs. Adagrad and Adam divide each gradient
        # element by its own running magnitude, so an element whose gradient is
        # small at every step takes a full lr-sized step in a direction set by
        # a few float32 ulps. Perturb every gradient element by GAIN times its
        # own float32 error (random sign and size) and see how far the results move.
        ngen = torch.Generator().manual_seed(SEED + 1)
        for _ in range(SENS_DRAWS):
            noisy = compute(cfg, params, x, eps, step_eps, torch.float64, grad_noise=(ngen, GAIN))
            for k, v in ref.items():
                head = k.split("/")[0]
                if head not in OPTIMIZERS or k.endswith("/min_rel_grad"):
                    continue
                key = f"{c}/{head}/{k.split('/')[1]}"
                rel = float((noisy[k] - v).abs().max() / v.abs().max())
                sens[key] = max(sens.get(key, 0.0), rel)
    return entries, report, sens


def make_conv_data(cfg, gen):
    """Float32-representable parameters, x and eps for one layer-declared config."""
    M, L, Nz, D = cfg["M"], cfg["L"], cfg["Nz"], cfg["D"]
    params = OrderedDict()
    for name, shape in conv_param_shapes(cfg).items():
        # weights ~ N(0, 0.8^2 / fan), fan = the product of the trailing dims,
        # so that pre-activations stay O(1); biases ~ N(0, 0.2^2)
        std = 0.2 if len(shape) == 1 else 0.8 / math.sqrt(math.prod(shape[1:]))
        params[name] = f32(std * torch.randn(shape, generator=gen, dtype=torch.float64))
    if cfg["lik"] == "bernoulli":
        x = torch.rand((M, D), generator=gen, dtype=torch.float64)
        u = torch.rand((M, D), generator=gen, dtype=torch.float64)
        x = torch.where(u < 0.1, torch.zeros_like(x), torch.where(u > 0.9, torch.ones_like(x), x))
    else:
        x = 0.02 + 0.96 * torch.rand((M, D), generator=gen, dtype=torch.float64)
    eps = f32(torch.randn((M * L, Nz), generator=gen, dtype=torch.float64))
    return params, f32(x), eps


def compute_conv(cfg, params0, x, eps, dtype):
    """The forward intermediates, loss terms and gradients of CONV_OBJECTIVES."""
    out = OrderedDict()
    names = list(params0)
    p = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in params0.items())
    f = forward(cfg, p, x.to(dtype), eps.to(dtype))
    for key in ("mu", "logvar", "z", "logits", "probs", "mean_pre", "mean", "dec_logvar", "log_w"):
        if key in f:
            out[key] = f[key]
    for tag, est, beta in CONV_OBJECTIVES:
        recon, kl, bound, loss = objective(cfg, f, est, beta)
        grads = torch.autograd.grad(loss, [p[n] for n in names], retain_graph=True)
        out.update({f"{tag}/reconstruction": recon, f"{tag}/kl": kl, f"{tag}/bound": bound,
                    f"{tag}/loss": loss})
        for n, g in zip(names, grads):
            out[f"{tag}/grad/{n}"] = g
    return OrderedDict((k, v.detach().to(torch.float64)) for k, v in out.items())


def text_entry(text):
    """A string as one float32 per character (its code point)."""
    return torch.tensor([float(ord(ch)) for ch in text], dtype=torch.float64)


def build_conv():
    gen = torch.Generator().manual_seed(SEED + 2)
    entries, report = OrderedDict(), []
    for cfg in CONV_CONFIGS:
        c = cfg["name"]
        cfg = dict(cfg, D=math.prod(cfg["shape"]))
        params, x, eps = make_conv_data(cfg, gen)
        self_check(cfg, params, x, eps)
        ref = compute_conv(cfg, params, x, eps, torch.float64)
        r32 = compute_conv(cfg, params, x, eps, torch.float32)
        entries[f"{c}/cfg.json"] = text_entry(conv_engine_config(cfg))
        entries[f"{c}/cfg.dims"] = torch.tensor([*cfg["shape"], cfg["Nz"], cfg["M"], cfg["L"]],
                                                dtype=torch.float64)
        for n, v in params.items():
            entries[f"{c}/param/{n}"] = v
        entries[f"{c}/x"] = x
        entries[f"{c}/eps"] = eps
        for k, v in ref.items():
            entries[f"{c}/{k}"] = v
            scale = float(v.abs().max())
            dev = float((r32[k] - v).abs().max())
            report.append((f"{c}/{k}", dev, dev / scale if scale > 0 else 0.0))
    return entries, report


def serialize(entries):
    buf = bytearray()
    buf += MAGIC
    buf += struct.pack("<II", VERSION, len(entries))
    for name, t in entries.items():
        nb = name.encode("utf-8")
        arr = t.numpy().astype("<f4")  # keeps 0-d scalars 0-d (ascontiguousarray would not)
        buf += struct.pack("<I", len(nb)) + nb
        buf += struct.pack("<I", arr.ndim)
        for d in arr.shape:
            buf += struct.pack("<Q", d)
        buf += arr.tobytes(order="C")
    return bytes(buf)


def main():
    entries, report, sens = build()
    # float32 replay deviation, grouped: how far torch in float32 lands from
    # the float64 reference (normalized by max |ref| of each tensor)
    groups = OrderedDict()
    for name, dev, rel in report:
        if rel is None:
            print(f"  {name:48s} = {dev:.3e}  (min over steps, elements of |g + decay| / max|g + decay| of its tensor)")
            continue
        c, rest = name.split("/", 1)
        parts = rest.split("/")
        if "grad" in parts:
            key = f"{c}/{parts[0]}/grad/*"
        elif parts[0] in OPTIMIZERS and parts[1] == "param":
            key = f"{c}/{parts[0]}/param/*"
        else:
            key = name
        g = groups.setdefault(key, [0.0, 0.0])
        g[0] = max(g[0], dev)
        g[1] = max(g[1], rel)
    print("float32 replay vs float64 reference (max abs, max rel to max|ref|):")
    for key, (dev, rel) in groups.items():
        print(f"  {key:48s} abs {dev:.2e}  rel {rel:.2e}")

    print(f"5-step sensitivity: every gradient element perturbed by {GAIN:g} x its float32 "
          f"error x N(0, 1), "
          f"{SENS_DRAWS} draws, max deviation rel to max|ref| per tensor:")
    for key, rel in sens.items():
        print(f"  {key:48s} rel {rel:.2e}")

    write_fixture(OUT, entries)

    conv_entries, conv_report = build_conv()
    print("layer-declared networks: float32 replay vs float64 reference (max abs, max rel to max|ref|):")
    groups = OrderedDict()
    for name, dev, rel in conv_report:
        c, rest = name.split("/", 1)
        key = f"{c}/{rest.split('/grad/')[0]}/grad/*" if "/grad/" in rest else name
        g = groups.setdefault(key, [0.0, 0.0])
        g[0], g[1] = max(g[0], dev), max(g[1], rel)
    for key, (dev, rel) in groups.items():
        print(f"  {key:48s} abs {dev:.2e}  rel {rel:.2e}")
    write_fixture(OUT_CONV, conv_entries)
    print("torch", torch.__version__, "- regenerate with: /usr/bin/python3 tools/make_reference.py")


def write_fixture(path, entries):
    data = serialize(entries)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    print(f"wrote {os.path.relpath(path)}: {len(entries)} entries, {len(data)} bytes, "
          f"sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    sys.exit(main())
