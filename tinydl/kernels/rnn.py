"""Recurrent time loops (SimpleRNN, LSTM, GRU), forward and backward: checks, reference, native.

Everything is time-major. Letters: T time steps, N batch, U units. The input projection
xw = x @ kernel + bias of all T steps is one GEMM done by the caller (tinydl/ops/recurrent.py);
these kernels run the part that has to go step by step: one GEMM h_{t-1} @ recurrent_kernel
per step, then the gates. lstm_forward_x takes x itself instead: each step's GEMM is
[x_t | h_{t-1}] @ [kernel; recurrent_kernel] (a longer K keeps the micro-kernel busier than two
GEMMs would, and no (T, N, 4U) projections are written and read back), and for inference it
can keep only the last step's states. The native twins are csrc/rnn.c.

Masks are (T, N) booleans or None. Where mask[t, n] is False, step t leaves sample n's
states unchanged (Keras' rule); its gradient then flows straight through the step.
Gate orders are Keras': LSTM i, f, c, o; GRU z, r, h (reset_after=True).
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_ndim, check_shape
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel


# -------------------------------------------------------------- checked entries

# Time-major arrays: T steps, N samples, U units; see the module docstring.

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
    check_ndim(where, "sequence", seq, 3, "(T, N, G)")
    t_steps, n, width = seq.shape
    if width % gates or rk.shape != (width // gates, width):
        raise ValueError(f"{where}: recurrent_kernel must be (U, {gates}U) for a sequence of width "
                         f"{width}, got {rk.shape}")
    u = width // gates
    for name, state in states.items():
        check_shape(where, name, state, (n, u))
    return u, _rnn_mask(where, mask, (t_steps, n))


def simple_rnn_forward(xw, rk, h0, mask):
    """hs (T, N, U) of h_t = tanh(xw_t + h_{t-1} @ rk), states held where mask is False.

    Args:
        As tinydl.kernels.rnn.simple_rnn_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.simple_rnn_forward_reference,
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
    xw, rk, h0 = float_arrays("simple_rnn", xw=xw, rk=rk, h0=h0)
    _, mask = _rnn_checks("simple_rnn", xw, 1, rk, mask, h0=h0)
    return _dispatch.run("simple_rnn_forward", xw, rk, h0, mask)


def simple_rnn_backward(dhs, rk, h0, hs, mask):
    """(dxw (T, N, U), dh0 (N, U)) from dhs (T, N, U).

    Args:
        As tinydl.kernels.rnn.simple_rnn_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.simple_rnn_backward_reference,
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
    dhs, rk, h0, hs = float_arrays(where, dhs=dhs, rk=rk, h0=h0, hs=hs)
    _, mask = _rnn_checks(where, dhs, 1, rk, mask, h0=h0)
    check_shape(where, "hs", hs, dhs.shape)
    return _dispatch.run(where, dhs, rk, h0, hs, mask)


def lstm_forward(xw, rk, h0, c0, mask):
    """(states (T, N, 2U) = [h | c], gates (T, N, 4U) = [i | f | g | o]) of an LSTM.

    Args:
        As tinydl.kernels.rnn.lstm_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.lstm_forward_reference,
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
    xw, rk, h0, c0 = float_arrays("lstm", xw=xw, rk=rk, h0=h0, c0=c0)
    _, mask = _rnn_checks("lstm", xw, 4, rk, mask, h0=h0, c0=c0)
    return _dispatch.run("lstm_forward", xw, rk, h0, c0, mask)


def lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major: bool = False,
                   last_only: bool = False, stack: bool = False):
    """(states (T, N, 2U), gates (T, N, 4U)) of an LSTM from its inputs x: lstm_forward of
    xw = x @ kernel + bias, with the projection done step by step inside the loop;
    with last_only, (the last step's states (1, N, 2U), None), for inference; with stack,
    (states, gates, stack), stack (T*N, D + U + 1) the rows [x_t | h_{t-1} | 1] of every
    step's GEMM, kept for the weight gradient (stack^T @ dz: dkernel, drecurrent, dbias).

    Args:
        As tinydl.kernels.rnn.lstm_forward_x_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.lstm_forward_x_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes that do not fit (the message names the argument and what it
            received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, kernel, rk = rng.normal(size=(3, 2, 5)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> bias, h0, c0 = rng.normal(size=8), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_x(x, kernel, rk, bias, h0, c0, None)
        >>> xw = x @ kernel + bias
        >>> bool(np.allclose(states, lstm_forward(xw, rk, h0, c0, None)[0]))
        True

        batch_major reads x as (N, T, D), a layer's own layout:

        >>> batch_major = np.ascontiguousarray(x.transpose(1, 0, 2))
        >>> bool(np.allclose(states, lstm_forward_x(batch_major, kernel, rk, bias, h0, c0, None,
        ...                                         batch_major=True)[0]))
        True

        last_only keeps the last step's states alone and no gates (nothing for a backward):

        >>> last, no_gates = lstm_forward_x(x, kernel, rk, bias, h0, c0, None, last_only=True)
        >>> last.shape, no_gates is None, bool(np.allclose(last, states[-1:]))
        ((1, 2, 4), True, True)

        stack keeps each step's [x_t | h_{t-1} | 1] (row t*N + n), the A^T of the weight
        gradients' GEMM:

        >>> _, _, kept = lstm_forward_x(x, kernel, rk, bias, h0, c0, None, stack=True)
        >>> kept.shape, bool(np.array_equal(kept[2:4, :5], x[1])), bool((kept[:, -1] == 1).all())
        ((6, 8), True, True)
        >>> lstm_forward_x(x, kernel, rk, bias, h0, c0, None, last_only=True, stack=True)
        Traceback (most recent call last):
        ...
        ValueError: lstm_forward_x: stack needs every step (not last_only)
        >>> lstm_forward_x(x, kernel[:4], rk, bias, h0, c0, None)
        Traceback (most recent call last):
        ...
        ValueError: lstm_forward_x: kernel must have shape (5, 8), ...
    """
    where = "lstm_forward_x"
    x, kernel, rk, bias, h0, c0 = float_arrays(where, x=x, kernel=kernel, rk=rk, bias=bias,
                                               h0=h0, c0=c0)
    check_ndim(where, "x", x, 3, "(N, T, D)" if batch_major else "(T, N, D)")
    check_ndim(where, "recurrent_kernel", rk, 2, "(U, 4U)")
    u = rk.shape[0]
    if rk.shape != (u, 4 * u) or u == 0:
        raise ValueError(f"{where}: recurrent_kernel must be (U, 4U) with U >= 1, got {rk.shape}")
    n, t_steps = x.shape[:2] if batch_major else x.shape[1::-1]
    check_shape(where, "kernel", kernel, (x.shape[2], 4 * u))
    if bias is not None:
        check_shape(where, "bias", bias, (4 * u,))
    check_shape(where, "h0", h0, (n, u))
    check_shape(where, "c0", c0, (n, u))
    mask = _rnn_mask(where, mask, (t_steps, n))
    if stack and last_only:
        raise ValueError(f"{where}: stack needs every step (not last_only)")
    return _dispatch.run(where, x, kernel, rk, bias, h0, c0, mask, bool(batch_major),
                         bool(last_only), bool(stack))


