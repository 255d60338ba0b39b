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
    _ext.set_num_threads(n)


def get_num_threads() -> int:
    return _ext.get_num_threads()


def force_microkernel(name: str) -> None:
    """Make every GEMM use one micro-kernel: 'avx512', 'avx2', 'generic', or 'auto' (CPU's best).

    A test and benchmark hook; not meant to be switched while kernels run on other threads.

    Raises:
        ValueError: for an unknown name, or a micro-kernel this CPU cannot run.
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
    """
    if name not in CONV_ALGORITHMS:
        raise ValueError(f"conv algorithm must be one of {CONV_ALGORITHMS}, got {name!r}")
    _ext.conv2d_force_algorithm(name)
    _forced["conv_algorithm"] = name


def get_conv_algorithm() -> str:
    """The algorithm force_conv_algorithm chose: 'auto' unless one was forced."""
    return _forced["conv_algorithm"]


def available_microkernels() -> list[str]:
    """The micro-kernels this CPU can run, best first."""
    features = _ext.cpu_features()
    names = [n for n, flag in (("avx512", "avx512f"), ("avx2", "avx2")) if features[flag]]
    return names + ["generic"]


def info() -> dict:
    """Build facts for backend_info(): OpenMP, threads, CPU features and micro-kernel choice."""
    return {
        "openmp": _ext.have_openmp(),
        "max_threads": _ext.get_num_threads(),
        "cpu_features": _ext.cpu_features(),
        "gemm_microkernel": _ext.gemm_kernel_name(),
        "conv_algorithm": get_conv_algorithm(),
    }


# ----------------------------------------------------------------------------- matmul

def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """relu(alpha * op(a) @ op(b) + beta * c + bias): (M, N); see reference.gemm."""
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
    """x (N, H, W, C) conv w (KH, KW, C, F) [+ bias (F,)] [relu] -> (N, OH, OW, F)."""
    oh, ow = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    if x.size == 0 or w.size == 0 or oh <= 0 or ow <= 0:
        return reference.conv2d_forward(x, w, bias, strides, pads, relu)
    y = np.empty((x.shape[0], oh, ow, w.shape[3]), dtype=x.dtype)
    _ext.conv2d_forward(x, w, bias, tuple(strides), tuple(pads), relu, y)
    return y


def conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool):
    """max_pool(conv2d_forward(...), pool, strides=pool, no pads), the conv output never stored.

    Returns (p (N, OH // PH, OW // PW, F), argmax int32 of p's shape, flat oh*OW + ow).
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
    """dy (N, OH, OW, F) [, relu_out] [, pooled: see reference] -> dx (N, H, W, C)."""
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
    """dy (N, OH, OW, F), x (N, H, W, C) [, relu_out] [, pooled] -> (dw, db (F,) or None)."""
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
    """x (N, H, W, C) -> (y (N, OH, OW, C), argmax int32 (N, OH, OW, C), flat h*W + w)."""
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return reference.max_pool2d_forward(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int32)
    _ext.max_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y, argmax)
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape):
    """dy and argmax (N, OH, OW, C) -> dx (N, H, W, C)."""
    if dy.size == 0 or 0 in x_shape:
        return reference.max_pool2d_backward(dy, argmax, x_shape)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.max_pool2d_backward(dy, argmax, dx)
    return dx


def avg_pool2d_forward(x, pool, strides, pads):
    """x (N, H, W, C) -> (N, OH, OW, C), padding not counted."""
    oh, ow = padded_output_hw(x.shape[1:3], pool, strides, pads)
    if x.size == 0 or oh <= 0 or ow <= 0:
        return reference.avg_pool2d_forward(x, pool, strides, pads)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    _ext.avg_pool2d_forward(x, tuple(pool), tuple(strides), tuple(pads), y)
    return y


def avg_pool2d_backward(dy, x_shape, pool, strides, pads):
    """dy (N, OH, OW, C) -> dx (N, H, W, C)."""
    if dy.size == 0 or 0 in x_shape:
        return reference.avg_pool2d_backward(dy, x_shape, pool, strides, pads)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.avg_pool2d_backward(dy, tuple(pool), tuple(strides), tuple(pads), dx)
    return dx


# ----------------------------------------------------------------------------- softmax xent

def softmax_xent_forward(logits, labels):
    """logits (N, K), labels int64 (N,) -> (losses (N,), probs (N, K))."""
    if logits.size == 0:
        return reference.softmax_xent_forward(logits, labels)
    losses = np.empty(logits.shape[0], dtype=logits.dtype)
    probs = np.empty_like(logits)
    _ext.softmax_xent_forward(logits, labels, losses, probs)
    return losses, probs


def softmax_xent_backward(probs, labels, scale):
    """(probs - onehot(labels)) * scale: (N, K)."""
    if probs.size == 0:
        return reference.softmax_xent_backward(probs, labels, scale)
    grad = np.empty_like(probs)
    _ext.softmax_xent_backward(probs, labels, scale, grad)
    return grad


# ----------------------------------------------------------------------------- relu

def relu_forward(x):
    """max(x, 0): same shape as x."""
    out = np.empty_like(x)
    if x.size:
        _ext.relu_forward(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(y, dy):
    """dy where y > 0, else 0: same shape as dy."""
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
    """
    if w.dtype != np.float32 or w.size == 0:
        return reference.adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1,
                                     one_minus_beta_2, epsilon)
    _ext.adam_update_f32(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                         None if v_hat is None else v_hat.reshape(-1), alpha, one_minus_beta_1,
                         one_minus_beta_2, epsilon)


