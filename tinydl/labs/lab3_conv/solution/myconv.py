"""Lab 3: 2-D convolution by im2col in NumPy (forward, input gradient, kernel gradient), and a timer.

Layouts are tinydl's (and Keras'): images x (N, H, W, C), kernels w (KH, KW, C, F), outputs
(N, OH, OW, F); strides (SH, SW); pads (top, bottom, left, right). A row of im2col's matrix is
one receptive field, flattened in (KH, KW, C) order, so that `cols @ w.reshape(-1, F)` is the
convolution. OH = (H + top + bottom - KH) // SH + 1, and the same for OW.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import tinydl
from tinydl.autograd import Function


def output_hw(h: int, w: int, kernel_hw, strides, pads) -> tuple:
    """(OH, OW) of a convolution (or pool) with this window, strides and pads."""
    (kh, kw), (sh, sw), (top, bottom, left, right) = kernel_hw, strides, pads
    return (h + top + bottom - kh) // sh + 1, (w + left + right - kw) // sw + 1


def pad(x: np.ndarray, pads) -> np.ndarray:
    """x (N, H, W, C) with zeros added: (N, H + top + bottom, W + left + right, C)."""
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


# ----------------------------------------------------------------------------- task 3.1

def im2col(x: np.ndarray, kernel_hw, strides, pads):
    """Every receptive field of x as one row: (cols (N*OH*OW, KH*KW*C), (OH, OW))."""
    # BEGIN SOLUTION 3.1 write im2col: pad, then for each (i, j) of the window copy a strided slice
    n, h, w, c = x.shape
    (kh, kw), (sh, sw) = kernel_hw, strides
    oh, ow = output_hw(h, w, kernel_hw, strides, pads)
    xp = pad(x, pads)
    cols = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
    return cols.reshape(n * oh * ow, kh * kw * c), (oh, ow)
    # END SOLUTION


# ----------------------------------------------------------------------------- task 3.2

def conv2d_forward(x: np.ndarray, w: np.ndarray, bias, strides, pads) -> np.ndarray:
    """The convolution y (N, OH, OW, F) of x (N, H, W, C) with w (KH, KW, C, F), plus bias (F,) or None."""
    # BEGIN SOLUTION 3.2 write conv2d_forward: im2col, one matrix multiply with w as (KH*KW*C, F), reshape
    kh, kw, c, f = w.shape
    cols, (oh, ow) = im2col(x, (kh, kw), strides, pads)
    y = cols @ w.reshape(kh * kw * c, f)
    if bias is not None:
        y += bias
    return y.reshape(x.shape[0], oh, ow, f)
    # END SOLUTION


# ----------------------------------------------------------------------------- task 3.3

def col2im(cols: np.ndarray, x_shape, kernel_hw, strides, pads) -> np.ndarray:
    """Scatter-add the rows of cols (N*OH*OW, KH*KW*C) back into an image (N, H, W, C).

    The adjoint of im2col: a pixel that belongs to several receptive fields receives the sum
    of its entries in all of them; padding positions are dropped.
    """
    # BEGIN SOLUTION 3.3 write col2im: the reverse of im2col's loop, with += into a padded image, then crop
    n, h, w, c = x_shape
    (kh, kw), (sh, sw) = kernel_hw, strides
    top, bottom, left, right = pads
    oh, ow = output_hw(h, w, kernel_hw, strides, pads)
    cols = cols.reshape(n, oh, ow, kh, kw, c)
    xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] += cols[:, :, :, i, j, :]
    return xp[:, top:top + h, left:left + w, :]
    # END SOLUTION


# ----------------------------------------------------------------------------- task 3.4

def conv2d_backward_input(dy: np.ndarray, w: np.ndarray, x_shape, strides, pads) -> np.ndarray:
    """dLoss/dx (N, H, W, C) from dy = dLoss/dy (N, OH, OW, F)."""
    # BEGIN SOLUTION 3.4 write conv2d_backward_input: dcols = dy as (N*OH*OW, F) @ w as (KH*KW*C, F) transposed; col2im
    kh, kw, c, f = w.shape
    dcols = dy.reshape(-1, f) @ w.reshape(kh * kw * c, f).T
    return col2im(dcols, x_shape, (kh, kw), strides, pads)
    # END SOLUTION


# ----------------------------------------------------------------------------- task 3.5

def conv2d_backward_kernel(dy: np.ndarray, x: np.ndarray, kernel_hw, strides, pads):
    """(dLoss/dw (KH, KW, C, F), dLoss/dbias (F,)) from dy (N, OH, OW, F) and the input x."""
    # BEGIN SOLUTION 3.5 write conv2d_backward_kernel: cols.T @ dy as (N*OH*OW, F), reshaped; the bias gradient sums dy
    f = dy.shape[3]
    cols, _ = im2col(x, kernel_hw, strides, pads)
    dy2 = dy.reshape(-1, f)
    dw = (cols.T @ dy2).reshape(kernel_hw[0], kernel_hw[1], x.shape[3], f)
    return dw, dy2.sum(axis=0)
    # END SOLUTION


class Conv2dFunction(Function):
    """Your three functions as one tinydl op, so gradcheck and tinydl models can use them (given)."""

    @staticmethod
    def forward(ctx, x, w, bias, strides=(1, 1), pads=(0, 0, 0, 0)):
        ctx.save_for_backward(x, w)
        ctx.strides, ctx.pads = tuple(strides), tuple(pads)
        return conv2d_forward(x, w, bias, ctx.strides, ctx.pads)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        dx = conv2d_backward_input(grad, w, x.shape, ctx.strides, ctx.pads) if needs_x else None
        dw = db = None
        if needs_w or needs_b:
            dw, db = conv2d_backward_kernel(grad, x, w.shape[:2], ctx.strides, ctx.pads)
        return dx, dw, db


# ----------------------------------------------------------------------------- task 3.6

def median_seconds(fn, repeats: int = 5) -> float:
    """The median wall-clock time of `repeats` calls of fn() (after one warm-up call)."""
    # BEGIN SOLUTION 3.6 write median_seconds: one warm-up call, then time.perf_counter around each call
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
    # END SOLUTION


def speed_table(x_shape=(32, 28, 28, 16), w_shape=(3, 3, 16, 32), strides=(1, 1), pads=(1, 1, 1, 1),
                repeats: int = 5) -> dict:
    """Median seconds of one forward pass: {'mine': ..., 'reference': ..., 'native': ...}.

    'reference' is tinydl.kernels.reference.conv2d_forward; 'native' tinydl's C kernel through
    tinydl.backend (left out when the extension is not built). Same float32 inputs for all.
    """
    # BEGIN SOLUTION 3.6 write speed_table: time your conv2d_forward, the reference kernel and the native one
    from tinydl.kernels import reference

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = np.zeros(w_shape[3], np.float32)

    table = {"mine": median_seconds(lambda: conv2d_forward(x, w, b, strides, pads), repeats),
             "reference": median_seconds(lambda: reference.conv2d_forward(x, w, b, strides, pads), repeats)}
    if tinydl.backend_info()["native_available"]:
        with tinydl.use_backend("native"):
            table["native"] = median_seconds(
                lambda: tinydl.backend.conv2d_forward(x, w, b, strides, pads), repeats)
    return table
    # END SOLUTION
