"""Depthwise 2-D convolution (N, H, W, C) x (KH, KW, C, M): checks and reference (no native twin yet).
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import (
    float_arrays, check_ndim, check_shape, check_window, check_image_shape, conv_output_shape)
from tinydl.kernels._registry import Kernel
from tinydl.kernels.shapes import padded_output_hw
from tinydl.kernels.windows import pad


# -------------------------------------------------------------- checked entries

def _depthwise_checks(where, x_shape, w, strides, pads):
    check_ndim(where, "kernel", w, 4, "(KH, KW, C, M)")
    if x_shape[3] != w.shape[2]:
        raise ValueError(f"{where}: the kernel {tuple(w.shape)} (KH, KW, C, M) expects "
                         f"C={w.shape[2]} input channels, but the input {tuple(x_shape)} has "
                         f"{x_shape[3]}")
    check_window(where, x_shape[1:3], w.shape[:2], strides, pads)
    return conv_output_shape(x_shape, w.shape[:2], strides, pads, w.shape[2] * w.shape[3])


def depthwise_conv2d_forward(x, w, strides, pads):
    """Depthwise convolution, (N, H, W, C) x (KH, KW, C, M) -> (N, OH, OW, C*M); see
    tinydl.kernels.reference.depthwise_conv2d_forward."""
    where = "depthwise_conv2d"
    x, w = float_arrays(where, x=x, w=w)
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    _depthwise_checks(where, x.shape, w, strides, pads)
    return _dispatch.run("depthwise_conv2d_forward", x, w, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_input(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C)."""
    where = "depthwise_conv2d_backward_input"
    dy, w = float_arrays(where, dy=dy, w=w)
    x_shape = check_image_shape(where, x_shape)
    check_shape(where, "dy", dy, _depthwise_checks(where, x_shape, w, strides, pads))
    return _dispatch.run(where, dy, w, x_shape, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_kernel(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to its kernel: (KH, KW, C, M)."""
    where = "depthwise_conv2d_backward_kernel"
    dy, x = float_arrays(where, dy=dy, x=x)
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    check_ndim(where, "dy", dy, 4, "(N, OH, OW, C*M)")
    kernel_hw = tuple(int(s) for s in kernel_hw)
    check_window(where, x.shape[1:3], kernel_hw, strides, pads)
    if dy.shape[3] % x.shape[3]:
        raise ValueError(f"{where}: dy's channels {dy.shape[3]} must be a multiple of x's "
                         f"{x.shape[3]} (C*M)")
    check_shape(where, "dy", dy, conv_output_shape(x.shape, kernel_hw, strides, pads, dy.shape[3]))
    return _dispatch.run(where, dy, x, kernel_hw, tuple(strides), tuple(pads))


# ------------------------------------------------------------ reference (NumPy)

def _depthwise_taps(xp, i, j, strides, out_hw):
    """The input pixels kernel tap (i, j) meets at every output position: (N, OH, OW, C)."""
    (sh, sw), (oh, ow) = strides, out_hw
    return xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]


def depthwise_conv2d_forward_reference(x, w, strides, pads):
    """Depthwise convolution: each input channel c is convolved with its own M filters.

    y[n, oh, ow, c*M + m] = sum_{i, j} xp[n, oh*SH + i, ow*SW + j, c] * w[i, j, c, m]
    (xp is x padded by pads). One vectorized multiply-add per kernel tap (KH*KW of them).

    Args:
        x: (N, H, W, C). w: (KH, KW, C, M), M the depth multiplier.
    Returns:
        (N, OH, OW, C*M).
    """
    kh, kw, c, m = w.shape
    out_hw = padded_output_hw(x.shape[1:3], (kh, kw), strides, pads)
    xp = pad(x, pads)
    y = np.zeros((x.shape[0], *out_hw, c, m), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += _depthwise_taps(xp, i, j, strides, out_hw)[..., None] * w[i, j]
    return y.reshape(x.shape[0], *out_hw, c * m)


def depthwise_conv2d_backward_input_reference(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C).

    Args:
        dy: (N, OH, OW, C*M). w: (KH, KW, C, M). x_shape: (N, H, W, C).
    """
    kh, kw, c, m = w.shape
    n, h, wd, _ = x_shape
    top, bottom, left, right = pads
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, m)
    dxp = np.zeros((n, h + top + bottom, wd + left + right, c), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            _depthwise_taps(dxp, i, j, strides, out_hw)[...] += (dy * w[i, j]).sum(axis=-1)
    return np.ascontiguousarray(dxp[:, top:top + h, left:left + wd, :])


def depthwise_conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to w: (KH, KW, C, M).

    Args:
        dy: (N, OH, OW, C*M). x: (N, H, W, C). kernel_hw: (KH, KW).
    """
    n, _, _, c = x.shape
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, dy.shape[3] // c)
    xp = pad(x, pads)
    dw = np.empty((*kernel_hw, c, dy.shape[4]), dtype=dy.dtype)
    for i in range(kernel_hw[0]):
        for j in range(kernel_hw[1]):
            dw[i, j] = np.einsum("nhwc,nhwcm->cm", _depthwise_taps(xp, i, j, strides, out_hw), dy)
    return dw


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("depthwise_conv2d_forward", entry=depthwise_conv2d_forward,
           reference=depthwise_conv2d_forward_reference,
           native=None),
    Kernel("depthwise_conv2d_backward_input", entry=depthwise_conv2d_backward_input,
           reference=depthwise_conv2d_backward_input_reference,
           native=None),
    Kernel("depthwise_conv2d_backward_kernel", entry=depthwise_conv2d_backward_kernel,
           reference=depthwise_conv2d_backward_kernel_reference,
           native=None),
)
