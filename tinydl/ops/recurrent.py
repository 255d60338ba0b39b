"""Recurrent layers' sequence ops, each a whole time loop in one node: SimpleRNN, LSTM, GRU.

Every op takes a time-major input x (T, N, D) and works in three parts:
  1. the input projection of all T steps at once, xw = x @ kernel + bias: one GEMM (T*N rows)
     (the LSTM's forward instead folds it into the loop's GEMM, backend.lstm_forward_x);
  2. the time loop (backend.*_forward): per step one GEMM h_{t-1} @ recurrent_kernel and the
     gates, fused (csrc/rnn.c; the NumPy twins are in tinydl/kernels/rnn.py);
  3. in backward, the loop back through time (backend.*_backward) gives the gradient of
     every step's pre-activations dz (T, N, G); then the weight gradients are one GEMM each
     over all steps: dkernel = x^T dz, drecurrent = h_prev^T dz, dx = dz kernel^T.
mask is a (T, N) bool array or None (see tinydl/kernels/rnn.py for its rule).
"""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import Function, is_grad_enabled


def _contiguous(x):
    """x (T, N, D) in C order: a layer's time-major input is a transposed view, copied once
    here for the projection and for backward's x^T dz (each would copy it again)."""
    return np.ascontiguousarray(x)


def _project(x, kernel, bias):
    """x (T, N, D) @ kernel (D, G) + bias: (T, N, G), one GEMM."""
    t_steps, n, d = x.shape
    return backend.gemm(x.reshape(t_steps * n, d), kernel, bias=bias).reshape(t_steps, n, -1)


def _products(g, x, previous, sums: bool):
    """(x^T g, h_prev^T g, g summed over its rows), each None when not asked for (x None,
    previous None, sums false), by one GEMM over g (T*N, G), x (T, N, D) (a strided view is
    copied once, into the stack): its A^T is [x | h_prev | 1]
    stacked side by side, so that the long operand g is read once for all of them (x^T g
    alone is read straight from x; h_prev exists only as the stack's columns). previous is
    (hs, h0): h_prev (T*N, U) holds h0, h_1 .. h_{T-1}. A row of the
    product does not meet the others: with the native GEMM on one thread, x^T g and
    h_prev^T g are the values of their own GEMMs (on more, the bigger product may cut K
    where a smaller one would not; NumPy's BLAS blocks by size: float32 rounding),
    and the ones' row is g's sum over rows in the GEMM's order of additions (a bias
    gradient)."""
    widths = [0 if x is None else x.shape[2], 0 if previous is None else previous[1].shape[1]]
    if widths[0] + widths[1] + sums == 0:
        return None, None, None
    if not sums and previous is None:  # x^T g alone: straight from x
        return backend.gemm(x.reshape(g.shape[0], -1), g, trans_a=True), None, None
    stacked = np.empty((g.shape[0], widths[0] + widths[1] + sums), g.dtype)
    if x is not None:
        stacked.reshape(x.shape[0], x.shape[1], -1)[:, :, :widths[0]] = x
    if previous is not None:  # h_prev's columns, by step: (T, N, U), a view of stacked
        hs, h0 = previous
        h_prev = stacked.reshape(hs.shape[0], hs.shape[1], -1)[:, :, widths[0]:widths[0] + widths[1]]
        h_prev[0] = h0
        h_prev[1:] = hs[:-1]
    if sums:
        stacked[:, -1] = 1
    product = backend.gemm(stacked, g, trans_a=True)
    return (product[:widths[0]] if x is not None else None,
            product[widths[0]:widths[0] + widths[1]] if previous is not None else None,
            product[-1] if sums else None)


