"""Native kernels: the same functions as tinydl.kernels.reference, computed by our C code.

Arguments arrive checked and C-contiguous from tinydl.backend. Each wrapper allocates
its outputs and hands the arrays to the entry point of tinydl._native of the same name
(one Cython function for float32 and float64, which calls the C kernel of that dtype).
Empty arrays (a zero in any dimension) never reach C: their (trivial) results come from
the reference kernels. A kernel that is not defined here runs from the reference module.
"""

from __future__ import annotations

import numpy as np

from tinydl import _native as _ext
from tinydl.kernels.shapes import padded_output_hw
from tinydl.kernels import reference
from tinydl.kernels.depthwise import (  # noqa: F401  (the depthwise family's twins)
    depthwise_conv2d_backward_input_native as depthwise_conv2d_backward_input,
    depthwise_conv2d_backward_kernel_native as depthwise_conv2d_backward_kernel,
    depthwise_conv2d_forward_native as depthwise_conv2d_forward)

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


CONV_ALGORITHMS = ("auto", "im2col", "winograd")
_forced = {"conv_algorithm": "auto"}


def force_conv_algorithm(name: str) -> None:
    """Make every convolution forward and weight gradient use one algorithm: 'im2col'
    (+ GEMM), 'winograd' (F(2x2, 3x3), for 3x3 windows with unit strides; other windows still
    use im2col) or 'auto' (Winograd for 3x3, stride 1, at least 16 input and output channels).
    The input gradient always uses im2col (measured: Winograd did not make it faster).

    A test and benchmark hook; not meant to be switched while kernels run on other threads.

    Raises:
        ValueError: for an unknown name.

    Args:
        name: one of CONV_ALGORITHMS.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(1, 6, 6, 16)), rng.normal(size=(3, 3, 16, 16))
        >>> results = {}
        >>> for name in ("im2col", "winograd"):
        ...     force_conv_algorithm(name)
        ...     results[name] = conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1))
        >>> force_conv_algorithm("auto")
        >>> bool(np.allclose(results["im2col"], results["winograd"]))
        True
        >>> force_conv_algorithm("fft")
        Traceback (most recent call last):
        ...
        ValueError: conv algorithm must be one of ('auto', 'im2col', 'winograd'), got 'fft'
    """
    if name not in CONV_ALGORITHMS:
        raise ValueError(f"conv algorithm must be one of {CONV_ALGORITHMS}, got {name!r}")
    _ext.conv2d_force_algorithm(name)
    _forced["conv_algorithm"] = name


def get_conv_algorithm() -> str:
    """The algorithm force_conv_algorithm chose: 'auto' unless one was forced.

    Returns:
        'auto', 'im2col' or 'winograd'.

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
        {'openmp', 'max_threads', 'cpu_features', 'gemm_microkernel', 'conv_algorithm'}.

    Example:
        >>> facts = info()
        >>> sorted(facts), facts["conv_algorithm"], facts["max_threads"] == get_num_threads()
        (['conv_algorithm', 'cpu_features', 'gemm_microkernel', 'max_threads', 'openmp'], 'auto', True)
    """
    return {
        "openmp": _ext.have_openmp(),
        "max_threads": _ext.get_num_threads(),
        "cpu_features": _ext.cpu_features(),
        "gemm_microkernel": _ext.gemm_kernel_name(),
        "conv_algorithm": get_conv_algorithm(),
    }


# ----------------------------------------------------------------------------- matmul

