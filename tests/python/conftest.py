"""Shared fixtures: real MNIST slices (the tests skip without the data), a
small model trained once per session, and the CLI of the same build.

Run as `make test` does: PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python
(AEVB_CLI names the aevb binary; by default the one beside build/python)."""
import os
import pathlib

import numpy as np
import pytest

import aevb

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]


def _build_dir():
    return pathlib.Path(aevb.__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    path = pathlib.Path(os.environ.get("AEVB_CLI", _build_dir() / "aevb"))
    if not path.exists():
        pytest.skip(f"no aevb CLI at {path}")
    return str(path)


@pytest.fixture(scope="session")
def mnist():
    """(train images uint8 [60000, 28, 28], train labels, test images, test labels)."""
    os.environ.setdefault("AEVB_DATA_DIR", str(SOURCE_DIR.parent / "shared" / "data"))
    try:
        x, labels = aevb.datasets.load("mnist", split="train")
        x_test, labels_test = aevb.datasets.load("mnist", split="test")
    except ValueError as e:
        pytest.skip(f"no MNIST here: {e}")
    return x, labels, x_test, labels_test


@pytest.fixture(scope="session")
def binary_mnist(mnist):
    """MNIST thresholded at 128 as uint8 0/255: binary data needs no binarization draws, so the
    CLI and Python see the very same values."""
    x, _, x_test, _ = mnist
    return (x[:6000] >= 128).astype(np.uint8) * 255, (x_test[:500] >= 128).astype(np.uint8) * 255


@pytest.fixture(scope="session")
def trained(binary_mnist):
    """A 784-100-5 VAE, Adam, 3 epochs on 6000 binary images."""
    x, _ = binary_mnist
    model = aevb.VAE(latent=5, hidden=[100], init="glorot", seed=3)
    model.fit(x, epochs=3, optimizer="adam", lr=1e-3)
    return model
