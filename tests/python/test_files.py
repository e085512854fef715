"""Model files cross the language boundary both ways: a model trained in
Python is read by the aevb CLI, one trained by the CLI is read by Python, and
both sides compute the very same encodings and bounds."""
import json
import subprocess

import numpy as np
import pytest

import aevb


def run(cli, *args):
    done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_encodings(cli, model_path, data_path, out):
    run(cli, "encode", "--model", str(model_path), "--data", str(data_path), "--out", str(out))
    table = np.load(out)  # [n, 2, latent]: each row's means, then its variances
    return table[:, 0], table[:, 1]


def test_a_python_model_is_read_by_the_cli(cli, trained, binary_mnist, tmp_path):
    _, x_test = binary_mnist
    data = tmp_path / "test.npy"
    np.save(data, x_test[:200])
    model_path = tmp_path / "python.safetensors"
    trained.save(model_path, metadata={"note": "from pytest"})
    info = run(cli, "info", str(model_path))
    assert "note" in info and aevb.__version__ in info
    mu, var = cli_encodings(cli, model_path, data, tmp_path / "z.npy")
    py_mu, py_var = trained.encode(x_test[:200])
    np.testing.assert_array_equal(mu, py_mu)
    np.testing.assert_array_equal(var, py_var)
    result = json.loads(run(cli, "eval", "--model", str(model_path), "--data", str(data), "--iw", "100", "--json"))
    assert result["binarize"] == "none"  # the Python fit's, from the file's metadata
    assert result["elbo"] == pytest.approx(trained.elbo(x_test[:200], seed=1)["bound"], rel=1e-12)
    assert result["log_likelihood"] == pytest.approx(trained.log_likelihood(x_test[:200], k=100).mean(), rel=1e-12)


def test_a_cli_model_is_read_by_python(cli, binary_mnist, tmp_path):
    x, x_test = binary_mnist
    train, test = tmp_path / "train.npy", tmp_path / "test.npy"
    np.save(train, x[:1000])
    np.save(test, x_test[:200])
    run(cli, "train", "--data", str(train), "--latent", "4", "--hidden", "64", "--epochs", "1", "--no-report",
        "--validation", "0", "--out", str(tmp_path / "run"))
    model = aevb.VAE.load(tmp_path / "run" / "model.safetensors")
    assert model.config["latent"] == 4 and model.config["hidden"] == [64]
    mu, var = cli_encodings(cli, tmp_path / "run" / "model.safetensors", test, tmp_path / "z.npy")
    py_mu, py_var = model.encode(x_test[:200])
    np.testing.assert_array_equal(mu, py_mu)
    np.testing.assert_array_equal(var, py_var)
    # And back: saved again by Python, the same parameters.
    model.save(tmp_path / "again.safetensors")
    np.testing.assert_array_equal(aevb.VAE.load(tmp_path / "again.safetensors").parameters, model.parameters)


def test_a_loaded_model_keeps_training(trained, binary_mnist, tmp_path):
    x, _ = binary_mnist
    trained.save(tmp_path / "m.safetensors")
    model = aevb.VAE.load(tmp_path / "m.safetensors")
    history = model.fit(x[:1000], epochs=1, optimizer="adam", lr=1e-3)
    assert history[0]["step"] == 10 and np.isfinite(history[0]["train_bound"])
    assert not np.array_equal(model.parameters, trained.parameters)
