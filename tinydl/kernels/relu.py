"""ReLU, max(x, 0), forward and backward, and add_relu, max(a + b, 0) (a residual block's
Add -> ReLU in one pass), any shape: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_shape
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel


# -------------------------------------------------------------- checked entries

def relu_forward(x):
    """max(x, 0) elementwise, any shape.

    Args:
        As tinydl.kernels.relu.relu_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.relu.relu_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> out = relu_forward(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    (x,) = float_arrays("relu", x=x)
    return _dispatch.run("relu_forward", x)


def relu_backward(y, dy):
    """dy where y > 0, else 0; y and dy of one shape.

    Args:
        As tinydl.kernels.relu.relu_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.relu.relu_backward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
        >>> relu_backward(y, dy[:2])
        Traceback (most recent call last):
        ...
        ValueError: relu_backward: dy must have shape (4,), ...
    """
    y, dy = float_arrays("relu_backward", y=y, dy=dy)
    check_shape("relu_backward", "dy", dy, y.shape)
    return _dispatch.run("relu_backward", y, dy)


def add_relu(a, b):
    """max(a + b, 0) elementwise; a and b of one shape and dtype (no broadcasting).

    Args:
        As tinydl.kernels.relu.add_relu_reference; here both are checked (dtype, shape,
        size) before any kernel runs.

    Returns:
        As tinydl.kernels.relu.add_relu_reference, computed by the backend in use.

    Raises:
        ValueError: b's shape is not a's.
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> add_relu(np.array([1.0, -2.0, 0.5]), np.array([-3.0, 1.0, 0.5]))
        array([0., 0., 1.])
        >>> add_relu(np.ones(3), np.ones(2))
        Traceback (most recent call last):
        ...
        ValueError: add_relu: b must have shape (3,), got (2,)
    """
    a, b = float_arrays("add_relu", a=a, b=b)
    check_shape("add_relu", "b", b, a.shape)
    return _dispatch.run("add_relu", a, b)


# ------------------------------------------------------------ reference (NumPy)

def relu_forward_reference(x):
    """max(x, 0), elementwise. Any shape.

    Example:
        >>> out = relu_forward_reference(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    return np.maximum(x, 0)


def relu_backward_reference(y, dy):
    """dy where the forward output y was positive, else 0. Any shape (y and dy alike).

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward_reference(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
    """
    return np.where(y > 0, dy, 0).astype(dy.dtype, copy=False)


def add_relu_reference(a, b):
    """max(a + b, 0), elementwise: the sum rounded to the dtype, then the ReLU (a NaN stays
    NaN). a and b of one shape.

    Example:
        >>> add_relu_reference(np.array([1.0, -2.0]), np.array([-3.0, 4.0]))
        array([0., 2.])
    """
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN, silently, as in the C kernel
        return np.maximum(a + b, 0)


# ------------------------------------------- native (C, through tinydl._native)

def relu_forward_native(x):
    """max(x, 0): same shape as x.

    Args:
        As tinydl.kernels.relu.relu_forward_reference,
        already checked and made C-contiguous by tinydl.backend.relu_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.relu.relu_forward_reference
        (its result, to rounding).

    Example:
        >>> out = relu_forward_native(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    out = np.empty_like(x)
    if x.size:
        _ext.relu_forward(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward_native(y, dy):
    """dy where y > 0, else 0: same shape as dy.

    Args:
        As tinydl.kernels.relu.relu_backward_reference,
        already checked and made C-contiguous by tinydl.backend.relu_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.relu.relu_backward_reference
        (its result, to rounding).

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward_native(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
    """
    dx = np.empty_like(dy)
    if dy.size:
        _ext.relu_backward(y.reshape(-1), dy.reshape(-1), dx.reshape(-1))
    return dx


def add_relu_native(a, b):
    """max(a + b, 0) in one pass over a, b and the output: same shape as a.

    Args:
        As tinydl.kernels.relu.add_relu_reference, already checked and made C-contiguous.

    Returns:
        As tinydl.kernels.relu.add_relu_reference (the same bits).

    Example:
        >>> add_relu_native(np.array([1.0, -2.0]), np.array([-3.0, 4.0]))
        array([0., 2.])
    """
    out = np.empty_like(a)
    if a.size:
        _ext.add_relu(a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("relu_forward", entry=relu_forward,
           reference=relu_forward_reference,
           native=relu_forward_native),
    Kernel("relu_backward", entry=relu_backward,
           reference=relu_backward_reference,
           native=relu_backward_native),
    Kernel("add_relu", entry=add_relu,
           reference=add_relu_reference,
           native=add_relu_native),
)
