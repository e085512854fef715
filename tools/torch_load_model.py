#!/usr/bin/python3
"""Loads an aevb model file into a PyTorch nn.Module, strictly, and optionally
checks it against the aevb CLI.

    /usr/bin/python3 tools/torch_load_model.py MODEL.safetensors
    /usr/bin/python3 tools/torch_load_model.py MODEL.safetensors --check --aevb build/aevb

Without --check: builds the module from the config in the file's metadata
(docs/model-format.md), load_state_dict(strict=True) (every name and shape
must match, nothing missing or left over), prints the module and its tensors.

With --check: also draws `--rows` inputs x uniform in [0, 1] and latent codes
z ~ N(0, I) (numpy, `--seed`), runs `aevb encode` and `aevb decode --npy` on
them, and compares aevb's mu, log sigma^2 (the log of the variances it
writes) and E[x|z] with the module's, computed in float64 from the file's
float32 weights. Exit status 0: agreement; 1: a mismatch (each comparison is
printed); 2: bad usage or a file that does not load strictly.

The tolerance. Both sides start from the same float32 numbers (weights, x, z)
and the float64 module is exact to ~1e-16 relative, so the difference is
aevb's own float32 rounding. Its yardstick is an honest float32
implementation of the same network: the same module in float32 (PyTorch's
oneDNN convolutions and BLAS, another summation order), run on the same
inputs. Per output tensor, aevb's largest error against float64 may be
MARGIN = 10 times PyTorch's largest float32 error, plus 2 u max|ref| (u =
2^-24: the rounding of the float32 output itself, which a perfect float32
result already carries). Why 10: two float32 implementations that sum the
same products in different orders (blocked GEMM, FMA, im2col or direct
loops) have errors of the same size, ~sqrt(K) u times the sums' magnitudes
for K-term dot products, so the largest over a tensor of each lands within
a small factor of the other; aevb's vectorized tanh, sigmoid, softplus and
exp (at most 3.4 ulp, tests/unit/fast_kernels_test.cpp) against libm add at
most a few u per layer. log sigma^2 read back from aevb's float32 variances
gets 2 u absolute more (the exp's rounding, then log). A real mistake (a
transposed or flipped kernel, the channel order, a missing bias or
activation, a wrong padding) moves outputs by a sizeable fraction of their
scale, and a weight off by 1e-3 relative moves them ~1e4 times more than
float32 rounding.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn


# ---------------------------------------------------------------- the module (docs/model-format.md)

def read_safetensors(path):
    """Returns ({name: tensor}, metadata) from a float32 safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info["dtype"]
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        tensors[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(info["shape"])
    return tensors, metadata


def parse_layers(text):
    """'conv:32:4:2:1,dense:128' -> [('conv', 32, 4, 2, 1), ('dense', 128)]."""
    layers = []
    for item in filter(None, text.split(",")):
        kind, *numbers = item.split(":")
        numbers = [int(v) for v in numbers]
        if kind == "deconv" and len(numbers) == 4:
            numbers.append(0)  # output_padding
        layers.append((kind, *numbers))
    return layers


def shape_after(shape, layer):
    """The shape after a layer: (C, H, W) for images, (D,) for vectors."""
    kind, *a = layer
    if kind == "dense":
        return (a[0],)
    if kind == "unflatten":
        return tuple(a)
    if kind == "residual":
        return shape
    (c, h, w), (out, k, s, p) = shape, a[:4]
    if kind == "conv":
        return (out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    op = a[4]
    return (out, (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op)


def mirror(encoder, shapes):
    """The decoder aevb builds when none is declared: reach the encoder's last
    shape from z with a dense layer, then undo each encoder layer (conv <->
    deconv with the same kernel, stride and padding, the output padding that
    brings the size back; dense by dense, unflattening when the input was an image)."""
    decoder = []

    def reach(shape, last):
        decoder.append(("dense", math.prod(shape)))
        if len(shape) == 3 and not last:
            decoder.append(("unflatten", *shape))

    reach(shapes[-1], not encoder)
    for i in reversed(range(len(encoder))):
        kind, *a = encoder[i]
        if kind == "dense":
            reach(shapes[i], i == 0)
        elif kind == "conv":
            out, k, s, p = a
            decoder.append(("deconv", shapes[i][0], k, s, p, shapes[i][1] + 2 * p - (shapes[i + 1][1] - 1) * s - k))
        elif kind == "deconv":
            decoder.append(("conv", shapes[i][0], *a[1:4]))
        elif kind == "residual":
            decoder.append(encoder[i])
    return decoder


class Residual(nn.Module):
    """y = act(x + conv2(act(conv1(x)))): conv1 3x3 C -> H, conv2 1x1 H -> C."""

    def __init__(self, channels, hidden, act):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 3, 1, 1)
        self.conv2 = nn.Conv2d(hidden, channels, 1)
        self.act = act

    def forward(self, x):
        return self.act(x + self.conv2(self.act(self.conv1(x))))


def make_layer(layer, shape, act):
    kind, *a = layer
    if kind == "dense":
        return nn.Linear(math.prod(shape), a[0])
    if kind == "conv":
        return nn.Conv2d(shape[0], *a[:4])
    if kind == "deconv":
        return nn.ConvTranspose2d(shape[0], a[0], a[1], a[2], a[3], output_padding=a[4])
    if kind == "residual":
        return Residual(shape[0], a[0], act)
    return nn.Unflatten(1, tuple(a))


class AevbModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        act = {"tanh": nn.Tanh(), "relu": nn.ReLU(), "softplus": nn.Softplus(),
               "sigmoid": nn.Sigmoid(), "leaky-relu": nn.LeakyReLU(cfg["leaky_slope"])}[cfg["activation"]]
        data = ((cfg.get("image_channels", 1), cfg["image_height"], cfg["image_width"])
                if cfg["image_height"] > 0 else (cfg["input_dim"],))
        enc = parse_layers(cfg.get("encoder", "")) or [("dense", h) for h in cfg["hidden"]]
        shapes = [data]
        for layer in enc:
            shapes.append(shape_after(shapes[-1], layer))
        dec = parse_layers(cfg.get("decoder", "")) or mirror(enc, shapes)
        # A decoder-only model (Monte Carlo EM's) has no encoder: its declared
        # layers only shape the mirrored decoder.
        decoder_only = cfg.get("decoder_only", False)
        body = {} if decoder_only else {str(i): make_layer(layer, shapes[i], act) for i, layer in enumerate(enc)}
        heads = [] if decoder_only else ["mu", "logvar"] if cfg.get("family", "vae") == "vae" else ["z"]
        body.update({h: nn.Linear(math.prod(shapes[-1]), cfg["latent"]) for h in heads})
        self.encoder = nn.ModuleDict(body)
        shape, layers = (cfg["latent"],), {}
        for i, layer in enumerate(dec[:-1]):
            layers[str(i)] = make_layer(layer, shape, act)
            shape = shape_after(shape, layer)
        outputs = {"bernoulli": ["logits"], "gaussian": ["mean", "logvar"],
                   "gaussian-fixed": ["mean"]}[cfg["likelihood"]]
        layers.update({h: make_layer(dec[-1], shape, act) for h in outputs})
        self.decoder = nn.ModuleDict(layers)
        self.data_shape, self.act, self.heads, self.outputs = data, act, heads, outputs

    def body(self, x, net, names):
        for name in names:
            m = net[name]
            x = m(x.flatten(1) if isinstance(m, nn.Linear) else x)
            # The activation follows every layer but unflatten, the residual
            # block (whose act is its own last step) and the output layer.
            x = x if isinstance(m, (nn.Unflatten, Residual)) else self.act(x)
        return x

    def encode(self, x):
        """(mu, logvar) for the VAE family, (z, None) for the autoencoder."""
        if not self.heads:
            raise ValueError("a decoder-only model (trained by mcem) has no encoder")
        names = [k for k in self.encoder if k not in self.heads]
        h = self.body(x.reshape(-1, *self.data_shape), self.encoder, names).flatten(1)
        if self.heads == ["z"]:
            return self.encoder["z"](h), None
        return self.encoder["mu"](h), self.encoder["logvar"](h)

    def decode(self, z):
        """E[x|z]: Bernoulli probabilities or the Gaussian mean, [n, input_dim]."""
        h = self.body(z, self.decoder, [k for k in self.decoder if k not in self.outputs])
        m = self.decoder[self.outputs[0]]
        out = m(h.flatten(1) if isinstance(m, nn.Linear) else h).flatten(1)
        if self.cfg["likelihood"] == "bernoulli" or self.cfg["sigmoid_mean"]:
            return torch.sigmoid(out)
        return out


def load_model(path):
    tensors, metadata = read_safetensors(path)
    for state in ("optimizer.state", "algorithm.state"):  # a checkpoint's training state
        tensors.pop(state, None)
    model = AevbModel(json.loads(metadata["aevb_config"]))
    # A full-VB model (weight_posterior): each decoder tensor T holds the mean
    # of q(theta), T_log_sigma its log sigma. The module is the mean network;
    # model.log_sigma keeps the scales (theta = mean + exp(log_sigma) * zeta).
    model.log_sigma = {k[: -len("_log_sigma")]: tensors.pop(k) for k in list(tensors) if k.endswith("_log_sigma")}
    model.load_state_dict(tensors, strict=True)
    return model


# ---------------------------------------------------------------- the check against the CLI

U = 2.0 ** -24  # float32 unit roundoff
MARGIN = 10     # aevb's float32 error may be this many times PyTorch's own (see the top)


def compare(name, got, ref, t32, floor):
    """aevb's values `got` and PyTorch's float32 `t32` against the float64 `ref`;
    prints one line, returns (ok, aevb's max error / allowed)."""
    got, ref, t32 = (torch.as_tensor(np.asarray(v), dtype=torch.float64) for v in (got, ref, t32))
    if got.shape != ref.shape:
        print(f"  {name:8s} MISMATCH: aevb gives shape {list(got.shape)}, PyTorch {list(ref.shape)}")
        return False, math.inf
    err = (got - ref).abs()
    worst = float(err.max()) if bool(torch.isfinite(got).all()) else math.inf
    dev32 = float((t32 - ref).abs().max())
    allowed = MARGIN * dev32 + floor
    ok = worst <= allowed
    print(f"  {name:8s} {str(list(ref.shape)):11s} max |ref| {float(ref.abs().max()):.2e}   max error: "
          f"aevb {worst:.2e}, PyTorch float32 {dev32:.2e}, allowed {allowed:.2e}  {'ok' if ok else 'MISMATCH'}")
    if not ok:
        i = int(err.flatten().argmax())
        print(f"           worst element {i}: aevb {float(got.flatten()[i])!r}, "
              f"PyTorch float64 {float(ref.flatten()[i])!r}")
    return ok, worst / allowed if allowed > 0 else (0.0 if worst == 0 else math.inf)


def write_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {r.returncode}: {r.stderr.strip()}")


def check(path, model, aevb, rows, seed):
    cfg = model.cfg
    has_encoder = bool(model.heads)  # a decoder-only model (mcem) is checked on decode alone
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (rows, cfg["input_dim"])).astype(np.float32)
    z = rng.standard_normal((rows, cfg["latent"])).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="aevb_torch_check_") as tmp:
        files = {k: os.path.join(tmp, k + ".npy") for k in ("x", "z", "enc", "dec")}
        write_npy(files["x"], x)
        write_npy(files["z"], z)
        if has_encoder:
            run([aevb, "encode", "--model", path, "--data", files["x"], "--binarize", "none", "--out", files["enc"]])
            enc = np.load(files["enc"])
        run([aevb, "decode", "--model", path, "--latents", files["z"], "--npy", files["dec"]])
        dec = np.load(files["dec"])
    m64 = load_model(path).double()
    results = []
    if has_encoder:
        if enc.shape != (rows, 2, cfg["latent"]):
            print(f"  aevb encode wrote shape {enc.shape}, expected {(rows, 2, cfg['latent'])}")
            return 1
        with torch.no_grad():
            (mu, logvar), (mu32, logvar32) = m64.encode(torch.from_numpy(x).double()), model.encode(torch.from_numpy(x))
        if logvar is not None:
            results.append(compare("mu", enc[:, 0], mu, mu32, 2 * U * float(mu.abs().max())))
            with np.errstate(divide="ignore"):
                aevb_logvar = np.log(enc[:, 1].astype(np.float64))
            # aevb writes exp(logvar) in float32: reading it back adds ~1 ulp of the variance, U absolute
            results.append(compare("logvar", aevb_logvar, logvar, logvar32, 2 * U * float(logvar.abs().max()) + 2 * U))
        else:
            results.append(compare("z", enc[:, 0], mu, mu32, 2 * U * float(mu.abs().max())))
            zero = torch.zeros(enc[:, 1].shape, dtype=torch.float64)  # a point latent: variance exp(-inf) = 0
            results.append(compare("variance", enc[:, 1], zero, zero, 0.0))
    with torch.no_grad():
        mean, mean32 = m64.decode(torch.from_numpy(z).double()), model.decode(torch.from_numpy(z))
    results.append(compare("E[x|z]", dec, mean, mean32, 2 * U * float(mean.abs().max())))
    print(f"  worst aevb error / allowed: {max(w for _, w in results):.2e}")
    return 0 if all(ok for ok, _ in results) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model.safetensors (or a checkpoint)")
    ap.add_argument("--check", action="store_true", help="compare with aevb encode / decode")
    ap.add_argument("--aevb", default="build/aevb", help="the aevb binary (for --check)")
    ap.add_argument("--rows", type=int, default=64, help="inputs and latent codes to compare (--check)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    try:
        model = load_model(a.model)
    except (OSError, KeyError, ValueError, RuntimeError, AssertionError) as e:
        print(f"torch_load_model: {a.model}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    n = sum(p.numel() for p in model.parameters())
    print(f"{a.model}: loaded strictly, {len(model.state_dict())} tensors, {n:,} parameters")
    print(model)
    if not a.check:
        return 0
    print(f"check against {a.aevb} on {a.rows} inputs and latent codes (seed {a.seed}):")
    try:
        return check(a.model, model, a.aevb, a.rows, a.seed)
    except RuntimeError as e:
        print(f"torch_load_model: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
