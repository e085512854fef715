"""numpy arrays as the native module takes them: rows of float32 (or uint8
for training data), C-contiguous. Arrays that already are pass through
untouched (no copy); others are converted once here, or refused clearly."""
import numpy as np


def _flat_rows(x, name):
    x = np.asarray(x)
    if x.ndim == 1:
        raise ValueError(f"{name}: expected rows (a 2-D array, or images [n, h, w] / [n, c, h, w]), "
                         f"found a 1-D array of {x.shape[0]} values; use {name}[None] for one row")
    if x.ndim == 0 or x.ndim > 4:
        raise ValueError(f"{name}: expected a 2-D, 3-D or 4-D array, found {x.ndim} dimensions")
    return x


def _as_float32(x, name):
    if x.dtype == np.float32:
        return x
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float32)
    raise TypeError(f"{name}: expected float32, another float type or uint8 (images, /255), found {x.dtype}")


def float_rows(x, name="x"):
    """[n, d] float32 C-contiguous; images are flattened, uint8 is divided by 255."""
    x = _flat_rows(x, name)
    x = _as_float32(x, name).reshape(x.shape[0], -1)
    return np.ascontiguousarray(x)


def training_rows(x, name="x"):
    """[n, d] float32 or uint8 (kept as bytes: value = byte / 255) C-contiguous,
    with the image shape (height, width, channels), zeros when there is none."""
    x = _flat_rows(x, name)
    if x.ndim == 3:
        shape = (x.shape[1], x.shape[2], 1)
    elif x.ndim == 4:
        if x.shape[1] not in (1, 3):
            raise ValueError(f"{name}: 4-D images must be [n, c, h, w] with c = 1 or 3 channels "
                             f"(planar, as PyTorch), found shape {x.shape}")
        shape = (x.shape[2], x.shape[3], x.shape[1])
    else:
        shape = (0, 0, 1)
    if x.dtype != np.uint8:
        x = _as_float32(x, name)
    return np.ascontiguousarray(x.reshape(x.shape[0], -1)), shape
