"""Every method of aevb.VAE on real MNIST slices, each checked against what it
must equal: another method, its definition, or a bound it must respect."""
import math

import numpy as np
import pytest

import aevb


def test_fit_raises_the_bound_and_reports_every_epoch(binary_mnist):
    x, x_test = binary_mnist
    model = aevb.VAE(latent=5, hidden=[100], init="glorot")
    before = model.elbo(x_test)["bound"]
    seen = []
    history = model.fit(x, epochs=3, optimizer="adam", lr=1e-3, validation=x_test, callback=seen.append)
    assert [m["epoch"] for m in history] == [1, 2, 3]
    assert seen == history == model.history
    assert history[-1]["samples"] == 3 * len(x)
    assert history[-1]["step"] == 3 * math.ceil(len(x) / 100)
    for key in ("train_bound", "train_kl", "train_reconstruction", "validation_bound", "samples_per_second"):
        assert key in history[-1]
    # The bound rises by far more than its noise (a few nats on 500 images).
    assert history[-1]["validation_bound"] > before + 100
    assert history[-1]["train_bound"] > history[0]["train_bound"]
    # The reported validation bound is the bound of the held-out rows (estimator B, seed 1).
    assert history[-1]["validation_bound"] == pytest.approx(model.elbo(x_test, seed=1)["bound"], abs=1e-9)


def test_a_second_fit_continues_the_first(binary_mnist):
    x, x_test = binary_mnist
    model = aevb.VAE(latent=3, hidden=[50])
    model.fit(x, epochs=1, validation=x_test)
    second = model.fit(x, epochs=1, validation=x_test)
    assert second[0]["epoch"] == 2 and second[0]["step"] == 2 * 60
    assert [m["epoch"] for m in model.history] == [1, 2]
    # Continuing is the same as one fit of two epochs; other settings start a new optimizer.
    once = aevb.VAE(latent=3, hidden=[50])
    once.fit(x, epochs=2, validation=x_test)
    np.testing.assert_array_equal(once.parameters, model.parameters)
    third = model.fit(x, epochs=1, lr=0.01)
    assert third[0]["epoch"] == 3 and third[0]["step"] == 60


def test_a_learning_rate_schedule_and_adam_settings_reach_the_optimizer(binary_mnist):
    x, _ = binary_mnist
    model = aevb.VAE(latent=3, hidden=[50])
    steps = math.ceil(len(x) / 100)
    history = model.fit(x, epochs=3, optimizer="adam", lr=0.002, lr_schedule="step:1:0.5", lr_warmup=steps + 2,
                        adam_eps=1e-4, adam_betas=(0.8, 0.99))
    lr = np.float32(0.002)
    # Each epoch's last step: inside the warm-up, then past it with one and two halvings.
    assert history[0]["lr"] == pytest.approx(lr * steps / (steps + 2), rel=1e-12)
    assert [m["lr"] for m in history[1:]] == pytest.approx([lr / 2, lr / 4], rel=1e-12)
    # The Adam settings change the steps: another eps gives other parameters.
    other = aevb.VAE(latent=3, hidden=[50])
    other.fit(x, epochs=3, optimizer="adam", lr=0.002, lr_schedule="step:1:0.5", lr_warmup=steps + 2,
              adam_betas=(0.8, 0.99))
    assert not np.array_equal(other.parameters, model.parameters)
    with pytest.raises(ValueError, match="lr_schedule: expected EVERY > 0 epochs, found 'step:0:1'"):
        aevb.VAE(latent=3, hidden=[50]).fit(x, epochs=1, lr_schedule="step:0:1")


def test_callback_returning_false_stops_training(binary_mnist):
    x, _ = binary_mnist
    model = aevb.VAE(latent=3, hidden=[50])
    history = model.fit(x, epochs=5, callback=lambda m: m["epoch"] < 2)
    assert len(history) == 2


def test_the_model_is_sized_by_the_data(mnist):
    x = mnist[0][:300, 2:26, 4:24]  # 24 x 20 crops: not MNIST-sized, and not contiguous
    model = aevb.VAE(latent=2, hidden=[20])
    model.fit(x, epochs=1)
    c = model.config
    assert (c["input_dim"], c["image_height"], c["image_width"]) == (480, 24, 20)
    assert model.encode(x).__len__() == 2


