"""Dropout, any shape: checks, reference, native.

Inverted dropout (Keras' and PyTorch's): each element is kept with probability 1 - rate and
scaled by 1 / (1 - rate), or dropped (times 0). The mask is counter-based: element i is kept
when the high 32 bits of the (i+1)-th SplitMix64 output from state `key` are at least
floor(rate * 2^32). So a mask is a pure function of (key, rate, size): the backward pass
applies the same kernel to the gradient with the forward's key instead of storing a mask,
and the native kernel gives the reference's bits on any thread count.
"""

from __future__ import annotations

import numbers

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel

_GOLDEN, _MIX1, _MIX2 = (np.uint64(v) for v in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9,
                                                0x94D049BB133111EB))


# -------------------------------------------------------------- checked entries

def dropout(x, rate, key):
    """x * (kept ? 1 / (1 - rate) : 0) elementwise, any shape, the mask drawn from key.

    Args:
        As tinydl.kernels.dropout.dropout_reference, the NumPy twin that defines the
        result; here every argument is checked before any kernel runs.

    Returns:
        As tinydl.kernels.dropout.dropout_reference, computed by the backend in use
        (get_backend()).

    Raises:
        ValueError: a rate outside [0, 1) or a key outside [0, 2**64).
        TypeError: x not float32 or float64, or a rate or key that is not a number.

    Example:
        >>> y = dropout(np.ones(8), 0.5, 7)
        >>> sorted(set(y.tolist())), bool(np.array_equal(y, dropout(np.ones(8), 0.5, 7)))
        ([0.0, 2.0], True)
        >>> dropout(np.ones(2), 1.0, 7)
        Traceback (most recent call last):
        ...
        ValueError: dropout: rate must be in [0, 1), got 1.0
    """
    (x,) = float_arrays("dropout", x=x)
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"dropout: rate must be a float, got {type(rate).__name__}")
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if isinstance(key, bool) or not isinstance(key, numbers.Integral):
        raise TypeError(f"dropout: key must be an int, got {type(key).__name__}")
    if not 0 <= int(key) < 2**64:
        raise ValueError(f"dropout: key must be in [0, 2**64), got {key}")
    return _dispatch.run("dropout", x, float(rate), int(key))


def _threshold(rate: float) -> int:
    """floor(rate * 2^32): an element is dropped when its 32-bit draw is below it."""
    return int(rate * 2.0**32)


def _scale(rate: float, dtype) -> float:
    """1 / (1 - rate) computed in double and rounded to the dtype, as Keras (tf.nn.dropout)
    and PyTorch scale."""
    return float(np.dtype(dtype).type(1.0 / (1.0 - rate)))


# ------------------------------------------------------------ reference (NumPy)

def keep_mask(n: int, rate: float, key: int) -> np.ndarray:
    """The kept elements (bool, n of them) of a flat array: SplitMix64 from state key.

    Example:
        >>> keep_mask(6, 0.5, 7)
        array([False, False,  True,  True, False, False])
    """
    z = np.uint64(key) + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN  # wraps mod 2^64
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(32)) >= np.uint64(_threshold(rate))


def dropout_reference(x, rate, key):
    """x times the mask: 1 / (1 - rate) (in double, then rounded to x's dtype) where keep_mask,
    else 0.

    Args:
        x: float32 or float64, any shape.
        rate: the probability of dropping an element, in [0, 1).
        key: an int in [0, 2**64), the mask's seed (draw it from the layer's generator).

    Returns:
        Of x's shape and dtype. A dropped NaN or infinity gives NaN (x * 0), as in Keras.

    Example:
        >>> dropout_reference(np.arange(1.0, 7.0), 0.5, 7)
        array([0., 0., 6., 8., 0., 0.])
    """
    mask = np.where(keep_mask(x.size, rate, key), _scale(rate, x.dtype), 0.0).astype(x.dtype)
    return x * mask.reshape(x.shape)


# ------------------------------------------- native (C, through tinydl._native)

def dropout_native(x, rate, key):
    """x times the counter-based mask in one pass (csrc/dropout.h): of x's shape.

    Args:
        As tinydl.kernels.dropout.dropout_reference, already checked and made C-contiguous.

    Returns:
        As tinydl.kernels.dropout.dropout_reference (the same bits).

    Example:
        >>> dropout_native(np.arange(1.0, 7.0), 0.5, 7)
        array([0., 0., 6., 8., 0., 0.])
    """
    out = np.empty_like(x)
    if x.size:
        _ext.dropout(x.reshape(-1), out.reshape(-1), key, _threshold(rate),
                     _scale(rate, x.dtype))
    return out


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("dropout", entry=dropout, reference=dropout_reference, native=dropout_native),
)