def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """relu(alpha * op(a) @ op(b) + beta * c + bias): (M, N); see reference.gemm.

    Args:
        As tinydl.kernels.reference.gemm,
        already checked and made C-contiguous by tinydl.backend.gemm;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.gemm
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b, bias = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
        >>> out = gemm(a, b, trans_b=True, alpha=2.0, bias=bias, relu=True)
        >>> out.shape, bool(np.allclose(out, np.maximum(2.0 * a @ b.T + bias, 0)))
        ((3, 5), True)
    """
    m, k = a.shape[::-1] if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    if m == 0 or n == 0 or k == 0:
        return reference.gemm(a, b, trans_a, trans_b, alpha, beta, c, bias, relu)
    if c is not None and beta != 0.0:
        out = np.array(c, dtype=a.dtype, order="C", copy=True)
    else:
        out, beta = np.empty((m, n), dtype=a.dtype), 0.0
    _ext.gemm(trans_a, trans_b, m, n, k, alpha, a, b, beta, out, bias, relu)
    return out


# ----------------------------------------------------------------------------- conv2d

def conv2d_forward(x, w, bias, strides, pads, relu=False):
    """x (N, H, W, C) conv w (KH, KW, C, F) [+ bias (F,)] [relu] -> (N, OH, OW, F).

    Args:
        As tinydl.kernels.reference.conv2d_forward,
        already checked and made C-contiguous by tinydl.backend.conv2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.conv2d_forward
        (its result, to rounding).

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
    """
    oh, ow = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    if x.size == 0 or w.size == 0 or oh <= 0 or ow <= 0:
        return reference.conv2d_forward(x, w, bias, strides, pads, relu)
    y = np.empty((x.shape[0], oh, ow, w.shape[3]), dtype=x.dtype)
    _ext.conv2d_forward(x, w, bias, tuple(strides), tuple(pads), relu, y)
    return y


def conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool):
    """max_pool(conv2d_forward(...), pool, strides=pool, no pads), the conv output never stored.

    Returns (p (N, OH // PH, OW // PW, F), argmax int32 of p's shape, flat oh*OW + ow).

    Args:
        As tinydl.kernels.reference.conv2d_max_pool_forward,
        already checked and made C-contiguous by tinydl.backend.conv2d_max_pool_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.conv2d_max_pool_forward
        (its result, to rounding).

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
    oh, ow = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    if x.size == 0 or w.size == 0 or oh < pool[0] or ow < pool[1]:
        return reference.conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool)
    p = np.empty((x.shape[0], oh // pool[0], ow // pool[1], w.shape[3]), dtype=x.dtype)
    argmax = np.empty(p.shape, dtype=np.int32)
    _ext.conv2d_max_pool_forward(x, w, bias, tuple(strides), tuple(pads), relu, tuple(pool),
                                 (oh, ow), p, argmax)
    return p, argmax


def conv2d_backward_input(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
                          pool_geometry=None):
    """dy (N, OH, OW, F) [, relu_out] [, pooled: see reference] -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.reference.conv2d_backward_input,
        already checked and made C-contiguous by tinydl.backend.conv2d_backward_input;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.conv2d_backward_input
        (its result, to rounding).

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
    """
    if dy.size == 0 or w.size == 0 or 0 in x_shape:
        return reference.conv2d_backward_input(dy, w, x_shape, strides, pads, relu_out,
                                               pool_argmax, pool_geometry)
    out_hw = padded_output_hw(x_shape[1:3], w.shape[:2], strides, pads)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.conv2d_backward_input(dy, w, tuple(strides), tuple(pads), relu_out, pool_argmax,
                               pool_geometry, out_hw, dx)
    return dx


def conv2d_backward_kernel(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
                           pool_argmax=None, pool_geometry=None):
    """dy (N, OH, OW, F), x (N, H, W, C) [, relu_out] [, pooled] -> (dw, db (F,) or None).

    Args:
        As tinydl.kernels.reference.conv2d_backward_kernel,
        already checked and made C-contiguous by tinydl.backend.conv2d_backward_kernel;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.conv2d_backward_kernel
        (its result, to rounding).

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
    if dy.size == 0 or x.size == 0:
        return reference.conv2d_backward_kernel(dy, x, kernel_hw, strides, pads, with_bias,
                                                relu_out, pool_argmax, pool_geometry)
    out_hw = padded_output_hw(x.shape[1:3], kernel_hw, strides, pads)
    dw = np.empty((kernel_hw[0], kernel_hw[1], x.shape[3], dy.shape[3]), dtype=dy.dtype)
    db = np.empty(dy.shape[3], dtype=dy.dtype) if with_bias else None
    _ext.conv2d_backward_kernel(dy, x, tuple(strides), tuple(pads), relu_out, pool_argmax,
                                pool_geometry, out_hw, dw, db)
    return dw, db


