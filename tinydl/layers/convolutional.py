"""Convolution layers: Conv2D over NHWC images with a (KH, KW, C, F) kernel."""

from __future__ import annotations

from tinydl import activations, functional as F, ops
from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.layers.pooling import MaxPooling2D


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as Keras): activation(conv(inputs, kernel) + bias).

    Args:
        filters: F, the number of output channels.
        kernel_size: an int or a pair (KH, KW).
        strides: an int or a pair (SH, SW); default (1, 1).
        padding: 'valid' (no padding: OH = (H - KH) // SH + 1) or 'same' (OH = ceil(H / SH)).
        activation: None, a name or a callable; 'relu' runs fused inside the conv kernel.
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
        fused = self.activation is ops.relu
        y = F.conv2d(inputs, self.kernel, self.bias, self.strides, self.padding, fused_relu=fused)
        return y if fused else self.activation(y)

    def call_with_max_pool(self, inputs, pool):
        """This layer, then the MaxPooling2D layer `pool`, as one node; None if they cannot fuse.

        Sequential calls this for a Conv2D followed by a MaxPooling2D: with a ReLU or no
        activation and pool windows that do not overlap (strides == pool_size), the two run as
        functional.conv2d_max_pool, which never stores the convolution's output. The result
        is exactly that of calling the two layers one after the other.
        """
        fusable = (type(self) is Conv2D and type(pool) is MaxPooling2D  # no subclass changes
                   and self.built and pool.built and pool.strides == pool.pool_size
                   and self.activation in (ops.relu, activations.linear))
        if not fusable:
            return None
        _args.check_image_input(inputs.shape, "Conv2D", channels=self.kernel.shape[2])
        return F.conv2d_max_pool(inputs, self.kernel, self.bias, self.strides, self.padding,
                                 fused_relu=self.activation is ops.relu,
                                 pool_size=pool.pool_size, pool_padding=pool.padding)

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
