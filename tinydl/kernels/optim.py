"""Optimizer updates in place (Adam, AMSGrad): checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import (
    check_shape, check_updated, check_no_overlap, float32_scalar, FLOAT32_MAX, FLOAT_DTYPES)
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_elements


# -------------------------------------------------------------- checked entries

def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2,
                epsilon) -> None:  # noqa: F811 (the kernel's argument, not keras.backend.epsilon)
    """One Adam step, in place on m, v, v_hat and w; see tinydl.kernels.optim.adam_update_reference.

    The scalars are rounded to float32, in which the whole update is computed.

    Args:
        w: the variable, any shape; float32 (float64 runs in the reference), C-contiguous
            and writeable.
        g: its gradient, w's shape, float32 (made C-contiguous if it is not).
        m, v: the moment estimates, float32, w's shape, C-contiguous and writeable.
        v_hat: AMSGrad's running maximum of v, as m; None without AMSGrad.
        alpha: the step size with the bias correction, a finite number >= 0.
        one_minus_beta_1, one_minus_beta_2: 1 - beta_1 and 1 - beta_2, in [0, 1].
        epsilon: a finite number >= 0.

    Raises:
        TypeError: an array of the wrong type or dtype.
        ValueError: a shape that is not w's, an updated array that is not C-contiguous or
            not writeable, arrays that share memory, or a scalar out of range.

    Example (Adam's first step moves each weight by about lr, against its gradient's sign):
        >>> w, m, v = np.ones(2, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32)
        >>> alpha = 0.01 * (1 - 0.999) ** 0.5 / (1 - 0.9)    # lr * sqrt(1 - b2) / (1 - b1)
        >>> adam_update(w, np.array([0.5, -2.0], np.float32), m, v, None, alpha, 0.1, 0.001, 1e-7)
        >>> w.round(4)
        array([0.99, 1.01], dtype=float32)
    """
    where = "adam_update"
    check_updated(where, "w", w, np.shape(w), FLOAT_DTYPES)
    check_elements(where, w=w.shape)
    g = np.asarray(g)
    if g.dtype != np.float32:
        raise TypeError(f"{where}: g must be float32, got {g.dtype}")
    check_shape(where, "g", g, w.shape)
    for name, array in (("m", m), ("v", v), ("v_hat", v_hat)):
        if array is not None:
            check_updated(where, name, array, w.shape)
    check_no_overlap(where, w=w, g=g, m=m, v=v, v_hat=v_hat)
    scalars = (float32_scalar(where, "alpha", alpha, FLOAT32_MAX, "a finite number >= 0"),
               float32_scalar(where, "one_minus_beta_1", one_minus_beta_1, 1.0, "in [0, 1]"),
               float32_scalar(where, "one_minus_beta_2", one_minus_beta_2, 1.0, "in [0, 1]"),
               float32_scalar(where, "epsilon", epsilon, FLOAT32_MAX, "a finite number >= 0"))
    return _dispatch.run("adam_update", w, np.ascontiguousarray(g), m, v, v_hat, *scalars)


# ------------------------------------------------------------ reference (NumPy)

def adam_update_reference(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """One Adam step (Kingma & Ba, 2015), in place on w, m, v and v_hat. Returns None.

    Elementwise, in Keras 3's form (c1 = 1 - beta_1, c2 = 1 - beta_2):

        m <- m + (g - m) * c1            # = beta_1 m + (1 - beta_1) g: running mean of g
        v <- v + (g * g - v) * c2        # = beta_2 v + (1 - beta_2) g^2: running mean of g^2
        v_hat <- max(v_hat, v)           # AMSGrad (Reddi et al., 2018) only; then v = v_hat
        w <- w - (m * alpha) / (sqrt(v) + epsilon)

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) carries step t's bias correction. These
    NumPy operations, in this order and in float32, define the result: the native kernel
    gives the same bits.

    Args:
        w: the variable, any shape, float32. (A float64 w works too: only its last
            subtraction is then done in float64.)
        g: its gradient, w's shape, float32.
        m, v: the first and second moment estimates, w's shape, float32.
        v_hat: the running maximum of v (w's shape, float32), or None without AMSGrad.
        alpha, one_minus_beta_1, one_minus_beta_2, epsilon: np.float32 scalars.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w, g = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
        >>> m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
        >>> w0 = w.copy()
        >>> adam_update_reference(w, g, m, v, None, np.float32(0.01), np.float32(0.1), np.float32(0.001),
        ...                       np.float32(1e-7))

        After one step from zero moments, m = 0.1 g and v = 0.001 g^2:

        >>> bool(np.allclose(m, 0.1 * g)), bool(np.allclose(v, 0.001 * g * g))
        (True, True)
        >>> bool(np.allclose(w, w0 - 0.01 * m / (np.sqrt(v) + 1e-7)))
        True
    """
    m += (g - m) * one_minus_beta_1
    v += (g * g - v) * one_minus_beta_2
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    w -= (m * alpha) / (np.sqrt(v) + epsilon)


# ------------------------------------------- native (C, through tinydl._native)

def adam_update_native(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """One Adam step in place on w, m, v (and v_hat, or None); see reference.adam_update.

    The C kernel is float32 only: a float64 w (with its mixed float32/float64 arithmetic)
    runs in the reference, as does an empty one. reshape(-1) of a C-contiguous array is a
    view, so C updates the caller's arrays.

    Args:
        As tinydl.kernels.optim.adam_update_reference,
        already checked and made C-contiguous by tinydl.backend.adam_update;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.optim.adam_update_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w, g = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
        >>> m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
        >>> w0 = w.copy()
        >>> adam_update_native(w, g, m, v, None, np.float32(0.01), np.float32(0.1), np.float32(0.001), np.float32(1e-7))

        After one step from zero moments, m = 0.1 g and v = 0.001 g^2:

        >>> bool(np.allclose(m, 0.1 * g)), bool(np.allclose(v, 0.001 * g * g))
        (True, True)
        >>> bool(np.allclose(w, w0 - 0.01 * m / (np.sqrt(v) + 1e-7)))
        True
    """
    if w.dtype != np.float32 or w.size == 0:
        return adam_update_reference(w, g, m, v, v_hat, alpha, one_minus_beta_1,
                                     one_minus_beta_2, epsilon)
    _ext.adam_update_f32(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                         None if v_hat is None else v_hat.reshape(-1), alpha, one_minus_beta_1,
                         one_minus_beta_2, epsilon)


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("adam_update", entry=adam_update,
           reference=adam_update_reference,
           native=adam_update_native, in_place=True),
)
