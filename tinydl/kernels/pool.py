"""Max and average 2-D pooling over NHWC windows: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import (
    remember_argmax, argmax_in_range, float_arrays, check_ndim, check_shape, check_window,
    check_image_shape, conv_output_shape)
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_argmax_plane, check_elements
from tinydl.kernels.shapes import padded_output_hw
from tinydl.kernels.windows import col2im, pad, windows


# -------------------------------------------------------------- checked entries

def _pool_checks(where, x, pool, strides, pads):
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    check_window(where, x.shape[1:3], pool, strides, pads)
    if pads[0] >= pool[0] or pads[1] >= pool[0] or pads[2] >= pool[1] or pads[3] >= pool[1]:
        raise ValueError(f"{where}: pads {tuple(pads)} must be smaller than the window {tuple(pool)}")
    check_elements(where, output=conv_output_shape(x.shape, pool, strides, pads, x.shape[3]))


def max_pool2d_forward(x, pool, strides, pads):
    """Max pooling: (y (N, OH, OW, C), argmax int32 (N, OH, OW, C)).

    Args:
        As tinydl.kernels.pool.max_pool2d_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.pool.max_pool2d_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
        >>> max_pool2d_forward(x, (2, 2), (2, 2), (2, 0, 0, 0))
        Traceback (most recent call last):
        ...
        ValueError: max_pool2d: pads (2, 0, 0, 0) must be smaller than the window (2, 2)
    """
    (x,) = float_arrays("max_pool2d", x=x)
    _pool_checks("max_pool2d", x, pool, strides, pads)
    check_argmax_plane("max_pool2d", "the input", x.shape[1:3])
    y, argmax = _dispatch.run("max_pool2d_forward", x, tuple(pool), tuple(strides), tuple(pads))
    return y, remember_argmax(argmax, x.shape[1] * x.shape[2])


def max_pool2d_backward(dy, argmax, x_shape):
    """Gradient of max pooling: (N, H, W, C).

    Args:
        As tinydl.kernels.pool.max_pool2d_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.pool.max_pool2d_backward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
        >>> max_pool2d_backward(dy, argmax.astype(np.int64), x.shape)
        Traceback (most recent call last):
        ...
        ValueError: max_pool2d_backward: argmax must be int32 of shape (2, 2, 3, 3), got int64 (2, 2, 3, 3)
    """
    (dy,) = float_arrays("max_pool2d_backward", dy=dy)
    argmax = np.asarray(argmax)
    if argmax.dtype != np.int32 or argmax.shape != dy.shape:
        raise ValueError(f"max_pool2d_backward: argmax must be int32 of shape {dy.shape}, "
                         f"got {argmax.dtype} {argmax.shape}")
    x_shape = check_image_shape("max_pool2d_backward", x_shape)
    check_ndim("max_pool2d_backward", "dy", dy, 4, "(N, OH, OW, C)")
    if (x_shape[0], x_shape[3]) != (dy.shape[0], dy.shape[3]):
        raise ValueError(f"max_pool2d_backward: x_shape {x_shape} and dy {dy.shape} must agree "
                         "in batch size N and channels C")
    check_argmax_plane("max_pool2d_backward", "the input", x_shape[1:3])
    if not argmax_in_range(argmax, x_shape[1] * x_shape[2]):
        raise ValueError("max_pool2d_backward: argmax holds indices outside the input plane")
    return _dispatch.run("max_pool2d_backward", dy, np.ascontiguousarray(argmax), x_shape)


def avg_pool2d_forward(x, pool, strides, pads):
    """Average pooling (padding not counted): (N, OH, OW, C).

    Args:
        As tinydl.kernels.pool.avg_pool2d_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.pool.avg_pool2d_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))

        Padding is not counted: the last window holds one real input, x[0, 2, 2].

        >>> y[0, :, :, 0]
        array([[2. , 3.5],
               [6.5, 8. ]])
        >>> float(x[0, :2, :2, 0].mean())
        2.0
    """
    (x,) = float_arrays("avg_pool2d", x=x)
    _pool_checks("avg_pool2d", x, pool, strides, pads)
    return _dispatch.run("avg_pool2d_forward", x, tuple(pool), tuple(strides), tuple(pads))


def avg_pool2d_backward(dy, x_shape, pool, strides, pads):
    """Gradient of average pooling: (N, H, W, C).

    Args:
        As tinydl.kernels.pool.avg_pool2d_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.pool.avg_pool2d_backward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 5, 3))
        >>> dy = rng.normal(size=(2, 3, 3, 3))
        >>> dx = avg_pool2d_backward(dy, x.shape, (2, 2), (2, 2), (0, 1, 0, 1))

        The adjoint of the (linear) forward: <avg_pool(x), dy> = <x, dx>.

        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    (dy,) = float_arrays("avg_pool2d_backward", dy=dy)
    x_shape = check_image_shape("avg_pool2d_backward", x_shape)
    check_window("avg_pool2d_backward", x_shape[1:3], pool, strides, pads)
    check_shape("avg_pool2d_backward", "dy", dy,
                 conv_output_shape(x_shape, pool, strides, pads, x_shape[3]))
    return _dispatch.run("avg_pool2d_backward", dy, x_shape, tuple(pool), tuple(strides), tuple(pads))