# ----------------------------------------------------------------------------- pooling

def max_pool2d_forward(x, pool, strides, pads):
    """x (N, H, W, C) -> (y (N, OH, OW, C), argmax int32 (N, OH, OW, C), flat h*W + w).

    Args:
        As tinydl.kernels.reference.max_pool2d_forward,
        already checked and made C-contiguous by tinydl.backend.max_pool2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.max_pool2d_forward
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
    """
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return reference.max_pool2d_forward(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int32)
    _ext.max_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y, argmax)
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape):
    """dy and argmax (N, OH, OW, C) -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.reference.max_pool2d_backward,
        already checked and made C-contiguous by tinydl.backend.max_pool2d_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.max_pool2d_backward
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
    """
    if dy.size == 0 or 0 in x_shape:
        return reference.max_pool2d_backward(dy, argmax, x_shape)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.max_pool2d_backward(dy, argmax, dx)
    return dx


def avg_pool2d_forward(x, pool, strides, pads):
    """x (N, H, W, C) -> (N, OH, OW, C), padding not counted.

    Args:
        As tinydl.kernels.reference.avg_pool2d_forward,
        already checked and made C-contiguous by tinydl.backend.avg_pool2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.avg_pool2d_forward
        (its result, to rounding).

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
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return reference.avg_pool2d_forward(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    _ext.avg_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y)
    return y


def avg_pool2d_backward(dy, x_shape, pool, strides, pads):
    """dy (N, OH, OW, C) -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.reference.avg_pool2d_backward,
        already checked and made C-contiguous by tinydl.backend.avg_pool2d_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.avg_pool2d_backward
        (its result, to rounding).

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
    if dy.size == 0 or 0 in x_shape:
        return reference.avg_pool2d_backward(dy, x_shape, pool, strides, pads)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.avg_pool2d_backward(dy, tuple(pool), tuple(strides), tuple(pads), dx)
    return dx


# ----------------------------------------------------------------------------- softmax xent

def softmax_xent_forward(logits, labels):
    """logits (N, K), labels int64 (N,) -> (losses (N,), probs (N, K)).

    Args:
        As tinydl.kernels.reference.softmax_xent_forward,
        already checked and made C-contiguous by tinydl.backend.softmax_xent_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.softmax_xent_forward
        (its result, to rounding).

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
    """
    if logits.size == 0:
        return reference.softmax_xent_forward(logits, labels)
    losses = np.empty(logits.shape[0], dtype=logits.dtype)
    probs = np.empty_like(logits)
    _ext.softmax_xent_forward(logits, labels, losses, probs)
    return losses, probs


