"""The datasets the command line knows, as numpy arrays.

``load("mnist")`` looks the short names mnist, fashion-mnist and frey up in
the CLI's search path (each directory of $AEVB_DATA_DIR, ./data,
../shared/data); any other name is a file or folder read as ``aevb train
--data`` reads it (IDX, NPY, CSV, a folder of PNGs; docs/data.md).
"""
from collections import namedtuple

from . import _aevb

Data = namedtuple("Data", ["x", "labels"])
Data.__doc__ = """x: uint8 [n, h, w] (or [n, c, h, w], or [n, d] without an image shape)
when the source is 8-bit, float32 in [0, 1] otherwise; labels: int32 [n], or
None for a set without them (frey)."""


def load(name, split="train", *, scaling="unit", grey=False):
    """Loads a dataset: Data(x, labels), unpackable as ``x, labels = load(...)``.

    split: "train" or "test" (for short names); scaling: "unit", "minmax" or
    "none" (float data, docs/data.md); grey: colour images as 1 channel.
    The arrays own the loaded values (no copy is made)."""
    x, labels, _source = _aevb.load_dataset(str(name), split, scaling, bool(grey))
    return Data(x, labels)


def search_path():
    """The directories short names are looked up in, in order."""
    return _aevb.data_search_path()
