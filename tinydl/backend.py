"""The one dispatch point between ops and kernels: validate, then run reference or native.

Ops call the functions here (never a kernel module directly). Each function checks
its arguments (dtypes, shapes, contiguity, label ranges), makes them C-contiguous,
and runs the kernel of the selected backend:

- 'reference': tinydl.kernels.reference, readable NumPy (the teaching version);
- 'native': tinydl.kernels.native, our C kernels through the Cython extension. A kernel
  the native module does not provide yet runs from the reference module, and
  backend_info() says which ones do.

Select with set_backend('native' | 'reference') or the TINYDL_BACKEND environment
variable (read once, at import). The default is 'native' when the extension is built.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import warnings
import weakref

import numpy as np

from tinydl import anomaly, profiler
from tinydl.config import (backend, clear_session, epsilon, floatx, get_uid,  # noqa: F401 (keras.backend)
                           image_data_format, is_float_dtype, is_int_dtype, is_keras_tensor,
                           result_type, set_epsilon, set_floatx, set_image_data_format, standardize_dtype)
from tinydl.kernels import depthwise, reference
from tinydl.kernels.limits import check_argmax_plane, check_elements, check_scalars
from tinydl.kernels.shapes import padded_output_hw

BACKENDS = ("reference", "native")
KERNELS = (
    "gemm", "conv2d_forward", "conv2d_backward_input", "conv2d_backward_kernel",
    "conv2d_max_pool_forward",
    "depthwise_conv2d_forward", "depthwise_conv2d_backward_input",
    "depthwise_conv2d_backward_kernel",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "softmax_xent_forward", "softmax_xent_backward", "relu_forward", "relu_backward",
    "adam_update", "embedding_backward",
    "simple_rnn_forward", "simple_rnn_backward", "lstm_forward", "lstm_backward",
    "gru_forward", "gru_backward",
)
IN_PLACE_KERNELS = ("adam_update",)  # they update their array arguments and return None
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _import_native():
    """Return (module, None) when the native kernels import, else (None, why, in words a
    student can act on: see tinydl.kernels.diagnose)."""
    try:
        native = importlib.import_module("tinydl.kernels.native")
    except ImportError as exc:  # not built, shadowed by the source folder, another Python, ...
        from tinydl.kernels.diagnose import native_import_problem
        return None, native_import_problem(exc)
    return native, None


_native, _native_error = _import_native()
# chosen: the user asked for the backend (set_backend, use_backend or TINYDL_BACKEND), so
# running on the reference kernels is what they want and no warning is due.
_state = {"backend": None, "checks": None, "chosen": False, "warned": False}


class _ThreadBackend(threading.local):
    """The backend a use_backend block chose for this thread (None outside any block)."""

    def __init__(self):
        self.name = None


_thread = _ThreadBackend()


def _current() -> str:
    """This thread's backend: its use_backend block's, else the process-wide one."""
    return _thread.name or _state["backend"]


class ReferenceBackendWarning(RuntimeWarning):
    """Training runs on the NumPy reference kernels because the C extension did not import.

    It is a RuntimeWarning, shown once per process (warn_if_fallback), so that a missing
    build does not silently make training about 10x slower.

    Example:
        >>> issubclass(ReferenceBackendWarning, RuntimeWarning)
        True
    """


# ----------------------------------------------------------------------------- selection

def set_backend(name: str) -> None:
    """Choose the kernels every op uses from now on: 'native' or 'reference'.

    Raises:
        ValueError: for an unknown name.
        ImportError: for 'native' when the extension is not built.

    Example:
        >>> previous = tinydl.get_backend()
        >>> tinydl.set_backend("reference")
        >>> tinydl.get_backend()
        'reference'
        >>> tinydl.set_backend(previous)
    """
    _select_backend(name, chosen=True)


def _select_backend(name: str, chosen: bool) -> None:
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if name == "native" and _native is None:
        raise ImportError(
            "the native backend is not available: the C extension tinydl._native did not import: "
            f"{_native_error} Or use set_backend('reference')."
        )
    _state["backend"], _state["chosen"] = name, chosen
    if _thread.name is not None:  # set_backend inside a use_backend block: this thread too
        _thread.name = name


def fallback_warning(consume: bool = False) -> str | None:
    """The one-line warning due when the kernels fell back to the reference backend without
    anyone asking for it (the extension did not import); None when nothing is due.

    Args:
        consume: mark it as said (the caller shows it), so that fit does not warn again.

    Returns:
        The message, or None.

    Example:
        Asking for the reference backend is a choice, not a fallback:

        >>> with use_backend("reference"):
        ...     print(fallback_warning())
        None
    """
    if _current() != "reference" or _state["chosen"] or _thread.name is not None \
            or _native is not None or _state["warned"]:
        return None
    _state["warned"] = consume
    return ("tinydl is running on its NumPy reference kernels, about 10x slower, because the "
            f"C extension did not import: {_native_error}")


def warn_if_fallback(stacklevel: int = 3) -> None:
    """Warn (ReferenceBackendWarning) once per process when fallback_warning() is due.

    Args:
        stacklevel: passed to warnings.warn (the caller of fit, by default).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught, use_backend("reference"):
        ...     warnings.simplefilter("always")
        ...     warn_if_fallback()
        >>> caught
        []
    """
    message = fallback_warning(consume=True)
    if message is not None:
        warnings.warn(message, ReferenceBackendWarning, stacklevel=stacklevel)


def get_backend() -> str:
    """The name of the backend in use: 'native' or 'reference'.

    Example:
        >>> tinydl.get_backend() in ("native", "reference")
        True
    """
    return _current()


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager that runs the block with another backend, then restores the previous one.

    The choice is this thread's: blocks in two threads may interleave, each running its own
    kernels, and the process-wide backend (set_backend) is untouched. Threads started inside
    the block use the process-wide backend.

    Raises:
        ValueError: for an unknown name.
        ImportError: for 'native' when the extension is not built.

    Example:
        >>> before = tinydl.get_backend()
        >>> with tinydl.use_backend("reference"):
        ...     tinydl.get_backend()
        'reference'
        >>> tinydl.get_backend() == before
        True
    """
    if name not in BACKENDS or (name == "native" and _native is None):
        _select_backend(name, chosen=True)  # raises the errors set_backend raises
    previous, _thread.name = _thread.name, name
    try:
        yield
    finally:
        _thread.name = previous


