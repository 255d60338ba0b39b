"""Running one kernel on the selected backend: the only way from a checked entry to a kernel.

Each family module's entry checks its arguments, then calls run(name, *args). run makes every
array C-contiguous (after the checks, so a broadcast view of an impossible size is refused
before it is copied), times the call while a tinydl.profile() is active, and runs the native
twin on the 'native' backend when the kernel has one, else the reference. Under
tinydl.check_backends() it runs both and records their largest relative gap.
"""

from __future__ import annotations

import threading

import numpy as np

from tinydl import anomaly, profiler
from tinydl.kernels import _extension, _registry

# backend: 'native' or 'reference' (tinydl.backend.set_backend); checks: the dict that
# check_backends fills, or None; chosen/warned: see tinydl.backend.fallback_warning.
state = {"backend": None, "checks": None, "chosen": False, "warned": False}


class _ThreadBackend(threading.local):
    """The backend a use_backend block chose for this thread (None outside any block)."""

    def __init__(self):
        self.name = None


thread = _ThreadBackend()


def current() -> str:
    """This thread's backend: its use_backend block's, else the process-wide one."""
    return thread.name or state["backend"]


def uses_native(name: str) -> bool:
    """True when kernel `name` runs its native twin on the current backend."""
    return (current() == "native" and _extension.ext is not None
            and _registry.kernels()[name].native is not None)


def run(name: str, *args):
    """Run kernel `name` on args (already checked by its entry) and return its result."""
    # (np.ascontiguousarray would also turn a 0-d array into shape (1,): a scalar's ReLU
    # came back as a 1-element vector.)
    for a in args:  # (a loop that stops at the first strided array: every kernel call runs it)
        if isinstance(a, np.ndarray) and not a.flags.c_contiguous:
            args = tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray)
                         and not a.flags.c_contiguous else a for a in args)
            break
    if profiler.current is None:
        return _dispatch(name, args)
    which = "native" if uses_native(name) else "reference"
    threads = _extension.ext.get_num_threads() if _extension.ext is not None else 1
    return profiler.record_kernel(name, args, which, threads, anomaly.current_layer(),
                                  _dispatch, name, args)


def _dispatch(name: str, args: tuple):
    kernel = _registry.kernels()[name]
    if not uses_native(name):
        return kernel.reference(*args)
    checks = state["checks"]
    if checks is not None and kernel.in_place:
        return _run_in_place_checked(kernel, args, checks)
    result = kernel.native(*args)
    if checks is not None:
        gap = relative_gap(result, kernel.reference(*args))
        checks[name] = max(checks.get(name, 0.0), gap)
    return result


def _run_in_place_checked(kernel, args: tuple, checks: dict) -> None:
    """Run an in-place kernel under check_backends without updating anything twice.

    The native kernel updates the caller's arrays; the reference updates copies taken
    before, and the gap is the largest over every array argument (the unchanged inputs add 0).
    """
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel.native(*args)
    kernel.reference(*copies)
    ours = tuple(a for a in args if isinstance(a, np.ndarray))
    oracle = tuple(a for a in copies if isinstance(a, np.ndarray))
    checks[kernel.name] = max(checks.get(kernel.name, 0.0), relative_gap(ours, oracle))


def relative_gap(ours, oracle) -> float:
    """Largest |ours - oracle| over max |oracle|, the worst over a tuple of results. For index
    arrays (a pool's argmax) it is the fraction of entries that differ: a tie broken the other
    way after a rounding difference is one entry, not a jump across the image."""
    if isinstance(ours, tuple):
        return max((relative_gap(a, b) for a, b in zip(ours, oracle) if a is not None),
                   default=0.0)
    ours, oracle = np.asarray(ours), np.asarray(oracle)
    if ours.size == 0:
        return 0.0
    if ours.dtype.kind in "iu":
        return float(np.mean(ours != oracle))
    scale = max(float(np.max(np.abs(oracle))), np.finfo(np.float32).tiny)
    return float(np.max(np.abs(ours.astype(np.float64) - oracle))) / scale