def test_encode_embed_reconstruct_and_decode_agree(trained, binary_mnist):
    _, x_test = binary_mnist
    mu, var = trained.encode(x_test)
    assert mu.shape == var.shape == (len(x_test), 5)
    assert mu.dtype == np.float32 and np.all(var > 0) and np.all(np.isfinite(mu))
    np.testing.assert_array_equal(trained.embed(x_test), mu)
    recon = trained.reconstruct(x_test)
    np.testing.assert_array_equal(recon, trained.decode(mu))
    assert recon.shape == (len(x_test), 784) and np.all((recon > 0) & (recon < 1))
    # Rows are independent: encoding a slice gives the slice of the encodings.
    np.testing.assert_allclose(trained.encode(x_test[10:20])[0], mu[10:20], rtol=1e-5, atol=1e-6)
    # A reconstruction is closer to its own image than to the next one: the paired
    # difference of squared distances is positive by many standard errors.
    xs = x_test.reshape(len(x_test), -1) / 255.0
    gain = np.sum((recon - np.roll(xs, 1, axis=0)) ** 2, axis=1) - np.sum((recon - xs) ** 2, axis=1)
    assert gain.mean() > 5 * gain.std() / np.sqrt(len(gain))


def test_uint8_float32_and_images_are_the_same_input(trained, binary_mnist):
    _, x_test = binary_mnist
    as_float = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    np.testing.assert_array_equal(trained.embed(x_test), trained.embed(as_float))
    np.testing.assert_array_equal(trained.embed(as_float), trained.embed(as_float.astype(np.float64)))


def test_sample_is_seeded_and_decodes_the_prior(trained):
    a = trained.sample(2000, seed=7)
    assert a.shape == (2000, 784) and np.all((a > 0) & (a < 1))
    np.testing.assert_array_equal(a, trained.sample(2000, seed=7))
    assert not np.array_equal(a, trained.sample(2000, seed=8))
    # E over z ~ N(0, I) of E[x|z], by sampling z here: the pixel means agree within their standard errors.
    z = np.random.default_rng(0).standard_normal((2000, 5)).astype(np.float32)
    b = trained.decode(z)
    se = np.sqrt(a.var(axis=0) / 2000 + b.var(axis=0) / 2000)
    assert np.mean(np.abs(a.mean(axis=0) - b.mean(axis=0)) <= 4 * se + 1e-6) > 0.99


