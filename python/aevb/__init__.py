"""aevb: Auto-Encoding Variational Bayes (Kingma & Welling, 2013), native.

The Python face of aevb's C++ library: the same models, training, model files
and data readers as the ``aevb`` command line, on numpy arrays::

    import aevb

    x, labels = aevb.datasets.load("mnist", split="train")
    model = aevb.VAE(latent=20, hidden=[500])
    history = model.fit(x, epochs=10, binarize="dynamic")
    mu, var = model.encode(x[:100])
    model.save("mnist.safetensors")      # aevb eval / sample / latent read it

Computation runs in native threads with the GIL released (aevb.set_threads
chooses how many). aevb's input errors are ValueError with aevb's one-line
message; a diverged training step is aevb.NumericError. docs/python.md has
the whole API.
"""
from . import datasets
from ._aevb import NumericError, __version__, set_threads
from ._model import VAE, presets

__all__ = ["VAE", "NumericError", "datasets", "presets", "set_threads", "__version__"]
