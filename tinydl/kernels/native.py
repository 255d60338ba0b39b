"""Native kernels: the same functions as tinydl.kernels.reference, computed by our C code.

Arguments arrive checked and C-contiguous from tinydl.backend. Each wrapper allocates
its outputs, picks the float32 or float64 entry point of tinydl._native and hands it
flat buffers. A kernel that is not defined here runs from the reference module.
"""

from __future__ import annotations

import numpy as np

from tinydl import _native as _ext


def _typed(name: str, dtype):
    """The extension's entry point `name_f32` or `name_f64` for this dtype."""
    return getattr(_ext, f"{name}_{'f32' if dtype == np.float32 else 'f64'}")


def set_num_threads(n: int) -> None:
    _ext.set_num_threads(n)


def get_num_threads() -> int:
    return _ext.get_num_threads()


def info() -> dict:
    """Build facts for backend_info(): OpenMP, CPU features and micro-kernel choice."""
    return {"openmp": _ext.have_openmp()}


def relu_forward(x):
    out = np.empty_like(x)
    _typed("relu_forward", x.dtype)(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(y, dy):
    dx = np.empty_like(dy)
    _typed("relu_backward", y.dtype)(y.reshape(-1), dy.reshape(-1), dx.reshape(-1))
    return dx
