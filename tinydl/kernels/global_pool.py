"""Global average and max pooling over the middle axis of x (N, S, C): the S steps of a
sequence, or the H*W pixels of an NHWC image. Forward and backward: checks, reference, native.
"""

from __future__ import annotations

import operator

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import check_ndim, check_shape, float_arrays
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_elements


# -------------------------------------------------------------- checked entries

def _check_x_shape(where: str, x) -> None:
    """x (an array float_arrays returned) is (N, S, C) with no empty axis."""
    check_ndim(where, "x", x, 3, "(N, S, C)")
    if 0 in x.shape:
        raise ValueError(f"{where}: x must have at least one sample, step and channel, "
                         f"got shape {x.shape}")


def _check_x(where: str, x) -> np.ndarray:
    (x,) = float_arrays(where, x=x)
    _check_x_shape(where, x)
    return x


def global_avg_pool(x):
    """The mean of x (N, S, C) over its S steps: (N, C).

    Args:
        As tinydl.kernels.global_pool.global_avg_pool_reference; here x is checked (float
        dtype, 3 dimensions, none empty) before any kernel runs.

    Returns:
        As tinydl.kernels.global_pool.global_avg_pool_reference, computed by the backend in
        use (get_backend()).

    Raises:
        ValueError: x is not (N, S, C), or has an empty dimension.
        TypeError: x is not float32 or float64.

    Example:
        >>> global_avg_pool(np.arange(6.0).reshape(1, 3, 2))
        array([[2., 3.]])
        >>> global_avg_pool(np.ones((2, 0, 3)))
        Traceback (most recent call last):
        ...
        ValueError: global_avg_pool: x must have at least one sample, step and channel, got shape (2, 0, 3)
    """
    return _dispatch.run("global_avg_pool", _check_x("global_avg_pool", x))


def global_avg_pool_backward(dy, steps):
    """The gradient of global_avg_pool for x of `steps` steps: dy (N, C) -> dx (N, steps, C).

    Args:
        As tinydl.kernels.global_pool.global_avg_pool_backward_reference; dy and steps are
        checked first.

    Returns:
        As tinydl.kernels.global_pool.global_avg_pool_backward_reference, computed by the
        backend in use.

    Raises:
        ValueError: dy is not (N, C) with N, C >= 1, or steps is not an integer >= 1.
        TypeError: dy is not float32 or float64.

    Example:
        >>> global_avg_pool_backward(np.array([[3.0, 6.0]]), 3)[0]
        array([[1., 2.],
               [1., 2.],
               [1., 2.]])
    """
    (dy,) = float_arrays("global_avg_pool_backward", dy=dy)
    check_ndim("global_avg_pool_backward", "dy", dy, 2, "(N, C)")
    try:
        steps = operator.index(steps)
    except TypeError:
        raise TypeError(f"global_avg_pool_backward: steps must be an integer, "
                        f"got {type(steps).__name__}") from None
    if steps < 1 or 0 in dy.shape:
        raise ValueError(f"global_avg_pool_backward: steps must be >= 1 and dy (N, C) not "
                         f"empty, got steps={steps}, dy {dy.shape}")
    check_elements("global_avg_pool_backward", dx=(dy.shape[0], steps, dy.shape[1]))
    return _dispatch.run("global_avg_pool_backward", dy, steps)


def global_max_pool(x):
    """The max of x (N, S, C) over its S steps: (N, C); a NaN wins, as in np.max.

    Args:
        As tinydl.kernels.global_pool.global_max_pool_reference; x is checked first.

    Returns:
        As tinydl.kernels.global_pool.global_max_pool_reference, computed by the backend in
        use.

    Raises:
        ValueError: x is not (N, S, C), or has an empty dimension.
        TypeError: x is not float32 or float64.

    Example:
        >>> global_max_pool(np.array([[[1.0, 5.0], [4.0, 2.0]]]))
        array([[4., 5.]])
    """
    return _dispatch.run("global_max_pool", _check_x("global_max_pool", x))


def global_max_pool_backward(x, y, dy):
    """The gradient of global_max_pool: dx (N, S, C) from its input x, output y and dy (N, C).

    Args:
        As tinydl.kernels.global_pool.global_max_pool_backward_reference; every argument is
        checked first.

    Returns:
        As tinydl.kernels.global_pool.global_max_pool_backward_reference, computed by the
        backend in use.

    Raises:
        ValueError: shapes that do not fit: x (N, S, C), y and dy (N, C).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> x = np.array([[[1.0, 5.0], [4.0, 5.0]]])
        >>> global_max_pool_backward(x, np.array([[4.0, 5.0]]), np.array([[1.0, 1.0]]))
        array([[[0. , 0.5],
                [1. , 0.5]]])
    """
    x, y, dy = float_arrays("global_max_pool_backward", x=x, y=y, dy=dy)
    _check_x_shape("global_max_pool_backward", x)
    check_shape("global_max_pool_backward", "y", y, (x.shape[0], x.shape[2]))
    check_shape("global_max_pool_backward", "dy", dy, (x.shape[0], x.shape[2]))
    return _dispatch.run("global_max_pool_backward", x, y, dy)


