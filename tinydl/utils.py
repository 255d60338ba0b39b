"""Helpers for users and students: gradient checking, one-hot labels, seeding."""

from __future__ import annotations

import itertools

import numpy as np

from tinydl.autograd import no_grad
from tinydl.rng import set_random_seed  # noqa: F401  (part of the public utils API, as in Keras)
from tinydl.tensor import Tensor


def _checked_inputs(inputs):
    """float64 C-ordered leaf copies of every Tensor or float array (so perturbing an element of
    the flat view perturbs the input); other arguments pass through."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) or (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            data = x.data if isinstance(x, Tensor) else x
            out.append(Tensor(np.array(data, dtype=np.float64, order="C"), requires_grad=True))
        else:
            out.append(x)
    return out


def _scalar_of(output, projection):
    """Reduce fn's output to a scalar: itself, or a fixed random projection of it."""
    if output.size == 1:
        return output.sum()
    return (output * projection).sum()


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check fn's analytic gradients against central finite differences, in float64.

    For every Tensor (or float array) input x and every element i, the numerical slope
    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) must match the gradient that backward()
    computed, within atol + rtol * |numerical|. A non-scalar output is first reduced to a
    scalar by a fixed random projection sum(output * R), which checks all of it at once.

    This is the main tool for debugging a new op: write forward and backward, then call
    gradcheck on small random inputs.

    Args:
        fn: a function of the inputs that returns a Tensor.
        *inputs: Tensors or float arrays to check; other arguments (e.g. integer labels) are
            passed to fn unchanged.

    Returns:
        True when every gradient matches.

    Raises:
        AssertionError: naming the input, the element, the analytic and numerical values.

    Example:
        >>> gradcheck(lambda x: (x * x).sum(), Tensor(np.random.default_rng(0).standard_normal((3, 4))))
        True
    """
    inputs = _checked_inputs(inputs)
    first = fn(*inputs)
    projection = np.random.default_rng(0).standard_normal(first.shape)
    _scalar_of(first, projection).backward()
    for position, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            continue
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        numeric = _numeric_gradient(fn, inputs, x, projection, eps)
        bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise AssertionError(
                f"gradcheck: input {position} (shape {x.shape}) at index {index}: "
                f"analytic gradient {analytic[index]:.6g}, numerical {numeric[index]:.6g} "
                f"({int(bad.sum())} of {bad.size} elements differ). Check this op's backward."
            )
    return True


def _numeric_gradient(fn, inputs, x, projection, eps):
    grad = np.zeros_like(x.data)
    flat, flat_grad = x.data.reshape(-1), grad.reshape(-1)
    with no_grad():
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            plus = _scalar_of(fn(*inputs), projection).item()
            flat[i] = saved - eps
            minus = _scalar_of(fn(*inputs), projection).item()
            flat[i] = saved
            flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels, as keras.utils.to_categorical does.

    Args:
        y: integer labels of shape (N,) (or (N, 1)).
        num_classes: number of classes; max(y) + 1 when None.

    Returns:
        (N, num_classes) array of 0 and 1.

    Example:
        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise TypeError(f"to_categorical expects integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got values from {y.min()} to {y.max()}")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


class PyDataset:
    """Base class for data that fit, evaluate and predict read batch by batch (Keras 3's
    keras.utils.PyDataset, also named Sequence): for data that does not fit in memory.

    Override __getitem__(index) to return batch `index` as x, (x, y) or (x, y, sample_weight),
    and __len__ (the number of batches), or the num_batches property (None: endless).
    on_epoch_begin / on_epoch_end run around every epoch (e.g. to reshuffle). fit(shuffle=True)
    reads the batches of each epoch in a new random order, as Keras does.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for Keras scripts; tinydl reads
            the batches in the training thread.

    Example:
        >>> class Squares(PyDataset):
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, index):
        ...         x = np.full((2, 1), float(index))
        ...         return x, x ** 2
        >>> data = Squares()
        >>> data.num_batches, data[2][1].ravel().tolist()
        (3, [4.0, 4.0])
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  "returning batch `index` as (x, y)")

    def __iter__(self):
        count = self.num_batches
        for i in range(count) if count is not None else itertools.count():
            yield self[i]

    @property
    def num_batches(self):
        """The number of batches (len(self)), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must define __len__ or the "
                                  "num_batches property")

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset  # Keras' older name


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch of a data source: (x,), (x, y) or (x, y, sample_weight), as Keras packs it.

    Example:
        >>> pack_x_y_sample_weight(1, 2)
        (1, 2)
    """
    if y is None:
        return (x,) if sample_weight is None else (x, None, sample_weight)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) of a batch given as x, (x,), (x, y) or (x, y, sample_weight).

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    from tinydl.models.training import unpack_x_y_sample_weight as unpack
    return unpack(data)


# Data utilities with keras.utils' names (they live in tinydl.preprocessing).
from tinydl.preprocessing import (image_dataset_from_directory, pad_sequences,  # noqa: E402, F401
                                  split_dataset, text_dataset_from_directory,
                                  timeseries_dataset_from_array)
from tinydl.model_visualization import plot_model  # noqa: E402, F401
from tinydl.preprocessing.image import array_to_img, img_to_array, load_img, save_img  # noqa: E402, F401
from tinydl.plotting import plot_history  # noqa: E402, F401

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "utils")  # a Keras name tinydl lacks: a clear error
