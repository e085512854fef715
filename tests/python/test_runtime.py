"""How the module behaves as a Python citizen: arrays that already fit are
used in place, computation releases the GIL, and Ctrl-C stops a fit between
steps with the model intact."""
import os
import signal
import threading
import time
import tracemalloc

import numpy as np
import pytest

import aevb
from aevb import _arrays


def address(a):
    return a.__array_interface__["data"][0]


def peak_numpy_bytes(f):
    """The peak of memory allocated through Python's allocators (numpy's arrays included) while f runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        f()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_float32_c_contiguous_input_is_not_copied(binary_mnist):
    x, _ = binary_mnist
    rows = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32) / np.float32(255)  # 18.8 MB
    assert address(_arrays.float_rows(rows)) == address(rows)
    images = rows.reshape(len(x), 28, 28)
    assert np.shares_memory(_arrays.float_rows(images), rows)
    assert np.shares_memory(_arrays.training_rows(images)[0], rows)
    model = aevb.VAE(latent=2, hidden=[10], input_dim=784)
    # encode's outputs are 2 x 6000 x 2 floats (96 kB): a copy of the input would add 18.8 MB.
    assert peak_numpy_bytes(lambda: model.encode(rows)) < rows.nbytes / 10
    assert peak_numpy_bytes(lambda: model.fit(rows, epochs=1)) < rows.nbytes / 10
    # The check can fail: float64 input is converted, once.
    assert peak_numpy_bytes(lambda: model.encode(rows.astype(np.float64))) > rows.nbytes
    # uint8 training data is read as bytes in place too.
    assert np.shares_memory(_arrays.training_rows(x)[0], x)


def test_a_python_thread_runs_while_fit_computes(binary_mnist):
    x, _ = binary_mnist
    aevb.set_threads(1)  # leaves a core for the counting thread
    try:
        model = aevb.VAE(latent=5, hidden=[200])

        def count_for(seconds):
            n, end = 0, time.monotonic() + seconds
            while time.monotonic() < end:
                n += 1
            return n

        alone = count_for(0.5)
        counted, done = [], threading.Event()

        def count_during_fit():
            n = 0
            while not done.is_set():
                n += 1
            counted.append(n)

        thread = threading.Thread(target=count_during_fit)
        start = time.monotonic()
        thread.start()
        model.fit(x, epochs=2)
        done.set()
        thread.join()
        elapsed = time.monotonic() - start
    finally:
        aevb.set_threads(0)
    # Holding the GIL through the steps would leave the thread a few ms every 0.1 s (< 10%).
    rate = counted[0] / elapsed / (alone / 0.5)
    assert rate > 0.3, f"the counting thread ran at {rate:.0%} of its speed alone"


def test_ctrl_c_stops_fit_between_steps(binary_mnist):
    x, x_test = binary_mnist
    model = aevb.VAE(latent=5, hidden=[200])
    model.fit(x[:1000], epochs=1)
    # Python's own Ctrl-C handler, also where this process started with SIGINT
    # ignored (a command run in the background by a script), which would
    # leave the signal below without effect and fit running on.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, epochs=10_000)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 5, "the interrupt waited for more than a step"
    assert np.all(np.isfinite(model.parameters))
    assert len(model.history) >= 1  # the finished epochs stay recorded
    assert np.all(np.isfinite(model.encode(x_test)[0]))
    history = model.fit(x[:1000], epochs=1)  # and training goes on
    assert np.isfinite(history[0]["train_bound"])


def test_the_progress_bar_is_off_unless_stderr_is_a_terminal(binary_mnist, capfd):
    x, _ = binary_mnist
    model = aevb.VAE(latent=2, hidden=[10])
    model.fit(x[:500], epochs=1)  # pytest's stderr is no terminal
    assert capfd.readouterr().err == ""
    model.fit(x[:500], epochs=2, progress=True)
    err = capfd.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2: train bound" in err and "samples/s" in err
