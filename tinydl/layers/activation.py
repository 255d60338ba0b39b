"""Activation layers with their own arguments: ReLU (threshold, slope, cap) and Softmax (axis)."""

from __future__ import annotations

import numpy as np

from tinydl import functional as F, ops
from tinydl.layers.base import Layer


def _number(value, name: str, layer: str, low=None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or (low is not None and value < low):
        bound = "" if low is None else f" >= {low}"
        raise ValueError(f"{layer}: {name} must be a number{bound}. Received: {name}={value!r}")
    return float(value)


class ReLU(Layer):
    """Rectified linear unit with Keras' options.

        f(x) = max_value                       for x >= max_value
        f(x) = x                               for threshold <= x < max_value
        f(x) = negative_slope * (x - threshold)   otherwise

    Args:
        max_value: a cap (>= 0) on the output, or None for no cap.
        negative_slope: slope below the threshold (>= 0); 0 is the plain ReLU.
        threshold: where the function bends (default 0).

    The defaults run the plain relu kernel. No weights, no MACs.
    """

    def __init__(self, max_value=None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(max_value, "max_value", "ReLU", 0)
        self.negative_slope = _number(negative_slope, "negative_slope", "ReLU", 0)
        self.threshold = _number(threshold, "threshold", "ReLU")

    def call(self, inputs, training=None):
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            y = ops.relu(inputs)
        else:
            above = (inputs.data >= self.threshold).astype(inputs.dtype)  # a constant mask
            y = inputs * above + (inputs - self.threshold) * ((1 - above) * self.negative_slope)
        if self.max_value is not None:
            y = ops.clip(y, -np.inf, self.max_value)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class Softmax(Layer):
    """exp(x) / sum(exp(x)) along axis (default the last), computed stably. No weights."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Softmax: axis must be an int. Received: axis={axis!r}")
        self.axis = int(axis)

    def call(self, inputs, training=None):
        if not -inputs.ndim <= self.axis < inputs.ndim:
            raise ValueError(f"Softmax: axis {self.axis} is out of range for input of shape "
                             f"{inputs.shape}")
        return F.softmax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
