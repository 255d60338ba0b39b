"""GroupNormalization (statistics over groups of channels) and UnitNormalization (unit L2 norm),
composed of differentiable ops; BatchNormalization and LayerNormalization are in normalization.py."""

from __future__ import annotations

import math

from tinydl import ops
from tinydl.layers import _args
from tinydl.layers.base import Layer


def _epsilon(value, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{layer}: epsilon must be a positive finite float. Received: epsilon={value!r}")
    return float(value)


class GroupNormalization(Layer):
    """Group normalization (Wu & He, 2018): the channels are split into `groups`, and each
    sample is normalized over each group's channels and all its other axes.

        y = gamma * (x - mean_g) / sqrt(var_g + epsilon) + beta

    Args:
        groups: how many groups (channels must divide by it); -1 for one per channel.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn beta / gamma of shape (C,) (default True).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer: as Dense's.

    Example:
        >>> x = np.arange(8, dtype=np.float32).reshape(1, 2, 4)
        >>> np.round(GroupNormalization(groups=2)(x).data[0], 3)
        array([[-1.213, -0.728, -1.213, -0.728],
               [ 0.728,  1.213,  0.728,  1.213]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or not (groups == -1 or groups > 0):
            raise ValueError(f"GroupNormalization: groups must be a positive int or -1. Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"GroupNormalization: axis must be an int. Received: axis={axis!r}")
        self.groups, self.axis, self.epsilon = groups, axis, _epsilon(epsilon, "GroupNormalization")
        self.center, self.scale = bool(center), bool(scale)
        _args.set_weight_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                                 beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer)

    def _channel_axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"GroupNormalization: axis {self.axis} is out of bounds for inputs with {ndim} "
                             "dimensions")
        return self.axis % ndim

    def build(self, input_shape):
        channels = input_shape[self._channel_axis(len(input_shape))]
        if channels is None:
            raise ValueError(f"GroupNormalization needs a known channel size. Received: input_shape={input_shape}")
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups or channels % self.groups:
            raise ValueError(f"GroupNormalization: groups ({self.groups}) must divide the number of channels "
                             f"({channels}) and not exceed it")
        self.gamma = self.add_weight("gamma", (channels,), self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", (channels,), self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None

    def call(self, inputs):
        axis = self._channel_axis(inputs.ndim)
        channels = inputs.shape[axis]
        grouped_shape = inputs.shape[:axis] + (self.groups, channels // self.groups) + inputs.shape[axis + 1:]
        grouped = ops.reshape(inputs, grouped_shape)
        reduce = tuple(a for a in range(1, grouped.ndim) if a != axis)
        mean, variance = ops.moments(grouped, axes=reduce, keepdims=True)
        normalized = ops.divide(ops.subtract(grouped, mean), ops.sqrt(ops.add(variance, self.epsilon)))
        broadcast = [1] * grouped.ndim
        broadcast[axis], broadcast[axis + 1] = self.groups, channels // self.groups
        if self.gamma is not None:
            normalized = ops.multiply(normalized, ops.reshape(self.gamma, tuple(broadcast)))
        if self.beta is not None:
            normalized = ops.add(normalized, ops.reshape(self.beta, tuple(broadcast)))
        return ops.reshape(normalized, inputs.shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **_args.weight_options_config(self, "beta", "gamma")}


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over `axis`: x * min(1 / ||x||, 1e12) (Keras' rule).

    Args:
        axis: an int or a list of ints (default -1).

    Example:
        >>> UnitNormalization()(np.array([[3.0, 4.0]], np.float32)).data
        array([[0.6, 0.8]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else axis
        if isinstance(axes, bool) or not (isinstance(axes, int) or (axes and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axes))):
            raise TypeError(f"UnitNormalization: axis must be an int or a list of ints. Received: axis={axis!r}")
        self.axis = axes

    def call(self, inputs):
        axes = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.square(inputs), axis=axes, keepdims=True)
        inverse_norm = ops.minimum(ops.divide(1.0, ops.sqrt(square_sum)), 1e12)
        return ops.multiply(inputs, inverse_norm)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
