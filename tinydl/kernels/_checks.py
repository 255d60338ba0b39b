"""Argument checks shared by the kernel families: what the C kernels rely on.

The entries of tinydl/kernels/<family>.py call these before _dispatch.run: dtypes (float32 or
float64, one per call), ranks, shapes, windows, label and index ranges, the index limits of
tinydl.kernels.limits. Layers and tinydl.functional normalize what a user types (ints or
pairs, 'same' or 'valid'); these check what reaches C.
"""

from __future__ import annotations

import weakref

import numpy as np

from tinydl.kernels.limits import (MAX_ELEMENTS, check_argmax_plane, check_elements,  # noqa: F401
                                  check_scalars)
from tinydl.kernels.shapes import padded_output_hw

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# ----------------------------------------------------------------------------- validation helpers

# Argmax arrays our max-pool kernels returned, by id: (a weak reference, the plane size their
# indices are below). They are handed out read-only, so the conv gradients, which get them
# back every step, need not scan them again for out-of-range indices (argmax_in_range).
_own_argmax: dict = {}


def remember_argmax(argmax: np.ndarray, plane: int) -> np.ndarray:
    if argmax.base is None and argmax.size:
        argmax.flags.writeable = False
        key = id(argmax)
        forget = lambda _, key=key: _own_argmax.pop(key, None)  # noqa: E731
        _own_argmax[key] = (weakref.ref(argmax, forget), plane)
    return argmax


def argmax_in_range(argmax: np.ndarray, plane: int, trust_own: bool = False) -> bool:
    """True when every index of argmax is in [0, plane): one pass (seen as uint32, a negative
    index is >= 2**31, so max() catches both ends, since plane <= 2**31: the callers ran
    limits.check_argmax_plane first), or, with trust_own, known for our own
    read-only arrays. Only the conv gradients trust them: their kernels compare argmax with
    pixel indices and never address memory with it, so even an array changed behind the
    read-only flag cannot make them read or write out of bounds. max_pool2d_backward, which
    scatters through argmax, always scans."""
    own = _own_argmax.get(id(argmax)) if trust_own else None
    if own is not None and own[0]() is argmax and not argmax.flags.writeable and own[1] <= plane:
        return True
    return not argmax.size or int(argmax.view(np.uint32).max()) < plane


def float_arrays(where: str, **arrays):
    """Check that the arrays are float32/float64 of one dtype and within the kernels' index
    limit; return them as arrays (not copied: _run makes them C-contiguous, last).

    The checks and their order are check_elements' over every array, then each dtype, then
    one dtype for all; written as one loop each (every kernel call runs them).
    """
    out = [None if a is None else a if type(a) is np.ndarray else np.asarray(a)
           for a in arrays.values()]
    for name, a in zip(arrays, out):  # (an array of 1..MAX_ELEMENTS has no larger dimension)
        if a is not None and a.ndim and not 0 < a.size <= MAX_ELEMENTS:
            _check_array_elements(where, name, a.shape)
    dtypes = [a.dtype for a in out if a is not None]
    if dtypes and dtypes.count(dtypes[0]) == len(dtypes) and dtypes[0] in FLOAT_DTYPES:
        return out  # one float dtype (the common case, checked without the loops below)
    dtype = None
    for name, a in zip(arrays, out):
        if a is None:
            continue
        if a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{where}: {name} must be float32 or float64, got {a.dtype}")
        dtype = a.dtype if dtype is None else dtype
    for a in out:
        if a is not None and a.dtype != dtype:
            found = ", ".join(f"{n}={a.dtype}" for n, a in zip(arrays, out) if a is not None)
            raise TypeError(f"{where}: arrays must share one dtype, got {found}")
    return out


def _check_array_elements(where: str, name: str, shape: tuple) -> None:
    """check_elements for an array's own shape (Python ints, so the product cannot wrap)."""
    count = 1
    for s in shape:
        count *= s
    if count > MAX_ELEMENTS or max(shape) > MAX_ELEMENTS:
        check_elements(where, **{name: shape})  # raises with its message


