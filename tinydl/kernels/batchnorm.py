"""Batch normalization over the channels of (M, C), with a fused ReLU: checks, reference, native.

M = N*H*W rows of an NHWC tensor seen as (M, C) (a reshape, no copy), one channel per column.
The statistics are the batch mean and the biased variance (divided by M, Keras' rule), in
double precision, from one pass over x - x[0] (shifted data: the variance stays accurate when
the mean is large against the spread). Forward:

    inv = 1 / sqrt(var + epsilon), scale = gamma * inv, shift = beta - mean * scale
    y = relu?(x * scale + shift)

Backward, with g = dy (where y > 0, when the ReLU was fused) and xc = x - mean:

    dbeta = sum(g), dgamma = inv * sum(g * xc)
    dx = a * g + b + k * xc, a = gamma * inv, b = -a * dbeta / M, k = -a * inv * dgamma / M

(the classic three-term formula gamma * inv / M * (M g - sum(g) - xhat * sum(g * xhat)),
xhat = xc * inv). The native twins are csrc/batchnorm.c: sums in a fixed block order, so
the results are bit-identical for every thread count.
"""

from __future__ import annotations

import math

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import check_ndim, check_shape, float_arrays
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel


# ----------------------------------------------------------------------------- checked entries

def _check_epsilon(where: str, epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating)) \
            or not math.isfinite(float(epsilon)) or float(epsilon) <= 0:
        raise ValueError(f"{where}: epsilon must be a finite number > 0. Received: {epsilon!r}")
    return float(epsilon)


def _check_channels(where: str, c: int, **vectors) -> None:
    for name, vector in vectors.items():
        if vector is not None:
            check_shape(where, name, vector, (c,))


def batchnorm_forward(x, gamma, beta, epsilon, relu=False):
    """(y (M, C), mean (C,), var (C,)) of x (M, C); gamma, beta (C,) or None (1 and 0).

    Args:
        x: (M, C), float32 or float64: M = N*H*W rows, one channel per column.
        gamma, beta: (C,) or None (scale 1, shift 0).
        epsilon: a finite number > 0, added to the variance.
        relu: apply max(., 0) to y (fused).

    Returns:
        (y, mean, var), computed by the backend in use; var is the biased batch variance.

    Raises:
        ValueError: shapes that do not fit, or an epsilon that is not a finite number > 0.
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, gamma, beta = rng.normal(3.0, 2.0, size=(6, 3)), rng.normal(size=3), rng.normal(size=3)
        >>> y, mean, var = batchnorm_forward(x, gamma, beta, 1e-3, relu=True)
        >>> by_hand = np.maximum((x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * gamma + beta, 0)
        >>> bool(np.allclose(y, by_hand)), bool(np.allclose(mean, x.mean(0))), bool(np.allclose(var, x.var(0)))
        (True, True, True)
        >>> batchnorm_forward(x, gamma, beta, 0.0)
        Traceback (most recent call last):
        ...
        ValueError: batchnorm_forward: epsilon must be a finite number > 0. Received: 0.0
    """
    where = "batchnorm_forward"
    x, gamma, beta = float_arrays(where, x=x, gamma=gamma, beta=beta)
    check_ndim(where, "x", x, 2, "(M, C)")
    _check_channels(where, x.shape[1], gamma=gamma, beta=beta)
    return _dispatch.run(where, x, gamma, beta, _check_epsilon(where, epsilon), bool(relu))