def native_kernels() -> list[str]:
    """Names of the kernels the native module implements (empty without the extension).

    Returns:
        A sublist of KERNELS.

    Example:
        >>> names = native_kernels()
        >>> set(names) <= set(KERNELS), names == [] if _native is None else "gemm" in names
        (True, True)
    """
    if _native is None:
        return []
    return [k for k in KERNELS if hasattr(_native, k)]


# The most threads set_num_threads accepts (csrc/tdl_common.h: TDL_MAX_THREADS). Far above the
# cores of any machine tinydl trains on: more threads than cores only adds switching, and each
# costs OpenMP a stack and the kernels a few MiB of scratch. A count of 2**31 - 1 made libgomp
# abort the process trying to allocate its thread team.
MAX_THREADS = 1024


def set_num_threads(n: int) -> None:
    """Use n threads in the native kernels (OpenMP), from every Python thread.

    The count is one setting for the whole process: a kernel started from any
    `threading.Thread` uses it (OpenMP's own omp_set_num_threads would only reach kernels
    started from the calling OS thread). Kernels already running keep their count. Small
    problems still run on one thread. Without OpenMP this has no effect.

    Args:
        n: an int in [1, MAX_THREADS].

    Raises:
        ValueError: n is not an int, or outside [1, MAX_THREADS].

    Example:
        >>> previous = tinydl.get_num_threads()
        >>> tinydl.set_num_threads(1)      # e.g. to compare with a serial run
        >>> tinydl.set_num_threads(previous)
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"number of threads must be a positive int, at most {MAX_THREADS} "
                         f"(tinydl.backend.MAX_THREADS). Received: {n!r}")
    if _native is not None:
        _native.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the native kernels use, the same from every Python thread: the last
    set_num_threads, else OpenMP's default when tinydl was imported (the machine's cores, or
    OMP_NUM_THREADS) capped at MAX_THREADS.

    Without the extension: the number they would use (OpenMP's default rule), so that a
    missing build does not read as a one-thread machine.

    Example:
        >>> tinydl.get_num_threads() >= 1
        True
    """
    return _native.get_num_threads() if _native is not None else default_num_threads()


def default_num_threads() -> int:
    """OpenMP's default, capped at MAX_THREADS: the first entry of OMP_NUM_THREADS when it is
    a positive int, else the cores this process may run on.

    Returns:
        The count, in [1, MAX_THREADS].

    Example:
        >>> import os
        >>> saved = os.environ.get("OMP_NUM_THREADS")
        >>> os.environ["OMP_NUM_THREADS"] = "3,2"           # OpenMP's nested form: the first level
        >>> default_num_threads()
        3
        >>> os.environ["OMP_NUM_THREADS"] = "100000"
        >>> default_num_threads() == MAX_THREADS
        True
        >>> _ = os.environ.pop("OMP_NUM_THREADS") if saved is None else os.environ.update(OMP_NUM_THREADS=saved)
    """
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if first.isdigit() and int(first) > 0:
        return min(int(first), MAX_THREADS)
    try:
        return min(len(os.sched_getaffinity(0)), MAX_THREADS)
    except (AttributeError, OSError):  # macOS has no sched_getaffinity
        return min(os.cpu_count() or 1, MAX_THREADS)


def backend_info() -> dict:
    """What runs where: the backend, which kernels are native, CPU features and threads.

    Example:
        >>> info = tinydl.backend_info()
        >>> info["backend"] == tinydl.get_backend(), info["threads"] >= 1
        (True, True)
        >>> info["native_available"] or "native_error" in info   # why not, when not built
        True
    """
    info = {
        "backend": get_backend(),
        "native_available": _native is not None,
        "native_kernels": native_kernels(),
        "reference_kernels": [k for k in KERNELS if k not in native_kernels()]
        if get_backend() == "native" else list(KERNELS),
        "threads": get_num_threads(),
    }
    if _native is None:
        info["native_error"] = _native_error
    else:
        info.update(_native.info())
    return info


# ----------------------------------------------------------------------------- checking both

@contextlib.contextmanager
def check_backends():
    """While active, every kernel call runs both native and reference and records their gap.

    Yields a dict {kernel name: largest relative difference seen}, filled as kernels run.
    The native result is the one returned. The dict stays empty on the 'reference' backend
    and without the extension (there is nothing to compare).

    Example:
        >>> x = np.ones((2, 3), np.float32)
        >>> with tinydl.check_backends() as gaps:
        ...     _ = tinydl.backend.gemm(x, x.T)
        >>> all(gap < 1e-5 for gap in gaps.values())   # {'gemm': 0.0} with the extension built
        True
    """
    previous = _state["checks"]
    gaps: dict = {}
    _state["checks"] = gaps
    try:
        yield gaps
    finally:
        _state["checks"] = previous


def _relative_gap(ours, oracle) -> float:
    """Largest |ours - oracle| over max |oracle|, the worst over a tuple of results. For index
    arrays (a pool's argmax) it is the fraction of entries that differ: a tie broken the other
    way after a rounding difference is one entry, not a jump across the image."""
    if isinstance(ours, tuple):
        return max((_relative_gap(a, b) for a, b in zip(ours, oracle) if a is not None), default=0.0)
    ours, oracle = np.asarray(ours), np.asarray(oracle)
    if ours.size == 0:
        return 0.0
    if ours.dtype.kind in "iu":
        return float(np.mean(ours != oracle))
    scale = max(float(np.max(np.abs(oracle))), np.finfo(np.float32).tiny)
    return float(np.max(np.abs(ours.astype(np.float64) - oracle))) / scale


def _run(kernel: str, *args):
    """Run one kernel on the selected backend (and the reference too, while checking); timed
    when a tinydl.profile() is active.

    Every array argument is made C-contiguous here, after all the checks (so a broadcast
    view of an impossible size is refused before it is copied)."""
    args = tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args)
    if profiler.current is None:
        return _dispatch(kernel, args)
    which = "native" if _current() == "native" and hasattr(_native, kernel) \
        else "reference"
    return profiler.record_kernel(kernel, args, which, get_num_threads(),
                                  anomaly.current_layer(), _dispatch, kernel, args)


