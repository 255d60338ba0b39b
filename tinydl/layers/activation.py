"""Activation layers with their own arguments: ReLU (threshold, slope, cap), Softmax (axis),
LeakyReLU (negative_slope), ELU (alpha) and PReLU (a learned slope per unit)."""

from __future__ import annotations

import warnings

import numpy as np

from tinydl import functional as F, ops
from tinydl.layers import _args
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

    Example:
        >>> ReLU()(np.array([[-1.0, 0.5, 2.0]], np.float32)).data
        array([[0. , 0.5, 2. ]], dtype=float32)
        >>> ReLU(max_value=1.0)(np.array([[-1.0, 0.5, 2.0]], np.float32)).data
        array([[0. , 0.5, 1. ]], dtype=float32)
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
    """exp(x) / sum(exp(x)) along axis (default the last), computed stably. No weights.

    Example:
        >>> Softmax()(np.array([[1.0, 1.0]], np.float32)).data
        array([[0.5, 0.5]], dtype=float32)
    """

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


def _negative_part(inputs):
    """min(x, 0) as a Tensor: -relu(-x), so its gradient is 1 below zero and 0 above."""
    return -ops.relu(-inputs)


class LeakyReLU(Layer):
    """f(x) = x for x >= 0, negative_slope * x otherwise.

    Args:
        negative_slope: the slope below zero, >= 0 (Keras 3's default 0.3). The Keras 2 name
            alpha= is accepted, with Keras' deprecation warning.

    Example:
        >>> LeakyReLU(negative_slope=0.1)(np.array([[-2.0, 3.0]], np.float32)).data
        array([[-0.2,  3. ]], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _number(negative_slope, "negative_slope", "LeakyReLU", 0)

    def call(self, inputs, training=None):
        return ops.relu(inputs) + _negative_part(inputs) * self.negative_slope

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """Exponential linear unit: f(x) = x for x > 0, alpha * (exp(x) - 1) otherwise.

    Args:
        alpha: the scale of the negative part (default 1.0).

    Example:
        >>> np.round(ELU()(np.array([[-1.0, 2.0]], np.float32)).data, 4)
        array([[-0.6321,  2.    ]], dtype=float32)
    """

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(alpha, "alpha", "ELU")

    def call(self, inputs, training=None):
        return ops.relu(inputs) + (ops.exp(_negative_part(inputs)) - 1.0) * self.alpha

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU: f(x) = x for x >= 0, alpha * x otherwise, with alpha learned.

    Args:
        alpha_initializer: for alpha (default zeros: it starts as a ReLU).
        alpha_regularizer: None, a name or a callable.
        shared_axes: the axes (1-based, the batch axis is 0) along which one alpha is
            shared, e.g. shared_axes=[1, 2] for one alpha per channel of NHWC images.

    Shapes:
        alpha has the shape of one sample, with 1 on the shared axes.

    Example:
        >>> layer = PReLU()
        >>> layer(np.array([[-2.0, 3.0]], np.float32)).data, layer.alpha.shape
        (array([[0., 3.]], dtype=float32), (2,))
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        _args.set_weight_options(self, alpha_initializer=alpha_initializer,
                                 alpha_regularizer=alpha_regularizer)
        axes = None if shared_axes is None else [shared_axes] \
            if isinstance(shared_axes, (int, np.integer)) else list(shared_axes)
        if axes is not None and not all(_args._is_int(a) and a >= 1 for a in axes):
            raise ValueError("PReLU: shared_axes must be None, an int or a list of ints >= 1 "
                             f"(axis 0 is the batch). Received: shared_axes={shared_axes!r}")
        self.shared_axes = None if axes is None else [int(a) for a in axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(f"PReLU: shared_axes {self.shared_axes} name an axis beyond "
                                 f"the input shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"PReLU needs known sizes on the axes that are not shared, got "
                             f"input shape {tuple(input_shape)} and shared_axes={self.shared_axes}")
        self.alpha = self.add_weight("alpha", shape, self.alpha_initializer,
                                     regularizer=self.alpha_regularizer)

    def call(self, inputs, training=None):
        return ops.relu(inputs) + _negative_part(inputs) * self.alpha

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "shared_axes": self.shared_axes,
                **_args.weight_options_config(self, "alpha")}
