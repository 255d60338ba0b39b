"""Preprocessing layers: Rescaling and Normalization (fixed arithmetic on the inputs).

Random image augmentation (RandomFlip, RandomCrop, RandomTranslation) is in augmentation.py.
"""

from __future__ import annotations

import numpy as np

from tinydl.layers.base import Layer
from tinydl.tensor import Tensor

_EPSILON = 1e-7  # Keras' backend.epsilon(): the smallest standard deviation divided by


class Rescaling(Layer):
    """inputs * scale + offset, e.g. Rescaling(1 / 255) maps pixels [0, 255] to [0, 1].

    Args:
        scale, offset: numbers, or lists broadcast against the last axis (one per channel).

    Example:
        >>> Rescaling(1 / 255)(np.array([[0.0, 255.0]], np.float32)).data
        array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            array = np.asarray(value)
            if array.dtype.kind not in "iuf" or array.ndim > 1:
                raise ValueError(f"Rescaling: {name} must be a number or a list of numbers. "
                                 f"Received: {name}={value!r}")
        self.scale = scale.tolist() if isinstance(scale, np.ndarray) else scale
        self.offset = offset.tolist() if isinstance(offset, np.ndarray) else offset

    def call(self, inputs, training=None):
        dtype = inputs.dtype
        return inputs * np.asarray(self.scale, dtype) + np.asarray(self.offset, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Shift and scale inputs to mean 0 and variance 1 per feature: (x - mean) / sqrt(variance).

    The statistics come either from the constructor (mean, variance) or from adapt(data),
    computed over every axis except `axis` (e.g. per channel of NHWC images for axis=-1).
    As Keras 3, the divisor is max(sqrt(variance), 1e-7), so a constant feature gives 0
    rather than inf.

    Args:
        axis: the axis (or tuple of axes) that keeps its own statistics; None for one mean
            and one variance over everything.
        mean, variance: fixed statistics (numbers or lists broadcast to the kept axes);
            both or neither. Without them, call adapt() before using the layer.
        invert: apply the inverse, mean + x * sqrt(variance).

    Weights (adapt case, all non-trainable): mean and variance of the kept axes' shape, and
    count (shape ()): the number of values per feature adapt() saw. With fixed statistics
    the layer holds constants and no weights (as Keras).

    Example:
        >>> layer = Normalization()
        >>> layer.adapt(np.random.rand(100, 8, 8, 3))   # mean and variance per channel
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both mean and variance, or neither (then "
                             f"call adapt). Received: mean={mean!r}, variance={variance!r}")
        axes = () if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else axis
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
            raise ValueError("Normalization: axis must be an int, a tuple of ints or None. "
                             f"Received: axis={axis!r}")
        self.axis = None if axis is None else tuple(int(a) for a in axes)
        self.input_mean = None if mean is None else np.asarray(mean, np.float32)
        self.input_variance = None if variance is None else np.asarray(variance, np.float32)
        self.invert = bool(invert)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self.axis or ()
        if any(not -ndim < a < ndim or a % ndim == 0 for a in axes):
            raise ValueError(f"Normalization: axis {self.axis} must name non-batch axes of the "
                             f"input shape {tuple(input_shape)}")
        self._keep = tuple(sorted(a % ndim for a in axes))
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._broadcast = [input_shape[d] if d in self._keep else 1 for d in range(ndim)]
        if None in (input_shape[d] for d in self._keep):
            raise ValueError(f"Normalization: the kept axes {self._keep} of the input shape "
                             f"{tuple(input_shape)} must have known sizes")
        if self.input_mean is None:
            shape = tuple(input_shape[d] for d in self._keep)
            self.mean = self.add_weight("mean", shape, "zeros", trainable=False)
            self.variance = self.add_weight("variance", shape, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False)

    def adapt(self, data) -> None:
        """Set mean and variance from data: an array or Tensor (N, ...), or an iterable of batches.

        The variance is the biased one (divided by the count), as NumPy's np.var and Keras.
        Batches are merged exactly (the parallel-variance formula), so the result does not
        depend on how the data is split.
        """
        if self.input_mean is not None:
            raise ValueError("Normalization: this layer was given mean and variance; adapt() "
                             "is for layers created without them")
        batches = [data] if isinstance(data, (np.ndarray, Tensor)) else list(data)
        if not batches:
            raise ValueError("Normalization.adapt needs data: an array (N, ...) or a non-empty "
                             "iterable of batches")
        total_mean = total_var = None
        total = 0
        for batch in batches:
            batch = np.asarray(batch.data if isinstance(batch, Tensor) else batch, np.float64)
            if not self.built:
                self.build_for((None,) + batch.shape[1:])
            count = int(np.prod([batch.shape[d] for d in self._reduce]))
            mean, var = batch.mean(axis=self._reduce), batch.var(axis=self._reduce)
            if total_mean is None:
                total_mean, total_var, total = mean, var, count
                continue
            merged = total + count
            delta = mean - total_mean
            total_var = (total_var * total + var * count + delta ** 2 * total * count / merged) \
                / merged
            total_mean, total = total_mean + delta * count / merged, merged
        self.mean.assign(total_mean)
        self.variance.assign(total_var)
        self.count.assign(np.float32(total))

    def call(self, inputs, training=None):
        if self.input_mean is not None:
            mean, variance = self.input_mean, self.input_variance
        else:
            mean, variance = self.mean.data, self.variance.data
        mean = self._shaped(mean).astype(inputs.dtype)
        std = np.maximum(np.sqrt(self._shaped(variance)), _EPSILON).astype(inputs.dtype)
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def _shaped(self, value):
        """Statistics of the kept axes, shaped to broadcast against the input (1 elsewhere)."""
        value = np.asarray(value, np.float32)
        if value.ndim and value.size == np.prod(self._broadcast):
            return value.reshape(self._broadcast)
        return np.broadcast_to(value, self._broadcast)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def macs_per_sample(self, input_shape):
        """One subtract and one divide per element, counted as one multiply-add."""
        return 0 if None in input_shape[1:] else int(np.prod(input_shape[1:]))

    def get_config(self):
        def as_list(value):
            return None if value is None else value.tolist()
        return {**super().get_config(), "axis": None if self.axis is None else list(self.axis),
                "mean": as_list(self.input_mean), "variance": as_list(self.input_variance),
                "invert": self.invert}