def _dispatch(kernel: str, args: tuple):
    use_native = _current() == "native" and hasattr(_native, kernel)
    if not use_native:
        return getattr(reference, kernel)(*args)
    checks = _state["checks"]
    if checks is not None and kernel in IN_PLACE_KERNELS:
        return _run_in_place_checked(kernel, args, checks)
    result = getattr(_native, kernel)(*args)
    if checks is not None:
        gap = _relative_gap(result, getattr(reference, kernel)(*args))
        checks[kernel] = max(checks.get(kernel, 0.0), gap)
    return result


def _run_in_place_checked(kernel: str, args: tuple, checks: dict) -> None:
    """Run an in-place kernel under check_backends without updating anything twice.

    The native kernel updates the caller's arrays; the reference updates copies taken
    before, and the gap is the largest over every array argument (the unchanged inputs add 0).
    """
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    getattr(_native, kernel)(*args)
    getattr(reference, kernel)(*copies)
    ours = tuple(a for a in args if isinstance(a, np.ndarray))
    oracle = tuple(a for a in copies if isinstance(a, np.ndarray))
    checks[kernel] = max(checks.get(kernel, 0.0), _relative_gap(ours, oracle))


# ----------------------------------------------------------------------------- validation helpers

# Argmax arrays our max-pool kernels returned, by id: (a weak reference, the plane size their
# indices are below). They are handed out read-only, so the conv gradients, which get them
# back every step, need not scan them again for out-of-range indices (_argmax_in_range).
_own_argmax: dict = {}


def _remember_argmax(argmax: np.ndarray, plane: int) -> np.ndarray:
    if argmax.base is None and argmax.size:
        argmax.flags.writeable = False
        key = id(argmax)
        forget = lambda _, key=key: _own_argmax.pop(key, None)  # noqa: E731
        _own_argmax[key] = (weakref.ref(argmax, forget), plane)
    return argmax


def _argmax_in_range(argmax: np.ndarray, plane: int, trust_own: bool = False) -> bool:
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


def _float_arrays(where: str, **arrays):
    """Check that the arrays are float32/float64 of one dtype and within the kernels' index
    limit; return them as arrays (not copied: _run makes them C-contiguous, last)."""
    arrays = {name: None if a is None else np.asarray(a) for name, a in arrays.items()}
    check_elements(where, **{name: None if a is None else a.shape for name, a in arrays.items()})
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    for name, dtype in dtypes.items():
        if dtype not in FLOAT_DTYPES:
            raise TypeError(f"{where}: {name} must be float32 or float64, got {dtype}")
    if len(set(dtypes.values())) > 1:
        found = ", ".join(f"{n}={d}" for n, d in dtypes.items())
        raise TypeError(f"{where}: arrays must share one dtype, got {found}")
    return list(arrays.values())


def _check_ndim(where: str, name: str, array, ndim: int, layout: str) -> None:
    if array.ndim != ndim:
        raise ValueError(f"{where}: {name} must have shape {layout}, got {array.shape}")


def _check_shape(where: str, name: str, array, expected: tuple) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{where}: {name} must have shape {tuple(expected)}, got {array.shape}")


def _check_labels(where: str, labels, n: int, classes: int):
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


def _check_window(where, x_hw, window, strides, pads) -> None:
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


def _check_image_shape(where: str, x_shape) -> tuple:
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4 or min(x_shape) < 0:
        raise ValueError(f"{where}: x_shape must be (N, H, W, C), got {x_shape}")
    check_elements(where, x_shape=x_shape)
    return x_shape


# ----------------------------------------------------------------------------- kernels