def test_interpolate_runs_between_the_posterior_means(trained, binary_mnist):
    _, x_test = binary_mnist
    a, b = x_test[:4], x_test[4:8]
    path = trained.interpolate(a, b, steps=5)
    assert path.shape == (4, 5, 784)
    np.testing.assert_allclose(path[:, 0], trained.reconstruct(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path[:, -1], trained.reconstruct(b), rtol=1e-5, atol=1e-6)
    middle = trained.decode((trained.embed(a) + trained.embed(b)) / 2)
    np.testing.assert_allclose(path[:, 2], middle, rtol=1e-4, atol=1e-5)


def test_elbo_terms_and_estimators(trained, binary_mnist):
    _, x_test = binary_mnist
    b = trained.elbo(x_test, estimator="B", samples=1)
    assert b["bound"] == pytest.approx(b["reconstruction"] - b["kl"], abs=1e-9)
    assert b["kl"] > 0
    a = trained.elbo(x_test, estimator="A", samples=10)
    # A and B estimate the same bound: their means over 500 images agree within a nat or two.
    assert abs(a["bound"] - b["bound"]) < 2.0
    iw = trained.elbo(x_test, estimator="iw", samples=50)
    assert iw["bound"] > b["bound"]


def test_log_likelihood_lies_above_the_bound_and_grows_with_k(trained, binary_mnist):
    _, x_test = binary_mnist
    ll = trained.log_likelihood(x_test[:200], k=500)
    assert ll.shape == (200,) and ll.dtype == np.float64
    bound = trained.elbo(x_test[:200], samples=10)["bound"]
    small_k = trained.log_likelihood(x_test[:200], k=5).mean()
    assert ll.mean() > small_k > bound
    np.testing.assert_array_equal(ll, trained.log_likelihood(x_test[:200], k=500))


def test_parameters_are_the_model_in_place(binary_mnist):
    _, x_test = binary_mnist
    model = aevb.VAE(latent=2, hidden=[10])
    table = model.parameter_table()
    assert sum(int(np.prod(shape)) for _, shape, _ in table) == model.parameters.size
    names = [name for name, _, _ in table]
    assert "decoder.out.weight" in names or any(n.startswith("decoder") for n in names)
    model.parameters[:] = 0  # every logit 0: every pixel probability 1/2
    np.testing.assert_array_equal(model.reconstruct(x_test[:3]), np.full((3, 784), 0.5, np.float32))


def test_presets_supply_the_model_and_training(binary_mnist):
    x, _ = binary_mnist
    assert "paper-mnist" in aevb.presets()
    model = aevb.VAE("paper-frey")
    c = model.config
    assert c["hidden"] == [200] and c["latent"] == 2 and c["likelihood"] == "gaussian"
    model = aevb.VAE("paper-mnist", latent=3)
    assert model.config["latent"] == 3 and model.config["hidden"] == [500]
    # The preset's optimizer (Adagrad) and its 1/N weight decay train; epochs overridden.
    history = model.fit(x[:1000], epochs=1)
    assert len(history) == 1 and np.isfinite(history[0]["train_bound"])


def test_repr_and_version():
    assert aevb.__version__.count(".") == 2
    assert "latent=4" in repr(aevb.VAE(latent=4))


def normalized_mutual_information(clusters, labels):
    """NMI of 10 clusters against 10 classes, by its definition (arithmetic-mean normalization). A
    random assignment of 1000 points has NMI about 0.02: its expected mutual information,
    (K - 1)(C - 1) / 2n = 0.04 nats, over the entropies' mean, log 10."""
    joint = np.zeros((10, 10))
    np.add.at(joint, (clusters, labels), 1)
    joint /= joint.sum()
    pk, pc = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    mutual = (joint[nz] * np.log(joint[nz] / np.outer(pk, pc)[nz])).sum()
    entropy = lambda q: -(q[q > 0] * np.log(q[q > 0])).sum()
    return mutual / ((entropy(pk) + entropy(pc)) / 2)


def test_a_cluster_model_clusters_the_digits_above_chance(mnist):
    """family="cluster": cluster() is argmax of q(y|x), rows sum to one, and after 3 epochs the
    clusters carry information about the digits (NMI well above a random assignment's)."""
    x, _, x_test, y_test = mnist
    model = aevb.VAE(family="cluster", clusters=10, classifier_hidden=[64], hidden=[200], latent=10,
                     activation="relu", init="he", seed=2)
    model.fit(x[:6000], epochs=3, binarize="dynamic", optimizer="adam", lr=1e-3)
    clusters, p = model.cluster(x_test[:1000])
    assert p.shape == (1000, 10) and clusters.shape == (1000,)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(clusters, p.argmax(axis=1))
    nmi = normalized_mutual_information(clusters, y_test[:1000])
    assert nmi > 0.1, nmi  # 0.22 measured; five times the random assignment's
    with pytest.raises(ValueError, match="has no clusters"):
        aevb.VAE(latent=2, hidden=[8]).cluster(x_test[:3])


def test_vade_starts_from_a_pretrained_autoencoder_and_clusters_the_digits(mnist):
    """family="vade" with pretrain_epochs: the first fit pretrains and fits the mixture, and after
    one epoch the clusters carry more information about the digits than a random start's."""
    x, _, x_test, y_test = mnist
    nmi = {}
    for pretrain in (0, 2):
        model = aevb.VAE(family="vade", clusters=10, hidden=[200], latent=10, activation="relu", init="he", seed=2)
        model.fit(x[:6000], epochs=1, binarize="dynamic", optimizer="adam", lr=2e-3, pretrain_epochs=pretrain)
        clusters, p = model.cluster(x_test[:1000])
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        nmi[pretrain] = normalized_mutual_information(clusters, y_test[:1000])
    assert nmi[2] > 0.3, nmi  # 0.49 measured, against 0.19 without the pretraining
    assert nmi[2] > nmi[0], nmi


def test_a_conditional_model_is_refused_by_fit_with_one_line(binary_mnist):
    """The cvae family needs each row's label, which fit does not take yet: one clear error."""
    x, _ = binary_mnist
    model = aevb.VAE(family="cvae", classes=10, hidden=[20], latent=2)
    with pytest.raises(ValueError, match="conditioned on labels, which the Python module does not pass"):
        model.fit(x[:100], epochs=1)


def test_output_bias_from_the_data_starts_the_decoder_at_the_data_mean(binary_mnist):
    x, _ = binary_mnist
    x = x[:200]
    offsets = {name: offset for name, _, offset in aevb.VAE(latent=2, hidden=[20]).parameter_table()}
    bias = slice(offsets["decoder.logits.bias"], offsets["decoder.logits.bias"] + 784)
    # A step size of 1e-20 leaves the parameters where fit started them.
    started = aevb.VAE(latent=2, hidden=[20], init="glorot")
    started.fit(x, epochs=1, optimizer="sgd", lr=1e-20, output_bias="data-mean")
    m = np.clip((x.reshape(len(x), -1) / 255.0).mean(0), 0.001, 0.999)
    np.testing.assert_allclose(started.parameters[bias], np.log(m / (1 - m)), atol=1e-5)
    default = aevb.VAE(latent=2, hidden=[20], init="glorot")
    default.fit(x, epochs=1, optimizer="sgd", lr=1e-20)
    assert np.abs(default.parameters[bias]).max() < 1e-6
    # A trained model keeps its parameters: a later fit (other settings, so a new
    # native Training, not the continued one) does not reset the bias.
    started.parameters[bias] = 0.5
    started.fit(x, epochs=1, optimizer="sgd", lr=2e-20, output_bias="data-mean")
    np.testing.assert_allclose(started.parameters[bias], 0.5, atol=1e-6)
    with pytest.raises(ValueError, match="zero or data-mean"):
        aevb.VAE(latent=2, hidden=[20]).fit(x, epochs=1, output_bias="mean")