def batchnorm_backward(dy, x, y, mean, var, gamma, epsilon):
    """(dx (M, C), dgamma (C,), dbeta (C,)) from dy (M, C); y (M, C) masks dy when the forward
    fused a ReLU, else None.

    Args:
        dy: (M, C), the gradient of the forward's y.
        x: (M, C), the forward's input; mean, var: (C,), its batch statistics.
        y: (M, C), the forward's output when it fused a ReLU (dy counts where y > 0), else None.
        gamma: (C,) or None; epsilon: as the forward's.

    Returns:
        (dx, dgamma, dbeta), computed by the backend in use.

    Raises:
        ValueError: shapes that do not fit, or an epsilon that is not a finite number > 0.
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, gamma, beta = rng.normal(size=(5, 2)), rng.normal(size=2), rng.normal(size=2)
        >>> y, mean, var = batchnorm_forward(x, gamma, beta, 1e-3, relu=True)
        >>> dy = rng.normal(size=y.shape)
        >>> dx, dgamma, dbeta = batchnorm_backward(dy, x, y, mean, var, gamma, 1e-3)

        Each matches a central finite difference of the loss sum(y * dy) along a random direction:

        >>> def loss(x, gamma, beta):
        ...     return (batchnorm_forward(x, gamma, beta, 1e-3, relu=True)[0] * dy).sum()
        >>> eps, d, dg = 1e-6, rng.normal(size=x.shape), rng.normal(size=2)
        >>> slope_x = (loss(x + eps * d, gamma, beta) - loss(x - eps * d, gamma, beta)) / (2 * eps)
        >>> slope_g = (loss(x, gamma + eps * dg, beta) - loss(x, gamma - eps * dg, beta)) / (2 * eps)
        >>> bool(np.isclose(slope_x, (dx * d).sum())), bool(np.isclose(slope_g, (dgamma * dg).sum()))
        (True, True)
        >>> bool(np.allclose(dbeta, np.where(y > 0, dy, 0).sum(0)))
        True
    """
    where = "batchnorm_backward"
    dy, x, y, mean, var, gamma = float_arrays(where, dy=dy, x=x, y=y, mean=mean, var=var,
                                              gamma=gamma)
    check_ndim(where, "x", x, 2, "(M, C)")
    check_shape(where, "dy", dy, x.shape)
    if y is not None:
        check_shape(where, "y", y, x.shape)
    _check_channels(where, x.shape[1], mean=mean, var=var, gamma=gamma)
    return _dispatch.run(where, dy, x, y, mean, var, gamma, _check_epsilon(where, epsilon))


# ----------------------------------------------------------------------------- reference (NumPy)

def _scale_shift(mean, var, gamma, beta, epsilon):
    """(inv, scale, shift) in float64, per channel."""
    inv = 1.0 / np.sqrt(var.astype(np.float64) + epsilon)
    scale = inv if gamma is None else gamma * inv
    shift = -mean.astype(np.float64) * scale if beta is None else beta - mean * scale
    return inv, scale, shift


def batchnorm_forward_reference(x, gamma, beta, epsilon, relu=False):
    """Batch statistics of x (M, C) and y = relu?(x * scale + shift); see the module docstring.

    Returns:
        (y (M, C), mean (C,), var (C,)), all of x's dtype.

    Example:
        The statistics come from x - x[0], so a large mean does not spoil the variance
        (float32 data around 1e4 with spread 1):

        >>> rng = np.random.default_rng(0)
        >>> x = (1e4 + rng.normal(size=(64, 2))).astype(np.float32)
        >>> y, mean, var = batchnorm_forward_reference(x, None, None, 1e-5)
        >>> exact = x.astype(np.float64).var(0)
        >>> y.dtype, bool(np.allclose(var, exact, rtol=1e-4)), bool(np.allclose(y.std(0), 1, atol=1e-3))
        (dtype('float32'), True, True)
    """
    d = x.astype(np.float64) - x[0]   # shifted by the first row: a well-conditioned variance
    mean_d = d.mean(axis=0)
    var = np.maximum((d * d).mean(axis=0) - mean_d * mean_d, 0.0)
    mean = x[0] + mean_d
    _, scale, shift = _scale_shift(mean, var, gamma, beta, epsilon)
    y = x * scale.astype(x.dtype) + shift.astype(x.dtype)
    if relu:
        np.maximum(y, 0, out=y)
    return y, mean.astype(x.dtype), var.astype(x.dtype)