def check_ndim(where: str, name: str, array, ndim: int, layout: str) -> None:
    if array.ndim != ndim:
        raise ValueError(f"{where}: {name} must have shape {layout}, got {array.shape}")


def check_shape(where: str, name: str, array, expected: tuple) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{where}: {name} must have shape {tuple(expected)}, got {array.shape}")


def check_labels(where: str, labels, n: int, classes: int):
    """Integer labels of shape (n,) in [0, classes); returned as contiguous int64."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{where}: labels must be integers (class indices), got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{where}: labels must have shape ({n},), got {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"{where}: labels must be in [0, {classes}), got {bad}")
    return np.ascontiguousarray(labels, dtype=np.int64)


def check_window(where, x_hw, window, strides, pads) -> None:
    if len(pads) != 4 or any(not isinstance(p, (int, np.integer)) or p < 0 for p in pads):
        raise ValueError(f"{where}: pads must be 4 non-negative ints (top, bottom, left, right), "
                         f"got {tuple(pads)}")
    if len(strides) != 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in strides):
        raise ValueError(f"{where}: strides must be positive, got {tuple(strides)} (2 ints)")
    if len(window) != 2 or any(not isinstance(k, (int, np.integer)) or k < 1 for k in window):
        raise ValueError(f"{where}: window must be 2 positive ints, got {tuple(window)}")
    check_scalars(where, "pads", pads)
    check_scalars(where, "strides", strides)
    check_scalars(where, "window", window)
    for axis, name in ((0, "height"), (1, "width")):
        padded = x_hw[axis] + pads[2 * axis] + pads[2 * axis + 1]
        if window[axis] > padded:
            raise ValueError(
                f"{where}: window {tuple(window)} is larger than the padded input "
                f"{name} {padded} (input {tuple(x_hw)}, pads {tuple(pads)})"
            )


def check_image_shape(where: str, x_shape) -> tuple:
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4 or min(x_shape) < 0:
        raise ValueError(f"{where}: x_shape must be (N, H, W, C), got {x_shape}")
    check_elements(where, x_shape=x_shape)
    return x_shape



def conv_output_shape(x_shape, window, strides, pads, channels):
    return (x_shape[0], *padded_output_hw(x_shape[1:3], window, strides, pads), channels)


FLOAT32 = (np.dtype(np.float32),)
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_updated(where: str, name: str, array, shape: tuple, dtypes=FLOAT32) -> None:
    """array is updated in place, so it must be a writeable C-contiguous ndarray: no copy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{where}: {name} must be a NumPy array (it is updated in place), "
                        f"got {type(array).__name__}")
    if array.dtype not in dtypes:
        expected = " or ".join(str(d) for d in dtypes)
        raise TypeError(f"{where}: {name} must be {expected}, got {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"{where}: {name} must have w's shape {shape}, got {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{where}: {name} must be C-contiguous, got strides {array.strides} "
                         f"for shape {shape}: it is updated in place, so it is not copied. "
                         f"Update np.ascontiguousarray({name}) and copy it back")
    if not array.flags.writeable:
        raise ValueError(f"{where}: {name} must be writeable (it is updated in place), "
                         "got a read-only array")


def check_no_overlap(where: str, **arrays) -> None:
    """The C kernel reads and writes each element once: arrays must not share memory."""
    named = [(n, a) for n, a in arrays.items() if a is not None]
    if len({id(a) for _, a in named if a.flags.owndata}) == len(named):
        return  # distinct arrays that each own their memory (the usual case): no overlap
    for i, (name, a) in enumerate(named):
        for other, b in named[i + 1:]:
            if np.may_share_memory(a, b):
                raise ValueError(f"{where}: {name} and {other} must be separate arrays, "
                                 "got two that share memory")


def float32_scalar(where: str, name: str, value, high: float, expected: str) -> np.float32:
    """A real number in [0, high], as np.float32 (the update computes in float32)."""
    if not isinstance(value, (np.floating, float, int, np.integer)) or isinstance(value, bool) \
            or not 0 <= float(value) <= high:
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return value if type(value) is np.float32 else np.float32(value)


