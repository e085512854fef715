#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora to fuzz/seeds/<target>/ (committed).

Sources: the first few images of the shared MNIST, Fashion-MNIST and Frey
files (re-encoded small: IDX raw and gzip, NPY, CSV, PNG), files aevb writes
(tiny models and checkpoints trained by the CLI in a temp folder, and their
stored settings as JSON and TOML), and hand-made edge cases.

Usage: fuzz/make-seeds.py [--aevb build/aevb] [--data /work/shared/data]
Standard library only. Without an aevb binary the model/checkpoint/config
seeds from aevb are skipped (the hand-made ones are still written).
"""
import argparse, gzip, json, os, shutil, struct, subprocess, sys, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")
LABELS_SEP = b"AEVB-LABELS\n"
PNG_SEP = b"AEVB-NEXT-PNG"


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read_idx(path, count):
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        ndim = magic[3]
        dims = list(struct.unpack(">" + "I" * ndim, f.read(4 * ndim)))
        per = 1
        for d in dims[1:]:
            per *= d
        return dims[1:], f.read(per * count)


def idx3(n, rows, cols, data, dtype=0x08):
    return struct.pack(">BBBBIII", 0, 0, dtype, 3, n, rows, cols) + data


def idx1(labels, dtype=0x08):
    return struct.pack(">BBBBI", 0, 0, dtype, 1, len(labels)) + bytes(labels)


def npy(dtype, shape, payload, version=1, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        dtype, "True" if fortran else "False", "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin1") + payload


def png(width, height, color_type, depth, rows, palette=None, trns=None, interlace=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def grey_png(w, h, pixels):
    return png(w, h, 0, 8, [pixels[y * w:(y + 1) * w] for y in range(h)])


def shrink(pixels, w, h, f):
    """Every f-th pixel in each direction (a small image that still looks like the digit)."""
    return bytes(pixels[y * w + x] for y in range(0, h, f) for x in range(0, w, f))


def data_seeds(data_dir):
    sets = []
    for name, file, labels in [("mnist", "mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz"),
                               ("fashion", "fashion-mnist/t10k-images-idx3-ubyte.gz", "fashion-mnist/t10k-labels-idx1-ubyte.gz"),
                               ("frey", "frey/frey-faces-idx3-ubyte.gz", None)]:
        path = os.path.join(data_dir, file)
        if not os.path.exists(path):
            print("make-seeds: %s not found, skipped" % path, file=sys.stderr)
            continue
        (rows, cols), images = read_idx(path, 3)
        labs = read_idx(os.path.join(data_dir, labels), 3)[1] if labels else None
        sets.append((name, rows, cols, images, labs))
    for name, rows, cols, images, labs in sets:
        n = len(images) // (rows * cols)
        full = idx3(n, rows, cols, images)
        for target in ("idx", "idx_gz"):
            put(target, name + "-3", full + (LABELS_SEP + idx1(labs) if labs else b""))
        put("idx_gz", name + "-3.gz", gzip.compress(full, 9, mtime=0))
        # small versions: every 4th pixel (7x7 for MNIST)
        w, h = (cols + 3) // 4, (rows + 3) // 4
        small = b"".join(shrink(images[i * rows * cols:(i + 1) * rows * cols], cols, rows, 4) for i in range(n))
        put("idx", name + "-small", idx3(n, h, w, small) + (LABELS_SEP + idx1(labs) if labs else b""))
        put("npy", name + "-u8-3d", npy("|u1", (n, h, w), small))
        put("npy", name + "-f4-2d", npy("<f4", (n, h * w), struct.pack("<%df" % len(small), *[b / 255 for b in small])))
        put("csv", name + "-small.csv", ("\n".join(",".join(str(b) for b in small[i * h * w:(i + 1) * h * w]) for i in range(n)) + "\n").encode())
        if labs:
            put("csv", name + "-labels.csv", ("label," + ",".join("p%d" % p for p in range(h * w)) + "\n" + "\n".join(
                str(labs[i]) + "," + ",".join("%.4g" % (b / 255) for b in small[i * h * w:(i + 1) * h * w]) for i in range(n)) + "\n").encode())
        first = images[:rows * cols]
        put("png", name + "-0.png", grey_png(cols, rows, first))
        put("png_folder", name + "-3", PNG_SEP.join(grey_png(w, h, small[i * h * w:(i + 1) * h * w]) for i in range(n)))


def handmade():
    px = bytes(range(0, 256, 16))  # 16 values
    # IDX edge cases
    put("idx", "empty-count", idx3(0, 4, 4, b""))
    put("idx", "one-pixel", idx3(1, 1, 1, b"\xff"))
    put("idx", "binary", idx3(2, 2, 2, b"\x00\xff\xff\x00\xff\x00\x00\xff"))
    put("idx", "truncated", idx3(5, 4, 4, px))
    put("idx", "lying-count", idx3(0xffffffff, 0xffff, 0xffff, px))
    put("idx", "zero-rows", idx3(3, 0, 4, b""))
    put("idx", "float-dtype", idx3(1, 2, 2, struct.pack(">4f", 0, .5, 1, 0), dtype=0x0D))
    put("idx", "trailing", idx3(1, 2, 2, b"\x01\x02\x03\x04\x05"))
    put("idx", "labels-mismatch", idx3(2, 2, 2, px[:8]) + LABELS_SEP + idx1([1, 2, 3]))
    put("idx", "labels-bad-magic", idx3(1, 2, 2, px[:4]) + LABELS_SEP + idx3(1, 2, 2, px[:4]))
    put("idx", "labels-lying", idx3(1, 2, 2, px[:4]) + LABELS_SEP + struct.pack(">BBBBI", 0, 0, 8, 1, 0x7fffffff) + b"\x01")
    put("idx", "header-only", idx3(1, 2, 2, b"")[:10])
    put("idx_gz", "gz-truncated", gzip.compress(idx3(2, 4, 4, px * 2), 9, mtime=0)[:-6])
    put("idx_gz", "gz-bomb-header", gzip.compress(idx3(0x10000, 0x100, 0x100, b"\x00" * 65536), 9, mtime=0))
    put("idx_gz", "gz-two-members", gzip.compress(idx3(1, 2, 2, b""), mtime=0) + gzip.compress(b"\x01\x02\x03\x04", mtime=0))
    put("idx_gz", "plain-npy", npy("|u1", (1, 4, 4), px))
    put("idx_gz", "plain-csv", b"0,0.5,1\n1,0.25,0\n")
    # NPY edge cases
    f4 = lambda vals: struct.pack("<%df" % len(vals), *vals)
    put("npy", "f8", npy("<f8", (2, 2), struct.pack("<4d", 0, .25, .5, 1)))
    put("npy", "f4-minmax", npy("<f4", (2, 3), f4([-3, 0, 7, 1e30, -1e30, 2])))
    put("npy", "nan", npy("<f4", (1, 2), f4([float("nan"), 1])))
    put("npy", "bool", npy("|b1", (2, 2), b"\x00\x01\x01\x00"))
    put("npy", "i2", npy("<i2", (1, 4), struct.pack("<4h", 0, 255, -1, 3)))
    put("npy", "u2-be", npy(">u2", (1, 2), struct.pack(">2H", 1, 200)))
    put("npy", "i8", npy("<i8", (1, 2), struct.pack("<2q", 0, 255)))
    put("npy", "nhwc-rgb", npy("|u1", (1, 2, 2, 3), bytes(range(12))))
    put("npy", "nhwc-rgba", npy("|u1", (1, 2, 2, 4), bytes(range(16))))
    put("npy", "nchw-rgb", npy("|u1", (1, 3, 2, 2), bytes(range(12))))
    put("npy", "nchw-grey", npy("<f4", (1, 1, 2, 2), f4([0, .1, .2, 1])))
    put("npy", "v2", npy("|u1", (1, 4), px[:4], version=2))
    put("npy", "v3", npy("|u1", (1, 4), px[:4], version=3))
    put("npy", "fortran", npy("<f4", (2, 2), f4([0, 1, 0, 1]), fortran=True))
    put("npy", "1d", npy("<f4", (3,), f4([0, .5, 1])))
    put("npy", "0d", npy("<f4", (), f4([0.5])))
    put("npy", "5d", npy("|u1", (1, 1, 1, 1, 2), b"\x00\x01"))
    put("npy", "lying-shape", npy("<f4", (0x7fffffffffff, 0x7fffffff), f4([0])))
    put("npy", "zero-size", npy("<f4", (0, 4), b""))
    put("npy", "truncated", npy("<f4", (4, 4), f4([0.5])))
    put("npy", "object-dtype", npy("|O", (1,), b"\x00" * 8))
    put("npy", "bad-header", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',\n")
    # CSV edge cases
    for name, text in [("semicolon", "0;0.5;1\n1;0;0.25\n"), ("tab", "0\t1\n1\t0\n"), ("spaces", "0 1  0\n1 0 1\n"),
                       ("crlf", "a,b\r\n0,1\r\n1,0\r\n"), ("header-class", "x,y,class\n0.1,0.2,3\n0.5,0.5,-1\n"),
                       ("minmax", "-5,10\n3,1e9\n"), ("ints255", "0,255\n128,64\n"), ("nan", "nan,1\ninf,0\n"),
                       ("ragged", "1,2,3\n4,5\n"), ("empty-lines", "\n\n0,1\n\n1,0\n"), ("quoted", '"a","b"\n"1","0"\n'),
                       ("label-float", "label,p\n1.5,0\n"), ("label-huge", "target,p\n99999999999,0\n"),
                       ("header-only", "label,p0,p1\n"), ("hex", "0x1p-1,1\n"), ("exp", "1e-3,5E-1\n"),
                       ("trailing-comma", "0,1,\n1,0,\n"), ("bom", "\ufeff0,1\n".encode("utf-8").decode("latin1"))]:
        put("csv", name + ".csv", text.encode("latin1"))
    # PNG edge cases
    g = [bytes([x * 60 for x in range(4)]) for _ in range(4)]
    pngs = {
        "grey8": png(4, 4, 0, 8, g),
        "grey1": png(8, 2, 0, 1, [b"\xa5", b"\x5a"]),
        "grey4": png(2, 2, 0, 4, [b"\x0f", b"\xf0"]),
        "grey16": png(2, 2, 0, 16, [b"\x00\x00\xff\xff", b"\x80\x00\x12\x34"]),
        "grey-alpha": png(2, 2, 4, 8, [b"\x10\xff\x20\x00", b"\x30\x80\x40\x40"]),
        "rgb8": png(2, 2, 2, 8, [bytes(range(6)), bytes(range(100, 106))]),
        "rgb16": png(1, 1, 2, 16, [bytes(range(6))]),
        "rgba8": png(2, 1, 6, 8, [bytes(range(8))]),
        "palette-grey": png(2, 2, 3, 8, [b"\x00\x01", b"\x01\x00"], palette=[(0, 0, 0), (200, 200, 200)]),
        "palette-colour": png(2, 2, 3, 2, [b"\x1b", b"\xe4"], palette=[(255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9)]),
        "palette-trns": png(2, 1, 3, 8, [b"\x00\x01"], palette=[(1, 2, 3), (4, 5, 6)], trns=b"\x00"),
        "grey-trns": png(2, 1, 0, 8, [b"\x00\x01"], trns=b"\x00\x01"),
        "lying-size": png(0x7fff, 0x7fff, 0, 8, [b"\x00"]),
        "zero-width": png(0, 1, 0, 8, [b""]),
        "bad-crc": png(2, 2, 0, 8, g[:2])[:-5] + b"\x00\x00\x00\x00\x00",
        "truncated": png(4, 4, 0, 8, g)[:40],
    }
    for name, b in pngs.items():
        put("png", name + ".png", b)
    put("png_folder", "grey-pair", pngs["grey8"] + PNG_SEP + png(4, 4, 0, 8, g[::-1]))
    put("png_folder", "grey-colour", pngs["rgb8"] + PNG_SEP + png(2, 2, 0, 8, [b"\x00\xff", b"\xff\x00"]))
    put("png_folder", "palette-mix", pngs["palette-grey"] + PNG_SEP + pngs["palette-colour"] + PNG_SEP + pngs["grey-alpha"])
    put("png_folder", "size-mismatch", pngs["grey8"] + PNG_SEP + pngs["rgb8"])
    put("png_folder", "four", PNG_SEP.join([pngs["grey16"], pngs["rgba8"][:0] + pngs["grey4"], pngs["rgb8"], pngs["grey-trns"][:0] + pngs["grey16"]]))
    put("png_folder", "one-bad", pngs["grey8"] + PNG_SEP + pngs["truncated"])
    for name in ("lying-size", "rgb16", "palette-trns"):
        put("png_folder", name, pngs[name])
    # found by fuzz_png: an iTXt chunk header claiming 2 GB made libpng allocate it
    itxt = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x02\x08\0\0\0\0\x57\xdd\x52\xf8\x7a\x54\x58\x74iTXt\x08\x03\x00\x0fIDAT"
    put("png", "regress-itxt-2gb.png", itxt)
    put("png_folder", "regress-itxt-2gb", itxt)


def safetensors_bytes(tensors, metadata=None, pad=True):
    header, data = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def handmade_safetensors():
    put("safetensors", "empty", safetensors_bytes([]))
    put("safetensors", "one", safetensors_bytes([("w", [2, 2], [1, 2, 3, 4])], {"k": "v"}))
    put("safetensors", "scalar", safetensors_bytes([("s", [], [1.5]), ("e", [0], [])]))
    put("safetensors", "two", safetensors_bytes([("a", [3], [0, 1, 2]), ("b", [1, 2], [5, 6])]))
    put("safetensors", "f16", struct.pack("<Q", 56) + b'{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}' + b"\x00" * 4)
    put("safetensors", "overlap", struct.pack("<Q", 104) +
        b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' + b"\x00" * 4)
    put("safetensors", "lying-length", struct.pack("<Q", 0xffffffffffff) + b"{}")
    put("safetensors", "huge-shape", struct.pack("<Q", 72) +
        b'{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}' + b"\x00" * 4)
    put("safetensors", "bad-json", struct.pack("<Q", 8) + b'{"a":[1,')


def aevb_seeds(aevb):
    tmp = tempfile.mkdtemp(prefix="aevb-seeds-")
    try:
        rows = "\n".join(",".join("%.3f" % (((i * 7 + p * 3) % 11) / 10) for p in range(16)) for i in range(12)) + "\n"
        data = os.path.join(tmp, "d.csv")
        with open(data, "w") as f:
            f.write(rows)
        img = os.path.join(tmp, "imgs")
        os.makedirs(img)
        for i in range(6):
            with open(os.path.join(img, "%d.png" % i), "wb") as f:
                f.write(png(4, 4, 0, 8, [bytes([(x * 50 + y * 20 + i * 9) % 256 for x in range(4)]) for y in range(4)]))
        runs = {
            "mlp-adagrad": ["--data", data, "--hidden", "3", "--latent", "2"],
            "mlp-adam-gauss": ["--data", data, "--hidden", "3", "--latent", "1", "--likelihood", "gaussian", "--optimizer", "adam"],
            "ae-relu": ["--data", data, "--hidden", "2", "--latent", "1", "--family", "autoencoder", "--activation", "relu"],
            "full-vb": ["--data", data, "--hidden", "2", "--latent", "1", "--full-vb"],
            "mcem": ["--data", data, "--hidden", "2", "--latent", "1", "--algorithm", "mcem"],
            "wake-sleep": ["--data", data, "--hidden", "2", "--latent", "1", "--algorithm", "wake-sleep", "--optimizer", "sgd", "--momentum", "0.5"],
            "conv": ["--data", img, "--encoder", "conv:2:2:2:0,dense:3", "--latent", "1", "--binarize", "fixed"],
        }
        for name, args in runs.items():
            out = os.path.join(tmp, name)
            cmd = [aevb, "train"] + args + ["--epochs", "1", "--validation", "0", "--batch", "4", "--threads", "1",
                                            "--no-report", "--out", out]
            if name == "mcem":
                cmd.remove("--batch"); cmd.remove("4")
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print("make-seeds: %s: %s" % (name, r.stderr.strip()), file=sys.stderr)
                continue
            for f in sorted(os.listdir(out)):
                path = os.path.join(out, f)
                if not f.endswith(".safetensors"):
                    continue
                b = open(path, "rb").read()
                kind = "checkpoint" if "checkpoint" in f else "model"
                put(kind, name, b)
                put("safetensors", kind + "-" + name, b)
                if kind == "checkpoint":
                    n = struct.unpack("<Q", b[:8])[0]
                    meta = json.loads(b[8:8 + n])["__metadata__"]
                    settings = json.loads(meta["aevb_state"])["loop"]["settings"]
                    put("config_json", name + ".json", json.dumps(settings, indent=1).encode())
                    put("config_toml", name + ".toml", to_toml(settings).encode())
    finally:
        shutil.rmtree(tmp)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (k, toml_value(x)) for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(doc, prefix=""):
    lines, tables = [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append("%s = %s" % (k, toml_value(v)))
    out = ("[%s]\n" % prefix if prefix and lines else "") + "".join(l + "\n" for l in lines)
    for k, v in tables:
        out += to_toml(v, prefix + "." + k if prefix else k)
    return out


def handmade_configs():
    docs = {
        "cli-example": {"preset": "paper-mnist", "model": {"latent": 10}, "train": {"optimizer": {"kind": "adam", "lr": 0.001}},
                        "run": {"epochs": 30, "kl_warmup_epochs": 5}},
        "preset-frey": {"preset": "paper-frey"},
        "preset-conv": {"preset": "conv-mnist", "run": {"binarize": "fixed", "color": "grey", "scaling": "minmax"}},
        "conv-layers": {"model": {"encoder": "conv:32:4:2:1,conv:64:4:2:1,dense:256", "decoder": "dense:3136,unflatten:64:7:7,deconv:32:4:2:1,deconv:1:4:2:1"}},
        "iw": {"train": {"objective": {"estimator": "iw", "samples": 5, "beta": 0.5}, "algorithm": "rws", "matmul_precision": "float32"}},
        "unknown-key": {"model": {"latentt": 3}},
        "wrong-type": {"train": {"optimizer": {"lr": "fast"}}},
        "negative": {"model": {"latent": -1, "hidden": [0]}, "run": {"validation": -0.5, "limit": 18446744073709551615}},
        "huge": {"model": {"hidden": [4294967296, 1e300], "latent": 1e20}},
    }
    for name, d in docs.items():
        put("config_json", name + ".json", json.dumps(d).encode())
        put("config_toml", name + ".toml", to_toml(d).encode())
    put("config_json", "duplicate-key.json", b'{"model": {"latent": 2, "latent": 3}}')
    put("config_json", "not-object.json", b"[1, 2, 3]")
    put("config_json", "deep.json", b"[" * 64 + b"]" * 64)
    put("config_json", "escapes.json", b'{"run": {"data": "\\u00e9\\ud83d\\ude00\\n"}}')
    put("config_toml", "date.toml", b"[run]\ndata = 1979-05-27T07:32:00Z\n")
    put("config_toml", "dotted.toml", b'train.optimizer.kind = "sgd"\ntrain.optimizer.momentum = 0.9\n[model]\nhidden = [ 5, 6 ]\n')
    put("config_toml", "inline.toml", b'model = { latent = 4, activation = "relu" }\n')
    put("config_toml", "nan.toml", b"[train.optimizer]\nlr = nan\nclip_norm = inf\n")
    put("config_toml", "array-of-tables.toml", b"[[model]]\nlatent = 2\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aevb", default=os.path.join(ROOT, "build", "aevb"))
    ap.add_argument("--data", default=os.environ.get("AEVB_DATA_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data")))
    a = ap.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    data_seeds(a.data)
    handmade()
    handmade_safetensors()
    handmade_configs()
    if os.access(a.aevb, os.X_OK):
        aevb_seeds(a.aevb)
    else:
        print("make-seeds: no aevb binary at %s: model, checkpoint and settings seeds from aevb skipped" % a.aevb, file=sys.stderr)
    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print("make-seeds: %d files, %d bytes in %s" % (sum(len(f) for _, _, f in os.walk(OUT)), total, OUT))


if __name__ == "__main__":
    main()
