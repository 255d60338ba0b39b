"""Masking: mark the time steps whose features all equal mask_value as padding (see masking.py)."""

from __future__ import annotations

import math

import numpy as np

from tinydl.layers.base import Layer
from tinydl.tensor import Tensor


class Masking(Layer):
    """Skip padded time steps: a step of (N, T, ...) whose features all equal mask_value is
    zeroed and masked out for the layers after it (an LSTM then keeps its state over it).

    Args:
        mask_value: the padding value (default 0.0).

    Example:
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0]]], np.float32)
        >>> y = Masking()(x)
        >>> tinydl.layers.masking.get_mask(y)
        array([[ True, False]])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)) or math.isnan(mask_value):
            raise ValueError(f"Masking: mask_value must be a number (not NaN). Received: mask_value={mask_value!r}")
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        return np.any(inputs.data != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = np.any(inputs.data != self.mask_value, axis=-1, keepdims=True)
        return inputs * Tensor(keep.astype(inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
