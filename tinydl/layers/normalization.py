"""Normalization layers: BatchNormalization (batch or moving statistics) and LayerNormalization."""

from __future__ import annotations

import numpy as np

from tinydl.autograd import no_grad
from tinydl.layers.base import Layer
from tinydl.layers import _args
from tinydl.ops.normalization import LayerNorm, batch_norm_train


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) with Keras 3's rules.

    Training (training=True and layer.trainable), per channel over all other axes:
        y = gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta     (var biased: / M)
        moving_mean     = moving_mean * momentum     + mean(x) * (1 - momentum)
        moving_variance = moving_variance * momentum + var(x)  * (1 - momentum)
    (Keras 3 feeds the same biased batch variance to the moving average, without the
    M / (M - 1) correction; so does tinydl.)

    Inference (training False or None, or layer.trainable False, as in Keras >= 2.0 when
    fine-tuning): y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta.

    Args:
        axis: the channel axis (default -1, the C of NHWC).
        momentum: of the moving averages (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn beta / gamma (default True).
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: default 'zeros', 'ones', 'zeros', 'ones'.
        beta_regularizer, gamma_regularizer: as Dense's regularizers.

    Shapes:
        inputs (N, ..., C) -> the same; gamma, beta, moving_mean, moving_variance (C,).
        Parameters: 4C, of which 2C trainable (16 channels: 64, 32 trainable).

    Example:
        >>> bn = BatchNormalization()
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)
        >>> np.round(bn(x, training=True).data, 3)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization: axis must be an int. Received: axis={axis!r}")
        if not 0.0 <= momentum <= 1.0 or epsilon <= 0:
            raise ValueError("BatchNormalization: momentum must be in [0, 1] and epsilon > 0. "
                             f"Received: momentum={momentum!r}, epsilon={epsilon!r}")
        _args.check_weight_options(
            beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
            moving_mean_initializer=moving_mean_initializer,
            moving_variance_initializer=moving_variance_initializer,
            beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"BatchNormalization: axis {self.axis} must name a non-batch axis "
                             f"of the input shape {tuple(input_shape)}")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"BatchNormalization needs a known size on axis {self.axis}, got "
                             f"input shape {tuple(input_shape)}")
        self.gamma = self.add_weight("gamma", (channels,), self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", (channels,), self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (channels,),
                                           self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (channels,),
                                               self.moving_variance_initializer, trainable=False)
        self._ndim = ndim

    def call(self, inputs, training=None):
        channels = self.moving_mean.shape[0]
        if inputs.ndim != self._ndim or inputs.shape[self.axis] != channels:
            raise ValueError(f"BatchNormalization expects input with {channels} channels on axis "
                             f"{self.axis}, got {inputs.shape}")
        if training and self.trainable:
            y, mean, var = batch_norm_train(inputs, self.gamma, self.beta, self.axis, self.epsilon)
            with no_grad():
                self._update_moving(mean, var)
            return y
        return self._normalize_with_moving(inputs)

    def _update_moving(self, mean, var):
        m = self.momentum
        self.moving_mean.assign(self.moving_mean.data * m + mean * (1.0 - m))
        self.moving_variance.assign(self.moving_variance.data * m + var * (1.0 - m))

    def _normalize_with_moving(self, inputs):
        shape = [1] * inputs.ndim
        shape[self.axis] = -1
        inv = 1.0 / np.sqrt(self.moving_variance.data + self.epsilon)
        y = (inputs - self.moving_mean.data.reshape(shape)) * inv.reshape(shape)
        if self.gamma is not None:
            y = y * self.gamma.reshape(shape)
        return y if self.beta is None else y + self.beta.reshape(shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def macs_per_sample(self, input_shape):
        """One multiply-add per element (x * scale + shift, with folded statistics)."""
        return 0 if None in input_shape[1:] else int(np.prod(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **_args.weight_options_config(self, "beta", "gamma"),
                **_args.weight_options_config(self, "moving_mean", "moving_variance")}


class LayerNormalization(Layer):
    """Layer normalization (Ba et al., 2016): each sample normalized over its feature axes.

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta

    with mean and (biased) var of each sample over `axis`, in training and inference alike.

    Args:
        axis: an int or a list of ints, the axes normalized together (default -1).
        epsilon: added to the variance (default 1e-3, Keras'; the Transformer examples pass 1e-6).
        center, scale: learn beta / gamma (default True).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer: as Dense's.

    Shapes:
        inputs (N, ..., D) -> the same; gamma and beta of the normalized axes' shape, (D,).

    Example:
        >>> np.round(LayerNormalization()(np.array([[1.0, 3.0]], np.float32)).data, 3)
        array([[-1.,  1.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
        if kwargs.pop("rms_scaling", False):
            raise NotImplementedError("LayerNormalization: rms_scaling=True (deprecated in Keras) "
                                      "is not implemented")
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else axis
        if not (isinstance(axes, int) or axes and all(isinstance(a, int) for a in axes)) or \
                isinstance(axes, bool):
            raise TypeError("LayerNormalization: expected an int or a list/tuple of ints for "
                            f"the argument 'axis'. Received: axis={axis!r}")
        self.axis, self.epsilon = axes, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        _args.set_weight_options(self, beta_initializer=beta_initializer,
                                 gamma_initializer=gamma_initializer,
                                 beta_regularizer=beta_regularizer,
                                 gamma_regularizer=gamma_regularizer)

    def _axes(self, ndim: int) -> tuple:
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(a >= ndim or a < -ndim for a in axes):
            raise ValueError(f"LayerNormalization: axis {self.axis} is out of bounds for inputs "
                             f"with {ndim} dimensions. Received: axis={self.axis}")
        return tuple(sorted(a % ndim for a in axes))

    def build(self, input_shape):
        shape = tuple(input_shape[a] for a in self._axes(len(input_shape)))
        if None in shape:
            raise ValueError(f"LayerNormalization needs known sizes on axis {self.axis}. "
                             f"Received: input_shape={tuple(input_shape)}")
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None

    def call(self, inputs):
        axes = self._axes(inputs.ndim)
        expected = (self.gamma if self.gamma is not None else self.beta)
        if expected is not None and tuple(inputs.shape[a] for a in axes) != expected.shape:
            raise ValueError(f"LayerNormalization was built for axis sizes {expected.shape}. "
                             f"Received: inputs of shape {inputs.shape}")
        return LayerNorm.apply(inputs, self.gamma, self.beta, axes, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **_args.weight_options_config(self, "beta", "gamma")}
