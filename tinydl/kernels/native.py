"""The native kernels by name (tinydl.kernels.native.gemm, ...), and the C build's test hooks.

Each native kernel lives in its family module, tinydl/kernels/<family>.py, as <name>_native
beside <name>_reference; this module gathers them under the kernels' names, the twins of
tinydl.kernels.reference. Arguments must arrive checked and C-contiguous (call the entries in
tinydl.backend to have them checked). Importing it raises ImportError when the extension
tinydl._native is not built. The hooks below (force_microkernel, force_conv_algorithm, info)
reach into the C build for tests and benchmarks.
"""

from __future__ import annotations

from tinydl import _native as _ext
from tinydl.kernels import _extension, _registry

# Every kernel with a native twin, by its name (e.g. gemm = tinydl.kernels.gemm.gemm_native).
globals().update({name: kernel.native for name, kernel in _registry.kernels().items()
                  if kernel.native is not None})

MICROKERNELS = ("auto", "avx512", "avx2", "generic")


def set_num_threads(n: int) -> None:
    """Use n threads in the native kernels (tinydl.backend.set_num_threads checks n first).

    Args:
        n: an int in [1, tinydl.backend.MAX_THREADS].

    Example:
        >>> previous = get_num_threads()
        >>> set_num_threads(1)
        >>> get_num_threads()
        1
        >>> set_num_threads(previous)
    """
    _ext.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the native kernels use (see tinydl.backend.get_num_threads).

    Returns:
        The count, >= 1.

    Example:
        >>> get_num_threads() == tinydl.get_num_threads() >= 1
        True
    """
    return _ext.get_num_threads()


def force_microkernel(name: str) -> None:
    """Make every GEMM use one micro-kernel: 'avx512', 'avx2', 'generic', or 'auto' (CPU's best).

    A test and benchmark hook; not meant to be switched while kernels run on other threads.

    Raises:
        ValueError: for an unknown name, or a micro-kernel this CPU cannot run.

    Args:
        name: one of MICROKERNELS.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=(7, 5)).astype(np.float32), rng.normal(size=(5, 9)).astype(np.float32)
        >>> force_microkernel("generic")                    # the portable C micro-kernel
        >>> generic = gemm(a, b)
        >>> force_microkernel("auto")
        >>> bool(np.allclose(generic, a @ b, atol=1e-5)), bool(np.allclose(gemm(a, b), generic, atol=1e-5))
        (True, True)
        >>> force_microkernel("sse2")
        Traceback (most recent call last):
        ...
        ValueError: micro-kernel must be one of ('auto', 'avx512', 'avx2', 'generic'), got 'sse2'
    """
    if name not in MICROKERNELS:
        raise ValueError(f"micro-kernel must be one of {MICROKERNELS}, got {name!r}")
    if _ext.gemm_force_kernel(name) != 0:
        raise ValueError(
            f"this CPU cannot run the {name!r} GEMM micro-kernel (CPU features: "
            f"{_ext.cpu_features()}); choose one of {available_microkernels()}"
        )


CONV_ALGORITHMS = ("auto", "im2col", "winograd", "implicit")
_forced = {"conv_algorithm": "auto"}


def force_conv_algorithm(name: str) -> None:
    """Make every convolution forward and weight gradient use one algorithm: 'im2col'
    (+ GEMM), 'winograd' (F(2x2, 3x3), for 3x3 windows with unit strides), 'implicit' (the
    implicit GEMM: unit strides, no patch matrix; csrc/conv2d.h; for float with at most 32
    filters on AVX-512 its direct kernel, any strides, csrc/conv2d_direct.h), or 'auto'. Where the forced
    one does not apply, im2col runs. 'auto' takes, for a float forward on AVX-512 (any
    strides) with a window other than 1x1 over at most 16 channels into at most 16 filters (or at most
    4 channels into 32), the direct kernel; else Winograd for 3x3, stride 1, at least 16
    input and output channels (for the weight gradient on AVX-512, at least 32 filters), and
    for a stride-1 weight gradient with at most 16 filters on the AVX-512 and AVX2 kernels,
    the implicit GEMM (docs/kernels.md has the rule and its measurements).
    The input gradient of a 3x3 stride-1 convolution with at least 16 channels each way and
    an output of at least 4x4 runs as a forward convolution (so as above) unless 'im2col' is
    forced, after a fused max pool only when the output is at least as large as the input
    ('same'-like pads; the pool's gradient routed to it first); others use the col2im kernel
    (tinydl/kernels/conv2d.py, _input_grad_is_forward).

    A test and benchmark hook; not meant to be switched while kernels run on other threads.

    Raises:
        ValueError: for an unknown name.

    Args:
        name: one of CONV_ALGORITHMS.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(1, 6, 6, 16)), rng.normal(size=(3, 3, 16, 16))
        >>> results = {}
        >>> for name in ("im2col", "winograd", "implicit"):
        ...     force_conv_algorithm(name)
        ...     results[name] = conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1))
        >>> force_conv_algorithm("auto")
        >>> bool(np.allclose(results["im2col"], results["winograd"]))
        True
        >>> bool(np.allclose(results["im2col"], results["implicit"]))
        True
        >>> force_conv_algorithm("fft")
        Traceback (most recent call last):
        ...
        ValueError: conv algorithm must be one of ('auto', 'im2col', 'winograd', 'implicit'), got 'fft'
    """
    if name not in CONV_ALGORITHMS:
        raise ValueError(f"conv algorithm must be one of {CONV_ALGORITHMS}, got {name!r}")
    _ext.conv2d_force_algorithm(name)
    _forced["conv_algorithm"] = name


def get_conv_algorithm() -> str:
    """The algorithm force_conv_algorithm chose: 'auto' unless one was forced.

    Returns:
        'auto', 'im2col', 'winograd' or 'implicit'.

    Example:
        >>> get_conv_algorithm()
        'auto'
        >>> force_conv_algorithm("im2col")
        >>> get_conv_algorithm()
        'im2col'
        >>> force_conv_algorithm("auto")
    """
    return _forced["conv_algorithm"]


def available_microkernels() -> list[str]:
    """The micro-kernels this CPU can run, best first.

    Returns:
        A sublist of ['avx512', 'avx2', 'generic']; 'generic' is always there.

    Example:
        >>> names = available_microkernels()
        >>> names[-1], set(names) <= set(MICROKERNELS)
        ('generic', True)
    """
    features = _ext.cpu_features()
    names = [n for n, flag in (("avx512", "avx512f"), ("avx2", "avx2")) if features[flag]]
    return names + ["generic"]


def info() -> dict:
    """Build facts for backend_info(): OpenMP, threads, CPU features and micro-kernel choice.

    Returns:
        {'openmp', 'max_threads', 'cpu_features', 'gemm_microkernel', 'conv_algorithm',
        'keeps_freed_memory'} (the last: malloc keeps freed blocks for reuse, see
        tinydl/kernels/_extension.py).

    Example:
        >>> facts = info()
        >>> sorted(facts)[:3], facts["conv_algorithm"], facts["max_threads"] == get_num_threads()
        (['conv_algorithm', 'cpu_features', 'gemm_microkernel'], 'auto', True)
    """
    return {
        "openmp": _ext.have_openmp(),
        "max_threads": _ext.get_num_threads(),
        "cpu_features": _ext.cpu_features(),
        "gemm_microkernel": _ext.gemm_kernel_name(),
        "conv_algorithm": get_conv_algorithm(),
        "keeps_freed_memory": _extension.keeps_freed_memory,
    }

