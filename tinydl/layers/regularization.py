"""Regularization layers by Keras' names: GaussianNoise, GaussianDropout, AlphaDropout,
SpatialDropout2D and ActivityRegularization.

The noise layers act only in training (fit, or training=True) and pass inputs unchanged
otherwise; the noise is drawn from the layer's own generator when it has a seed, else from
tinydl.rng.get_rng() (which tinydl.utils.set_random_seed seeds). ActivityRegularization adds
a penalty on its input to the model's loss and passes the input on.
"""

from __future__ import annotations

import math

import numpy as np

from tinydl import regularizers
from tinydl.layers.base import Layer
from tinydl.layers.core import Dropout
from tinydl.rng import get_rng
from tinydl.tensor import Tensor


def _rate(rate, layer: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{layer}: rate must be a float in [0, 1). Received: rate={rate!r}")
    return float(rate)


class _Noise(Layer):
    """What the noise layers share: a seeded generator, masks passed through, shape kept."""

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _generator(self):
        return self._rng if self._rng is not None else get_rng()

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GaussianNoise(_Noise):
    """Add zero-mean Gaussian noise of standard deviation `stddev` in training.

    Args:
        stddev: the noise's standard deviation, a finite float >= 0.
        seed: an int for repeatable noise.

    Example:
        >>> x = np.zeros((1000, 10), np.float32)
        >>> GaussianNoise(0.5)(x, training=False).data is x or bool((GaussianNoise(0.5)(x).data == 0).all())
        True
        >>> round(float(GaussianNoise(0.5, seed=0)(x, training=True).data.std()), 1)
        0.5
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not (
                math.isfinite(stddev) and stddev >= 0):
            raise ValueError(f"GaussianNoise: stddev must be a finite float >= 0. Received: stddev={stddev!r}")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0.0:
            return inputs
        noise = self._generator().standard_normal(inputs.shape, dtype=np.float32) * np.float32(self.stddev)
        return inputs + Tensor(noise.astype(inputs.dtype, copy=False))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_Noise):
    """Multiply inputs by Gaussian noise of mean 1 and variance rate / (1 - rate) in training.

    Args:
        rate: the equivalent drop probability, in [0, 1).
        seed: an int for repeatable noise.

    Example:
        >>> y = GaussianDropout(0.5, seed=0)(np.ones((1000, 10), np.float32), training=True).data
        >>> round(float(y.mean()), 1), round(float(y.std()), 1)
        (1.0, 1.0)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, "GaussianDropout")

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._generator().standard_normal(inputs.shape, dtype=np.float32)
        noise = noise * np.float32(stddev) + np.float32(1.0)
        return inputs * Tensor(noise.astype(inputs.dtype, copy=False))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(_Noise):
    """Dropout that keeps SELU activations' mean and variance (Klambauer et al., 2017).

    In training a fraction `rate` of the inputs is set to SELU's negative saturation
    -alpha * scale, then all are moved by an affine map a * x + b that restores mean 0 and
    variance 1 for standardized inputs.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: as Dropout's (None entries follow the input).
        seed: an int for repeatable masks.

    Example:
        >>> x = np.random.default_rng(0).standard_normal((2000, 50)).astype(np.float32)
        >>> y = AlphaDropout(0.2, seed=0)(x, training=True).data
        >>> abs(round(float(y.mean()), 1)), round(float(y.std()), 1)
        (0.0, 1.0)
    """

    ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, "AlphaDropout")
        self._shape_rule = Dropout(0.0, noise_shape=noise_shape)  # noise_shape's validation
        self.noise_shape = self._shape_rule.noise_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        shape = self._shape_rule._noise_shape(inputs.shape) or inputs.shape
        kept = (self._generator().random(shape) >= self.rate).astype(inputs.dtype)
        a = ((1.0 - self.rate) * (1.0 + self.rate * self.ALPHA_P ** 2)) ** -0.5
        b = -a * self.ALPHA_P * self.rate
        dropped_value = Tensor((self.ALPHA_P * (1.0 - kept)).astype(inputs.dtype))
        return (inputs * Tensor(kept) + dropped_value) * float(a) + float(b)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps of NHWC images: one draw per sample and channel.

    Args:
        rate: the fraction of channels to drop, in [0, 1). seed: as Dropout.

    Example:
        >>> y = SpatialDropout2D(0.5, seed=0)(np.ones((1, 3, 3, 4), np.float32), training=True).data
        >>> bool((y == y[:, :1, :1, :]).all())
        True
    """

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise ValueError("SpatialDropout2D: only data_format='channels_last' is implemented in tinydl. "
                             f"Received: data_format={data_format!r}")
        super().__init__(rate, seed=seed, **kwargs)

    def _noise_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(f"SpatialDropout2D expects input of shape (batch, height, width, channels). "
                             f"Received: shape {tuple(shape)}")
        return (shape[0], 1, 1, shape[3])


class ActivityRegularization(Layer):
    """Add l1 * sum(|x|) + l2 * sum(x^2), divided by the batch size (as Keras 3), to the loss.

    Args:
        l1, l2: the factors, finite floats >= 0.

    Example:
        >>> layer = ActivityRegularization(l1=0.5)
        >>> y = layer(np.array([[1.0, -2.0], [0.0, 1.0]], np.float32))
        >>> [round(loss.item(), 4) for loss in layer.losses]
        [1.0]
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def call(self, inputs, training=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
