"""ReLU, max(x, 0), forward and backward, any shape: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_shape
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel


# -------------------------------------------------------------- checked entries

def relu_forward(x):
    """max(x, 0) elementwise, any shape."""
    (x,) = float_arrays("relu", x=x)
    return _dispatch.run("relu_forward", x)


def relu_backward(y, dy):
    """dy where y > 0, else 0; y and dy of one shape."""
    y, dy = float_arrays("relu_backward", y=y, dy=dy)
    check_shape("relu_backward", "dy", dy, y.shape)
    return _dispatch.run("relu_backward", y, dy)


# ------------------------------------------------------------ reference (NumPy)

def relu_forward_reference(x):
    """max(x, 0), elementwise. Any shape."""
    return np.maximum(x, 0)


def relu_backward_reference(y, dy):
    """dy where the forward output y was positive, else 0. Any shape (y and dy alike)."""
    return np.where(y > 0, dy, 0).astype(dy.dtype, copy=False)


# ------------------------------------------- native (C, through tinydl._native)

def relu_forward_native(x):
    """max(x, 0): same shape as x."""
    out = np.empty_like(x)
    if x.size:
        _ext.relu_forward(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward_native(y, dy):
    """dy where y > 0, else 0: same shape as dy."""
    dx = np.empty_like(dy)
    if dy.size:
        _ext.relu_backward(y.reshape(-1), dy.reshape(-1), dx.reshape(-1))
    return dx


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("relu_forward", entry=relu_forward,
           reference=relu_forward_reference,
           native=relu_forward_native),
    Kernel("relu_backward", entry=relu_backward,
           reference=relu_backward_reference,
           native=relu_backward_native),
)