def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """relu(alpha * op(a) @ op(b) + beta * c + bias); see tinydl.kernels.reference.gemm.

    Args:
        As tinydl.kernels.reference.gemm,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.gemm,
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
    a, b, c, bias = _float_arrays("gemm", a=a, b=b, c=c, bias=bias)
    _check_ndim("gemm", "a", a, 2, "(M, K)")
    _check_ndim("gemm", "b", b, 2, "(K, N)")
    m, k = a.shape[::-1] if trans_a else a.shape
    k2, n = b.shape[::-1] if trans_b else b.shape
    if k != k2:
        raise ValueError(f"gemm: inner dimensions differ: op(a) is {(m, k)}, op(b) is {(k2, n)}")
    if c is not None:
        _check_shape("gemm", "c", c, (m, n))
    if bias is not None:
        _check_shape("gemm", "bias", bias, (n,))
    check_elements("gemm", output=(m, n))
    return _run("gemm", a, b, bool(trans_a), bool(trans_b), float(alpha), float(beta), c, bias,
                bool(relu))


def _conv_checks(where, x_shape, w_shape, strides, pads):
    if x_shape[3] != w_shape[2]:
        raise ValueError(
            f"{where}: kernel expects {w_shape[2]} input channels (kernel shape (KH, KW, C, F) = "
            f"{tuple(w_shape)}), but the input has {x_shape[3]} (input shape {tuple(x_shape)})"
        )
    _check_window(where, x_shape[1:3], w_shape[:2], strides, pads)


def conv2d_forward(x, w, bias, strides, pads, relu=False):
    """NHWC convolution with an HWIO kernel; see tinydl.kernels.reference.conv2d_forward.

    Args:
        As tinydl.kernels.reference.conv2d_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.conv2d_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> y = conv2d_forward(x, w, bias, strides, pads)
        >>> xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
        >>> windows = sliding_window_view(xp, (3, 2), axis=(1, 2))[:, :, ::2]    # (N, OH, OW, C, KH, KW)

        >>> y.shape, bool(np.allclose(y, np.einsum("nhwcij,ijcf->nhwf", windows, w) + bias))
        ((2, 5, 3, 4), True)
        >>> conv2d_forward(x[..., :2], w, bias, strides, pads)
        Traceback (most recent call last):
        ...
        ValueError: conv2d: kernel expects 3 input channels (kernel shape (KH, KW, C, F) = (3, 2, 3, 4)), but ...
    """
    x, w, bias = _float_arrays("conv2d", x=x, w=w, bias=bias)
    _check_ndim("conv2d", "x", x, 4, "(N, H, W, C)")
    _check_ndim("conv2d", "kernel", w, 4, "(KH, KW, C, F)")
    _conv_checks("conv2d", x.shape, w.shape, strides, pads)
    if bias is not None:
        _check_shape("conv2d", "bias", bias, (w.shape[3],))
    check_elements("conv2d", output=_conv_out_shape(x.shape, w.shape[:2], strides, pads,
                                                    w.shape[3]))
    return _run("conv2d_forward", x, w, bias, tuple(strides), tuple(pads), bool(relu))


def conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool):
    """conv2d_forward then a max pool with windows `pool` tiling its output (strides == pool,
    no padding): (p, argmax), see tinydl.kernels.reference.conv2d_max_pool_forward.

    Args:
        As tinydl.kernels.reference.conv2d_max_pool_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.conv2d_max_pool_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4))
        >>> p, argmax = conv2d_max_pool_forward(x, w, None, (1, 1), (1, 1, 1, 1), True, (2, 2))
        >>> z = np.maximum(conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1)), 0)    # (2, 5, 7, 4)
        >>> p.shape, bool(np.allclose(p, z[:, :4, :6].reshape(2, 2, 2, 3, 2, 4).max(axis=(2, 4))))
        ((2, 2, 3, 4), True)
        >>> winners = np.take_along_axis(z.reshape(2, -1, 4), argmax.reshape(2, -1, 4), axis=1)
        >>> bool(np.array_equal(winners.reshape(p.shape), p))           # argmax: flat oh * OW + ow
        True
    """
    where = "conv2d_max_pool"
    x, w, bias = _float_arrays(where, x=x, w=w, bias=bias)
    _check_ndim(where, "x", x, 4, "(N, H, W, C)")
    _check_ndim(where, "kernel", w, 4, "(KH, KW, C, F)")
    _conv_checks(where, x.shape, w.shape, strides, pads)
    if bias is not None:
        _check_shape(where, "bias", bias, (w.shape[3],))
    pool = tuple(int(k) for k in pool)
    if len(pool) != 2 or min(pool) < 1:
        raise ValueError(f"{where}: pool must be 2 positive ints (PH, PW), got {pool}")
    conv_out = _conv_out_shape(x.shape, w.shape[:2], strides, pads, w.shape[3])
    _check_window(where, conv_out[1:3], pool, pool, (0, 0, 0, 0))
    check_elements(where, convolution_output=conv_out,  # its scratch holds whole pool bands
                   patch_band=(pool[0] * conv_out[2], w.shape[0] * w.shape[1] * w.shape[2]))
    check_argmax_plane(where, "the convolution's output", conv_out[1:3])
    p, argmax = _run("conv2d_max_pool_forward", x, w, bias, tuple(strides), tuple(pads),
                     bool(relu), pool)
    return p, _remember_argmax(argmax, conv_out[1] * conv_out[2])


def _conv_out_shape(x_shape, window, strides, pads, channels):
    return (x_shape[0], *padded_output_hw(x_shape[1:3], window, strides, pads), channels)


def _check_pool_route(where, conv_out_shape, dy, pool_argmax, pool_geometry):
    """Check the optional max pool after a convolution; return (argmax, geometry) or (None, None).

    The pool's windows must tile the convolution's output (strides == window) and dy must have
    the pool's output shape; argmax must be int32 of that shape holding indices of the plane.
    """
    if pool_argmax is None:
        if pool_geometry is not None:
            raise ValueError(f"{where}: pool_geometry was given without pool_argmax; pass both "
                             "(the max pool's argmax and its (window, pads)) or neither")
        return None, None
    if pool_geometry is None or len(pool_geometry) != 2:
        raise ValueError(f"{where}: pool_geometry must be (window, pads) of the max pool, got "
                         f"{pool_geometry!r}")
    window = tuple(int(k) for k in pool_geometry[0])
    pads = tuple(int(p) for p in pool_geometry[1])
    _check_window(where, conv_out_shape[1:3], window, window, pads)
    if pads[0] >= window[0] or pads[1] >= window[0] or pads[2] >= window[1] \
            or pads[3] >= window[1]:
        raise ValueError(f"{where}: pool pads {pads} must be smaller than the window {window}")
    pooled = _conv_out_shape(conv_out_shape, window, window, pads, conv_out_shape[3])
    _check_shape(where, "dy", dy, pooled)
    check_argmax_plane(where, "the convolution's output", conv_out_shape[1:3])
    pool_argmax = np.asarray(pool_argmax)
    if pool_argmax.dtype != np.int32 or pool_argmax.shape != dy.shape:
        raise ValueError(f"{where}: pool_argmax must be int32 of shape {dy.shape}, "
                         f"got {pool_argmax.dtype} {pool_argmax.shape}")
    plane = conv_out_shape[1] * conv_out_shape[2]
    if not _argmax_in_range(pool_argmax, plane, trust_own=True):
        raise ValueError(f"{where}: pool_argmax holds indices outside the convolution's output "
                         f"plane (OH*OW = {plane})")
    return np.ascontiguousarray(pool_argmax), (window, pads)


def _check_gradient_route(where, conv_out, dy, relu_out, pool_argmax, pool_geometry):
    """Check how dy reaches a conv gradient kernel: directly (dy has the conv output's shape)
    or through a fused max pool; relu_out, when given, has dy's shape. Returns the pool route."""
    check_elements(where, convolution_output=conv_out)
    pool_argmax, pool_geometry = _check_pool_route(where, conv_out, dy, pool_argmax,
                                                   pool_geometry)
    if pool_argmax is None:
        _check_shape(where, "dy", dy, conv_out)
    if relu_out is not None:
        _check_shape(where, "relu_out", relu_out, dy.shape)
    return pool_argmax, pool_geometry


def conv2d_backward_input(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
                          pool_geometry=None):
    """Gradient of conv2d with respect to x: (N, H, W, C).

    relu_out is the forward's output y (N, OH, OW, F) when it fused a ReLU, else None; with
    it, dy is masked to dy where y > 0 inside the kernel (no separate relu_backward pass).
    pool_argmax and pool_geometry=(window, pads) describe a max pool that followed the
    convolution (strides == window): dy and relu_out are then the pool's gradient and output,
    and the kernel routes dy to the argmax itself (no max_pool2d_backward pass).

    Args:
        As tinydl.kernels.reference.conv2d_backward_input,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.conv2d_backward_input,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dx = conv2d_backward_input(dy, w, x.shape, strides, pads)

        The input gradient is the adjoint of the convolution: <conv(x), dy> = <x, dx>.

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 6, 3), True)
        >>> conv2d_backward_input(dy[:, :4], w, x.shape, strides, pads)
        Traceback (most recent call last):
        ...
        ValueError: conv2d_backward_input: dy must have shape (2, 5, 3, 4), ...
    """
    where = "conv2d_backward_input"
    dy, w, relu_out = _float_arrays(where, dy=dy, w=w, relu_out=relu_out)
    x_shape = _check_image_shape(where, x_shape)
    _check_ndim(where, "kernel", w, 4, "(KH, KW, C, F)")
    _check_ndim(where, "dy", dy, 4, "(N, OH, OW, F)")
    _conv_checks(where, x_shape, w.shape, strides, pads)
    conv_out = _conv_out_shape(x_shape, w.shape[:2], strides, pads, w.shape[3])
    pool_argmax, pool_geometry = _check_gradient_route(where, conv_out, dy, relu_out,
                                                       pool_argmax, pool_geometry)
    return _run(where, dy, w, x_shape, tuple(strides), tuple(pads), relu_out, pool_argmax,
                pool_geometry)


def conv2d_backward_kernel(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
                           pool_argmax=None, pool_geometry=None):
    """Gradients of conv2d with respect to kernel (KH, KW, C, F) and bias (F,) or None.

    relu_out, pool_argmax, pool_geometry: as in conv2d_backward_input.

    Args:
        As tinydl.kernels.reference.conv2d_backward_kernel,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.conv2d_backward_kernel,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dw, db = conv2d_backward_kernel(dy, x, (3, 2), strides, pads, True)

        The convolution is linear in its kernel too, so <conv(x, w), dy> = <w, dw>:

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum())), bool(np.allclose(db, dy.sum(axis=(0, 1, 2))))
        ((3, 2, 3, 4), True, True)
    """
    where = "conv2d_backward_kernel"
    dy, x, relu_out = _float_arrays(where, dy=dy, x=x, relu_out=relu_out)
    kernel_hw = tuple(int(s) for s in kernel_hw)
    _check_ndim(where, "x", x, 4, "(N, H, W, C)")
    _check_ndim(where, "dy", dy, 4, "(N, OH, OW, F)")
    _check_window(where, x.shape[1:3], kernel_hw, strides, pads)
    conv_out = _conv_out_shape(x.shape, kernel_hw, strides, pads, dy.shape[-1])
    check_elements(where, kernel_gradient=(*kernel_hw, x.shape[3], dy.shape[-1]))
    pool_argmax, pool_geometry = _check_gradient_route(where, conv_out, dy, relu_out,
                                                       pool_argmax, pool_geometry)
    return _run(where, dy, x, kernel_hw, tuple(strides), tuple(pads), bool(with_bias), relu_out,
                pool_argmax, pool_geometry)


def depthwise_conv2d_forward(x, w, strides, pads):
    """Depthwise convolution, (N, H, W, C) x (KH, KW, C, M) -> (N, OH, OW, C*M); see
    tinydl.kernels.depthwise.depthwise_conv2d_forward.

    Args:
        As tinydl.kernels.depthwise.depthwise_conv2d_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.depthwise.depthwise_conv2d_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> windows = sliding_window_view(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), (3, 3), axis=(1, 2))[:, ::2, ::2]
        >>> expected = np.einsum("nhwcij,ijcm->nhwcm", windows, w).reshape(2, 3, 3, 6)     # channel c*M + m
        >>> y.shape, bool(np.allclose(y, expected))
        ((2, 3, 3, 6), True)
        >>> depthwise_conv2d_forward(x, w[:, :, :2], (2, 2), (1, 1, 1, 1))
        Traceback (most recent call last):
        ...
        ValueError: depthwise_conv2d: the kernel (3, 3, 2, 2) (KH, KW, C, M) expects C=2 input channels, but ...
    """
    x, w = _float_arrays("depthwise_conv2d", x=x, w=w)
    depthwise.check_forward(x, w, strides, pads)
    return _run("depthwise_conv2d_forward", x, w, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_input(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C).

    Args:
        As tinydl.kernels.reference.depthwise_conv2d_backward_input,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.depthwise_conv2d_backward_input,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dx = depthwise_conv2d_backward_input(dy, w, x.shape, (2, 2), (1, 1, 1, 1))

        The adjoint of the forward: <depthwise(x), dy> = <x, dx>.

        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    where = "depthwise_conv2d_backward_input"
    dy, w = _float_arrays(where, dy=dy, w=w)
    x_shape = depthwise.check_backward_input(dy, w, x_shape, strides, pads)
    return _run(where, dy, w, x_shape, tuple(strides), tuple(pads))


def depthwise_conv2d_backward_kernel(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to its kernel: (KH, KW, C, M).

    Args:
        As tinydl.kernels.reference.depthwise_conv2d_backward_kernel,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.depthwise_conv2d_backward_kernel,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))      # C = 3, M = 2
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dw = depthwise_conv2d_backward_kernel(dy, x, (3, 3), (2, 2), (1, 1, 1, 1))

        Linear in w: <depthwise(x, w), dy> = <w, dw>.

        >>> y = depthwise_conv2d_forward(x, w, (2, 2), (1, 1, 1, 1))
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum()))
        ((3, 3, 3, 2), True)
    """
    where = "depthwise_conv2d_backward_kernel"
    dy, x = _float_arrays(where, dy=dy, x=x)
    kernel_hw = depthwise.check_backward_kernel(dy, x, kernel_hw, strides, pads)
    return _run(where, dy, x, kernel_hw, tuple(strides), tuple(pads))


def _pool_checks(where, x, pool, strides, pads):
    _check_ndim(where, "x", x, 4, "(N, H, W, C)")
    _check_window(where, x.shape[1:3], pool, strides, pads)
    if pads[0] >= pool[0] or pads[1] >= pool[0] or pads[2] >= pool[1] or pads[3] >= pool[1]:
        raise ValueError(f"{where}: pads {tuple(pads)} must be smaller than the window {tuple(pool)}")
    check_elements(where, output=_conv_out_shape(x.shape, pool, strides, pads, x.shape[3]))


def max_pool2d_forward(x, pool, strides, pads):
    """Max pooling: (y (N, OH, OW, C), argmax int32 (N, OH, OW, C)).

    Args:
        As tinydl.kernels.reference.max_pool2d_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.max_pool2d_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
        >>> max_pool2d_forward(x, (2, 2), (2, 2), (2, 0, 0, 0))
        Traceback (most recent call last):
        ...
        ValueError: max_pool2d: pads (2, 0, 0, 0) must be smaller than the window (2, 2)
    """
    (x,) = _float_arrays("max_pool2d", x=x)
    _pool_checks("max_pool2d", x, pool, strides, pads)
    check_argmax_plane("max_pool2d", "the input", x.shape[1:3])
    y, argmax = _run("max_pool2d_forward", x, tuple(pool), tuple(strides), tuple(pads))
    return y, _remember_argmax(argmax, x.shape[1] * x.shape[2])


def max_pool2d_backward(dy, argmax, x_shape):
    """Gradient of max pooling: (N, H, W, C).

    Args:
        As tinydl.kernels.reference.max_pool2d_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.max_pool2d_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
        >>> max_pool2d_backward(dy, argmax.astype(np.int64), x.shape)
        Traceback (most recent call last):
        ...
        ValueError: max_pool2d_backward: argmax must be int32 of shape (2, 2, 3, 3), got int64 (2, 2, 3, 3)
    """
    (dy,) = _float_arrays("max_pool2d_backward", dy=dy)
    argmax = np.asarray(argmax)
    if argmax.dtype != np.int32 or argmax.shape != dy.shape:
        raise ValueError(f"max_pool2d_backward: argmax must be int32 of shape {dy.shape}, "
                         f"got {argmax.dtype} {argmax.shape}")
    x_shape = _check_image_shape("max_pool2d_backward", x_shape)
    _check_ndim("max_pool2d_backward", "dy", dy, 4, "(N, OH, OW, C)")
    if (x_shape[0], x_shape[3]) != (dy.shape[0], dy.shape[3]):
        raise ValueError(f"max_pool2d_backward: x_shape {x_shape} and dy {dy.shape} must agree "
                         "in batch size N and channels C")
    check_argmax_plane("max_pool2d_backward", "the input", x_shape[1:3])
    if not _argmax_in_range(argmax, x_shape[1] * x_shape[2]):
        raise ValueError("max_pool2d_backward: argmax holds indices outside the input plane")
    return _run("max_pool2d_backward", dy, np.ascontiguousarray(argmax), x_shape)


def avg_pool2d_forward(x, pool, strides, pads):
    """Average pooling (padding not counted): (N, OH, OW, C).

    Args:
        As tinydl.kernels.reference.avg_pool2d_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.avg_pool2d_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))

        Padding is not counted: the last window holds one real input, x[0, 2, 2].

        >>> y[0, :, :, 0]
        array([[2. , 3.5],
               [6.5, 8. ]])
        >>> float(x[0, :2, :2, 0].mean())
        2.0
    """
    (x,) = _float_arrays("avg_pool2d", x=x)
    _pool_checks("avg_pool2d", x, pool, strides, pads)
    return _run("avg_pool2d_forward", x, tuple(pool), tuple(strides), tuple(pads))


def avg_pool2d_backward(dy, x_shape, pool, strides, pads):
    """Gradient of average pooling: (N, H, W, C).

    Args:
        As tinydl.kernels.reference.avg_pool2d_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.avg_pool2d_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 5, 3))
        >>> dy = rng.normal(size=(2, 3, 3, 3))
        >>> dx = avg_pool2d_backward(dy, x.shape, (2, 2), (2, 2), (0, 1, 0, 1))

        The adjoint of the (linear) forward: <avg_pool(x), dy> = <x, dx>.

        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    (dy,) = _float_arrays("avg_pool2d_backward", dy=dy)
    x_shape = _check_image_shape("avg_pool2d_backward", x_shape)
    _check_window("avg_pool2d_backward", x_shape[1:3], pool, strides, pads)
    _check_shape("avg_pool2d_backward", "dy", dy,
                 _conv_out_shape(x_shape, pool, strides, pads, x_shape[3]))
    return _run("avg_pool2d_backward", dy, x_shape, tuple(pool), tuple(strides), tuple(pads))


