"""Core layers: Dense, Activation, Flatten, Dropout."""

from __future__ import annotations

import numpy as np

from tinydl import activations, functional as F, initializers, ops
from tinydl.layers.base import Layer


class Dense(Layer):
    """A fully connected layer: activation(inputs @ kernel + bias).

    Args:
        units: output size.
        activation: None (linear), a name ('relu', 'softmax', ...) or a callable.
        use_bias: add a learned bias.
        kernel_initializer, bias_initializer: names or callables.
        kernel_regularizer, bias_regularizer: e.g. tinydl.regularizers.l2(1e-4).

    Shapes:
        inputs (N, ..., in) -> outputs (N, ..., units); kernel (in, units), bias (units,).
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        initializers.get(kernel_initializer), initializers.get(bias_initializer)  # validate now

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Dense needs a known last input dimension, got shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs, training=None):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense '{self.name}' expects inputs with last dimension "
                             f"{self.kernel.shape[0]}, got shape {inputs.shape}")
        y = inputs @ self.kernel
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def macs_per_sample(self, input_shape):
        return int(np.prod(input_shape[1:])) * self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.name_of(self.kernel_initializer),
                "bias_initializer": initializers.name_of(self.bias_initializer)}


class Activation(Layer):
    """Apply an activation function by name or callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs, training=None):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), keeping the batch axis."""

    def call(self, inputs, training=None):
        return ops.flatten(inputs, 1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(np.prod(rest)))


class Dropout(Layer):
    """Randomly zero a fraction `rate` of inputs during training, scaling the rest by 1/(1-rate).

    At inference (training=False, as in evaluate and predict) it passes inputs unchanged.
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate, self.seed = float(rate), seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=None):
        return F.dropout(inputs, self.rate, bool(training), rng=self._rng)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
