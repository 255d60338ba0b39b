"""Image ops beyond conv2d (NHWC): transposed and depthwise convolution, zero padding, nearest
upsampling; each forward beside its backward, then the lowercase wrapper that checks arguments.

A transposed convolution is the input gradient of a convolution run forwards: its kernel
(KH, KW, F, C) is the (KH, KW, C, F) kernel of the convolution that maps its output back to
its input, so it runs on the native conv2d kernels (forward: conv2d_backward_input; backward:
conv2d_forward and conv2d_backward_kernel).
"""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import Function
from tinydl.kernels.shapes import normalize_padding, normalize_pair, window_geometry


def _tensor(x):
    from tinydl.tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_nhwc(x, where: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{where} expects input of shape (batch, H, W, C), got {x.shape}")


# ----------------------------------------------------------------------------- transposed conv

def transpose_output(size: int, window: int, stride: int, padding: str, output_padding=None):
    """Output length and the matching convolution's pads along one axis, by Keras' rules.

    Keras' output length is (size - 1) * stride + max(window, stride) ('valid', no
    output_padding), size * stride ('same', no output_padding), or with output_padding p:
    (size - 1) * stride + window + p ('valid') and (size - 1) * stride + window % 2 + p
    ('same'). The transposed convolution is the input gradient of a convolution from that
    length back to `size`; this returns the pads (before, after) of that convolution.

    Returns:
        (out, pad_before, pad_after).

    Example:
        >>> transpose_output(8, 3, 2, "same")
        (16, 0, 1)
    """
    if padding == "valid":
        extra = max(window, stride) - window if output_padding is None else output_padding
        left, right = window - 1, window - 1 + extra
    else:
        total = stride + window - 2 if output_padding is None \
            else window + window % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, window - 1)
        right = total - left
    out = (size - 1) * stride + left + right - window + 2
    before = window - 1 - left
    return out, before, max(0, (size - 1) * stride + window - before - out)


class ConvTranspose2d(Function):
    """y = conv2d_backward_input(x, kernel) into out_shape: the adjoint of conv2d.

    forward(x (N, H, W, C), kernel (KH, KW, F, C), strides, pads, out_shape (N, OH, OW, F))
    backward gives dx = conv2d(dy, kernel) (N, H, W, C) and dkernel (KH, KW, F, C), the
    convolution's kernel gradient with dy as its input and x as its output gradient.

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 2, 2, 4), np.float32)), tinydl.Tensor(np.ones((3, 3, 3, 4), np.float32))
        >>> ConvTranspose2d.apply(x, k, (1, 1), (0, 0, 0, 0), (1, 4, 4, 3)).shape
        (1, 4, 4, 3)
    """

    @staticmethod
    def forward(ctx, x, kernel, strides, pads, out_shape):
        ctx.save_for_backward(x, kernel)
        ctx.strides, ctx.pads = strides, pads
        return backend.conv2d_backward_input(x, kernel, out_shape, strides, pads)

    @staticmethod
    def backward(ctx, grad):
        x, kernel = ctx.saved
        need_x, need_k = ctx.needs_input_grad[:2]
        dx = backend.conv2d_forward(grad, kernel, None, ctx.strides, ctx.pads) if need_x else None
        dk = None
        if need_k:
            dk, _ = backend.conv2d_backward_kernel(x, grad, kernel.shape[:2], ctx.strides,
                                                   ctx.pads, False)
        return dx, dk, None, None, None


def conv2d_transpose(x, kernel, bias=None, strides=1, padding: str = "valid",
                     output_padding=None):
    """Transposed 2-D convolution ("deconvolution"), as keras.ops.conv_transpose.

    Args:
        x: (N, H, W, C). kernel: (KH, KW, F, C), Keras' layout. bias: (F,) or None.
        strides: int or (SH, SW). padding: 'valid' or 'same'.
        output_padding: None, an int or a pair, each smaller than its stride: rows and
            columns added at the bottom and right of the output.

    Returns:
        (N, OH, OW, F), OH as in transpose_output (e.g. H * SH for 'same').

    Example:
        >>> conv2d_transpose(np.ones((1, 4, 4, 3)), np.ones((3, 3, 8, 3)), strides=2,
        ...                  padding="same").shape
        (1, 8, 8, 8)
    """
    x, kernel = _tensor(x), _tensor(kernel)
    _check_nhwc(x, "conv2d_transpose")
    if kernel.ndim != 4 or kernel.shape[3] != x.shape[3]:
        raise ValueError(f"conv2d_transpose expects a kernel of shape (KH, KW, F, C) with "
                         f"C={x.shape[3]} (the input's channels), got {kernel.shape}")
    strides, padding = normalize_pair(strides, "strides"), normalize_padding(padding)
    extra = (None, None) if output_padding is None else _output_padding(output_padding, strides)
    geometry = [transpose_output(x.shape[1 + a], kernel.shape[a], strides[a], padding, extra[a])
                for a in (0, 1)]
    (oh, top, bottom), (ow, left, right) = geometry
    if oh < 1 or ow < 1:
        raise ValueError(f"conv2d_transpose: the output would be {oh}x{ow} for input "
                         f"{x.shape}, kernel {kernel.shape}, strides {strides}")
    y = ConvTranspose2d.apply(x, kernel, strides, (top, bottom, left, right),
                              (x.shape[0], oh, ow, kernel.shape[2]))
    return y if bias is None else y + bias


