"""Embedding lookup, a gather of rows by id, and its gradient, a scatter-add of rows by id:
checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_ndim
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_elements


# -------------------------------------------------------------- checked entries

def _check_ids(where: str, ids, count, rows: int) -> np.ndarray:
    """ids as contiguous int64 of shape (count,) (any length for None), each in [0, rows)
    (C indexes with them)."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu" or ids.ndim != 1 or count not in (None, ids.shape[0]):
        raise ValueError(f"{where}: ids must be integers of shape "
                         f"({'M' if count is None else count},), got {ids.dtype} {ids.shape}")
    ids = np.ascontiguousarray(ids, dtype=np.int64)  # (uint64 ids above 2**63 refused below)
    # one pass: seen as uint64, a negative id is >= 2**63, so max() catches both ends
    if rows < 1 or (ids.size and int(ids.view(np.uint64).max()) >= rows):
        raise ValueError(f"{where}: ids must be in [0, input_dim={rows})")
    return ids


def embedding_forward(table, ids):
    """The lookup: rows of table (V, D) by ids (M,) in [0, V): (M, D).

    Args:
        As tinydl.kernels.embedding.embedding_forward_reference; table and ids are checked
        (dtype, shapes, the ids' range) before any kernel runs.

    Returns:
        As tinydl.kernels.embedding.embedding_forward_reference, computed by the backend in
        use (get_backend()).

    Raises:
        ValueError: table is not (V, D), ids not integers of shape (M,) in [0, V).
        TypeError: table is not float32 or float64.

    Example:
        >>> embedding_forward(np.arange(6.0).reshape(3, 2), np.array([2, 0, 2]))
        array([[4., 5.],
               [0., 1.],
               [4., 5.]])
        >>> embedding_forward(np.ones((3, 2)), np.array([3]))
        Traceback (most recent call last):
        ...
        ValueError: embedding_forward: ids must be in [0, input_dim=3)
    """
    where = "embedding_forward"
    (table,) = float_arrays(where, table=table)
    check_ndim(where, "table", table, 2, "(V, D)")
    ids = _check_ids(where, ids, None, table.shape[0])
    return _dispatch.run(where, table, ids)


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
    check_ndim(where, "dy", dy, 2, "(M, D)")
    input_dim = int(input_dim)
    check_elements(where, output=(input_dim, dy.shape[1]))
    ids = _check_ids(where, ids, dy.shape[0], input_dim)
    return _dispatch.run(where, ids, dy, input_dim)


# ------------------------------------------------------------ reference (NumPy)

def embedding_forward_reference(table, ids):
    """table[ids]: (M, D), row m a copy of row ids[m]. ids int64 (M,), each in [0, V).

    Example:
        >>> embedding_forward_reference(np.arange(6.0).reshape(3, 2), np.array([2, 0]))
        array([[4., 5.],
               [0., 1.]])
    """
    return np.take(table, ids, axis=0)


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

def embedding_forward_native(table, ids):
    """As embedding_forward_reference (row copies; ranges of rows in parallel).

    Example:
        >>> embedding_forward_native(np.arange(6.0).reshape(3, 2), np.array([2, 0]))
        array([[4., 5.],
               [0., 1.]])
    """
    out = np.empty((ids.shape[0], table.shape[1]), dtype=table.dtype)
    if out.size:
        _ext.embedding_forward(table, ids, out)
    return out


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
    Kernel("embedding_forward", entry=embedding_forward,
           reference=embedding_forward_reference,
           native=embedding_forward_native),
    Kernel("embedding_backward", entry=embedding_backward,
           reference=embedding_backward_reference,
           native=embedding_backward_native),
)
