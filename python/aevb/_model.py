"""aevb.VAE: a model, its training and its uses, over the native library."""
import errno
import json
import os

import numpy as np

from . import _aevb
from ._arrays import float_rows, training_rows
from ._progress import ProgressBar


def presets():
    """The named setups VAE(preset=...) accepts (the CLI's --preset)."""
    return _aevb.Model.preset_names()


def _config_value(key, value):
    # Declared layers go to the native config as the CLI writes them.
    if key in ("encoder", "decoder") and not isinstance(value, str):
        return ",".join(value)
    if key == "hidden":
        return [int(w) for w in value]
    return value


def _fit_settings(epochs, batch, optimizer, lr, lr_schedule, lr_warmup, adam_eps, adam_betas, momentum, clip_norm,
                  weight_decay, estimator, samples, beta, algorithm, binarize, kl_warmup, matmul_precision, output_bias,
                  pretrain_epochs, seed):
    """fit's keywords as a config document's train and run sections (None: the preset's or aevb's default)."""
    train, optimizer_section, objective, run = {"seed": seed}, {}, {}, {}
    for section, key, value in [
        (run, "epochs", epochs), (train, "batch", batch), (optimizer_section, "kind", optimizer),
        (optimizer_section, "lr", lr), (optimizer_section, "lr_schedule", lr_schedule),
        (optimizer_section, "lr_warmup_steps", lr_warmup), (optimizer_section, "eps", adam_eps),
        (optimizer_section, "momentum", momentum),
        (optimizer_section, "clip_norm", clip_norm), (objective, "estimator", estimator),
        (objective, "samples", samples), (objective, "beta", beta), (train, "algorithm", algorithm),
        (run, "binarize", binarize), (run, "kl_warmup_epochs", kl_warmup),
        (train, "matmul_precision", matmul_precision), (run, "output_bias", output_bias),
        (run, "pretrain_epochs", pretrain_epochs)]:
        if value is not None:
            section[key] = value
    if adam_betas is not None:
        optimizer_section["beta1"], optimizer_section["beta2"] = (float(b) for b in adam_betas)
    if weight_decay == "prior":  # N(0, I) on the parameters: 1/N per datapoint (sec. 5)
        run["prior_weight_decay"] = True
    elif weight_decay is not None:
        run["prior_weight_decay"] = False
        optimizer_section["weight_decay"] = weight_decay
    if optimizer_section:
        train["optimizer"] = optimizer_section
    if objective:
        train["objective"] = objective
    return {"train": train, "run": run}