def softmax_xent_forward(logits, labels):
    """Per-sample cross-entropy and softmax: (losses (N,), probs (N, K)).

    Args:
        As tinydl.kernels.reference.softmax_xent_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.softmax_xent_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
        >>> softmax_xent_forward(logits, np.array([0, 3]))
        Traceback (most recent call last):
        ...
        ValueError: softmax_cross_entropy: labels must be in [0, 3)...
    """
    (logits,) = _float_arrays("softmax_cross_entropy", logits=logits)
    _check_ndim("softmax_cross_entropy", "logits", logits, 2, "(N, K)")
    labels = _check_labels("softmax_cross_entropy", labels, *logits.shape)
    return _run("softmax_xent_forward", logits, labels)


def softmax_xent_backward(probs, labels, scale):
    """(probs - onehot(labels)) * scale: (N, K).

    Args:
        As tinydl.kernels.reference.softmax_xent_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.softmax_xent_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    (probs,) = _float_arrays("softmax_cross_entropy_backward", probs=probs)
    _check_ndim("softmax_cross_entropy_backward", "probs", probs, 2, "(N, K)")
    labels = _check_labels("softmax_cross_entropy_backward", labels, *probs.shape)
    return _run("softmax_xent_backward", probs, labels, float(scale))


def relu_forward(x):
    """max(x, 0) elementwise, any shape.

    Args:
        As tinydl.kernels.reference.relu_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.relu_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> out = relu_forward(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    (x,) = _float_arrays("relu", x=x)
    return _run("relu_forward", x)


def relu_backward(y, dy):
    """dy where y > 0, else 0; y and dy of one shape.

    Args:
        As tinydl.kernels.reference.relu_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.relu_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
        >>> relu_backward(y, dy[:2])
        Traceback (most recent call last):
        ...
        ValueError: relu_backward: dy must have shape (4,), ...
    """
    y, dy = _float_arrays("relu_backward", y=y, dy=dy)
    _check_shape("relu_backward", "dy", dy, y.shape)
    return _run("relu_backward", y, dy)


# ----------------------------------------------------------------------------- optimizers

_FLOAT32 = (np.dtype(np.float32),)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_updated(where: str, name: str, array, shape: tuple, dtypes=_FLOAT32) -> None:
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


def _check_no_overlap(where: str, **arrays) -> None:
    """The C kernel reads and writes each element once: arrays must not share memory."""
    named = [(n, a) for n, a in arrays.items() if a is not None]
    if len({id(a) for _, a in named if a.flags.owndata}) == len(named):
        return  # distinct arrays that each own their memory (the usual case): no overlap
    for i, (name, a) in enumerate(named):
        for other, b in named[i + 1:]:
            if np.may_share_memory(a, b):
                raise ValueError(f"{where}: {name} and {other} must be separate arrays, "
                                 "got two that share memory")


def _float32_scalar(where: str, name: str, value, high: float, expected: str) -> np.float32:
    """A real number in [0, high], as np.float32 (the update computes in float32)."""
    if not isinstance(value, (np.floating, float, int, np.integer)) or isinstance(value, bool) \
            or not 0 <= float(value) <= high:
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return value if type(value) is np.float32 else np.float32(value)


def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2,
                epsilon) -> None:  # noqa: F811 (the kernel's argument, not keras.backend.epsilon)
    """One Adam step, in place on m, v, v_hat and w; see tinydl.kernels.reference.adam_update.

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
    _check_updated(where, "w", w, np.shape(w), FLOAT_DTYPES)
    check_elements(where, w=w.shape)
    g = np.asarray(g)
    if g.dtype != np.float32:
        raise TypeError(f"{where}: g must be float32, got {g.dtype}")
    _check_shape(where, "g", g, w.shape)
    for name, array in (("m", m), ("v", v), ("v_hat", v_hat)):
        if array is not None:
            _check_updated(where, name, array, w.shape)
    _check_no_overlap(where, w=w, g=g, m=m, v=v, v_hat=v_hat)
    scalars = (_float32_scalar(where, "alpha", alpha, _FLOAT32_MAX, "a finite number >= 0"),
               _float32_scalar(where, "one_minus_beta_1", one_minus_beta_1, 1.0, "in [0, 1]"),
               _float32_scalar(where, "one_minus_beta_2", one_minus_beta_2, 1.0, "in [0, 1]"),
               _float32_scalar(where, "epsilon", epsilon, _FLOAT32_MAX, "a finite number >= 0"))
    return _run("adam_update", w, np.ascontiguousarray(g), m, v, v_hat, *scalars)


# ----------------------------------------------------------------------------- embedding

def embedding_backward(ids, dy, input_dim):
    """Scatter-add of dy (M, D) rows into dW (input_dim, D) by ids (M,) in [0, input_dim).

    Args:
        As tinydl.kernels.reference.embedding_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.embedding_backward,
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
    (dy,) = _float_arrays(where, dy=dy)
    ids = np.asarray(ids)
    _check_ndim(where, "dy", dy, 2, "(M, D)")
    if ids.dtype.kind not in "iu" or ids.shape != dy.shape[:1]:
        raise ValueError(f"{where}: ids must be integers of shape ({dy.shape[0]},), got "
                         f"{ids.dtype} {ids.shape}")
    input_dim = int(input_dim)
    check_elements(where, output=(input_dim, dy.shape[1]))
    if input_dim < 1 or (ids.size and (ids.min() < 0 or ids.max() >= input_dim)):
        raise ValueError(f"{where}: ids must be in [0, input_dim={input_dim})")
    return _run(where, np.ascontiguousarray(ids, dtype=np.int64), dy, input_dim)