def _weight_grads(ctx, x, kernel, dz, hs, h0, dinner=None):
    """(dx, dkernel, drecurrent, dbias) from dz (T, N, G), the states hs (T, N, U) and h0;
    dinner replaces dz for the recurrent part (GRU), whose dbias is then the pair
    (input bias, recurrent bias). Each None when its input needs no gradient.

    dx = dz kernel^T; dkernel = x^T dz, drecurrent = h_prev^T dz (h_prev: h0, h_1 .. h_{T-1})
    and dbias (dz summed over all steps and samples) from one GEMM over dz (see _products),
    two for a GRU (one over dz, one over dinner)."""
    t_steps, n = x.shape[:2]
    dz2 = dz.reshape(t_steps * n, -1)
    need = ctx.needs_input_grad
    need_b = ctx.has_bias and need[3]
    dx = backend.gemm(dz2, kernel, trans_b=True).reshape(x.shape) if need[0] else None
    x3 = x if need[1] else None
    previous = (hs, h0) if need[2] else None
    if dinner is None:
        return (dx,) + _products(dz2, x3, previous, need_b)
    dk, _, db_input = _products(dz2, x3, None, need_b)
    _, dr, db_inner = _products(dinner.reshape(t_steps * n, -1), None, previous, need_b)
    return dx, dk, dr, np.stack([db_input, db_inner]) if need_b else None


class SimpleRNNSequence(Function):
    """hs (T, N, U) of h_t = tanh(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel).

    forward(x (T, N, D), kernel (D, U), recurrent_kernel (U, U), bias (U,) or None,
    h0 (N, U), mask); backward gives dx, dkernel, drecurrent_kernel, dbias, dh0.

    Example:
        >>> from tinydl import Tensor
        >>> T, N, D, U = 5, 2, 3, 4
        >>> x, h0 = Tensor(np.ones((T, N, D))), Tensor(np.zeros((N, U)))
        >>> kernel, recurrent, bias = Tensor(np.zeros((D, U))), Tensor(np.zeros((U, U))), Tensor(np.ones(U))
        >>> hs = SimpleRNNSequence.apply(x, kernel, recurrent, bias, h0, None)
        >>> hs.shape, round(float(hs.data[-1, 0, 0]), 4)
        ((5, 2, 4), 0.7616)
    """

    @staticmethod
    def forward(ctx, x, kernel, recurrent_kernel, bias, h0, mask):
        x = _contiguous(x)
        hs = backend.simple_rnn_forward(_project(x, kernel, bias), recurrent_kernel, h0, mask)
        ctx.save_for_backward(x, kernel, recurrent_kernel, h0, hs, mask)
        ctx.has_bias = bias is not None
        return hs

    @staticmethod
    def backward(ctx, grad):
        x, kernel, rk, h0, hs, mask = ctx.saved
        dz, dh0 = backend.simple_rnn_backward(grad, rk, h0, hs, mask)
        dx, dk, dr, db = _weight_grads(ctx, x, kernel, dz, hs, h0)
        return dx, dk, dr, db, dh0, None