# ------------------------------------------------------------ reference (NumPy)

def max_pool2d_forward_reference(x, pool, strides, pads):
    """Max pooling. Padded positions never win (they hold -inf).

    Args:
        x: (N, H, W, C).
    Returns:
        (y, argmax): y (N, OH, OW, C); argmax int32 (N, OH, OW, C), the flat index h*W + w
        in x's plane of the element that won.
    Raises:
        ValueError: H*W > 2**31, more pixels than an int32 argmax can index.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward_reference(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
    """
    n, h, w, c = x.shape
    check_argmax_plane("max_pool2d", "the input", (h, w))  # the int32 below must not wrap
    out_hw = padded_output_hw((h, w), pool, strides, pads)
    win = windows(pad(x, pads, -np.inf), pool, strides, out_hw)   # (N, OH, OW, KH, KW, C)
    win = win.reshape(n, out_hw[0], out_hw[1], pool[0] * pool[1], c)
    local = win.argmax(axis=3)                                       # (N, OH, OW, C)
    y = np.take_along_axis(win, local[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    # local index -> row and column in x
    oh_idx = np.arange(out_hw[0])[None, :, None, None]
    ow_idx = np.arange(out_hw[1])[None, None, :, None]
    row = oh_idx * strides[0] - pads[0] + local // pool[1]
    col = ow_idx * strides[1] - pads[2] + local % pool[1]
    return np.ascontiguousarray(y), (row * w + col).astype(np.int32)


def max_pool2d_backward_reference(dy, argmax, x_shape):
    """Send each output gradient back to the input element that won its window.

    Args:
        dy: (N, OH, OW, C). argmax: int32 (N, OH, OW, C) from max_pool2d_forward.
    Returns:
        dx: (N, H, W, C); overlapping windows add up.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward_reference(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
    """
    n, h, w, c = x_shape
    dx = np.zeros((n, h * w, c), dtype=dy.dtype)
    batch = np.arange(n)[:, None, None, None]
    chan = np.arange(c)[None, None, None, :]
    np.add.at(dx, (np.broadcast_to(batch, dy.shape), argmax, np.broadcast_to(chan, dy.shape)), dy)
    return dx.reshape(x_shape)


def _avg_counts(x_shape, pool, strides, pads, dtype):
    """How many real (unpadded) inputs each window covers: (1, OH, OW, 1)."""
    ones = np.ones((1, x_shape[1], x_shape[2], 1), dtype=dtype)
    out_hw = padded_output_hw(x_shape[1:3], pool, strides, pads)
    return windows(pad(ones, pads), pool, strides, out_hw).sum(axis=(3, 4))


def avg_pool2d_forward_reference(x, pool, strides, pads):
    """Average pooling over the real inputs of each window (padding is not counted, as in Keras).

    Args:
        x: (N, H, W, C).
    Returns:
        (N, OH, OW, C).

    Example:
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> y = avg_pool2d_forward_reference(x, (2, 2), (2, 2), (0, 1, 0, 1))

        Padding is not counted: the last window holds one real input, x[0, 2, 2].

        >>> y[0, :, :, 0]
        array([[2. , 3.5],
               [6.5, 8. ]])
        >>> float(x[0, :2, :2, 0].mean())
        2.0
    """
    out_hw = padded_output_hw(x.shape[1:3], pool, strides, pads)
    sums = windows(pad(x, pads), pool, strides, out_hw).sum(axis=(3, 4))
    return sums / _avg_counts(x.shape, pool, strides, pads, x.dtype)


def avg_pool2d_backward_reference(dy, x_shape, pool, strides, pads):
    """Spread each output gradient evenly over the real inputs of its window.

    Args:
        dy: (N, OH, OW, C).
    Returns:
        dx: (N, H, W, C).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 5, 3))
        >>> dy = rng.normal(size=(2, 3, 3, 3))
        >>> dx = avg_pool2d_backward_reference(dy, x.shape, (2, 2), (2, 2), (0, 1, 0, 1))

        The adjoint of the (linear) forward: <avg_pool(x), dy> = <x, dx>.

        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    share = dy / _avg_counts(x_shape, pool, strides, pads, dy.dtype)
    n, oh, ow, c = dy.shape
    cols = np.broadcast_to(share[:, :, :, None, None, :], (n, oh, ow, pool[0], pool[1], c))
    return col2im(np.ascontiguousarray(cols), x_shape, pool, strides, pads)


# ------------------------------------------- native (C, through tinydl._native)

def max_pool2d_forward_native(x, pool, strides, pads):
    """x (N, H, W, C) -> (y (N, OH, OW, C), argmax int32 (N, OH, OW, C), flat h*W + w).

    Args:
        As tinydl.kernels.pool.max_pool2d_forward_reference,
        already checked and made C-contiguous by tinydl.backend.max_pool2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.pool.max_pool2d_forward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward_native(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
    """
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return max_pool2d_forward_reference(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int32)
    _ext.max_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y, argmax)
    return y, argmax


def max_pool2d_backward_native(dy, argmax, x_shape):
    """dy and argmax (N, OH, OW, C) -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.pool.max_pool2d_backward_reference,
        already checked and made C-contiguous by tinydl.backend.max_pool2d_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.pool.max_pool2d_backward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward_native(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
    """
    if dy.size == 0 or 0 in x_shape:
        return max_pool2d_backward_reference(dy, argmax, x_shape)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.max_pool2d_backward(dy, argmax, dx)
    return dx


def avg_pool2d_forward_native(x, pool, strides, pads):
    """x (N, H, W, C) -> (N, OH, OW, C), padding not counted.

    Args:
        As tinydl.kernels.pool.avg_pool2d_forward_reference,
        already checked and made C-contiguous by tinydl.backend.avg_pool2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.pool.avg_pool2d_forward_reference
        (its result, to rounding).

    Example:
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> y = avg_pool2d_forward_native(x, (2, 2), (2, 2), (0, 1, 0, 1))

        Padding is not counted: the last window holds one real input, x[0, 2, 2].

        >>> y[0, :, :, 0]
        array([[2. , 3.5],
               [6.5, 8. ]])
        >>> float(x[0, :2, :2, 0].mean())
        2.0
    """
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return avg_pool2d_forward_reference(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    _ext.avg_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y)
    return y


def avg_pool2d_backward_native(dy, x_shape, pool, strides, pads):
    """dy (N, OH, OW, C) -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.pool.avg_pool2d_backward_reference,
        already checked and made C-contiguous by tinydl.backend.avg_pool2d_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.pool.avg_pool2d_backward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 5, 3))
        >>> dy = rng.normal(size=(2, 3, 3, 3))
        >>> dx = avg_pool2d_backward_native(dy, x.shape, (2, 2), (2, 2), (0, 1, 0, 1))

        The adjoint of the (linear) forward: <avg_pool(x), dy> = <x, dx>.

        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    if dy.size == 0 or 0 in x_shape:
        return avg_pool2d_backward_reference(dy, x_shape, pool, strides, pads)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.avg_pool2d_backward(dy, tuple(pool), tuple(strides), tuple(pads), dx)
    return dx


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("max_pool2d_forward", entry=max_pool2d_forward,
           reference=max_pool2d_forward_reference,
           native=max_pool2d_forward_native),
    Kernel("max_pool2d_backward", entry=max_pool2d_backward,
           reference=max_pool2d_backward_reference,
           native=max_pool2d_backward_native),
    Kernel("avg_pool2d_forward", entry=avg_pool2d_forward,
           reference=avg_pool2d_forward_reference,
           native=avg_pool2d_forward_native),
    Kernel("avg_pool2d_backward", entry=avg_pool2d_backward,
           reference=avg_pool2d_backward_reference,
           native=avg_pool2d_backward_native),
)
