"""Reshaping layers: Reshape, Permute, for NHWC images ZeroPadding2D, Cropping2D, UpSampling2D,
and for sequences (N, T, C) ZeroPadding1D, Cropping1D, UpSampling1D.

None of them has weights; each only moves (or, for bilinear upsampling, blends) values, and
gradients flow back through it.
"""

from __future__ import annotations

import numpy as np

from tinydl import ops
from tinydl.layers import _args
from tinydl.layers.augmentation import bilinear_sample
from tinydl.layers.base import Layer
from tinydl.ops.image import upsample_nearest2d, zero_pad2d


class Reshape(Layer):
    """Give each sample the shape target_shape (the batch axis is kept).

    Args:
        target_shape: a tuple of ints; one of them may be -1, found from the sample's size.

    Example:
        >>> Reshape((-1, 4)).build_for((None, 2, 6))
        (None, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        shape = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else None
        if shape is None or not all(_args._is_int(d) and (d > 0 or d == -1) for d in shape) \
                or list(shape).count(-1) > 1:
            raise ValueError("Reshape: target_shape must be a tuple of positive ints, with at "
                             f"most one -1. Received: target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in shape)

    def _resolved(self, sample_shape) -> tuple:
        """target_shape with its -1 worked out for samples of sample_shape (None if unknown)."""
        if None in sample_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        size, known = int(np.prod(sample_shape)), int(np.prod([d for d in self.target_shape
                                                               if d != -1]))
        if (-1 in self.target_shape and size % known) or \
                (-1 not in self.target_shape and size != known):
            raise ValueError(f"Reshape: a sample of shape {tuple(sample_shape)} ({size} values) "
                             f"cannot be reshaped to target_shape={self.target_shape}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs, training=None):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolved(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolved(tuple(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorder the axes of each sample: dims is a permutation of 1..rank (1-based, as Keras).

    Example:
        >>> Permute((2, 1)).build_for((None, 10, 64))
        (None, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else None
        if dims is None or not all(_args._is_int(d) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Permute: dims must be a permutation of 1..rank (the batch axis 0 "
                             "is not included), e.g. (2, 1). Received: dims="
                             f"{dims if dims is None else list(dims)!r}")
        self.dims = tuple(int(d) for d in dims)

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"Permute with dims={self.dims} expects inputs of rank "
                             f"{len(self.dims) + 1}, got shape {tuple(shape)}")

    def call(self, inputs, training=None):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


def _two_sides(value, name: str, layer: str) -> tuple:
    """Keras' padding/cropping forms -> ((top, bottom), (left, right)) of ints >= 0.

    An int p: p on every side; a pair (h, w): h above and below, w left and right; a pair of
    pairs ((top, bottom), (left, right)) as written.
    """
    def non_negative(v):
        return _args._is_int(v) and v >= 0
    if non_negative(value):
        return (int(value),) * 2, (int(value),) * 2
    if isinstance(value, (tuple, list)) and len(value) == 2:
        if all(non_negative(v) for v in value):
            return (int(value[0]),) * 2, (int(value[1]),) * 2
        if all(isinstance(v, (tuple, list)) and len(v) == 2 and all(non_negative(u) for u in v)
               for v in value):
            return tuple(int(u) for u in value[0]), tuple(int(u) for u in value[1])
    raise ValueError(f"{layer}: {name} must be an int, a pair of ints (symmetric height, width) "
                     f"or a pair of pairs ((top, bottom), (left, right)), all >= 0. "
                     f"Received: {name}={value!r}")


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around NHWC images.

    Args:
        padding: an int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)).

    Shapes:
        (N, H, W, C) -> (N, top + H + bottom, left + W + right, C).

    Example:
        >>> ZeroPadding2D(1)(np.ones((1, 2, 2, 1), np.float32)).data[0, :, :, 0]
        array([[0., 0., 0., 0.],
               [0., 1., 1., 0.],
               [0., 1., 1., 0.],
               [0., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, "ZeroPadding2D")
        self.padding = _two_sides(padding, "padding", "ZeroPadding2D")

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "ZeroPadding2D")
        return zero_pad2d(inputs, self.padding[0] + self.padding[1])

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "ZeroPadding2D")
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else top + h + bottom,
                None if w is None else left + w + right, c)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class Cropping2D(Layer):
    """Remove rows and columns at the edges of NHWC images.

    Args:
        cropping: an int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)).

    Shapes:
        (N, H, W, C) -> (N, H - top - bottom, W - left - right, C); each must stay >= 1.

    Example:
        >>> Cropping2D(((1, 1), (2, 0)))(np.ones((1, 6, 6, 3), np.float32)).shape
        (1, 4, 4, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, "Cropping2D")
        self.cropping = _two_sides(cropping, "cropping", "Cropping2D")

    def call(self, inputs, training=None):
        _, h, w, _ = self.compute_output_shape(inputs.shape)
        (top, _), (left, _) = self.cropping
        return inputs[:, top:top + h, left:left + w, :]

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "Cropping2D")
        n, h, w, c = input_shape
        sizes = [None if size is None else size - sum(crop)
                 for size, crop in zip((h, w), self.cropping)]
        if any(size is not None and size < 1 for size in sizes):
            raise ValueError(f"Cropping2D: cropping={[list(c) for c in self.cropping]} removes "
                             f"all of an input of shape {tuple(input_shape)}")
        return (n, *sizes, c)

    def get_config(self):
        return {**super().get_config(), "cropping": [list(c) for c in self.cropping]}


