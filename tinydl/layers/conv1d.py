"""Convolution and pooling over sequences (N, T, C), run as height-1 images by the native 2-D kernels.

Conv1D (padding 'valid', 'same' or 'causal', strides, dilation_rate), MaxPooling1D,
AveragePooling1D, GlobalMaxPooling1D and GlobalAveragePooling1D (which honours masks).
A sequence (N, T, C) is the image (N, 1, T, C) and a (K, C, F) kernel the (1, K, C, F) one, so
Conv2d's im2col + GEMM and its gradients do the work. A dilated convolution (stride 1, as
Keras requires) is d ordinary ones, one per phase t % d of the padded sequence: the phases
become the d rows of one image, convolved in the same call, then interleaved back.
"""

from __future__ import annotations

import numpy as np

from tinydl import activations, functional as F, ops
from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.ops.conv import Conv2d
from tinydl.tensor import Tensor

_PADDINGS_1D = ("valid", "same", "causal")


def _single(value, name: str, layer: str) -> int:
    """An int or a 1-tuple of one positive int, as Keras' 1-D arguments."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return _args.positive_int(value, name, layer)


def _check_sequence(shape, layer: str, channels=None) -> None:
    want = "(batch, steps, channels)" + ("" if channels is None else f" with channels={channels}")
    if len(shape) != 3 or (channels is not None and shape[-1] != channels):
        raise ValueError(f"{layer} expects input of shape {want}. Received: shape {tuple(shape)}")


def _same_pads(steps: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-steps // stride)
    total = max((out - 1) * stride + window - steps, 0)
    return total // 2, total - total // 2


def _pad_time(x, before: int, after: int):
    """Zeros before and after along the time axis of (N, T, C); differentiable."""
    parts = [Tensor(np.zeros((x.shape[0], n, x.shape[2]), x.dtype)) for n in (before, after)]
    return ops.concatenate([p for p in (parts[0], x, parts[1]) if p.shape[1]], axis=1)


class Conv1D(Layer):
    """1-D convolution (cross-correlation, as Keras): activation(conv(inputs, kernel) + bias).

    Args:
        filters: F. kernel_size: K (an int or a 1-tuple). strides: an int; default 1.
        padding: 'valid', 'same' (OT = ceil(T / stride)) or 'causal' (K-1 zeros before each
            sequence, times the dilation, so output t sees inputs up to t only).
        dilation_rate: d, the gap between kernel taps; d > 1 needs strides=1 (as Keras).
        activation, use_bias, initializers, regularizers: as Conv2D. data_format: only
            'channels_last' (the default). groups: G splits the channels into G groups, each
            convolved with its own F/G filters (C and F divisible by G).

    Shapes:
        inputs (N, T, C) -> (N, OT, F); kernel (K, C/G, F), bias (F,).

    Example:
        >>> Conv1D(8, 3)(np.ones((2, 10, 4), np.float32)).shape
        (2, 8, 8)
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, groups: int = 1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = _args.positive_int(filters, "filters", "Conv1D")
        self.kernel_size = _single(kernel_size, "kernel_size", "Conv1D")
        self.strides = _single(strides, "strides", "Conv1D")
        self.dilation_rate = _single(dilation_rate, "dilation_rate", "Conv1D")
        if not isinstance(padding, str) or padding.lower() not in _PADDINGS_1D:
            raise ValueError(f"Conv1D: padding must be one of {_PADDINGS_1D}. Received: "
                             f"padding={padding!r}")
        self.padding = padding.lower()
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("Conv1D: `strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={strides} and "
                             f"dilation_rate={dilation_rate}")
        _channels_last(data_format, "Conv1D")
        self.groups = _args.positive_int(groups, "groups", "Conv1D")
        if self.filters % self.groups:
            raise ValueError("Conv1D: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups}, filters={filters}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer)

    def build(self, input_shape):
        _check_sequence(input_shape, "Conv1D")
        if input_shape[-1] is None:
            raise ValueError(f"Conv1D needs a known number of channels. Received: input_shape="
                             f"{tuple(input_shape)}")
        if input_shape[-1] % self.groups:
            raise ValueError("Conv1D: the number of input channels must be evenly divisible by "
                             f"the number of groups. Received groups={self.groups}, but the "
                             f"input has {input_shape[-1]} channels (full input shape is "
                             f"{tuple(input_shape)})")
        self.compute_output_shape(input_shape)
        per_group = input_shape[-1] // self.groups
        self.kernel = self.add_weight("kernel", (self.kernel_size, per_group, self.filters),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def _pads(self, steps: int) -> tuple[int, int]:
        span = (self.kernel_size - 1) * self.dilation_rate + 1
        if self.padding == "causal":
            return span - 1, 0
        return _same_pads(steps, span, self.strides) if self.padding == "same" else (0, 0)

    def call(self, inputs):
        _check_sequence(inputs.shape, "Conv1D", channels=self.kernel.shape[1] * self.groups)
        self.compute_output_shape(inputs.shape)  # a too-short sequence fails here
        fused = self.activation is ops.relu
        if self.groups == 1:
            y = self._conv(inputs, self.kernel, self.bias, fused)
        else:  # group g: input channels [g*C/G, (g+1)*C/G) -> filters [g*F/G, (g+1)*F/G)
            c, f = self.kernel.shape[1], self.filters // self.groups
            y = ops.concatenate([self._conv(
                inputs[:, :, g * c:(g + 1) * c], self.kernel[:, :, g * f:(g + 1) * f],
                None if self.bias is None else self.bias[g * f:(g + 1) * f], fused)
                for g in range(self.groups)], axis=-1)
        return y if fused else self.activation(y)

    def _conv(self, inputs, kernel, bias, fused):
        """One convolution (N, T, C) x (K, C, F) -> (N, OT, F) as a height-1 image."""
        before, after = self._pads(inputs.shape[1])
        kernel = ops.reshape(kernel, (1,) + kernel.shape)
        if self.dilation_rate > 1:
            return self._dilated(inputs, kernel, bias, before, after, fused)
        y = Conv2d.apply(ops.reshape(inputs, (inputs.shape[0], 1) + inputs.shape[1:]), kernel,
                         bias, (1, self.strides), (0, 0, before, after), fused)
        return ops.reshape(y, (y.shape[0],) + y.shape[2:])

    def _dilated(self, x, kernel, bias, before, after, fused):
        """Stride 1, dilation d: the padded sequence's d phases as the rows of one image."""
        d, n = self.dilation_rate, x.shape[0]
        padded = before + x.shape[1] + after
        out_steps = padded - (self.kernel_size - 1) * d
        extra = -padded % d  # make the padded length a multiple of d
        xp = _pad_time(x, before, after + extra)
        rows = ops.transpose(ops.reshape(xp, (n, xp.shape[1] // d, d, x.shape[2])), (0, 2, 1, 3))
        y = Conv2d.apply(rows, kernel, bias, (1, 1), (0, 0, 0, 0), fused)  # (N, d, W', F)
        y = ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (n, -1, kernel.shape[-1]))
        return y[:, :out_steps]

    def compute_output_shape(self, input_shape):
        _check_sequence(input_shape, "Conv1D")
        steps = input_shape[1]
        if steps is None:
            return (input_shape[0], None, self.filters)
        before, after = self._pads(steps)
        span = (self.kernel_size - 1) * self.dilation_rate + 1
        if steps + before + after < span:
            raise ValueError(f"Conv1D: a kernel spanning {span} steps is longer than the input "
                             f"({steps} steps, input shape {tuple(input_shape)}); use a smaller "
                             "kernel or padding='same'")
        return (input_shape[0], (steps + before + after - span) // self.strides + 1, self.filters)

    def macs_per_sample(self, input_shape):
        """OT * K * (C / groups) * F."""
        steps = self.compute_output_shape(input_shape)[1]
        per_group = input_shape[-1] // self.groups
        return 0 if steps is None else steps * self.kernel_size * per_group * self.filters

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": [self.kernel_size], "strides": [self.strides],
                "padding": self.padding, "dilation_rate": [self.dilation_rate],
                "groups": self.groups, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias,
                **_args.weight_options_config(self, "kernel", "bias")}


def _channels_last(data_format, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: tinydl supports data_format='channels_last' only. Received: "
                         f"data_format={data_format!r}")


class _Pooling1D(Layer):
    """A window of pool_size steps moved by strides (default pool_size). No weights.

    Shapes: inputs (N, T, C) -> (N, OT, C).
    """

    _function = None

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.pool_size = _single(pool_size, "pool_size", where)
        self.strides = self.pool_size if strides is None else _single(strides, "strides", where)
        self.padding = _args.padding(padding, where)
        _channels_last(data_format, where)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        _check_sequence(inputs.shape, type(self).__name__)
        image = ops.reshape(inputs, (inputs.shape[0], 1) + inputs.shape[1:])
        y = type(self)._function(image, (1, self.pool_size), (1, self.strides), self.padding)
        return ops.reshape(y, (y.shape[0],) + y.shape[2:])

    def compute_output_shape(self, input_shape):
        where = type(self).__name__
        _check_sequence(input_shape, where)
        image = (input_shape[0], 1, input_shape[1], input_shape[2])
        out = _args.window_shape(image, (1, self.pool_size), (1, self.strides), self.padding,
                                 input_shape[2], where)
        return (out[0], out[2], out[3])

    def get_config(self):
        return {**super().get_config(), "pool_size": [self.pool_size],
                "strides": [self.strides], "padding": self.padding}


class MaxPooling1D(_Pooling1D):
    """Max over each window of steps.

    Example:
        >>> MaxPooling1D(2)(np.arange(6.0, dtype=np.float32).reshape(1, 6, 1)).data.ravel()
        array([1., 3., 5.], dtype=float32)
    """

    _function = staticmethod(F.max_pool2d)


class AveragePooling1D(_Pooling1D):
    """Mean over each window of steps (padding not counted, as Keras).

    Example:
        >>> AveragePooling1D(2)(np.arange(6.0, dtype=np.float32).reshape(1, 6, 1)).data.ravel()
        array([0.5, 2.5, 4.5], dtype=float32)
    """

    _function = staticmethod(F.avg_pool2d)


class _GlobalPooling1D(Layer):
    """Pool over the whole time axis: (N, T, C) -> (N, C), or (N, 1, C) with keepdims."""

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        _check_sequence(input_shape, type(self).__name__)

    def compute_output_shape(self, input_shape):
        _check_sequence(input_shape, type(self).__name__)
        n, _, c = input_shape
        return (n, 1, c) if self.keepdims else (n, c)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps. As in Keras, it does not use a mask (it warns and drops one).

    Example:
        >>> GlobalMaxPooling1D()(np.arange(6.0, dtype=np.float32).reshape(1, 3, 2)).data
        array([[4., 5.]], dtype=float32)
    """

    def call(self, inputs):
        _check_sequence(inputs.shape, "GlobalMaxPooling1D")
        return F.global_max_pool(inputs, keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps; with a mask, over the real (unmasked) steps only, as Keras.

    Example:
        >>> GlobalAveragePooling1D()(np.arange(6.0, dtype=np.float32).reshape(1, 3, 2)).data
        array([[2., 3.]], dtype=float32)
    """

    supports_masking = True

    def call(self, inputs, mask=None):
        _check_sequence(inputs.shape, "GlobalAveragePooling1D")
        if mask is None:
            return F.global_avg_pool(inputs, keepdims=self.keepdims)
        weights = np.asarray(mask, dtype=inputs.dtype)[:, :, None]
        total = (inputs * weights).sum(axis=1, keepdims=self.keepdims)
        count = weights.sum(axis=1, keepdims=self.keepdims)
        return total / count