def lstm_backward(dstates, rk, h0, c0, states, gates, mask):
    """(dz (T, N, 4U), dh0, dc0 (N, U)) from dstates (T, N, 2U), or (1, N, 2U) when only the
    last step has a gradient.

    Args:
        As tinydl.kernels.rnn.lstm_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.lstm_backward_reference,
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
    dstates, rk, h0, c0, states, gates = float_arrays(
        where, dstates=dstates, rk=rk, h0=h0, c0=c0, states=states, gates=gates)
    mask = _lstm_backward_checks(where, dstates, rk, h0, c0, states, gates, mask)
    return _dispatch.run(where, dstates, rk, h0, c0, states, gates, mask)


def _lstm_backward_checks(where, dstates, rk, h0, c0, states, gates, mask):
    """Check an LSTM backward's arrays against gates (T, N, 4U); return the mask."""
    _, mask = _rnn_checks(where, gates, 4, rk, mask, h0=h0, c0=c0)
    full = gates.shape[:2] + (gates.shape[2] // 2,)
    check_shape(where, "states", states, full)
    if dstates.shape != (1,) + full[1:]:  # the last step's only, or every step's
        check_shape(where, "dstates", dstates, full)
    return mask


def lstm_backward_x(dstates, kernel, rk, h0, c0, states, gates, mask, batch_major: bool = False):
    """(dz (T, N, 4U), dx, dh0, dc0 (N, U)): lstm_backward and the input gradient
    dx = dz @ kernel^T, (T, N, D) or, batch_major, (N, T, D), from the loop's own GEMMs.

    Args:
        As tinydl.kernels.rnn.lstm_backward_x_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.lstm_backward_x_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes that do not fit (the message names the argument and what it
            received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, kernel, rk = rng.normal(size=(3, 2, 5)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_x(x, kernel, rk, None, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> dz, dx, dh0, dc0 = lstm_backward_x(dstates, kernel, rk, h0, c0, states, gates, None)
        >>> bool(np.allclose(dx, dz @ kernel.T)), dx.shape
        (True, (3, 2, 5))
        >>> lstm_backward_x(dstates, kernel[:, :4], rk, h0, c0, states, gates, None)
        Traceback (most recent call last):
        ...
        ValueError: lstm_backward_x: kernel must have shape (D, 8) with D >= 1, got (5, 4)
    """
    where = "lstm_backward_x"
    dstates, kernel, rk, h0, c0, states, gates = float_arrays(
        where, dstates=dstates, kernel=kernel, rk=rk, h0=h0, c0=c0, states=states, gates=gates)
    mask = _lstm_backward_checks(where, dstates, rk, h0, c0, states, gates, mask)
    check_ndim(where, "kernel", kernel, 2, "(D, 4U)")
    if kernel.shape[1] != gates.shape[2] or kernel.shape[0] == 0:
        raise ValueError(f"{where}: kernel must have shape (D, {gates.shape[2]}) with D >= 1, "
                         f"got {kernel.shape}")
    return _dispatch.run(where, dstates, kernel, rk, h0, c0, states, gates, mask,
                         bool(batch_major))


def gru_forward(xw, rk, rb, h0, mask):
    """(hs (T, N, U), gates (T, N, 4U) = [z | r | hh | inner_h]) of a GRU (reset_after=True).

    Args:
        As tinydl.kernels.rnn.gru_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.gru_forward_reference,
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
    xw, rk, rb, h0 = float_arrays("gru", xw=xw, rk=rk, rb=rb, h0=h0)
    _, mask = _rnn_checks("gru", xw, 3, rk, mask, h0=h0)
    check_shape("gru", "recurrent bias", rb, (xw.shape[2],))
    return _dispatch.run("gru_forward", xw, rk, rb, h0, mask)


def gru_backward(dhs, rk, h0, hs, gates, mask):
    """(dxw (T, N, 3U), dinner (T, N, 3U), dh0 (N, U)) from dhs (T, N, U).

    Args:
        As tinydl.kernels.rnn.gru_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.rnn.gru_backward_reference,
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
    dhs, rk, h0, hs, gates = float_arrays(where, dhs=dhs, rk=rk, h0=h0, hs=hs, gates=gates)
    u, mask = _rnn_checks(where, hs, 1, rk[:, :rk.shape[0]], mask, h0=h0)
    if rk.shape != (u, 3 * u):
        raise ValueError(f"{where}: recurrent_kernel must be (U, 3U) = {(u, 3 * u)}, got {rk.shape}")
    check_shape(where, "dhs", dhs, hs.shape)
    check_shape(where, "gates", gates, hs.shape[:2] + (4 * u,))
    return _dispatch.run(where, dhs, rk, h0, hs, gates, mask)


# ------------------------------------------------------------ reference (NumPy)

def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5  # = 1 / (1 + exp(-x)), without overflow


def _hold(mask, t, new, old):
    """new where mask[t] (per sample), else old; no mask: new."""
    return new if mask is None else np.where(mask[t][:, None], new, old)


def _previous(seq, t, first):
    return first if t == 0 else seq[t - 1]


def simple_rnn_forward_reference(xw, rk, h0, mask):
    """h_t = tanh(xw_t + h_{t-1} @ rk).

    Args:
        xw: (T, N, U) input projections. rk: (U, U). h0: (N, U). mask: (T, N) bool or None.

    Returns:
        hs (T, N, U): the state after each step.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4))       # T, N, U = 3, 2, 4
        >>> h0 = rng.normal(size=(2, 4))
        >>> hs = simple_rnn_forward_reference(xw, rk, h0, None)
        >>> h = h0
        >>> for t in range(3):
        ...     h = np.tanh(xw[t] + h @ rk)
        >>> hs.shape, bool(np.allclose(hs[-1], h))
        ((3, 2, 4), True)
        >>> held = simple_rnn_forward_reference(xw, rk, h0, np.array([[True, True], [False, True], [False, True]]))
        >>> bool(np.array_equal(held[2, 0], held[0, 0]))                 # sample 0 skips steps 1 and 2
        True
    """
    hs = np.empty_like(xw)
    h = h0
    for t in range(xw.shape[0]):
        h = _hold(mask, t, np.tanh(xw[t] + h @ rk), h)
        hs[t] = h
    return hs


def simple_rnn_backward_reference(dhs, rk, h0, hs, mask):
    """Gradients of simple_rnn_forward from dhs (T, N, U), the loss' gradient for each h_t.

    Returns:
        (dxw (T, N, U), dh0 (N, U)); dxw is also the gradient of the pre-activations.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, h0 = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4)), rng.normal(size=(2, 4))
        >>> hs, dhs = simple_rnn_forward(xw, rk, h0, None), rng.normal(size=(3, 2, 4))
        >>> dxw, dh0 = simple_rnn_backward_reference(dhs, rk, h0, hs, None)

        dxw matches a central finite difference of the loss sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (simple_rnn_forward(xw, rk, h0, None) * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    dxw = np.empty_like(dhs)
    dh = np.zeros_like(h0)
    for t in range(dhs.shape[0] - 1, -1, -1):
        dh_t = dhs[t] + dh
        da = dh_t * (1 - hs[t] * hs[t])
        if mask is not None:
            da *= mask[t][:, None]
        dxw[t] = da
        dh = _hold(mask, t, da @ rk.T, dh_t)
    return dxw, dh


def lstm_forward_reference(xw, rk, h0, c0, mask):
    """One LSTM step per time step: z = xw_t + h_{t-1} @ rk, gates i, f, c, o of width U:

        i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_c), o = sigmoid(z_o)
        c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)

    Args:
        xw: (T, N, 4U). rk: (U, 4U). h0, c0: (N, U). mask: (T, N) bool or None.

    Returns:
        (states (T, N, 2U): [h_t | c_t] per step, gates (T, N, 4U): [i | f | g | o]).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))       # T, N, U = 3, 2, 2
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_reference(xw, rk, h0, c0, None)

        The first step by hand (gate order i, f, c, o):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> i, f, g, o = np.split(xw[0] + h0 @ rk, 4, axis=1)
        >>> c1 = sigmoid(f) * c0 + sigmoid(i) * np.tanh(g)
        >>> states.shape, gates.shape, bool(np.allclose(states[0], np.hstack([sigmoid(o) * np.tanh(c1), c1])))
        ((3, 2, 4), (3, 2, 8), True)
    """
    t_steps, n, four_u = xw.shape
    u = four_u // 4
    states = np.empty((t_steps, n, 2 * u), dtype=xw.dtype)
    gates = np.empty_like(xw)
    h, c = h0, c0
    for t in range(t_steps):
        z = xw[t] + h @ rk
        i, f, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), _sigmoid(z[:, 3 * u:])
        g = np.tanh(z[:, 2 * u:3 * u])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        h, c = _hold(mask, t, h_new, h), _hold(mask, t, c_new, c)
        states[t, :, :u], states[t, :, u:] = h, c
        gates[t] = np.concatenate([i, f, g, o], axis=1)
    return states, gates


def lstm_forward_x_reference(x, kernel, rk, bias, h0, c0, mask, batch_major=False,
                             last_only=False, stack=False):
    """lstm_forward_reference of the projections xw = x @ kernel + bias.

    Args:
        x: (T, N, D), or (N, T, D) when batch_major. kernel: (D, 4U). rk: (U, 4U).
        bias: (4U,) or None. h0, c0: (N, U). mask: (T, N) bool or None.
        last_only: return the last step's states only, and no gates.
        stack: also return the rows [x_t | h_{t-1} | 1] (T*N, D + U + 1), row t*N + n
            (h_{-1} = h0), the A^T of the weight gradients' GEMM.

    Returns:
        (states (T, N, 2U), gates (T, N, 4U)), as lstm_forward_reference; with last_only
        (states[-1:] (1, N, 2U), None); with stack (states, gates, stack).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, kernel, rk = rng.normal(size=(3, 2, 5)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = np.zeros((2, 2)), np.zeros((2, 2))
        >>> states, gates = lstm_forward_x_reference(x, kernel, rk, None, h0, c0, None)
        >>> bool(np.array_equal(states, lstm_forward_reference(x @ kernel, rk, h0, c0, None)[0]))
        True
    """
    if batch_major:
        x = x.transpose(1, 0, 2)
    xw = x @ kernel if bias is None else x @ kernel + bias
    states, gates = lstm_forward_reference(xw, rk, h0, c0, mask)
    if last_only:
        return states[-1:], None
    if not stack:
        return states, gates
    t_steps, n, d = x.shape
    u = h0.shape[1]
    h_prev = np.concatenate([h0[None], states[:-1, :, :u]])[:t_steps]
    ones = np.ones((t_steps, n, 1), x.dtype)
    return states, gates, np.concatenate([x, h_prev, ones], axis=2).reshape(t_steps * n, -1)


def lstm_backward_reference(dstates, rk, h0, c0, states, gates, mask):
    """Gradients of lstm_forward from dstates (T, N, 2U), the loss' gradient for each [h_t | c_t]
    (or (1, N, 2U): the last step's only, the others' being 0).

    Returns:
        (dz (T, N, 4U), the gradient of the pre-activations z (and so of xw); dh0, dc0 (N, U)).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward(xw, rk, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> dxw, dh0, dc0 = lstm_backward_reference(dstates, rk, h0, c0, states, gates, None)

        dz is the gradient of the pre-activations z = xw_t + h_{t-1} @ rk, so it is that of xw:
        it matches a central finite difference of sum(states * dstates) along a random direction.

        >>> def loss(xw):
        ...     return (lstm_forward(xw, rk, h0, c0, None)[0] * dstates).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    t_steps, n, two_u = states.shape
    if dstates.shape[0] != t_steps:  # the last step's only
        dstates = np.concatenate([np.zeros((t_steps - 1, n, two_u), dstates.dtype), dstates])
    u = two_u // 2
    dz = np.empty_like(gates)
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(t_steps - 1, -1, -1):
        dh_t, dc_t = dstates[t, :, :u] + dh, dstates[t, :, u:] + dc
        i, f, g, o = (gates[t, :, k * u:(k + 1) * u] for k in range(4))
        c_prev = _previous(states[:, :, u:], t, c0)
        tanh_c = np.tanh(states[t, :, u:])
        dc_new = dc_t + dh_t * o * (1 - tanh_c * tanh_c)
        dz_t = np.concatenate([dc_new * g * i * (1 - i), dc_new * c_prev * f * (1 - f),
                               dc_new * i * (1 - g * g), dh_t * tanh_c * o * (1 - o)], axis=1)
        if mask is not None:
            dz_t *= mask[t][:, None]
        dz[t] = dz_t
        dh = _hold(mask, t, dz_t @ rk.T, dh_t)
        dc = _hold(mask, t, dc_new * f, dc_t)
    return dz, dh, dc


def lstm_backward_x_reference(dstates, kernel, rk, h0, c0, states, gates, mask,
                              batch_major=False):
    """lstm_backward_reference, and dx = dz @ kernel^T.

    Args:
        As lstm_backward_reference; kernel: (D, 4U), the input kernel; batch_major: dx as
        (N, T, D) instead of (T, N, D).

    Returns:
        (dz (T, N, 4U), dx, dh0 (N, U), dc0 (N, U)).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, kernel, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_reference(xw, rk, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> dz, dx, dh0, dc0 = lstm_backward_x_reference(dstates, kernel, rk, h0, c0, states, gates,
        ...                                              None, batch_major=True)
        >>> dx.shape, bool(np.allclose(dx, (dz @ kernel.T).transpose(1, 0, 2)))
        ((2, 3, 5), True)
    """
    dz, dh0, dc0 = lstm_backward_reference(dstates, rk, h0, c0, states, gates, mask)
    dx = dz @ kernel.T
    return dz, np.ascontiguousarray(dx.transpose(1, 0, 2)) if batch_major else dx, dh0, dc0


def gru_forward_reference(xw, rk, rb, h0, mask):
    """One GRU step (Keras' reset_after=True) per time step: inner = h_{t-1} @ rk + rb, and

        z = sigmoid(xw_z + inner_z), r = sigmoid(xw_r + inner_r)
        hh = tanh(xw_h + r * inner_h),  h_t = z * h_{t-1} + (1 - z) * hh

    Args:
        xw: (T, N, 3U) input projections with the input bias. rk: (U, 3U).
        rb: (3U,) recurrent bias. h0: (N, U). mask: (T, N) bool or None.

    Returns:
        (hs (T, N, U), gates (T, N, 4U): [z | r | hh | inner_h] per step).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)   # U = 2
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward_reference(xw, rk, rb, h0, None)

        The first step by hand (gate order z, r, h; reset_after=True):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> (xz, xr, xh), (iz, ir, ih) = np.split(xw[0], 3, axis=1), np.split(h0 @ rk + rb, 3, axis=1)
        >>> z, r = sigmoid(xz + iz), sigmoid(xr + ir)
        >>> hs.shape, gates.shape, bool(np.allclose(hs[0], z * h0 + (1 - z) * np.tanh(xh + r * ih)))
        ((3, 2, 2), (3, 2, 8), True)
    """
    t_steps, n, three_u = xw.shape
    u = three_u // 3
    hs = np.empty((t_steps, n, u), dtype=xw.dtype)
    gates = np.empty((t_steps, n, 4 * u), dtype=xw.dtype)
    h = h0
    for t in range(t_steps):
        inner = h @ rk + rb
        z = _sigmoid(xw[t, :, :u] + inner[:, :u])
        r = _sigmoid(xw[t, :, u:2 * u] + inner[:, u:2 * u])
        hh = np.tanh(xw[t, :, 2 * u:] + r * inner[:, 2 * u:])
        h = _hold(mask, t, z * h + (1 - z) * hh, h)
        hs[t] = h
        gates[t] = np.concatenate([z, r, hh, inner[:, 2 * u:]], axis=1)
    return hs, gates


def gru_backward_reference(dhs, rk, h0, hs, gates, mask):
    """Gradients of gru_forward from dhs (T, N, U).

    Returns:
        (dxw (T, N, 3U), the gradient of xw; dinner (T, N, 3U), of inner = h_{t-1} @ rk + rb;
        dh0 (N, U)).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward(xw, rk, rb, h0, None)
        >>> dhs = rng.normal(size=hs.shape)
        >>> dxw, dinner, dh0 = gru_backward_reference(dhs, rk, h0, hs, gates, None)

        dxw matches a central finite difference of sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (gru_forward(xw, rk, rb, h0, None)[0] * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    t_steps, n, u = dhs.shape
    dxw = np.empty((t_steps, n, 3 * u), dtype=dhs.dtype)
    dinner = np.empty_like(dxw)
    dh = np.zeros_like(h0)
    for t in range(t_steps - 1, -1, -1):
        dh_t = dhs[t] + dh
        z, r, hh, inner_h = (gates[t, :, k * u:(k + 1) * u] for k in range(4))
        h_prev = _previous(hs, t, h0)
        da_z = dh_t * (h_prev - hh) * z * (1 - z)
        da_h = dh_t * (1 - z) * (1 - hh * hh)
        da_r = da_h * inner_h * r * (1 - r)
        dx_t = np.concatenate([da_z, da_r, da_h], axis=1)
        di_t = np.concatenate([da_z, da_r, da_h * r], axis=1)
        if mask is not None:
            dx_t *= mask[t][:, None]
            di_t *= mask[t][:, None]
        dxw[t], dinner[t] = dx_t, di_t
        dh = _hold(mask, t, dh_t * z + di_t @ rk.T, dh_t)
    return dxw, dinner, dh


# ------------------------------------------- native (C, through tinydl._native)

# Time-major arrays (T, N, ...); a bool mask is
# handed to C as its uint8 view (same bytes, no copy).

def _mask_bytes(mask):
    return None if mask is None else mask.view(np.uint8)


def _empty(*arrays) -> bool:
    return any(a.size == 0 for a in arrays)


def simple_rnn_forward_native(xw, rk, h0, mask):
    """xw (T, N, U), rk (U, U), h0 (N, U) -> hs (T, N, U).

    Args:
        As tinydl.kernels.rnn.simple_rnn_forward_reference,
        already checked and made C-contiguous by tinydl.backend.simple_rnn_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.simple_rnn_forward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4))       # T, N, U = 3, 2, 4
        >>> h0 = rng.normal(size=(2, 4))
        >>> hs = simple_rnn_forward_native(xw, rk, h0, None)
        >>> h = h0
        >>> for t in range(3):
        ...     h = np.tanh(xw[t] + h @ rk)
        >>> hs.shape, bool(np.allclose(hs[-1], h))
        ((3, 2, 4), True)
        >>> held = simple_rnn_forward_native(xw, rk, h0, np.array([[True, True], [False, True], [False, True]]))
        >>> bool(np.array_equal(held[2, 0], held[0, 0]))                 # sample 0 skips steps 1 and 2
        True
    """
    if _empty(xw, rk):
        return simple_rnn_forward_reference(xw, rk, h0, mask)
    hs = np.empty_like(xw)
    _ext.simple_rnn_forward(xw, rk, h0, _mask_bytes(mask), hs)
    return hs


def simple_rnn_backward_native(dhs, rk, h0, hs, mask):
    """-> (dxw (T, N, U), dh0 (N, U)).

    Args:
        As tinydl.kernels.rnn.simple_rnn_backward_reference,
        already checked and made C-contiguous by tinydl.backend.simple_rnn_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.simple_rnn_backward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, h0 = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 4)), rng.normal(size=(2, 4))
        >>> hs, dhs = simple_rnn_forward(xw, rk, h0, None), rng.normal(size=(3, 2, 4))
        >>> dxw, dh0 = simple_rnn_backward_native(dhs, rk, h0, hs, None)

        dxw matches a central finite difference of the loss sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (simple_rnn_forward(xw, rk, h0, None) * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    if _empty(dhs, rk):
        return simple_rnn_backward_reference(dhs, rk, h0, hs, mask)
    dxw, dh0 = np.empty_like(dhs), np.empty_like(h0)
    _ext.simple_rnn_backward(dhs, rk, h0, hs, _mask_bytes(mask), dxw, dh0)
    return dxw, dh0


def lstm_forward_native(xw, rk, h0, c0, mask):
    """xw (T, N, 4U) -> (states (T, N, 2U), gates (T, N, 4U)).

    Args:
        As tinydl.kernels.rnn.lstm_forward_reference,
        already checked and made C-contiguous by tinydl.backend.lstm_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.lstm_forward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))       # T, N, U = 3, 2, 2
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_native(xw, rk, h0, c0, None)

        The first step by hand (gate order i, f, c, o):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> i, f, g, o = np.split(xw[0] + h0 @ rk, 4, axis=1)
        >>> c1 = sigmoid(f) * c0 + sigmoid(i) * np.tanh(g)
        >>> states.shape, gates.shape, bool(np.allclose(states[0], np.hstack([sigmoid(o) * np.tanh(c1), c1])))
        ((3, 2, 4), (3, 2, 8), True)
    """
    if _empty(xw, rk):
        return lstm_forward_reference(xw, rk, h0, c0, mask)
    t_steps, n, four_u = xw.shape
    states = np.empty((t_steps, n, four_u // 2), dtype=xw.dtype)
    gates = np.empty_like(xw)
    _ext.lstm_forward(xw, rk, h0, c0, _mask_bytes(mask), states, gates)
    return states, gates


def lstm_forward_x_native(x, kernel, rk, bias, h0, c0, mask, batch_major=False,
                          last_only=False, stack=False):
    """x (T, N, D) or, batch_major, (N, T, D) -> (states (T, N, 2U), gates (T, N, 4U)).

    Args:
        As tinydl.kernels.rnn.lstm_forward_x_reference,
        already checked and made C-contiguous by tinydl.backend.lstm_forward_x;
        float32 or float64 (one C kernel per dtype). Each step is one GEMM of
        [x_t | h_{t-1}] with [kernel; rk] (stacked here, once per call); last_only
        keeps two steps' states (a ring) and no gates; stack keeps every step's
        [x_t | h_{t-1} | 1] (the loop writes it in place of its scratch).

    Returns:
        As tinydl.kernels.rnn.lstm_forward_x_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, kernel, rk = rng.normal(size=(3, 2, 5)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward_x_native(x, kernel, rk, None, h0, c0, None)
        >>> expected = lstm_forward_x_reference(x, kernel, rk, None, h0, c0, None)
        >>> all(np.allclose(a, b) for a, b in zip((states, gates), expected))
        True
    """
    if _empty(x, rk):
        return lstm_forward_x_reference(x, kernel, rk, bias, h0, c0, mask, batch_major,
                                        last_only, stack)
    n, t_steps = x.shape[:2] if batch_major else x.shape[1::-1]
    u = rk.shape[0]
    ring = min(t_steps, 2) if last_only else t_steps
    states = np.empty((ring, n, 2 * u), dtype=x.dtype)
    gates = None if last_only else np.empty((t_steps, n, 4 * u), dtype=x.dtype)
    kept = np.empty((t_steps * n, x.shape[2] + u + 1), x.dtype) if stack else None
    _ext.lstm_forward_x(x, bool(batch_major), np.concatenate([kernel, rk]), bias, h0, c0,
                        _mask_bytes(mask), states, gates, kept)
    if last_only:
        last = (t_steps - 1) % ring
        return states[last:last + 1], None
    return (states, gates, kept) if stack else (states, gates)


def lstm_backward_native(dstates, rk, h0, c0, states, gates, mask):
    """-> (dz (T, N, 4U), dh0, dc0 (N, U)).

    Args:
        As tinydl.kernels.rnn.lstm_backward_reference,
        already checked and made C-contiguous by tinydl.backend.lstm_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.lstm_backward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward(xw, rk, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> dxw, dh0, dc0 = lstm_backward_native(dstates, rk, h0, c0, states, gates, None)

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
        return lstm_backward_reference(dstates, rk, h0, c0, states, gates, mask)
    dz, dh0, dc0 = np.empty_like(gates), np.empty_like(h0), np.empty_like(c0)
    _ext.lstm_backward(dstates, rk, h0, c0, states, gates, _mask_bytes(mask), dz, dh0, dc0)
    return dz, dh0, dc0


def lstm_backward_x_native(dstates, kernel, rk, h0, c0, states, gates, mask,
                           batch_major=False):
    """-> (dz (T, N, 4U), dx (T, N, D) or (N, T, D), dh0, dc0 (N, U)).

    Args:
        As tinydl.kernels.rnn.lstm_backward_x_reference,
        already checked and made C-contiguous by tinydl.backend.lstm_backward_x;
        float32 or float64 (one C kernel per dtype). Each step's one GEMM multiplies dz_t by
        [kernel^T | rk^T] (made here, once per call): dx_t beside dz_t @ rk^T.

    Returns:
        As tinydl.kernels.rnn.lstm_backward_x_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, kernel, rk = rng.normal(size=(3, 2, 8)), rng.normal(size=(5, 8)), rng.normal(size=(2, 8))
        >>> h0, c0 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        >>> states, gates = lstm_forward(xw, rk, h0, c0, None)
        >>> dstates = rng.normal(size=states.shape)
        >>> ours = lstm_backward_x_native(dstates, kernel, rk, h0, c0, states, gates, None)
        >>> expected = lstm_backward_x_reference(dstates, kernel, rk, h0, c0, states, gates, None)
        >>> all(np.allclose(a, b) for a, b in zip(ours, expected))
        True
    """
    if _empty(gates, rk, kernel):
        return lstm_backward_x_reference(dstates, kernel, rk, h0, c0, states, gates, mask,
                                         batch_major)
    t_steps, n, four_u = gates.shape
    d = kernel.shape[0]
    dz = np.empty_like(gates)
    dx = np.empty((n, t_steps, d) if batch_major else (t_steps, n, d), dtype=gates.dtype)
    dh0, dc0 = np.empty_like(h0), np.empty_like(c0)
    wt = np.ascontiguousarray(np.concatenate([kernel, rk]).T)
    _ext.lstm_backward_x(dstates, wt, c0, states, gates, _mask_bytes(mask), bool(batch_major),
                         dz, dx, dh0, dc0)
    return dz, dx, dh0, dc0


def gru_forward_native(xw, rk, rb, h0, mask):
    """xw (T, N, 3U) -> (hs (T, N, U), gates (T, N, 4U)).

    Args:
        As tinydl.kernels.rnn.gru_forward_reference,
        already checked and made C-contiguous by tinydl.backend.gru_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.gru_forward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)   # U = 2
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward_native(xw, rk, rb, h0, None)

        The first step by hand (gate order z, r, h; reset_after=True):

        >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
        >>> (xz, xr, xh), (iz, ir, ih) = np.split(xw[0], 3, axis=1), np.split(h0 @ rk + rb, 3, axis=1)
        >>> z, r = sigmoid(xz + iz), sigmoid(xr + ir)
        >>> hs.shape, gates.shape, bool(np.allclose(hs[0], z * h0 + (1 - z) * np.tanh(xh + r * ih)))
        ((3, 2, 2), (3, 2, 8), True)
    """
    if _empty(xw, rk):
        return gru_forward_reference(xw, rk, rb, h0, mask)
    t_steps, n, three_u = xw.shape
    hs = np.empty((t_steps, n, three_u // 3), dtype=xw.dtype)
    gates = np.empty((t_steps, n, 4 * (three_u // 3)), dtype=xw.dtype)
    _ext.gru_forward(xw, rk, rb, h0, _mask_bytes(mask), hs, gates)
    return hs, gates


def gru_backward_native(dhs, rk, h0, hs, gates, mask):
    """-> (dxw (T, N, 3U), dinner (T, N, 3U), dh0 (N, U)).

    Args:
        As tinydl.kernels.rnn.gru_backward_reference,
        already checked and made C-contiguous by tinydl.backend.gru_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.rnn.gru_backward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xw, rk, rb = rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)
        >>> h0 = rng.normal(size=(2, 2))
        >>> hs, gates = gru_forward(xw, rk, rb, h0, None)
        >>> dhs = rng.normal(size=hs.shape)
        >>> dxw, dinner, dh0 = gru_backward_native(dhs, rk, h0, hs, gates, None)

        dxw matches a central finite difference of sum(hs * dhs) along a random direction:

        >>> def loss(xw):
        ...     return (gru_forward(xw, rk, rb, h0, None)[0] * dhs).sum()

        >>> d, eps = rng.normal(size=xw.shape), 1e-6                       # a random direction
        >>> slope = (loss(xw + eps * d) - loss(xw - eps * d)) / (2 * eps)
        >>> bool(np.isclose(slope, (dxw * d).sum()))
        True
    """
    if _empty(dhs, rk):
        return gru_backward_reference(dhs, rk, h0, hs, gates, mask)
    t_steps, n, u = dhs.shape
    dxw = np.empty((t_steps, n, 3 * u), dtype=dhs.dtype)
    dinner, dh0 = np.empty_like(dxw), np.empty_like(h0)
    _ext.gru_backward(dhs, rk, h0, hs, gates, _mask_bytes(mask), dxw, dinner, dh0)
    return dxw, dinner, dh0


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("simple_rnn_forward", entry=simple_rnn_forward,
           reference=simple_rnn_forward_reference,
           native=simple_rnn_forward_native),
    Kernel("simple_rnn_backward", entry=simple_rnn_backward,
           reference=simple_rnn_backward_reference,
           native=simple_rnn_backward_native),
    Kernel("lstm_forward", entry=lstm_forward,
           reference=lstm_forward_reference,
           native=lstm_forward_native),
    Kernel("lstm_forward_x", entry=lstm_forward_x,
           reference=lstm_forward_x_reference,
           native=lstm_forward_x_native),
    Kernel("lstm_backward", entry=lstm_backward,
           reference=lstm_backward_reference,
           native=lstm_backward_native),
    Kernel("lstm_backward_x", entry=lstm_backward_x,
           reference=lstm_backward_x_reference,
           native=lstm_backward_x_native),
    Kernel("gru_forward", entry=gru_forward,
           reference=gru_forward_reference,
           native=gru_forward_native),
    Kernel("gru_backward", entry=gru_backward,
           reference=gru_backward_reference,
           native=gru_backward_native),
)
