"""Convolution layers over NHWC images: Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

Kernels have Keras' layouts, so weights copy across: Conv2D (KH, KW, C, F), Conv2DTranspose
(KH, KW, F, C), DepthwiseConv2D (KH, KW, C, M) with M the depth multiplier, SeparableConv2D a
depthwise (KH, KW, C, M) then a pointwise (1, 1, C*M, F) kernel.
"""

from __future__ import annotations

from tinydl import activations, functional as F
from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.ops.image import conv2d_transpose, depthwise_conv2d, transpose_output


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as Keras): activation(conv(inputs, kernel) + bias).

    Args:
        filters: F, the number of output channels.
        kernel_size: an int or a pair (KH, KW).
        strides: an int or a pair (SH, SW); default (1, 1).
        padding: 'valid' (no padding: OH = (H - KH) // SH + 1) or 'same' (OH = ceil(H / SH)).
        activation: None, a name or a callable. In a model, the fusion pass
            (tinydl/fusion.py) runs 'relu' inside the convolution's kernel.
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer:
            as in Dense.

    Shapes:
        inputs (N, H, W, C) -> outputs (N, OH, OW, F); kernel (KH, KW, C, F), bias (F,).
        Parameters: KH*KW*C*F + F, e.g. Conv2D(32, 3) on (32, 32, 3) has 896.

    Example:
        >>> Conv2D(32, (3, 3)).build_for((None, 32, 32, 3))
        (None, 30, 30, 32)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = _args.positive_int(filters, "filters", "Conv2D")
        self.kernel_size = _args.pair(kernel_size, "kernel_size", "Conv2D")
        self.strides = _args.pair(strides, "strides", "Conv2D")
        self.padding = _args.padding(padding, "Conv2D")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer)

    def build(self, input_shape):
        _args.check_image_input(input_shape, "Conv2D")
        if input_shape[-1] is None:
            raise ValueError(f"Conv2D needs a known number of channels C, got {input_shape}")
        self.compute_output_shape(input_shape)  # a 'valid' window larger than H or W fails here
        shape = self.kernel_size + (input_shape[-1], self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "Conv2D", channels=self.kernel.shape[2])
        y = F.conv2d(inputs, self.kernel, self.bias, self.strides, self.padding)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "Conv2D")
        return _args.window_shape(input_shape, self.kernel_size, self.strides, self.padding,
                                  self.filters, "Conv2D")

    def macs_per_sample(self, input_shape):
        """OH*OW*KH*KW*C*F: one multiply-accumulate per kernel entry at every output position
        (the bias add and activation are not counted)."""
        _, oh, ow, _ = self.compute_output_shape(input_shape)
        if None in (oh, ow, input_shape[-1]):
            return 0  # unknown image size: nothing honest to report
        kh, kw = self.kernel_size
        return oh * ow * kh * kw * input_shape[-1] * self.filters

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias, **_args.weight_options_config(self, "kernel", "bias")}


class _WindowConv(Layer):
    """Shared by the convolutions below: kernel size, strides, padding, activation, bias."""

    def __init__(self, kernel_size, strides, padding, activation, use_bias, data_format,
                 dilation_rate, **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.kernel_size = _args.pair(kernel_size, "kernel_size", where)
        self.strides = _args.pair(strides, "strides", where)
        self.padding = _args.padding(padding, where)
        _args.channels_last_only(data_format, dilation_rate, where)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)

    def _channels(self, input_shape) -> int:
        where = type(self).__name__
        _args.check_image_input(input_shape, where)
        if input_shape[-1] is None:
            raise ValueError(f"{where} needs a known number of channels C, got {input_shape}")
        self.compute_output_shape(input_shape)  # a 'valid' window larger than H or W fails here
        return input_shape[-1]

    def _finish(self, y):
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias}


