#!/usr/bin/python3
"""PyTorch reference for aevb's convolutional layers: writes
tests/fixtures/conv_layers_reference_v1.bin.

Regenerate (from the repository root; Debian's python3-torch):

    /usr/bin/python3 tools/make_conv_layers_reference.py

tests/unit/conv_layers_reference_test.cpp reads the committed fixture and needs no
Python. Nothing here shares code with src/nn/conv.cpp: the layers are
torch.nn.Conv2d, torch.nn.ConvTranspose2d and a residual block written from
their modules, in float64 with autograd doing the derivatives, so the fixture
pins aevb's weight layouts ([out, in, k, k] and [in, out, k, k]), padding,
stride and output-padding conventions to PyTorch's. Inputs and parameters are
rounded to float32 before use (so that both sides start from the same
numbers) and every value is stored as float32. Deterministic: the same bytes
on every run (it prints the SHA-256).

Format: the one of tools/make_reference.py (tests/support/fixture.hpp reads
both). Entries, for each case <c>:
    <c>/x          [rows, C, H, W]      the input
    <c>/upstream   [rows, C', H', W']   dL/dy (L = sum(upstream * y))
    <c>/y          [rows, C', H', W']   the output
    <c>/dx         [rows, C, H, W]      dL/dx
    <c>/<p>        the parameter p in PyTorch's shape, p = weight, bias (conv,
                   deconv) or conv1.weight, conv1.bias, conv2.weight, conv2.bias
                   (residual); aevb's names are "<layer>.<p>", in this order
    <c>/grad/<p>   dL/dp
"""

import hashlib
import os
import struct

import torch

MAGIC = b"AEVBFIX\0"
VERSION = 1
SEED = 20131220
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "conv_layers_reference_v1.bin")

# name, kind, rows, (C, H, W), out channels, kernel, stride, padding, output padding, activation
CASES = [
    ("conv_s2_p1", "conv", 2, (2, 7, 5), 3, 3, 2, 1, 0, "tanh"),
    ("conv_k4_s2_p1", "conv", 2, (1, 8, 8), 4, 4, 2, 1, 0, "relu"),
    ("conv_s1_p0", "conv", 2, (3, 5, 6), 2, 3, 1, 0, 0, "identity"),
    ("deconv_s2_p1_op1", "deconv", 2, (2, 4, 3), 3, 3, 2, 1, 1, "tanh"),
    ("deconv_k4_s2_p1", "deconv", 2, (4, 4, 4), 1, 4, 2, 1, 0, "identity"),
    ("deconv_k2_s3_p1_op2", "deconv", 2, (2, 3, 4), 2, 2, 3, 1, 2, "sigmoid"),
    ("residual", "residual", 2, (3, 5, 4), 4, 0, 1, 0, 0, "tanh"),
]


def act(name, v):
    return {"identity": lambda t: t, "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[name](v)


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def build():
    torch.manual_seed(SEED)
    entries = []
    for name, kind, rows, (c, h, w), out, k, s, p, op, a in CASES:
        if kind == "conv":
            mods = {"": torch.nn.Conv2d(c, out, k, s, p)}
        elif kind == "deconv":
            mods = {"": torch.nn.ConvTranspose2d(c, out, k, s, p, op)}
        else:
            mods = {"conv1.": torch.nn.Conv2d(c, out, 3, 1, 1), "conv2.": torch.nn.Conv2d(out, c, 1, 1, 0)}
        params = []
        for prefix, m in mods.items():
            m.double()
            with torch.no_grad():
                for pname, t in m.named_parameters():
                    t.copy_(f32(t * 3))  # PyTorch's init scaled up, so that the activations are not all linear
                    params.append((prefix + pname, t))
        x = f32(torch.randn(rows, c, h, w, dtype=torch.float64)).requires_grad_(True)
        if kind == "residual":
            y = act(a, x + mods["conv2."](act(a, mods["conv1."](x))))
        else:
            y = act(a, mods[""](x))
        upstream = f32(torch.randn(y.shape, dtype=torch.float64))
        (y * upstream).sum().backward()
        entries.append((name + "/x", x.detach()))
        entries.append((name + "/upstream", upstream))
        entries.append((name + "/y", y.detach()))
        entries.append((name + "/dx", x.grad))
        for pname, t in params:
            entries.append((f"{name}/{pname}", t.detach()))
            entries.append((f"{name}/grad/{pname}", t.grad))
    return entries


def write(entries, path):
    out = bytearray(MAGIC)
    out += struct.pack("<II", VERSION, len(entries))
    for name, t in entries:
        data = t.detach().to(torch.float32).contiguous()
        raw = name.encode()
        out += struct.pack("<I", len(raw)) + raw
        out += struct.pack("<I", data.dim()) + b"".join(struct.pack("<Q", d) for d in data.shape)
        out += data.numpy().astype("<f4").tobytes()
    with open(path, "wb") as f:
        f.write(out)
    return hashlib.sha256(out).hexdigest()


def main():
    entries = build()
    digest = write(entries, OUT)
    print(f"wrote {os.path.relpath(OUT)}: {len(entries)} entries, sha256 {digest}")


if __name__ == "__main__":
    main()
