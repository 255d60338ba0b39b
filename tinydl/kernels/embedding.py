"""Embedding gradient, a scatter-add of rows by id: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_ndim
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_elements


# -------------------------------------------------------------- checked entries

def embedding_backward(ids, dy, input_dim):
    """Scatter-add of dy (M, D) rows into dW (input_dim, D) by ids (M,) in [0, input_dim).

    Args:
        As tinydl.kernels.embedding.embedding_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.embedding.embedding_backward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> ids, dy = np.array([1, 0, 1]), np.arange(6.0).reshape(3, 2)      # M = 3 lookups, D = 2
        >>> dw = embedding_backward(ids, dy, 3)

        Row 1 gets the gradients of lookups 0 and 2, row 0 that of lookup 1, row 2 nothing:

        >>> dw
        array([[2., 3.],
               [4., 6.],
               [0., 0.]])
        >>> embedding_backward(np.array([1, 0, 3]), dy, 3)
        Traceback (most recent call last):
        ...
        ValueError: embedding_backward: ids must be in [0, input_dim=3)
    """
    where = "embedding_backward"
    (dy,) = float_arrays(where, dy=dy)
    ids = np.asarray(ids)
    check_ndim(where, "dy", dy, 2, "(M, D)")
    if ids.dtype.kind not in "iu" or ids.shape != dy.shape[:1]:
        raise ValueError(f"{where}: ids must be integers of shape ({dy.shape[0]},), got "
                         f"{ids.dtype} {ids.shape}")
    input_dim = int(input_dim)
    check_elements(where, output=(input_dim, dy.shape[1]))
    if input_dim < 1 or (ids.size and (ids.min() < 0 or ids.max() >= input_dim)):
        raise ValueError(f"{where}: ids must be in [0, input_dim={input_dim})")
    return _dispatch.run(where, np.ascontiguousarray(ids, dtype=np.int64), dy, input_dim)


# ------------------------------------------------------------ reference (NumPy)

def embedding_backward_reference(ids, dy, input_dim):
    """Gradient of an embedding lookup: dW (input_dim, D) with dW[ids[m]] += dy[m], m in order.

    Args:
        ids: int64 (M,), each in [0, input_dim). dy: (M, D), the gradient of the looked-up rows.

    Example:
        >>> ids, dy = np.array([1, 0, 1]), np.arange(6.0).reshape(3, 2)      # M = 3 lookups, D = 2
        >>> dw = embedding_backward_reference(ids, dy, 3)

        Row 1 gets the gradients of lookups 0 and 2, row 0 that of lookup 1, row 2 nothing:

        >>> dw
        array([[2., 3.],
               [4., 6.],
               [0., 0.]])
    """
    dw = np.zeros((input_dim, dy.shape[1]), dtype=dy.dtype)
    np.add.at(dw, ids, dy)
    return dw


# ------------------------------------------- native (C, through tinydl._native)

def embedding_backward_native(ids, dy, input_dim):
    """ids int64 (M,), dy (M, D) -> dW (input_dim, D), rows scatter-added by id.

    Args:
        As tinydl.kernels.embedding.embedding_backward_reference,
        already checked and made C-contiguous by tinydl.backend.embedding_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.embedding.embedding_backward_reference
        (its result, to rounding).

    Example:
        >>> ids, dy = np.array([1, 0, 1]), np.arange(6.0).reshape(3, 2)      # M = 3 lookups, D = 2
        >>> dw = embedding_backward_native(ids, dy, 3)

        Row 1 gets the gradients of lookups 0 and 2, row 0 that of lookup 1, row 2 nothing:

        >>> dw
        array([[2., 3.],
               [4., 6.],
               [0., 0.]])
    """
    if dy.size == 0:
        return embedding_backward_reference(ids, dy, input_dim)
    dw = np.zeros((input_dim, dy.shape[1]), dtype=dy.dtype)
    _ext.embedding_backward(ids, dy, dw)
    return dw


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("embedding_backward", entry=embedding_backward,
           reference=embedding_backward_reference,
           native=embedding_backward_native),
)