# ------------------------------------------------------------ reference (NumPy)

def global_avg_pool_reference(x):
    """(N, C): the sum over axis 1 in float64, divided by S, rounded to x's dtype.

    Example:
        >>> global_avg_pool_reference(np.arange(6.0, dtype=np.float32).reshape(1, 3, 2))
        array([[2., 3.]], dtype=float32)
    """
    return (x.sum(axis=1, dtype=np.float64) / x.shape[1]).astype(x.dtype)


def global_avg_pool_backward_reference(dy, steps):
    """(N, steps, C): every step gets dy / steps (divided in dy's dtype).

    Example:
        >>> global_avg_pool_backward_reference(np.array([[2.0]], np.float32), 2).ravel()
        array([1., 1.], dtype=float32)
    """
    share = dy / np.asarray(steps, dtype=dy.dtype)
    return np.ascontiguousarray(np.broadcast_to(share[:, None, :],
                                                (dy.shape[0], steps, dy.shape[1])))


def global_max_pool_reference(x):
    """(N, C): the max over axis 1 (a NaN wins).

    Example:
        >>> global_max_pool_reference(np.array([[[1.0, 5.0], [4.0, 2.0]]]))
        array([[4., 5.]])
    """
    return x.max(axis=1)


def global_max_pool_backward_reference(x, y, dy):
    """(N, S, C): winner * (dy / count), winner = (x == y), count the winners of each (n, c):
    ties share the gradient equally (the gradient of tinydl.ops.reduce.Max). A column whose
    max is NaN has no winner, and gets NaN.

    Example:
        >>> x = np.array([[[1.0, 5.0], [4.0, 5.0]]])
        >>> global_max_pool_backward_reference(x, np.array([[4.0, 5.0]]), np.ones((1, 2)))
        array([[[0. , 0.5],
                [1. , 0.5]]])
    """
    winners = x == y[:, None, :]
    count = winners.sum(axis=1, keepdims=True).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return winners * (dy[:, None, :] / count)


# ------------------------------------------- native (C, through tinydl._native)

def global_avg_pool_native(x):
    """As global_avg_pool_reference (the sum in double, steps in order; one task per sample).

    Example:
        >>> global_avg_pool_native(np.arange(6.0).reshape(1, 3, 2))
        array([[2., 3.]])
    """
    y = np.empty((x.shape[0], x.shape[2]), dtype=x.dtype)
    _ext.global_pool(x, y, False)
    return y


def global_avg_pool_backward_native(dy, steps):
    """As global_avg_pool_backward_reference (the same bits).

    Example:
        >>> global_avg_pool_backward_native(np.array([[2.0]]), 2).ravel()
        array([1., 1.])
    """
    dx = np.empty((dy.shape[0], steps, dy.shape[1]), dtype=dy.dtype)
    _ext.global_avg_pool_backward(dy, dx)
    return dx


def global_max_pool_native(x):
    """As global_max_pool_reference (the same bits).

    Example:
        >>> global_max_pool_native(np.array([[[1.0, 5.0], [4.0, 2.0]]]))
        array([[4., 5.]])
    """
    y = np.empty((x.shape[0], x.shape[2]), dtype=x.dtype)
    _ext.global_pool(x, y, True)
    return y


def global_max_pool_backward_native(x, y, dy):
    """As global_max_pool_backward_reference (the same bits).

    Example:
        >>> x = np.array([[[1.0, 5.0], [4.0, 5.0]]])
        >>> global_max_pool_backward_native(x, np.array([[4.0, 5.0]]), np.ones((1, 2)))
        array([[[0. , 0.5],
                [1. , 0.5]]])
    """
    dx = np.empty_like(x)
    _ext.global_max_pool_backward(x, y, dy, dx)
    return dx


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("global_avg_pool", entry=global_avg_pool, reference=global_avg_pool_reference,
           native=global_avg_pool_native),
    Kernel("global_avg_pool_backward", entry=global_avg_pool_backward,
           reference=global_avg_pool_backward_reference,
           native=global_avg_pool_backward_native),
    Kernel("global_max_pool", entry=global_max_pool, reference=global_max_pool_reference,
           native=global_max_pool_native),
    Kernel("global_max_pool_backward", entry=global_max_pool_backward,
           reference=global_max_pool_backward_reference,
           native=global_max_pool_backward_native),
)
