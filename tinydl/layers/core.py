"""Core layers: Dense, Activation, Flatten, Dropout, SpatialDropout1D, RepeatVector and Lambda."""

from __future__ import annotations

import numpy as np

from tinydl import activations, functional as F, ops
from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.rng import get_rng


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
        Parameters: in * units + units, e.g. Dense(10) on (None, 5) has 60.

    Example:
        >>> Dense(10)(np.ones((2, 5), np.float32)).shape
        (2, 10)
    """

    supports_masking = True  # position by position: a sequence's mask passes on

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _args.positive_int(units, "units", "Dense")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense expects input of shape (batch, ..., in) with a known last "
                             f"dimension, got {tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs, training=None):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense expects input of shape (batch, ..., in) with "
                             f"in={self.kernel.shape[0]}, got {inputs.shape}")
        y = inputs @ self.kernel
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def macs_per_sample(self, input_shape):
        """in * units for each position: one multiply-accumulate per kernel entry."""
        return int(np.prod(input_shape[1:])) * self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias, **_args.weight_options_config(self, "kernel", "bias")}


class Activation(Layer):
    """Apply an activation function by name ('relu', 'softmax', ...) or callable.

    A custom callable is saved as None in get_config: it cannot be saved with a model.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]], np.float32)).data
        array([[0., 2.]], dtype=float32)
    """

    supports_masking = True

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
    """(N, d1, d2, ...) -> (N, d1*d2*...), keeping the batch axis. No weights, no MACs.

    Example:
        >>> Flatten()(np.ones((2, 3, 4), np.float32)).shape
        (2, 12)
    """

    def call(self, inputs, training=None):
        return ops.flatten(inputs, 1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(np.prod(rest)))


class Dropout(Layer):
    """Randomly zero a fraction `rate` of inputs during training, scaling the rest by 1/(1-rate).

    At inference (training=False or None, as in evaluate and predict) it passes inputs unchanged.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: None (every element drawn on its own), or a shape that broadcasts to the
            input's, with None for "as the input": (None, 1, None) drops a feature at every
            time step of a sequence at once (Keras' noise_shape).
        seed: an int gives this layer its own generator (repeatable masks); None draws from
            tinydl.rng.get_rng(), which tinydl.utils.set_random_seed seeds.

    Example:
        >>> x = np.ones((1, 8), np.float32)
        >>> Dropout(0.5, seed=0)(x, training=False).data.ravel()
        array([1., 1., 1., 1., 1., 1., 1., 1.], dtype=float32)
        >>> sorted(set(Dropout(0.5, seed=0)(x, training=True).data.ravel().tolist()))
        [0.0, 2.0]
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"{where}: rate must be a float in [0, 1). Received: rate={rate!r}")
        if noise_shape is not None and not (isinstance(noise_shape, (tuple, list)) and all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                for d in noise_shape)):
            raise ValueError(f"{where}: noise_shape must be None or a tuple of positive ints and "
                             f"None. Received: noise_shape={noise_shape!r}")
        self.rate, self.seed = float(rate), seed
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=None):
        noise_shape = self._noise_shape(inputs.shape)
        if noise_shape is None:
            return F.dropout(inputs, self.rate, bool(training), rng=self._rng)
        if not training or self.rate == 0.0:
            return inputs
        rng = self._rng if self._rng is not None else get_rng()
        keep = (rng.random(noise_shape) >= self.rate) / (1.0 - self.rate)
        return inputs * keep.astype(inputs.dtype)

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != len(shape) or any(
                d is not None and d not in (1, s) for d, s in zip(self.noise_shape, shape)):
            raise ValueError(f"{type(self).__name__}: noise_shape {self.noise_shape} does not "
                             f"broadcast to the input's shape {tuple(shape)}")
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        if self.noise_shape is not None:
            config["noise_shape"] = list(self.noise_shape)
        return config


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of a sequence (N, T, C): one draw per sample and channel.

    Args:
        rate: the fraction of channels to drop, in [0, 1). seed: as Dropout.

    Example:
        >>> y = SpatialDropout1D(0.5, seed=0)(np.ones((1, 4, 3), np.float32), training=True).data
        >>> bool((y == y[:, :1, :]).all())
        True
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _noise_shape(self, shape):
        if len(shape) != 3:
            raise ValueError(f"SpatialDropout1D expects input of shape (batch, steps, channels). "
                             f"Received: shape {tuple(shape)}")
        return (shape[0], 1, shape[2])


class RepeatVector(Layer):
    """Repeat each sample n times: (N, D) -> (N, n, D). No weights.

    Args:
        n: how many times, a positive int.

    Example:
        >>> RepeatVector(3)(np.ones((2, 4), np.float32)).shape
        (2, 3, 4)
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = _args.positive_int(n, "n", "RepeatVector")

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"RepeatVector expects input of shape (batch, features). Received: "
                             f"shape {inputs.shape}")
        return ops.stack([inputs] * self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wrap a function of Tensors as a layer, e.g. Lambda(lambda x: x * 2).

    Args:
        function: a callable Tensor -> Tensor built from tinydl ops (so gradients flow).
        output_shape: the output shape of one sample (without the batch axis), or a callable
            input_shape -> output_shape (with the batch axis). When None it is found by
            running the function on one zero sample.

    A function is code, not data: get_config stores only its __name__, and from_config needs
    it back through custom_objects={name: function} (as Keras' custom_objects).

    Example:
        >>> Lambda(lambda x: x * 2)(np.array([[1.0, 2.0]], np.float32)).data
        array([[2., 4.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable. Received: function={function!r}")
        if output_shape is not None and not callable(output_shape):
            output_shape = tuple(output_shape)
        self.function, self.output_shape_arg = function, output_shape

    def call(self, inputs, training=None):
        return self.function(inputs)

    def compute_output_shape(self, input_shape):
        if self.output_shape_arg is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_arg):
            return tuple(self.output_shape_arg(tuple(input_shape)))
        return (input_shape[0],) + self.output_shape_arg

    def get_config(self):
        shape = self.output_shape_arg
        return {**super().get_config(), "function": getattr(self.function, "__name__", None),
                "output_shape": list(shape) if isinstance(shape, tuple) else None}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        name = config.get("function")
        if not custom_objects or name not in custom_objects:
            raise ValueError(f"Lambda's function {name!r} is code and cannot be loaded from a "
                             f"config: pass custom_objects={{{name!r}: your_function}}")
        return cls(**{**config, "function": custom_objects[name]})
