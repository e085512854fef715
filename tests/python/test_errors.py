"""aevb's errors as Python exceptions: ValueError with aevb's one-line
message for bad input, TypeError for an array type it cannot take,
FileNotFoundError for a missing model file; nothing crashes."""
import numpy as np
import pytest

import aevb


def test_bad_configs_name_the_key():
    with pytest.raises(ValueError, match="latnet"):
        aevb.VAE(latnet=3)
    with pytest.raises(ValueError, match="activation"):
        aevb.VAE(activation="swish")
    with pytest.raises(ValueError, match="latent"):
        aevb.VAE(latent=0)
    with pytest.raises(ValueError, match="preset"):
        aevb.VAE("paper-cifar")


def test_bad_arrays_say_what_was_expected():
    model = aevb.VAE(latent=2, hidden=[10])
    with pytest.raises(ValueError, match="784"):
        model.encode(np.zeros((3, 100), np.float32))
    with pytest.raises(ValueError, match="1-D"):
        model.encode(np.zeros(784, np.float32))
    with pytest.raises(TypeError, match="int64"):
        model.encode(np.zeros((3, 784), np.int64))
    with pytest.raises(ValueError, match="2 values"):
        model.decode(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(np.full((10, 784), 2.0, np.float32), epochs=1)
    with pytest.raises(ValueError, match="finite"):
        aevb.VAE(input_dim=4, latent=1, hidden=[3], likelihood="gaussian", sigmoid_mean=False).fit(
            np.array([[0, 1, np.nan, 2]] * 5, np.float32), epochs=1)
    with pytest.raises(ValueError, match="validation"):
        model.fit(np.zeros((10, 784), np.float32), epochs=1, validation=np.zeros((4, 10), np.float32))


def test_bad_training_settings():
    x = np.zeros((10, 784), np.float32)
    with pytest.raises(ValueError, match="optimizer"):
        aevb.VAE(latent=2, hidden=[10]).fit(x, optimizer="lbfgs")
    with pytest.raises(ValueError, match="algorithm"):
        aevb.VAE(latent=2, hidden=[10]).fit(x, algorithm="vi")
    with pytest.raises(ValueError, match="warm-up"):
        aevb.VAE(latent=2, hidden=[10]).fit(x, kl_warmup=-1)


def test_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        aevb.VAE.load(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="bad.safetensors"):
        aevb.VAE.load(bad)
    with pytest.raises(ValueError, match="not-a-dataset"):
        aevb.datasets.load(str(tmp_path / "not-a-dataset"))


def test_divergence_is_a_numeric_error():
    assert issubclass(aevb.NumericError, ArithmeticError)
    rng = np.random.default_rng(0)
    x = (rng.random((200, 784)) < 0.5).astype(np.float32)
    model = aevb.VAE(latent=2, hidden=[10])
    with pytest.raises(aevb.NumericError):
        model.fit(x, epochs=1, optimizer="sgd", lr=1e30)
    assert np.all(np.isfinite(model.parameters)), "the step that diverged was not applied"