class LSTMSequence(Function):
    """states (T, N, 2U): [h_t | c_t] of an LSTM (Keras' gate order i, f, c, o).

    forward(x (T, N, D), kernel (D, 4U), recurrent_kernel (U, 4U), bias (4U,) or None,
    h0 (N, U), c0 (N, U), mask, last_only=False); backward gives dx, dkernel,
    drecurrent_kernel, dbias, dh0, dc0. last_only returns only the last step's (N, 2U), for a
    layer that needs no sequence (its backward then passes the kernels that one step's gradient).

    Example:
        >>> from tinydl import Tensor
        >>> T, N, D, U = 5, 2, 3, 4
        >>> x, h0, c0 = Tensor(np.ones((T, N, D))), Tensor(np.zeros((N, U))), Tensor(np.zeros((N, U)))
        >>> kernel, recurrent = Tensor(np.zeros((D, 4 * U))), Tensor(np.zeros((U, 4 * U)))
        >>> bias = Tensor(np.zeros(4 * U))
        >>> LSTMSequence.apply(x, kernel, recurrent, bias, h0, c0, None).shape
        (5, 2, 8)
    """

    @staticmethod
    def forward(ctx, x, kernel, recurrent_kernel, bias, h0, c0, mask, last_only=False):
        # the projection inside the time loop (backend.lstm_forward_x): one GEMM per step
        # over [x_t | h_{t-1}], no (T, N, 4U) projections before it; a layer's time-major
        # view of its batch-major input is read in place
        swapped = x.transpose(1, 0, 2)
        batch_major = not x.flags.c_contiguous and swapped.flags.c_contiguous
        x = x if batch_major else _contiguous(x)  # time-major, as backward reads it
        keep = is_grad_enabled() and any(ctx.needs_input_grad)
        # for the weight gradients, the loop keeps each step's [x_t | h_{t-1} | 1]: their
        # one GEMM's A^T (see _products), not rebuilt from x and the states in backward
        stack = keep and any(ctx.needs_input_grad[1:4])
        out = backend.lstm_forward_x(swapped if batch_major else x, kernel, recurrent_kernel,
                                     bias, h0, c0, mask, batch_major=batch_major,
                                     last_only=last_only and not keep, stack=stack)
        states, gates, stacked = out if stack else (*out, None)
        if keep:
            ctx.save_for_backward(x, kernel, recurrent_kernel, h0, c0, states, gates, mask,
                                  stacked)
        ctx.has_bias, ctx.last_only = bias is not None, bool(last_only)
        ctx.batch_major = batch_major
        return states[-1] if last_only else states

    @staticmethod
    def backward(ctx, grad):
        x, kernel, rk, h0, c0, states, gates, mask, stacked = ctx.saved
        if ctx.last_only:  # grad is the last step's (N, 2U): the others get none
            grad = grad[None]
        if ctx.needs_input_grad[0]:  # dx from the loop's GEMMs, in x's own layout
            dz, dx, dh0, dc0 = backend.lstm_backward_x(grad, kernel, rk, h0, c0, states, gates,
                                                       mask, batch_major=ctx.batch_major)
            dx = dx.transpose(1, 0, 2) if ctx.batch_major else dx
        else:
            (dz, dh0, dc0), dx = backend.lstm_backward(grad, rk, h0, c0, states, gates, mask), None
        if stacked is None:  # no weight needs a gradient (forward kept no stack)
            return dx, None, None, None, dh0, dc0, None
        product = backend.gemm(stacked, dz.reshape(stacked.shape[0], -1), trans_a=True)
        d, need = x.shape[2], ctx.needs_input_grad
        dk = product[:d] if need[1] else None
        dr = product[d:-1] if need[2] else None
        db = product[-1] if ctx.has_bias and need[3] else None
        return dx, dk, dr, db, dh0, dc0, None


class GRUSequence(Function):
    """hs (T, N, U) of a GRU with reset_after=True (Keras' default; gate order z, r, h).

    forward(x (T, N, D), kernel (D, 3U), recurrent_kernel (U, 3U), bias (2, 3U) or None
    (row 0 the input bias, row 1 the recurrent bias, as Keras), h0 (N, U), mask);
    backward gives dx, dkernel, drecurrent_kernel, dbias, dh0.

    Example:
        >>> from tinydl import Tensor
        >>> T, N, D, U = 5, 2, 3, 4
        >>> x, h0 = Tensor(np.ones((T, N, D))), Tensor(np.zeros((N, U)))
        >>> kernel, recurrent = Tensor(np.zeros((D, 3 * U))), Tensor(np.zeros((U, 3 * U)))
        >>> bias = Tensor(np.zeros((2, 3 * U)))
        >>> GRUSequence.apply(x, kernel, recurrent, bias, h0, None).shape
        (5, 2, 4)
    """

    @staticmethod
    def forward(ctx, x, kernel, recurrent_kernel, bias, h0, mask):
        x = _contiguous(x)
        three_u = kernel.shape[1]
        input_bias = None if bias is None else bias[0]
        recurrent_bias = np.zeros(three_u, x.dtype) if bias is None else bias[1]
        hs, gates = backend.gru_forward(_project(x, kernel, input_bias), recurrent_kernel,
                                        recurrent_bias, h0, mask)
        ctx.save_for_backward(x, kernel, recurrent_kernel, h0, hs, gates, mask)
        ctx.has_bias = bias is not None
        return hs

    @staticmethod
    def backward(ctx, grad):
        x, kernel, rk, h0, hs, gates, mask = ctx.saved
        dxw, dinner, dh0 = backend.gru_backward(grad, rk, h0, hs, gates, mask)
        dx, dk, dr, db = _weight_grads(ctx, x, kernel, dxw, hs, h0, dinner)
        return dx, dk, dr, db, dh0, None
