"""The backend switch between ops and kernels: which kernels run, on how many threads.

Ops call the kernel entries re-exported here (tinydl.backend.gemm, .conv2d_forward, ...).
Each lives in its family module, tinydl/kernels/<family>.py, beside its NumPy reference and
its native twin; the entry checks its arguments (dtypes, shapes, label ranges: what C relies
on) and tinydl.kernels._dispatch.run runs the kernel of the selected backend:

- 'reference': the family's NumPy function, readable (the teaching version);
- 'native': its C twin through the Cython extension. A kernel with no native twin yet runs
  its reference, and backend_info() says which ones do.

Select with set_backend('native' | 'reference') or the TINYDL_BACKEND environment
variable (read once, at import). The default is 'native' when the extension is built.
"""

from __future__ import annotations

import contextlib
import os
import warnings

from tinydl.config import (backend, clear_session, epsilon, floatx, get_uid,  # noqa: F401 (keras.backend)
                           image_data_format, is_float_dtype, is_int_dtype, is_keras_tensor,
                           result_type, set_epsilon, set_floatx, set_image_data_format, standardize_dtype)
from tinydl.kernels import _dispatch, _extension, _registry
from tinydl.kernels._checks import FLOAT_DTYPES  # noqa: F401

BACKENDS = ("reference", "native")
KERNELS = tuple(_registry.kernels())  # every kernel's name, from the family modules
_state = _dispatch.state
_native, _native_error = _extension.ext, _extension.error
# The kernels' checked entries: tinydl.backend.gemm is tinydl.kernels.gemm.gemm, and so on.
globals().update({name: kernel.entry for name, kernel in _registry.kernels().items()})


_thread, _current = _dispatch.thread, _dispatch.current


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
    return [name for name, kernel in _registry.kernels().items() if kernel.native is not None]


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
        from tinydl.kernels import native  # the build facts; imports only with the extension
        info.update(native.info())
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


def _initial_backend() -> tuple:
    """(name, chosen): TINYDL_BACKEND when set, else native when it imported."""
    requested = os.environ.get("TINYDL_BACKEND", "").strip().lower()
    if requested:
        return requested, True
    return ("native" if _native is not None else "reference"), False


_select_backend(*_initial_backend())

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "backend")  # a Keras name tinydl lacks: a clear error