# ----------------------------------------------------------------------------- recurrent
# Time-major arrays: T steps, N samples, U units; see tinydl/kernels/reference_recurrent.py.

def _rnn_mask(where, mask, t_n):
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.shape != t_n:
        raise ValueError(f"{where}: mask must be bool of shape (T, N) = {t_n}, got "
                         f"{mask.dtype} {mask.shape}")
    return np.ascontiguousarray(mask)


def _rnn_checks(where, seq, gates: int, rk, mask, **states):
    """Check a time-major (T, N, gates*U) sequence, rk (U, gates*U), (N, U) states and the mask;
    return (U, mask)."""
    _check_ndim(where, "sequence", seq, 3, "(T, N, G)")
    t_steps, n, width = seq.shape
    if width % gates or rk.shape != (width // gates, width):
        raise ValueError(f"{where}: recurrent_kernel must be (U, {gates}U) for a sequence of width "
                         f"{width}, got {rk.shape}")
    u = width // gates
    for name, state in states.items():
        _check_shape(where, name, state, (n, u))
    return u, _rnn_mask(where, mask, (t_steps, n))


def simple_rnn_forward(xw, rk, h0, mask):
    """hs (T, N, U) of h_t = tanh(xw_t + h_{t-1} @ rk), states held where mask is False.

    Args:
        As tinydl.kernels.reference.simple_rnn_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.simple_rnn_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4))       # T, N, U = 3, 2, 4
        >>> h0 = rng.normal(size=(2, 4))
        >>> hs = simple_rnn_forward(xw, rk, h0, None)
        >>> h = h0
        >>> for t in range(3):
        ...     h = np.tanh(xw[t] + h @ rk)
        >>> hs.shape, bool(np.allclose(hs[-1], h))
        ((3, 2, 4), True)
        >>> held = simple_rnn_forward(xw, rk, h0, np.array([[True, True], [False, True], [False, True]]))
        >>> bool(np.array_equal(held[2, 0], held[0, 0]))                 # sample 0 skips steps 1 and 2
        True
        >>> simple_rnn_forward(xw, rk[:3], h0, None)
        Traceback (most recent call last):
        ...
        ValueError: simple_rnn: recurrent_kernel must be (U, 1U) for a sequence of width 4, got (3, 4)
    """
    xw, rk, h0 = _float_arrays("simple_rnn", xw=xw, rk=rk, h0=h0)
    _, mask = _rnn_checks("simple_rnn", xw, 1, rk, mask, h0=h0)
    return _run("simple_rnn_forward", xw, rk, h0, mask)


def simple_rnn_backward(dhs, rk, h0, hs, mask):
    """(dxw (T, N, U), dh0 (N, U)) from dhs (T, N, U).

    Args:
        As tinydl.kernels.reference.simple_rnn_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.simple_rnn_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, h0 = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4)), rng.normal(size=(2, 4))
        >>> hs, dhs = simple_rnn_forward(xw, rk, h0, None), rng.normal(size=(3, 2, 4))
        >>> dxw, dh0 = simple_rnn_backward(dhs, rk, h0, hs, None)

        dxw matches a central finite difference of the loss sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (simple_rnn_forward(xw, rk, h0, None) * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    where = "simple_rnn_backward"
    dhs, rk, h0, hs = _float_arrays(where, dhs=dhs, rk=rk, h0=h0, hs=hs)
    _, mask = _rnn_checks(where, dhs, 1, rk, mask, h0=h0)
    _check_shape(where, "hs", hs, dhs.shape)
    return _run(where, dhs, rk, h0, hs, mask)


def lstm_forward(xw, rk, h0, c0, mask, overwrite_xw: bool = False):
    """(states (T, N, 2U) = [h | c], gates (T, N, 4U) = [i | f | g | o]) of an LSTM.

    Args:
        As tinydl.kernels.reference.lstm_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs. overwrite_xw lets the
        kernel write the gates over xw (a scratch array of the caller's).

    Returns:
        As tinydl.kernels.reference.lstm_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))       # T, N, U = 3, 2, 2
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward(xw, rk, h0, c0, None)

        The first step by hand (gate order i, f, c, o):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> i, f, g, o = np.split(xw[0] + h0 @ rk, 4, axis=1)
        >>> c1 = sigmoid(f) * c0 + sigmoid(i) * np.tanh(g)
        >>> states.shape, gates.shape, bool(np.allclose(states[0], np.hstack([sigmoid(o) * np.tanh(c1), c1])))
        ((3, 2, 4), (3, 2, 8), True)
        >>> lstm_forward(xw, rk, h0, c0[:1], None)
        Traceback (most recent call last):
        ...
        ValueError: lstm: c0 must have shape (2, 2), ...
    """
    xw, rk, h0, c0 = _float_arrays("lstm", xw=xw, rk=rk, h0=h0, c0=c0)
    _, mask = _rnn_checks("lstm", xw, 4, rk, mask, h0=h0, c0=c0)
    # under check_backends the reference reads xw after the native kernel: keep it intact
    overwrite_xw = (bool(overwrite_xw) and _state["checks"] is None and xw.flags.c_contiguous
                    and xw.flags.writeable)
    return _run("lstm_forward", xw, rk, h0, c0, mask, overwrite_xw)


def lstm_backward(dstates, rk, h0, c0, states, gates, mask):
    """(dz (T, N, 4U), dh0, dc0 (N, U)) from dstates (T, N, 2U).

    Args:
        As tinydl.kernels.reference.lstm_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.lstm_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward(xw, rk, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> dxw, dh0, dc0 = lstm_backward(dstates, rk, h0, c0, states, gates, None)

        dz is the gradient of the pre-activations z = xw_t + h_{t-1} @ rk, so it is that of xw:
        it matches a central finite difference of sum(states * dstates) along a random direction.

        >>> def loss(xw):
        ...     return (lstm_forward(xw, rk, h0, c0, None)[0] * dstates).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    where = "lstm_backward"
    dstates, rk, h0, c0, states, gates = _float_arrays(
        where, dstates=dstates, rk=rk, h0=h0, c0=c0, states=states, gates=gates)
    _, mask = _rnn_checks(where, gates, 4, rk, mask, h0=h0, c0=c0)
    _check_shape(where, "dstates", dstates, gates.shape[:2] + (gates.shape[2] // 2,))
    _check_shape(where, "states", states, dstates.shape)
    return _run(where, dstates, rk, h0, c0, states, gates, mask)


def gru_forward(xw, rk, rb, h0, mask):
    """(hs (T, N, U), gates (T, N, 4U) = [z | r | hh | inner_h]) of a GRU (reset_after=True).

    Args:
        As tinydl.kernels.reference.gru_forward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.gru_forward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)   # U = 2
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward(xw, rk, rb, h0, None)

        The first step by hand (gate order z, r, h; reset_after=True):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> (xz, xr, xh), (iz, ir, ih) = np.split(xw[0], 3, axis=1), np.split(h0 @ rk + rb, 3, axis=1)
        >>> z, r = sigmoid(xz + iz), sigmoid(xr + ir)
        >>> hs.shape, gates.shape, bool(np.allclose(hs[0], z * h0 + (1 - z) * np.tanh(xh + r * ih)))
        ((3, 2, 2), (3, 2, 8), True)
        >>> gru_forward(xw, rk, rb[:4], h0, None)
        Traceback (most recent call last):
        ...
        ValueError: gru: recurrent bias must have shape (6,), ...
    """
    xw, rk, rb, h0 = _float_arrays("gru", xw=xw, rk=rk, rb=rb, h0=h0)
    _, mask = _rnn_checks("gru", xw, 3, rk, mask, h0=h0)
    _check_shape("gru", "recurrent bias", rb, (xw.shape[2],))
    return _run("gru_forward", xw, rk, rb, h0, mask)


def gru_backward(dhs, rk, h0, hs, gates, mask):
    """(dxw (T, N, 3U), dinner (T, N, 3U), dh0 (N, U)) from dhs (T, N, U).

    Args:
        As tinydl.kernels.reference.gru_backward,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.reference.gru_backward,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward(xw, rk, rb, h0, None)
        >>> dhs = rng.normal(size=hs.shape)
        >>> dxw, dinner, dh0 = gru_backward(dhs, rk, h0, hs, gates, None)

        dxw matches a central finite difference of sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (gru_forward(xw, rk, rb, h0, None)[0] * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    where = "gru_backward"
    dhs, rk, h0, hs, gates = _float_arrays(where, dhs=dhs, rk=rk, h0=h0, hs=hs, gates=gates)
    u, mask = _rnn_checks(where, hs, 1, rk[:, :rk.shape[0]], mask, h0=h0)
    if rk.shape != (u, 3 * u):
        raise ValueError(f"{where}: recurrent_kernel must be (U, 3U) = {(u, 3 * u)}, got {rk.shape}")
    _check_shape(where, "dhs", dhs, hs.shape)
    _check_shape(where, "gates", gates, hs.shape[:2] + (4 * u,))
    return _run(where, dhs, rk, h0, hs, gates, mask)


def _initial_backend() -> tuple:
    """(name, chosen): TINYDL_BACKEND when set, else native when it imported."""
    requested = os.environ.get("TINYDL_BACKEND", "").strip().lower()
    if requested:
        return requested, True
    return ("native" if _native is not None else "reference"), False


_select_backend(*_initial_backend())

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "backend")  # a Keras name tinydl lacks: a clear error
