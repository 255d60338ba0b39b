"""Depthwise 2-D convolution (N, H, W, C) x (KH, KW, C, M): its checks, NumPy reference and native twin.

One kernel family in one module: the checked entries (tinydl.backend.depthwise_conv2d_*, what
the C kernels rely on), the reference (`*_reference`, gathered by tinydl.kernels.reference
under the kernel names) and the native twin (`*_native`, gathered by tinydl.kernels.native),
which hands the arrays to csrc/depthwise.c. Both twins take the same arguments:

    forward(x (N, H, W, C), w (KH, KW, C, M), strides (SH, SW), pads (top, bottom, left, right))
        -> y (N, OH, OW, C*M)
    backward_input(dy (N, OH, OW, C*M), w, x_shape, strides, pads) -> dx (N, H, W, C)
    backward_kernel(dy, x, kernel_hw (KH, KW), strides, pads) -> dw (KH, KW, C, M)
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import (
    float_arrays, check_ndim, check_shape, check_window, check_image_shape, conv_output_shape)
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.shapes import padded_output_hw


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
    tinydl.kernels.depthwise.depthwise_conv2d_forward_reference.

    Args:
        As tinydl.kernels.depthwise.depthwise_conv2d_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.depthwise.depthwise_conv2d_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> windows = sliding_window_view(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), (3, 3), axis=(1, 2))[:, ::2, ::2]
        >>> expected = np.einsum("nhwcij,ijcm->nhwcm", windows, w).reshape(2, 3, 3, 6)     # channel c*M + m
        >>> y.shape, bool(np.allclose(y, expected))
        ((2, 3, 3, 6), True)
        >>> depthwise_conv2d_forward(x, w[:, :, :2], (2, 2), (1, 1, 1, 1))
        Traceback (most recent call last):
        ...
        ValueError: depthwise_conv2d: the kernel (3, 3, 2, 2) (KH, KW, C, M) expects C=2 input channels, but ...
    """
    where = "depthwise_conv2d"
    x, w = float_arrays(where, x=x, w=w)
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    _depthwise_checks(where, x.shape, w, strides, pads)
    return _dispatch.run("depthwise_conv2d_forward", x, w, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_input(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C).

    Args:
        As tinydl.kernels.depthwise.depthwise_conv2d_backward_input_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.depthwise.depthwise_conv2d_backward_input_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dx = depthwise_conv2d_backward_input(dy, w, x.shape, (2, 2), (1, 1, 1, 1))

        The adjoint of the forward: <depthwise(x), dy> = <x, dx>.

        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    where = "depthwise_conv2d_backward_input"
    dy, w = float_arrays(where, dy=dy, w=w)
    x_shape = check_image_shape(where, x_shape)
    check_shape(where, "dy", dy, _depthwise_checks(where, x_shape, w, strides, pads))
    return _dispatch.run(where, dy, w, x_shape, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_kernel(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to its kernel: (KH, KW, C, M).

    Args:
        As tinydl.kernels.depthwise.depthwise_conv2d_backward_kernel_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.depthwise.depthwise_conv2d_backward_kernel_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dw = depthwise_conv2d_backward_kernel(dy, x, (3, 3), (2, 2), (1, 1, 1, 1))

        Linear in w: <depthwise(x, w), dy> = <w, dw>.

        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum()))
        ((3, 3, 3, 2), True)
    """
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


# ----------------------------------------------------------------------------- reference


def _pad(x, pads):
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))) if any(pads) else x


def _taps(xp, i, j, strides, out_hw):
    """The input pixels kernel tap (i, j) meets at every output position: (N, OH, OW, C)."""
    (sh, sw), (oh, ow) = strides, out_hw
    return xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]


def depthwise_conv2d_forward_reference(x, w, strides, pads):
    """Depthwise convolution: each input channel c is convolved with its own M filters.

    y[n, oh, ow, c*M + m] = sum_{i, j} xp[n, oh*SH + i, ow*SW + j, c] * w[i, j, c, m]
    (xp is x padded by pads). One vectorized multiply-add per kernel tap (KH*KW of them).

    Args:
        x: (N, H, W, C). w: (KH, KW, C, M), M the depth multiplier.
        strides: (SH, SW). pads: (top, bottom, left, right).

    Returns:
        (N, OH, OW, C*M).

    Example:
        >>> x, w = np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1))
        >>> depthwise_conv2d_forward_reference(x, w, (1, 1), (0, 0, 0, 0))[0, :, :, 0]
        array([[4., 4.],
               [4., 4.]])
    """
    kh, kw, c, m = w.shape
    out_hw = padded_output_hw(x.shape[1:3], (kh, kw), strides, pads)
    xp = _pad(x, pads)
    y = np.zeros((x.shape[0], *out_hw, c, m), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += _taps(xp, i, j, strides, out_hw)[..., None] * w[i, j]
    return y.reshape(x.shape[0], *out_hw, c * m)


def depthwise_conv2d_backward_input_reference(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C).

    Args:
        dy: (N, OH, OW, C*M). w: (KH, KW, C, M). x_shape: (N, H, W, C).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dx = depthwise_conv2d_backward_input_reference(dy, w, x.shape, (2, 2), (1, 1, 1, 1))
        >>> y = depthwise_conv2d_forward_reference(x, w, (2, 2), (1, 1, 1, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))   # the adjoint of the forward
        ((2, 5, 5, 3), True)
    """
    kh, kw, c, m = w.shape
    n, h, wd, _ = x_shape
    top, bottom, left, right = pads
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, m)
    dxp = np.zeros((n, h + top + bottom, wd + left + right, c), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            _taps(dxp, i, j, strides, out_hw)[...] += (dy * w[i, j]).sum(axis=-1)
    return np.ascontiguousarray(dxp[:, top:top + h, left:left + wd, :])


def depthwise_conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to w: (KH, KW, C, M).

    Args:
        dy: (N, OH, OW, C*M). x: (N, H, W, C). kernel_hw: (KH, KW).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dw = depthwise_conv2d_backward_kernel_reference(dy, x, (3, 3), (2, 2), (1, 1, 1, 1))
        >>> y = depthwise_conv2d_forward_reference(x, w, (2, 2), (1, 1, 1, 1))
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum()))   # the forward is linear in w
        ((3, 3, 3, 2), True)
    """
    n, _, _, c = x.shape
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, dy.shape[3] // c)
    xp = _pad(x, pads)
    dw = np.empty((*kernel_hw, c, dy.shape[4]), dtype=dy.dtype)
    for i in range(kernel_hw[0]):
        for j in range(kernel_hw[1]):
            dw[i, j] = np.einsum("nhwc,nhwcm->cm", _taps(xp, i, j, strides, out_hw), dy)
    return dw


# ----------------------------------------------------------------------------- native
# Arguments arrive checked and C-contiguous (tinydl.backend); these allocate the outputs and
# call csrc/depthwise.c through tinydl._native. Empty arrays never reach C.


def _top_left(pads) -> tuple:
    return int(pads[0]), int(pads[2])


def depthwise_conv2d_forward_native(x, w, strides, pads):
    """As depthwise_conv2d_forward_reference, in C (tdl_depthwise_*_forward).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = rng.normal(size=(2, 6, 5, 3)).astype(np.float32)
        >>> w = rng.normal(size=(3, 2, 3, 2)).astype(np.float32)
        >>> mine = depthwise_conv2d_forward_native(x, w, (2, 1), (1, 1, 0, 1))
        >>> bool(np.allclose(mine, depthwise_conv2d_forward_reference(x, w, (2, 1), (1, 1, 0, 1)), atol=1e-4))
        True
    """
    kh, kw, c, m = w.shape
    out_hw = padded_output_hw(x.shape[1:3], (kh, kw), strides, pads)
    if x.size == 0 or w.size == 0 or 0 in out_hw:
        return depthwise_conv2d_forward_reference(x, w, strides, pads)
    y = np.empty((x.shape[0], *out_hw, c * m), dtype=x.dtype)
    _ext.depthwise_forward(x, w, y, tuple(int(s) for s in strides), _top_left(pads))
    return y


def depthwise_conv2d_backward_input_native(dy, w, x_shape, strides, pads):
    """As depthwise_conv2d_backward_input_reference, in C (tdl_depthwise_*_backward_input).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> w, dy = rng.normal(size=(3, 3, 2, 2)).astype(np.float32), rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
        >>> mine = depthwise_conv2d_backward_input_native(dy, w, (1, 4, 4, 2), (1, 1), (0, 0, 0, 0))
        >>> bool(np.allclose(mine, depthwise_conv2d_backward_input_reference(dy, w, (1, 4, 4, 2), (1, 1), (0, 0, 0, 0)),
        ...                  atol=1e-4))
        True
    """
    if dy.size == 0 or w.size == 0 or 0 in x_shape:
        return depthwise_conv2d_backward_input_reference(dy, w, x_shape, strides, pads)
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    _ext.depthwise_backward_input(dy, w, dx, tuple(int(s) for s in strides), _top_left(pads))
    return dx


def depthwise_conv2d_backward_kernel_native(dy, x, kernel_hw, strides, pads):
    """As depthwise_conv2d_backward_kernel_reference, in C (tdl_depthwise_*_backward_kernel).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x, dy = rng.normal(size=(1, 4, 4, 2)).astype(np.float32), rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
        >>> mine = depthwise_conv2d_backward_kernel_native(dy, x, (3, 3), (1, 1), (0, 0, 0, 0))
        >>> bool(np.allclose(mine, depthwise_conv2d_backward_kernel_reference(dy, x, (3, 3), (1, 1), (0, 0, 0, 0)),
        ...                  atol=1e-4))
        True
    """
    if dy.size == 0 or x.size == 0:
        return depthwise_conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads)
    c = x.shape[3]
    dw = np.empty((*kernel_hw, c, dy.shape[3] // c), dtype=dy.dtype)
    _ext.depthwise_backward_kernel(dy, x, dw, tuple(int(s) for s in strides),
                                      _top_left(pads))
    return dw


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("depthwise_conv2d_forward", entry=depthwise_conv2d_forward,
           reference=depthwise_conv2d_forward_reference,
           native=depthwise_conv2d_forward_native),
    Kernel("depthwise_conv2d_backward_input", entry=depthwise_conv2d_backward_input,
           reference=depthwise_conv2d_backward_input_reference,
           native=depthwise_conv2d_backward_input_native),
    Kernel("depthwise_conv2d_backward_kernel", entry=depthwise_conv2d_backward_kernel,
           reference=depthwise_conv2d_backward_kernel_reference,
           native=depthwise_conv2d_backward_kernel_native),
)
