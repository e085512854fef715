"""aevb.datasets: the CLI's short names and readers, as numpy arrays."""
import numpy as np

import aevb


def test_mnist_as_the_cli_reads_it(mnist):
    x, labels, x_test, labels_test = mnist
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int32
    assert x_test.shape == (10000, 28, 28) and labels_test.shape == (10000,)
    assert np.array_equal(np.bincount(labels, minlength=10),
                          [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # the IDX file's first labels
    assert 0.12 < x.mean() / 255 < 0.14  # MNIST's mean intensity, 0.1307


def test_files_are_read_by_content(tmp_path):
    values = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", values)
    x, labels = aevb.datasets.load(str(tmp_path / "a.npy"))
    np.testing.assert_array_equal(x, values)
    assert labels is None
    assert any("data" in d for d in aevb.datasets.search_path())