# ----------------------------------------------------------------------------- embedding

def embedding_backward(ids, dy, input_dim):
    """ids int64 (M,), dy (M, D) -> dW (input_dim, D), rows scatter-added by id."""
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
    """xw (T, N, U), rk (U, U), h0 (N, U) -> hs (T, N, U)."""
    if _empty(xw, rk):
        return reference.simple_rnn_forward(xw, rk, h0, mask)
    hs = np.empty_like(xw)
    _ext.simple_rnn_forward(xw, rk, h0, _mask_bytes(mask), hs)
    return hs


def simple_rnn_backward(dhs, rk, h0, hs, mask):
    """-> (dxw (T, N, U), dh0 (N, U))."""
    if _empty(dhs, rk):
        return reference.simple_rnn_backward(dhs, rk, h0, hs, mask)
    dxw, dh0 = np.empty_like(dhs), np.empty_like(h0)
    _ext.simple_rnn_backward(dhs, rk, h0, hs, _mask_bytes(mask), dxw, dh0)
    return dxw, dh0


def lstm_forward(xw, rk, h0, c0, mask, overwrite_xw=False):
    """xw (T, N, 4U) -> (states (T, N, 2U), gates (T, N, 4U)); overwrite_xw: the gates are
    written over xw (returned as gates) instead of a new array."""
    if _empty(xw, rk):
        return reference.lstm_forward(xw, rk, h0, c0, mask)
    t_steps, n, four_u = xw.shape
    states = np.empty((t_steps, n, four_u // 2), dtype=xw.dtype)
    gates = xw if overwrite_xw else np.empty_like(xw)
    _ext.lstm_forward(xw, rk, h0, c0, _mask_bytes(mask), states, gates)
    return states, gates


def lstm_backward(dstates, rk, h0, c0, states, gates, mask):
    """-> (dz (T, N, 4U), dh0, dc0 (N, U))."""
    if _empty(gates, rk):
        return reference.lstm_backward(dstates, rk, h0, c0, states, gates, mask)
    dz, dh0, dc0 = np.empty_like(gates), np.empty_like(h0), np.empty_like(c0)
    _ext.lstm_backward(dstates, rk, h0, c0, states, gates, _mask_bytes(mask), dz, dh0, dc0)
    return dz, dh0, dc0


def gru_forward(xw, rk, rb, h0, mask):
    """xw (T, N, 3U) -> (hs (T, N, U), gates (T, N, 4U))."""
    if _empty(xw, rk):
        return reference.gru_forward(xw, rk, rb, h0, mask)
    t_steps, n, three_u = xw.shape
    hs = np.empty((t_steps, n, three_u // 3), dtype=xw.dtype)
    gates = np.empty((t_steps, n, 4 * (three_u // 3)), dtype=xw.dtype)
    _ext.gru_forward(xw, rk, rb, h0, _mask_bytes(mask), hs, gates)
    return hs, gates


def gru_backward(dhs, rk, h0, hs, gates, mask):
    """-> (dxw (T, N, 3U), dinner (T, N, 3U), dh0 (N, U))."""
    if _empty(dhs, rk):
        return reference.gru_backward(dhs, rk, h0, hs, gates, mask)
    t_steps, n, u = dhs.shape
    dxw = np.empty((t_steps, n, 3 * u), dtype=dhs.dtype)
    dinner, dh0 = np.empty_like(dxw), np.empty_like(h0)
    _ext.gru_backward(dhs, rk, h0, hs, gates, _mask_bytes(mask), dxw, dinner, dh0)
    return dxw, dinner, dh0