def batchnorm_backward_reference(dy, x, y, mean, var, gamma, epsilon):
    """Gradients of batchnorm_forward with respect to x, gamma and beta.

    Returns:
        (dx (M, C), dgamma (C,), dbeta (C,)), all of dy's dtype.

    Example:
        Without a ReLU the gradient of x is orthogonal to the constant and (for a tiny
        epsilon) to the centred data in every channel: y does not change when x shifts or scales.

        >>> rng = np.random.default_rng(0)
        >>> x, dy = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
        >>> _, mean, var = batchnorm_forward_reference(x, None, None, 1e-12)
        >>> dx, dgamma, dbeta = batchnorm_backward_reference(dy, x, None, mean, var, None, 1e-12)
        >>> bool(np.allclose(dx.sum(0), 0)), bool(np.allclose((dx * (x - mean)).sum(0), 0))
        (True, True)
        >>> bool(np.allclose(dgamma, (dy * (x - mean) / np.sqrt(var + 1e-12)).sum(0)))
        True
    """
    g = dy if y is None else np.where(y > 0, dy, 0).astype(dy.dtype)
    xc = x.astype(np.float64) - mean
    inv = 1.0 / np.sqrt(var.astype(np.float64) + epsilon)
    sum_g, sum_gxc = g.sum(axis=0, dtype=np.float64), (g * xc).sum(axis=0)
    a = inv if gamma is None else gamma * inv
    m = x.shape[0]
    dx = a * g + (-a * sum_g / m) + (-a * inv * inv * sum_gxc / m) * xc
    return dx.astype(dy.dtype), (inv * sum_gxc).astype(dy.dtype), sum_g.astype(dy.dtype)


# ----------------------------------------------------------------------------- native (C, through tinydl._native)

def batchnorm_forward_native(x, gamma, beta, epsilon, relu=False):
    """-> (y (M, C), mean (C,), var (C,)), by csrc/batchnorm.c.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = rng.normal(size=(37, 5)).astype(np.float32)
        >>> gamma, beta = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
        >>> mine = batchnorm_forward_native(x, gamma, beta, 1e-3, True)
        >>> oracle = batchnorm_forward_reference(x, gamma, beta, 1e-3, True)
        >>> [bool(np.allclose(a, b, atol=1e-5)) for a, b in zip(mine, oracle)]
        [True, True, True]
    """
    if x.size == 0:
        return batchnorm_forward_reference(x, gamma, beta, epsilon, relu)
    y = np.empty_like(x)
    mean, var = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    _ext.batchnorm_forward(x, gamma, beta, epsilon, relu, y, mean, var)
    return y, mean, var


def batchnorm_backward_native(dy, x, y, mean, var, gamma, epsilon):
    """-> (dx (M, C), dgamma (C,), dbeta (C,)), by csrc/batchnorm.c.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x, dy, gamma = rng.normal(size=(37, 5)), rng.normal(size=(37, 5)), rng.normal(size=5)
        >>> y, mean, var = batchnorm_forward_reference(x, gamma, None, 1e-3, True)
        >>> mine = batchnorm_backward_native(dy, x, y, mean, var, gamma, 1e-3)
        >>> oracle = batchnorm_backward_reference(dy, x, y, mean, var, gamma, 1e-3)
        >>> [bool(np.allclose(a, b)) for a, b in zip(mine, oracle)]
        [True, True, True]
    """
    if x.size == 0:
        return batchnorm_backward_reference(dy, x, y, mean, var, gamma, epsilon)
    dx = np.empty_like(dy)
    dgamma, dbeta = np.empty(x.shape[1], dy.dtype), np.empty(x.shape[1], dy.dtype)
    _ext.batchnorm_backward(dy, x, y, mean, var, gamma, epsilon, dx, dgamma, dbeta)
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("batchnorm_forward", entry=batchnorm_forward,
           reference=batchnorm_forward_reference,
           native=batchnorm_forward_native),
    Kernel("batchnorm_backward", entry=batchnorm_backward,
           reference=batchnorm_backward_reference,
           native=batchnorm_backward_native),
)