class Conv2DTranspose(_WindowConv):
    """Transposed 2-D convolution: the layer that runs Conv2D's geometry backwards (upsampling).

    Args:
        filters: F, the number of output channels.
        kernel_size, strides, padding: as in Conv2D.
        output_padding: None, an int or a pair, each smaller than its stride: extra rows and
            columns at the bottom and right of the output.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: as in Conv2D. data_format and dilation_rate: only their defaults.

    Shapes:
        inputs (N, H, W, C) -> (N, OH, OW, F); kernel (KH, KW, F, C) (Keras' layout), bias (F,).
        OH = H * SH for 'same', (H - 1) * SH + max(KH, SH) for 'valid' (without output_padding).

    Example:
        >>> Conv2DTranspose(16, 3, strides=2, padding="same").build_for((None, 8, 8, 32))
        (None, 16, 16, 16)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, data_format,
                         dilation_rate, **kwargs)
        self.filters = _args.positive_int(filters, "filters", "Conv2DTranspose")
        self.output_padding = self._output_padding(output_padding)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer)

    def _output_padding(self, value):
        if value is None:
            return None
        values = (value, value) if _args._is_int(value) else value
        if not (isinstance(values, (tuple, list)) and len(values) == 2
                and all(_args._is_int(v) and 0 <= v < s for v, s in zip(values, self.strides))):
            raise ValueError("Conv2DTranspose: output_padding must be None, or an int or a pair "
                             f"of ints >= 0, each smaller than its stride (strides="
                             f"{self.strides}). Received: output_padding={value!r}")
        return int(values[0]), int(values[1])

    def build(self, input_shape):
        shape = self.kernel_size + (self.filters, self._channels(input_shape))
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "Conv2DTranspose", channels=self.kernel.shape[3])
        return self.activation(conv2d_transpose(inputs, self.kernel, self.bias, self.strides,
                                                self.padding, self.output_padding))

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "Conv2DTranspose")
        extra = self.output_padding or (None, None)
        sizes = [None if size is None else
                 transpose_output(size, k, s, self.padding, p)[0]
                 for size, k, s, p in zip(input_shape[1:3], self.kernel_size, self.strides, extra)]
        if any(size is not None and size < 1 for size in sizes):
            raise ValueError(f"Conv2DTranspose: the output of input shape {tuple(input_shape)} "
                             f"would be empty ({sizes}); use a larger kernel or padding='valid'")
        return (input_shape[0], *sizes, self.filters)

    def macs_per_sample(self, input_shape):
        """H*W*KH*KW*C*F: every input pixel is spread through the whole kernel."""
        _, h, w, c = input_shape
        if None in (h, w, c):
            return 0
        return h * w * self.kernel_size[0] * self.kernel_size[1] * c * self.filters

    def get_config(self):
        padding = None if self.output_padding is None else list(self.output_padding)
        return {**super().get_config(), "filters": self.filters, "output_padding": padding,
                **_args.weight_options_config(self, "kernel", "bias")}


class DepthwiseConv2D(_WindowConv):
    """Depthwise 2-D convolution: each input channel convolved with its own depth_multiplier
    filters, no mixing across channels.

    Args:
        kernel_size, strides, padding, activation, use_bias: as in Conv2D.
        depth_multiplier: M, filters per input channel (output channels C*M).
        depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer:
            for the kernel and the bias.

    Shapes:
        inputs (N, H, W, C) -> (N, OH, OW, C*M); kernel (KH, KW, C, M), bias (C*M,).
        Output channel c*M + m is input channel c through filter m (Keras' order).

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2)(np.ones((1, 8, 8, 3), np.float32)).shape
        (1, 6, 6, 6)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, data_format,
                         dilation_rate, **kwargs)
        self.depth_multiplier = _args.positive_int(depth_multiplier, "depth_multiplier",
                                                   "DepthwiseConv2D")
        _args.set_weight_options(self, depthwise_initializer=depthwise_initializer,
                                 bias_initializer=bias_initializer,
                                 depthwise_regularizer=depthwise_regularizer,
                                 bias_regularizer=bias_regularizer)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, self.depth_multiplier),
                                      self.depthwise_initializer,
                                      regularizer=self.depthwise_regularizer)
        self.bias = self.add_weight("bias", (channels * self.depth_multiplier,),
                                    self.bias_initializer, regularizer=self.bias_regularizer) \
            if self.use_bias else None

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "DepthwiseConv2D", channels=self.kernel.shape[2])
        return self._finish(depthwise_conv2d(inputs, self.kernel, None, self.strides,
                                             self.padding))

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "DepthwiseConv2D")
        c = None if input_shape[-1] is None else input_shape[-1] * self.depth_multiplier
        return _args.window_shape(input_shape, self.kernel_size, self.strides, self.padding, c,
                                  "DepthwiseConv2D")

    def macs_per_sample(self, input_shape):
        """OH*OW*KH*KW*C*M."""
        _, oh, ow, cm = self.compute_output_shape(input_shape)
        return 0 if None in (oh, ow, cm) else oh * ow * self.kernel_size[0] * self.kernel_size[1] * cm

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **_args.weight_options_config(self, "depthwise", "bias")}


class SeparableConv2D(_WindowConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution, then a 1x1 convolution
    mixing its C*M channels into F.

    Args:
        filters: F. kernel_size, strides, padding, depth_multiplier: of the depthwise step.
        activation, use_bias: as in Conv2D (the bias and activation come after the 1x1 step).
        depthwise_initializer, pointwise_initializer, bias_initializer, and the matching
        *_regularizer arguments: for each weight.

    Shapes:
        inputs (N, H, W, C) -> (N, OH, OW, F); depthwise_kernel (KH, KW, C, M),
        pointwise_kernel (1, 1, C*M, F), bias (F,).
        Parameters: KH*KW*C*M + C*M*F + F.

    Example:
        >>> SeparableConv2D(16, 3, padding="same")(np.ones((1, 8, 8, 3), np.float32)).shape
        (1, 8, 8, 16)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, data_format,
                         dilation_rate, **kwargs)
        self.filters = _args.positive_int(filters, "filters", "SeparableConv2D")
        self.depth_multiplier = _args.positive_int(depth_multiplier, "depth_multiplier",
                                                   "SeparableConv2D")
        _args.set_weight_options(self, depthwise_initializer=depthwise_initializer,
                                 pointwise_initializer=pointwise_initializer,
                                 bias_initializer=bias_initializer,
                                 depthwise_regularizer=depthwise_regularizer,
                                 pointwise_regularizer=pointwise_regularizer,
                                 bias_regularizer=bias_regularizer)

    def build(self, input_shape):
        channels, m = self._channels(input_shape), self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, m), self.depthwise_initializer,
            regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * m, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "SeparableConv2D",
                                channels=self.depthwise_kernel.shape[2])
        y = depthwise_conv2d(inputs, self.depthwise_kernel, None, self.strides, self.padding)
        return self._finish(F.conv2d(y, self.pointwise_kernel))

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "SeparableConv2D")
        return _args.window_shape(input_shape, self.kernel_size, self.strides, self.padding,
                                  self.filters, "SeparableConv2D")

    def macs_per_sample(self, input_shape):
        """OH*OW*(KH*KW*C*M + C*M*F): the depthwise step, then the 1x1 step."""
        _, oh, ow, _ = self.compute_output_shape(input_shape)
        c = input_shape[-1]
        if None in (oh, ow, c):
            return 0
        cm = c * self.depth_multiplier
        return oh * ow * (self.kernel_size[0] * self.kernel_size[1] * cm + cm * self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "depth_multiplier": self.depth_multiplier,
                **_args.weight_options_config(self, "depthwise", "pointwise", "bias")}