def softmax_xent_backward(probs, labels, scale):
    """(probs - onehot(labels)) * scale: (N, K).

    Args:
        As tinydl.kernels.reference.softmax_xent_backward,
        already checked and made C-contiguous by tinydl.backend.softmax_xent_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.softmax_xent_backward
        (its result, to rounding).

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    if probs.size == 0:
        return reference.softmax_xent_backward(probs, labels, scale)
    grad = np.empty_like(probs)
    _ext.softmax_xent_backward(probs, labels, scale, grad)
    return grad


# ----------------------------------------------------------------------------- relu

def relu_forward(x):
    """max(x, 0): same shape as x.

    Args:
        As tinydl.kernels.reference.relu_forward,
        already checked and made C-contiguous by tinydl.backend.relu_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.relu_forward
        (its result, to rounding).

    Example:
        >>> out = relu_forward(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    out = np.empty_like(x)
    if x.size:
        _ext.relu_forward(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(y, dy):
    """dy where y > 0, else 0: same shape as dy.

    Args:
        As tinydl.kernels.reference.relu_backward,
        already checked and made C-contiguous by tinydl.backend.relu_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.relu_backward
        (its result, to rounding).

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
    """
    dx = np.empty_like(dy)
    if dy.size:
        _ext.relu_backward(y.reshape(-1), dy.reshape(-1), dx.reshape(-1))
    return dx


# ----------------------------------------------------------------------------- optimizers

def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """One Adam step in place on w, m, v (and v_hat, or None); see reference.adam_update.

    The C kernel is float32 only: a float64 w (with its mixed float32/float64 arithmetic)
    runs in the reference, as does an empty one. reshape(-1) of a C-contiguous array is a
    view, so C updates the caller's arrays.

    Args:
        As tinydl.kernels.reference.adam_update,
        already checked and made C-contiguous by tinydl.backend.adam_update;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.adam_update
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w, g = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
        >>> m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
        >>> w0 = w.copy()
        >>> adam_update(w, g, m, v, None, np.float32(0.01), np.float32(0.1), np.float32(0.001), np.float32(1e-7))

        After one step from zero moments, m = 0.1 g and v = 0.001 g^2:

        >>> bool(np.allclose(m, 0.1 * g)), bool(np.allclose(v, 0.001 * g * g))
        (True, True)
        >>> bool(np.allclose(w, w0 - 0.01 * m / (np.sqrt(v) + 1e-7)))
        True
    """
    if w.dtype != np.float32 or w.size == 0:
        return reference.adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1,
                                     one_minus_beta_2, epsilon)
    _ext.adam_update_f32(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                         None if v_hat is None else v_hat.reshape(-1), alpha, one_minus_beta_1,
                         one_minus_beta_2, epsilon)


# ----------------------------------------------------------------------------- embedding

def embedding_backward(ids, dy, input_dim):
    """ids int64 (M,), dy (M, D) -> dW (input_dim, D), rows scatter-added by id.

    Args:
        As tinydl.kernels.reference.embedding_backward,
        already checked and made C-contiguous by tinydl.backend.embedding_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.embedding_backward
        (its result, to rounding).

    Example:
        >>> ids, dy = np.array([1, 0, 1]), np.arange(6.0).reshape(3, 2)      # M = 3 lookups, D = 2
        >>> dw = embedding_backward(ids, dy, 3)

        Row 1 gets the gradients of lookups 0 and 2, row 0 that of lookup 1, row 2 nothing:

        >>> dw
        array([[2., 3.],
               [4., 6.],
               [0., 0.]])
    """
    if dy.size == 0:
        return reference.embedding_backward(ids, dy, input_dim)
    dw = np.zeros((input_dim, dy.shape[1]), dtype=dy.dtype)
    _ext.embedding_backward(ids, dy, dw)
    return dw


# ----------------------------------------------------------------------------- recurrent
# Time-major arrays (T, N, ...), see tinydl/kernels/reference_recurrent.py; a bool mask is
# handed to C as its uint8 view (same bytes, no copy).

def _mask_bytes(mask):
    return None if mask is None else mask.view(np.uint8)


def _empty(*arrays) -> bool:
    return any(a.size == 0 for a in arrays)


def simple_rnn_forward(xw, rk, h0, mask):
    """xw (T, N, U), rk (U, U), h0 (N, U) -> hs (T, N, U).

    Args:
        As tinydl.kernels.reference.simple_rnn_forward,
        already checked and made C-contiguous by tinydl.backend.simple_rnn_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.simple_rnn_forward
        (its result, to rounding).

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
    """
    if _empty(xw, rk):
        return reference.simple_rnn_forward(xw, rk, h0, mask)
    hs = np.empty_like(xw)
    _ext.simple_rnn_forward(xw, rk, h0, _mask_bytes(mask), hs)
    return hs


def simple_rnn_backward(dhs, rk, h0, hs, mask):
    """-> (dxw (T, N, U), dh0 (N, U)).

    Args:
        As tinydl.kernels.reference.simple_rnn_backward,
        already checked and made C-contiguous by tinydl.backend.simple_rnn_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.simple_rnn_backward
        (its result, to rounding).

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
    if _empty(dhs, rk):
        return reference.simple_rnn_backward(dhs, rk, h0, hs, mask)
    dxw, dh0 = np.empty_like(dhs), np.empty_like(h0)
    _ext.simple_rnn_backward(dhs, rk, h0, hs, _mask_bytes(mask), dxw, dh0)
    return dxw, dh0


def lstm_forward(xw, rk, h0, c0, mask, overwrite_xw=False):
    """xw (T, N, 4U) -> (states (T, N, 2U), gates (T, N, 4U)).

    Args:
        As tinydl.kernels.reference.lstm_forward,
        already checked and made C-contiguous by tinydl.backend.lstm_forward;
        float32 or float64 (one C kernel per dtype). overwrite_xw: the gates are written
        over xw (returned as gates) instead of a new array.

    Returns:
        As tinydl.kernels.reference.lstm_forward
        (its result, to rounding).

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
    """
    if _empty(xw, rk):
        return reference.lstm_forward(xw, rk, h0, c0, mask)
    t_steps, n, four_u = xw.shape
    states = np.empty((t_steps, n, four_u // 2), dtype=xw.dtype)
    gates = xw if overwrite_xw else np.empty_like(xw)
    _ext.lstm_forward(xw, rk, h0, c0, _mask_bytes(mask), states, gates)
    return states, gates


def lstm_backward(dstates, rk, h0, c0, states, gates, mask):
    """-> (dz (T, N, 4U), dh0, dc0 (N, U)).

    Args:
        As tinydl.kernels.reference.lstm_backward,
        already checked and made C-contiguous by tinydl.backend.lstm_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.lstm_backward
        (its result, to rounding).

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
    if _empty(gates, rk):
        return reference.lstm_backward(dstates, rk, h0, c0, states, gates, mask)
    dz, dh0, dc0 = np.empty_like(gates), np.empty_like(h0), np.empty_like(c0)
    _ext.lstm_backward(dstates, rk, h0, c0, states, gates, _mask_bytes(mask), dz, dh0, dc0)
    return dz, dh0, dc0


def gru_forward(xw, rk, rb, h0, mask):
    """xw (T, N, 3U) -> (hs (T, N, U), gates (T, N, 4U)).

    Args:
        As tinydl.kernels.reference.gru_forward,
        already checked and made C-contiguous by tinydl.backend.gru_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.gru_forward
        (its result, to rounding).

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
    """
    if _empty(xw, rk):
        return reference.gru_forward(xw, rk, rb, h0, mask)
    t_steps, n, three_u = xw.shape
    hs = np.empty((t_steps, n, three_u // 3), dtype=xw.dtype)
    gates = np.empty((t_steps, n, 4 * (three_u // 3)), dtype=xw.dtype)
    _ext.gru_forward(xw, rk, rb, h0, _mask_bytes(mask), hs, gates)
    return hs, gates


def gru_backward(dhs, rk, h0, hs, gates, mask):
    """-> (dxw (T, N, 3U), dinner (T, N, 3U), dh0 (N, U)).

    Args:
        As tinydl.kernels.reference.gru_backward,
        already checked and made C-contiguous by tinydl.backend.gru_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.reference.gru_backward
        (its result, to rounding).

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
    if _empty(dhs, rk):
        return reference.gru_backward(dhs, rk, h0, hs, gates, mask)
    t_steps, n, u = dhs.shape
    dxw = np.empty((t_steps, n, 3 * u), dtype=dhs.dtype)
    dinner, dh0 = np.empty_like(dxw), np.empty_like(h0)
    _ext.gru_backward(dhs, rk, h0, hs, gates, _mask_bytes(mask), dxw, dinner, dh0)
    return dxw, dinner, dh0