def _output_padding(value, strides):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(not isinstance(p, (int, np.integer)) or p < 0 for p in pair) \
            or any(p >= s for p, s in zip(pair, strides)):
        raise ValueError("output_padding must be None, or an int or a pair of ints >= 0 and "
                         f"smaller than strides {strides}. Received: output_padding={value!r}")
    return tuple(int(p) for p in pair)


# ----------------------------------------------------------------------------- depthwise conv

class DepthwiseConv2d(Function):
    """y = depthwise_conv(x, kernel): channel c meets only its own M filters.

    forward(x (N, H, W, C), kernel (KH, KW, C, M), strides, pads) -> (N, OH, OW, C*M)
    backward gives dx (N, H, W, C) and dkernel (KH, KW, C, M).

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 5, 5, 3), np.float32)), tinydl.Tensor(np.ones((3, 3, 3, 2), np.float32))
        >>> DepthwiseConv2d.apply(x, k, (1, 1), (0, 0, 0, 0)).shape
        (1, 3, 3, 6)
    """

    @staticmethod
    def forward(ctx, x, kernel, strides, pads):
        ctx.save_for_backward(x, kernel)
        ctx.strides, ctx.pads = strides, pads
        return backend.depthwise_conv2d_forward(x, kernel, strides, pads)

    @staticmethod
    def backward(ctx, grad):
        x, kernel = ctx.saved
        need_x, need_k = ctx.needs_input_grad[:2]
        dx = backend.depthwise_conv2d_backward_input(grad, kernel, x.shape, ctx.strides,
                                                     ctx.pads) if need_x else None
        dk = backend.depthwise_conv2d_backward_kernel(grad, x, kernel.shape[:2], ctx.strides,
                                                      ctx.pads) if need_k else None
        return dx, dk, None, None


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding: str = "valid"):
    """Depthwise 2-D convolution, as keras.ops.depthwise_conv.

    Args:
        x: (N, H, W, C). kernel: (KH, KW, C, M), M the depth multiplier. bias: (C*M,) or None.
        strides: int or (SH, SW). padding: 'valid' or 'same'.

    Returns:
        (N, OH, OW, C*M); output channel c*M + m is input channel c through filter m.

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 5, 5, 3), np.float32)), tinydl.Tensor(np.ones((3, 3, 3, 2), np.float32))
        >>> depthwise_conv2d(x, k, padding="same").shape
        (1, 5, 5, 6)
    """
    x, kernel = _tensor(x), _tensor(kernel)
    _check_nhwc(x, "depthwise_conv2d")
    if kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(f"depthwise_conv2d expects a kernel of shape (KH, KW, C, M) with "
                         f"C={x.shape[3]} (the input's channels), got {kernel.shape}")
    strides = normalize_pair(strides, "strides")
    _, pads = window_geometry(x.shape[1:3], kernel.shape[:2], strides, normalize_padding(padding))
    y = DepthwiseConv2d.apply(x, kernel, strides, pads)
    return y if bias is None else y + bias


# ----------------------------------------------------------------------------- padding, upsampling

class ZeroPad2d(Function):
    """Zeros around H and W: pads (top, bottom, left, right); backward crops them off.

    Example:
        >>> ZeroPad2d.apply(tinydl.Tensor(np.ones((1, 2, 2, 1))), (1, 0, 0, 1)).data[0, :, :, 0]
        array([[0., 0., 0.],
               [1., 1., 0.],
               [1., 1., 0.]])
    """

    @staticmethod
    def forward(ctx, x, pads):
        top, bottom, left, right = pads
        ctx.crop = (slice(None), slice(top, top + x.shape[1]), slice(left, left + x.shape[2]))
        return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[ctx.crop]), None


def zero_pad2d(x, pads):
    """x (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), zeros around.

    Example:
        >>> zero_pad2d(tinydl.Tensor(np.ones((2, 3, 3, 4))), (1, 1, 2, 2)).shape
        (2, 5, 7, 4)
    """
    x = _tensor(x)
    _check_nhwc(x, "zero_pad2d")
    return ZeroPad2d.apply(x, tuple(int(p) for p in pads))


class UpsampleNearest2d(Function):
    """Repeat each row SH times and each column SW times; backward sums each block.

    Example:
        >>> UpsampleNearest2d.apply(tinydl.Tensor(np.array([[[[1.0], [2.0]]]])), (1, 2)).data[0, :, :, 0]
        array([[1., 1., 2., 2.]])
    """

    @staticmethod
    def forward(ctx, x, size):
        ctx.size = size
        return np.repeat(np.repeat(x, size[0], axis=1), size[1], axis=2)

    @staticmethod
    def backward(ctx, grad):
        (sh, sw), (n, oh, ow, c) = ctx.size, grad.shape
        return grad.reshape(n, oh // sh, sh, ow // sw, sw, c).sum(axis=(2, 4)), None


def upsample_nearest2d(x, size):
    """x (N, H, W, C) -> (N, H*SH, W*SW, C), each pixel repeated into an SH x SW block.

    Example:
        >>> upsample_nearest2d(tinydl.Tensor(np.ones((2, 3, 4, 5))), (2, 2)).shape
        (2, 6, 8, 5)
    """
    x = _tensor(x)
    _check_nhwc(x, "upsample_nearest2d")
    return UpsampleNearest2d.apply(x, normalize_pair(size, "size"))
