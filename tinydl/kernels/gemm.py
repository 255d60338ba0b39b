"""General matrix multiply, relu(alpha * op(a) @ op(b) + beta * c + bias): checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_ndim, check_shape
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_elements


# -------------------------------------------------------------- checked entries

def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """relu(alpha * op(a) @ op(b) + beta * c + bias); see tinydl.kernels.gemm.gemm_reference.

    Args:
        As tinydl.kernels.gemm.gemm_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.gemm.gemm_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b, bias = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
        >>> out = gemm(a, b, trans_b=True, alpha=2.0, bias=bias, relu=True)
        >>> out.shape, bool(np.allclose(out, np.maximum(2.0 * a @ b.T + bias, 0)))
        ((3, 5), True)
        >>> gemm(a, b)
        Traceback (most recent call last):
        ...
        ValueError: gemm: inner dimensions differ: op(a) is (3, 4), op(b) is (5, 4)
    """
    a, b, c, bias = float_arrays("gemm", a=a, b=b, c=c, bias=bias)
    check_ndim("gemm", "a", a, 2, "(M, K)")
    check_ndim("gemm", "b", b, 2, "(K, N)")
    m, k = a.shape[::-1] if trans_a else a.shape
    k2, n = b.shape[::-1] if trans_b else b.shape
    if k != k2:
        raise ValueError(f"gemm: inner dimensions differ: op(a) is {(m, k)}, op(b) is {(k2, n)}")
    if c is not None:
        check_shape("gemm", "c", c, (m, n))
    if bias is not None:
        check_shape("gemm", "bias", bias, (n,))
    check_elements("gemm", output=(m, n))
    return _dispatch.run("gemm", a, b, bool(trans_a), bool(trans_b), float(alpha), float(beta), c, bias,
                bool(relu))


# ------------------------------------------------------------ reference (NumPy)

def gemm_reference(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """General matrix multiply: relu(alpha * op(a) @ op(b) + beta * c + bias).

    Args:
        a: (M, K), or (K, M) when trans_a.
        b: (K, N), or (N, K) when trans_b.
        c: (M, N) or None; read only when beta != 0.
        bias: (N,) or None, added to every row.
        relu: apply max(., 0) at the end (a fused epilogue in the native kernel).

    Returns:
        A new (M, N) array.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b, bias = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
        >>> out = gemm_reference(a, b, trans_b=True, alpha=2.0, bias=bias, relu=True)
        >>> out.shape, bool(np.allclose(out, np.maximum(2.0 * a @ b.T + bias, 0)))
        ((3, 5), True)
    """
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    out = op_a @ op_b
    if alpha != 1.0:
        out *= alpha
    if c is not None and beta != 0.0:
        out += beta * c
    if bias is not None:
        out += bias
    if relu:
        np.maximum(out, 0, out=out)
    return out


# ------------------------------------------- native (C, through tinydl._native)

def gemm_native(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """relu(alpha * op(a) @ op(b) + beta * c + bias): (M, N); see reference.gemm.

    Args:
        As tinydl.kernels.gemm.gemm_reference,
        already checked and made C-contiguous by tinydl.backend.gemm;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.gemm.gemm_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b, bias = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
        >>> out = gemm_native(a, b, trans_b=True, alpha=2.0, bias=bias, relu=True)
        >>> out.shape, bool(np.allclose(out, np.maximum(2.0 * a @ b.T + bias, 0)))
        ((3, 5), True)
    """
    m, k = a.shape[::-1] if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    if m == 0 or n == 0 or k == 0:
        return gemm_reference(a, b, trans_a, trans_b, alpha, beta, c, bias, relu)
    if c is not None and beta != 0.0:
        out = np.array(c, dtype=a.dtype, order="C", copy=True)
    else:
        out, beta = np.empty((m, n), dtype=a.dtype), 0.0
    _ext.gemm(trans_a, trans_b, m, n, k, alpha, a, b, beta, out, bias, relu)
    return out


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("gemm", entry=gemm,
           reference=gemm_reference,
           native=gemm_native),
)
