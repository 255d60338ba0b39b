"""Pooling layers over NHWC images: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D."""

from __future__ import annotations

from tinydl import functional as F
from tinydl.layers import _args
from tinydl.layers.base import Layer


class _Pooling2D(Layer):
    """Shared by max and average pooling: a (PH, PW) window moved by (SH, SW). No weights.

    Args:
        pool_size: an int or a pair (PH, PW); default (2, 2).
        strides: an int, a pair, or None for pool_size (Keras' default: windows do not overlap).
        padding: 'valid' or 'same', as in Conv2D.

    Shapes:
        inputs (N, H, W, C) -> outputs (N, OH, OW, C).
    """

    _function = None

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.pool_size = _args.pair(pool_size, "pool_size", where)
        self.strides = self.pool_size if strides is None else _args.pair(strides, "strides", where)
        self.padding = _args.padding(padding, where)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # fails early for a wrong rank or a too-big window

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, type(self).__name__)
        return type(self)._function(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        where = type(self).__name__
        _args.check_image_input(input_shape, where)
        return _args.window_shape(input_shape, self.pool_size, self.strides, self.padding,
                                  input_shape[-1], where)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Max over each window. Comparisons only, so macs_per_sample is 0.

    Example:
        >>> x = np.arange(16.0, dtype=np.float32).reshape(1, 4, 4, 1)
        >>> MaxPooling2D(2)(x).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """

    _function = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Mean over each window (padding not counted, as Keras).

    Example:
        >>> x = np.arange(16.0, dtype=np.float32).reshape(1, 4, 4, 1)
        >>> AveragePooling2D(2)(x).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """

    _function = staticmethod(F.avg_pool2d)

    def macs_per_sample(self, input_shape):
        """OH*OW*C*PH*PW: one accumulate per window element (the final scaling is not counted)."""
        _, oh, ow, c = self.compute_output_shape(input_shape)
        return 0 if None in (oh, ow, c) else oh * ow * c * self.pool_size[0] * self.pool_size[1]


class _GlobalPooling2D(Layer):
    """Shared by the global pools: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims=True."""

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        _args.channels_last_only(data_format, 1, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        _args.check_image_input(input_shape, type(self).__name__)

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, type(self).__name__)
        return self._reduce(inputs)

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, type(self).__name__)
        n, _, _, c = input_shape
        return (n, 1, 1, c) if self.keepdims else (n, c)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over H and W of each channel. Ties share the gradient equally. No weights.

    Example:
        >>> GlobalMaxPooling2D()(np.arange(8.0, dtype=np.float32).reshape(1, 2, 2, 2)).data
        array([[6., 7.]], dtype=float32)
    """

    def _reduce(self, inputs):
        return F.global_max_pool(inputs, keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over H and W: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims=True. No weights.

    Example:
        >>> GlobalAveragePooling2D()(np.arange(8.0, dtype=np.float32).reshape(1, 2, 2, 2)).data
        array([[3., 4.]], dtype=float32)
    """

    def _reduce(self, inputs):
        return F.global_avg_pool(inputs, keepdims=self.keepdims)

    def macs_per_sample(self, input_shape):
        """H*W*C: one accumulate per input element."""
        _, h, w, c = input_shape
        return 0 if None in (h, w, c) else h * w * c