class VAE:
    """A variational autoencoder (or another of aevb's model families).

    ``VAE(preset=None, *, seed=1, **config)``: config keys are the fields of
    aevb's ModelConfig, as in config files and model files (docs/config.md):
    family ("vae", "autoencoder", "cluster", "vade", ...), input_dim, hidden (MLP widths), encoder /
    decoder (declared layers, "conv:32:4:2:1,dense:256" or a list of items),
    latent, activation ("tanh", "relu", "leaky-relu", "softplus", "sigmoid"),
    leaky_slope, likelihood ("bernoulli", "gaussian", "gaussian-fixed"),
    sigmoid_mean, fixed_variance, init ("paper", "glorot", "he"),
    image_height, image_width, image_channels, weight_posterior (full VB),
    decoder_only (Monte Carlo EM). A preset ("paper-mnist", "paper-frey",
    "conv-mnist"; see aevb.presets()) supplies the model and fit's defaults,
    which the keywords override. seed initializes the parameters.

    Without input_dim the model is sized (and given its image shape) by the
    first data it is fitted on; until then it is an MNIST-sized 784-input
    model. Unknown keys and bad values are ValueError naming the key.
    """

    def __init__(self, preset=None, *, seed=1, **config):
        self._preset = preset
        self._seed = int(seed)
        self._model_section = {k: _config_value(k, v) for k, v in config.items()}
        self._native = _aevb.Model(json.dumps(self._document({"model": self._model_section})))
        self._shape_fixed = "input_dim" in config  # by the user: fit must match it
        self._reset_training()

    def _reset_training(self):
        self._trained = False  # whether the parameters are more than the initialization
        self._training, self._training_key = None, None
        self._epochs_done = 0
        self._samples_seen = 0
        #: Every epoch's metrics (dicts, as fit's callback receives them) over all fit calls.
        self.history = []

    def _document(self, sections):
        document = {"train": {"seed": self._seed}}
        if self._preset is not None:
            document["preset"] = self._preset
        for name, section in sections.items():
            document[name] = {**document.get(name, {}), **section}
        return document

    # ---- files

    @classmethod
    def load(cls, path):
        """Reads a model file (or the model in a checkpoint) written by aevb train or VAE.save."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, "no such model file", path)
        self = cls.__new__(cls)
        self._preset, self._seed = None, 1
        self._native = _aevb.Model.load(path)
        self._model_section = json.loads(self._native.config_json())
        self._shape_fixed = True
        self._reset_training()
        self._trained = True
        return self

    def save(self, path, metadata=None):
        """Writes the model file (safetensors, PyTorch names; docs/model-format.md), atomically,
        with aevb train's metadata (the last fit's binarization, which aevb eval and the other
        commands apply to their data; epochs; steps). metadata: extra string entries."""
        entries = {}
        if self._training is not None:
            entries = {"binarize": self._training.binarize, "data": "a numpy array (aevb Python module)",
                       "epochs": str(self._epochs_done), "steps": str(self._training.steps)}
        entries.update({str(k): str(v) for k, v in (metadata or {}).items()})
        self._native.save(os.fspath(path), entries)

    # ---- what the model is

    @property
    def config(self):
        """The model's config (a dict with every ModelConfig field)."""
        return json.loads(self._native.config_json())

    @property
    def parameters(self):
        """Every parameter in one flat float32 array, in place: writes change the model."""
        return self._native.parameters

    def parameter_table(self):
        """[(name, shape, offset)] of each tensor in `parameters`, PyTorch's names and layouts."""
        return self._native.parameter_table()

    @property
    def latent_dim(self):
        return self.config["latent"]

    @property
    def input_dim(self):
        return self.config["input_dim"]

    def __repr__(self):
        c = self.config
        return (f"aevb.VAE(family={c['family']!r}, input_dim={c['input_dim']}, latent={c['latent']}, "
                f"hidden={c['hidden']}, encoder={c['encoder']!r}, likelihood={c['likelihood']!r}, "
                f"parameters={self.parameters.size})")

    # ---- training

    def fit(self, x, *, epochs=None, batch=None, optimizer=None, lr=None, lr_schedule=None, lr_warmup=None,
            adam_eps=None, adam_betas=None, momentum=None, clip_norm=None, weight_decay=None, estimator=None,
            samples=None, beta=None, algorithm=None, binarize=None, kl_warmup=None, matmul_precision=None,
            output_bias=None, pretrain_epochs=None, seed=None, validation=None, callback=None, progress=None):
        """Trains on the rows of x (aevb train's loop: shuffled minibatches, one step each).

        x: [n, d] rows or images [n, h, w] / [n, c, h, w]; float32 (in [0, 1]
        for Bernoulli and sigmoid-mean decoders) or uint8 (value / 255), used
        in place when C-contiguous, other float types converted once.
        Keywords left at None take the preset's value, else aevb's default
        (the paper's: Adagrad at 0.02, minibatches of 100, estimator B with
        one sample): epochs, batch, optimizer ("sgd", "adagrad", "adam"), lr,
        lr_schedule (as aevb train --lr-schedule: "constant", "step:EVERY:GAMMA",
        "exponential:GAMMA", "cosine:EPOCHS[:MIN_FACTOR]", "burda"), lr_warmup
        (optimizer steps), adam_eps, adam_betas ((b1, b2)), momentum, clip_norm,
        weight_decay (a number per datapoint, or "prior" for the N(0, I) prior,
        1/N), estimator ("A", "B", "iw"), samples, beta, algorithm ("aevb",
        "wake-sleep", "rws", "full-vb", "mcem"), binarize
        ("none", "dynamic", "fixed"), kl_warmup (epochs), matmul_precision
        ("float32", "bfloat16"), output_bias ("zero", or "data-mean": the
        decoder's output bias starts where its mean is x's mean, on the first
        fit of an untrained model; the iwae presets' default), pretrain_epochs
        (family="vade", on the first fit of an untrained model: an autoencoder
        of the same networks trains this many epochs first, and the mixture
        prior starts from a Gaussian mixture fitted to its codes, as aevb
        train --pretrain-epochs), seed (default: the model's).

        validation: rows evaluated after each epoch (binarized once, as
        training binarizes). callback(metrics) is called after each epoch with
        its metrics dict; returning False stops training. progress: a bar on
        stderr (None: only when stderr is a terminal).

        A second fit with the same arrays (by identity) and keywords continues
        the first (the optimizer's state, the step count and the epoch
        numbering go on); anything else starts a new optimizer and step count. Ctrl-C stops after the current
        step with KeyboardInterrupt, the model intact and `history` holding
        the finished epochs. Returns the metrics of this call's epochs.
        """
        rows, (height, width, channels) = training_rows(x)
        settings = _fit_settings(epochs, batch, optimizer, lr, lr_schedule, lr_warmup, adam_eps, adam_betas,
                                 momentum, clip_norm, weight_decay, estimator,
                                 samples, beta, algorithm, binarize, kl_warmup, matmul_precision, output_bias,
                                 pretrain_epochs, self._seed if seed is None else int(seed))
        self._size_for(rows, height, width, channels, algorithm)
        held_out = None if validation is None else training_rows(validation, "validation")[0]
        # The same arrays (by identity: the key holds them, so their ids stay theirs) and settings continue.
        key = (json.dumps(settings, sort_keys=True), x, validation)
        same = self._training_key is not None and key[0] == self._training_key[0] and all(
            a is b for a, b in zip(key[1:], self._training_key[1:]))
        if self._training is None or not same:
            self._training = _aevb.Training(self._native, json.dumps(self._document(settings)), rows, held_out,
                                            not self._trained)
            self._training_key = key
        training = self._training
        bar = ProgressBar(progress, training.epochs)
        metrics_of_this_call = []
        for _ in range(training.epochs):
            bar.begin_epoch(len(metrics_of_this_call))
            metrics = json.loads(training.run_epoch(self._epochs_done, self._samples_seen, bar.batch))
            self._trained = True
            self._epochs_done += 1
            self._samples_seen = metrics["samples"]
            self.history.append(metrics)
            metrics_of_this_call.append(metrics)
            bar.end_epoch(metrics)
            if callback is not None and callback(metrics) is False:
                break
        return metrics_of_this_call

    def _size_for(self, rows, height, width, channels, algorithm):
        """Rebuilds a model that was never trained for the data's size and image shape (unless
        input_dim was given), and for an algorithm that trains another kind of model (mcem: no
        encoder; full-vb: a weight posterior q(theta)). A trained model is left as it is:
        Training checks that the data fits it, the algorithm that it can train it."""
        if self._trained:
            return
        model = dict(self._model_section)
        if algorithm is not None:
            info = _aevb.algorithm_info(algorithm)
            model.setdefault("decoder_only", not info["trains_encoder"])
            model.setdefault("weight_posterior", info["trains_weight_posterior"])
        current = self.config
        kind_differs = any(current[k] != model[k] for k in ("decoder_only", "weight_posterior") if k in model)
        shape = (rows.shape[1], height, width, channels)
        shape_differs = not self._shape_fixed and shape != (
            current["input_dim"], current["image_height"], current["image_width"], current["image_channels"])
        if not (kind_differs or shape_differs):
            return
        document = json.dumps(self._document({"model": model}))
        self._training, self._training_key = None, None  # it trained the model replaced here
        if self._shape_fixed:
            self._native = _aevb.Model(document)
        else:
            self._native = _aevb.Model.for_data(document, rows.shape[0], *shape)
        self._model_section = model

    # ---- uses

    def encode(self, x):
        """q(z|x): (mean, variance), each [n, latent]."""
        return self._native.encode(float_rows(x))

    def embed(self, x):
        """The posterior means, [n, latent] (pythae's embed)."""
        return self.encode(x)[0]

    def cluster(self, x):
        """A model with clusters (family="cluster"): (clusters, probabilities), each row's
        cluster argmax_y q(y|x) as int64 [n] and q(y|x) [n, clusters], as aevb cluster writes them."""
        p = self._native.cluster_probabilities(float_rows(x))
        return p.argmax(axis=1), p

    def decode(self, z):
        """E[x|z], [n, input_dim]: Bernoulli probabilities or the Gaussian mean."""
        return self._native.decode(float_rows(z, "z"))

    def reconstruct(self, x):
        """E[x|z] at the posterior mean of each row, [n, input_dim] (deterministic)."""
        return self.decode(self.embed(x))

    def sample(self, n, seed=1):
        """n draws z ~ p(z) = N(0, I) decoded to E[x|z], [n, input_dim]."""
        return self._native.sample(int(n), int(seed))

    def interpolate(self, a, b, steps=10):
        """Decoded points on the line between the posterior means of rows a[i] and b[i]:
        [n, steps, input_dim], the first step a's, the last b's (pythae's interpolate)."""
        return self._native.interpolate(float_rows(a, "a"), float_rows(b, "b"), int(steps))

    def elbo(self, x, estimator="B", samples=1, seed=1, weight_samples=10):
        """The bound averaged over the rows of x, nats per datapoint: a dict of bound,
        reconstruction (E_q log p(x|z)) and kl. estimator "A" (eq. 6), "B" (eq. 7) with
        `samples` draws, or "iw" (L_k, k = samples). A full-VB model averages over
        `weight_samples` decoders theta ~ q(theta)."""
        return self._native.evaluate(float_rows(x), estimator, int(samples), int(seed), int(weight_samples))

    def log_likelihood(self, x, k=5000, seed=1, weight_samples=10):
        """log p(x) of each row by importance sampling with k draws from q(z|x) (pythae's
        get_nll, negated), float64 [n]: the values of aevb eval --iw k --per-datapoint."""
        return self._native.log_likelihood(float_rows(x), int(k), int(seed), int(weight_samples))