class UpSampling2D(Layer):
    """Enlarge NHWC images by whole factors: (N, H, W, C) -> (N, H*SH, W*SW, C).

    Args:
        size: an int or a pair (SH, SW); default (2, 2).
        interpolation: 'nearest' (each pixel repeated into an SH x SW block) or 'bilinear'
            (half-pixel centres, edges clamped, as keras.ops.image.resize).

    Example:
        >>> UpSampling2D(2)(np.array([[[[1.0], [2.0]]]], np.float32)).data[0, :, :, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.]], dtype=float32)
    """

    INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, "UpSampling2D")
        self.size = _args.pair(size, "size", "UpSampling2D")
        self.interpolation = _args.choice(interpolation.lower() if isinstance(interpolation, str)
                                          else interpolation, "interpolation",
                                          self.INTERPOLATIONS, "UpSampling2D")

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "UpSampling2D")
        if self.interpolation == "nearest":
            return upsample_nearest2d(inputs, self.size)
        n, h, w, _ = inputs.shape
        rows = (np.arange(h * self.size[0]) + 0.5) / self.size[0] - 0.5
        cols = (np.arange(w * self.size[1]) + 0.5) / self.size[1] - 0.5
        return bilinear_sample(inputs, np.tile(rows, (n, 1)), np.tile(cols, (n, 1)))

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "UpSampling2D")
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0],
                None if w is None else w * self.size[1], c)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "interpolation": self.interpolation}


def _check_sequence_input(shape, layer: str) -> None:
    if len(shape) != 3:
        raise ValueError(f"{layer} expects input of shape (batch, steps, channels). "
                         f"Received: shape {tuple(shape)}")


def _one_side_pair(value, name: str, layer: str) -> tuple:
    """Keras' 1-D padding/cropping forms (an int, or a pair (before, after)) -> (before, after)."""
    if _args._is_int(value) and value >= 0:
        return int(value), int(value)
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(_args._is_int(v) and v >= 0 for v in value)):
        return int(value[0]), int(value[1])
    raise ValueError(f"{layer}: {name} must be an int or a pair of ints (before, after), all >= 0. "
                     f"Received: {name}={value!r}")


class ZeroPadding1D(Layer):
    """Add zero time steps before and after sequences: (N, T, C) -> (N, before + T + after, C).

    Args:
        padding: an int (both sides) or a pair (before, after).

    Example:
        >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1), np.float32)).data[0, :, 0]
        array([0., 1., 1., 0., 0.], dtype=float32)
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, "ZeroPadding1D")
        self.padding = _one_side_pair(padding, "padding", "ZeroPadding1D")

    def call(self, inputs, training=None):
        _check_sequence_input(inputs.shape, "ZeroPadding1D")
        n, t, c = inputs.shape
        padded = zero_pad2d(ops.reshape(inputs, (n, t, 1, c)), self.padding + (0, 0))
        return ops.reshape(padded, (n, t + sum(self.padding), c))

    def compute_output_shape(self, input_shape):
        _check_sequence_input(input_shape, "ZeroPadding1D")
        n, t, c = input_shape
        return (n, None if t is None else t + sum(self.padding), c)

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding)}


class Cropping1D(Layer):
    """Drop time steps at the start and end of sequences: (N, T, C) -> (N, T - before - after, C).

    Args:
        cropping: an int (both sides) or a pair (before, after).

    Example:
        >>> Cropping1D((1, 2))(np.arange(5, dtype=np.float32).reshape(1, 5, 1)).data[0, :, 0]
        array([1., 2.], dtype=float32)
    """

    def __init__(self, cropping=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, "Cropping1D")
        self.cropping = _one_side_pair(cropping, "cropping", "Cropping1D")

    def _steps_left(self, steps):
        left = steps - sum(self.cropping)
        if left < 1:
            raise ValueError(f"Cropping1D: cropping {self.cropping} leaves no time steps of {steps}")
        return left

    def call(self, inputs, training=None):
        _check_sequence_input(inputs.shape, "Cropping1D")
        before = self.cropping[0]
        return inputs[:, before:before + self._steps_left(inputs.shape[1]), :]

    def compute_output_shape(self, input_shape):
        _check_sequence_input(input_shape, "Cropping1D")
        n, t, c = input_shape
        return (n, None if t is None else self._steps_left(t), c)

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping)}


class UpSampling1D(Layer):
    """Repeat each time step `size` times: (N, T, C) -> (N, T * size, C).

    Args:
        size: a positive int, default 2.

    Example:
        >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]], np.float32)).data[0, :, 0]
        array([1., 1., 2., 2.], dtype=float32)
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _args.positive_int(size, "size", "UpSampling1D")

    def call(self, inputs, training=None):
        _check_sequence_input(inputs.shape, "UpSampling1D")
        n, t, c = inputs.shape
        repeated = upsample_nearest2d(ops.reshape(inputs, (n, t, 1, c)), (self.size, 1))
        return ops.reshape(repeated, (n, t * self.size, c))

    def compute_output_shape(self, input_shape):
        _check_sequence_input(input_shape, "UpSampling1D")
        n, t, c = input_shape
        return (n, None if t is None else t * self.size, c)

    def get_config(self):
        return {**super().get_config(), "size": self.size}
