"""Native recurrent time loops and Embedding's scatter-add against their NumPy reference twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_helpers import assert_close

import tinydl
from tinydl import backend
from tinydl.kernels import native, reference


@st.composite
def sequences(draw, gates: int):
    """(xw (T, N, G*U), rk (U, G*U), h0, c0 (N, U), mask (T, N) or None, rng) in one dtype."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    t, n, u = draw(st.integers(1, 9)), draw(st.integers(1, 13)), draw(st.integers(1, 37))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    xw = rng.standard_normal((t, n, gates * u)).astype(dtype)
    rk = (rng.standard_normal((u, gates * u)) / np.sqrt(u)).astype(dtype)
    h0, c0 = (rng.standard_normal((n, u)).astype(dtype) for _ in range(2))
    mask = (rng.random((t, n)) > 0.3) if draw(st.booleans()) else None
    return xw, rk, h0, c0, mask, rng


def _close(ours, oracle, reduction):
    for a, b in zip(ours, oracle):
        assert_close(a, b, reduction=reduction)


@settings(deadline=None, max_examples=40)
@given(case=sequences(4))
def test_lstm_forward_and_backward_match_reference(case, microkernel):
    xw, rk, h0, c0, mask, rng = case
    fwd = native.lstm_forward(xw, rk, h0, c0, mask)
    ref = reference.lstm_forward(xw, rk, h0, c0, mask)
    steps, units = xw.shape[0], rk.shape[0]
    _close(fwd, ref, reduction=steps * units)
    dstates = rng.standard_normal(ref[0].shape).astype(xw.dtype)
    _close(native.lstm_backward(dstates, rk, h0, c0, *ref, mask),
           reference.lstm_backward(dstates, rk, h0, c0, *ref, mask), reduction=steps * 4 * units)


@st.composite
def lstm_inputs(draw):
    """(x (T, N, D) or (N, T, D), kernel, rk, bias or None, h0, c0, mask or None, batch_major)."""
    xw, rk, h0, c0, mask, rng = draw(sequences(4))
    t, n, four_u = xw.shape
    d, batch_major = draw(st.integers(1, 40)), draw(st.booleans())
    dtype = xw.dtype
    x = rng.standard_normal((n, t, d) if batch_major else (t, n, d)).astype(dtype)
    if draw(st.booleans()):  # a strided view (every other feature of a wider array)
        x = np.repeat(x, 2, axis=2)[:, :, ::2]
    kernel = (rng.standard_normal((d, four_u)) / np.sqrt(d)).astype(dtype)
    bias = rng.standard_normal(four_u).astype(dtype) if draw(st.booleans()) else None
    return x, kernel, rk, bias, h0, c0, mask, batch_major


@settings(deadline=None, max_examples=60)
@given(case=lstm_inputs(), last_only=st.booleans())
def test_lstm_forward_x_matches_reference(case, last_only, microkernel):
    """The projection inside the time loop: the reference's states and gates (or, last_only,
    the last step's states and no gates) to float rounding, from x read time- or batch-major."""
    x, kernel, rk, bias, h0, c0, mask, batch_major = case
    with backend.use_backend("native"):  # the checked entry: a strided x made contiguous
        ours = backend.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major, last_only)
    oracle = reference.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major, last_only)
    steps = x.shape[1] if batch_major else x.shape[0]
    assert (ours[1] is None) == (oracle[1] is None) == last_only
    assert ours[0].shape == oracle[0].shape
    _close([a for a in ours if a is not None], [a for a in oracle if a is not None],
           reduction=steps * (kernel.shape[0] + rk.shape[0]))
    # the projections computed apart first (lstm_forward) agree too
    time_major = x.transpose(1, 0, 2) if batch_major else x
    xw = time_major @ kernel + (0 if bias is None else bias)
    apart = reference.lstm_forward(xw, rk, h0, c0, mask)[0]
    assert_close(ours[0], apart[-1:] if last_only else apart,
                 reduction=steps * (kernel.shape[0] + rk.shape[0]))


@settings(deadline=None, max_examples=40)
@given(case=lstm_inputs())
def test_lstm_forward_x_stack_keeps_each_steps_rows(case):
    """stack: the loop's rows [x_t | h_{t-1} | 1] (row t*N + n), x and the ones exactly, h_{t-1}
    the states' own bits (h0 first); states and gates the bits of the call without it; the
    weight-gradient GEMM over it gives the reference's x^T dz, h_prev^T dz and dz's sums."""
    x, kernel, rk, bias, h0, c0, mask, batch_major = case
    with backend.use_backend("native"):
        states, gates, stack = backend.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask,
                                                      batch_major, stack=True)
        plain = backend.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major)
    assert np.array_equal(states, plain[0]) and np.array_equal(gates, plain[1])
    time_major = x.transpose(1, 0, 2) if batch_major else x
    t, n, d = time_major.shape
    u = h0.shape[1]
    rows = stack.reshape(t, n, d + u + 1)
    assert np.array_equal(rows[:, :, :d], time_major) and (rows[:, :, -1] == 1).all()
    assert np.array_equal(rows[0, :, d:-1], h0)
    assert np.array_equal(rows[1:, :, d:-1], states[:-1, :, :u])
    oracle = reference.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major, stack=True)
    _close([stack], [oracle[2]], reduction=t * (d + u))
    dz = np.random.default_rng(t).standard_normal((t * n, 4 * u)).astype(x.dtype)
    with backend.use_backend("native"):
        product = backend.gemm(stack, dz, trans_a=True)
    assert_close(product, oracle[2].T @ dz, reduction=t * n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("last_only", [False, True])
def test_lstm_forward_x_is_bit_identical_across_thread_counts(dtype, last_only, two_threads):
    """37 rows in blocks of unequal size: the same bits on 2 threads, on 1, and on a repeat."""
    rng = np.random.default_rng(5)
    t, n, d, u = 6, 37, 24, 48
    x = rng.standard_normal((n, t, d)).astype(dtype)
    kernel = (rng.standard_normal((d, 4 * u)) / 5).astype(dtype)
    rk = (rng.standard_normal((u, 4 * u)) / 7).astype(dtype)
    bias, h0, c0 = (rng.standard_normal(s).astype(dtype) for s in (4 * u, (n, u), (n, u)))
    mask = rng.random((t, n)) > 0.3
    args = (x, kernel, rk, bias, h0, c0, mask, True, last_only, not last_only)  # stack too
    with_two = native.lstm_forward_x(*args)
    again = native.lstm_forward_x(*args)
    native.set_num_threads(1)
    with_one = native.lstm_forward_x(*args)
    for a, b, c in zip(with_two, again, with_one, strict=True):
        assert (a is None and b is None and c is None) or (np.array_equal(a, b)
                                                           and np.array_equal(a, c))
    _close([with_two[0]], [reference.lstm_forward_x(*args)[0]], reduction=t * (d + u))


@pytest.mark.parametrize("bad, message", [
    ("kernel", "kernel must have shape"), ("rk", "recurrent_kernel must be"),
    ("bias", "bias must have shape"), ("state", "c0 must have shape"),
    ("mask", "mask must be bool"), ("dtype", "share one dtype"), ("rank", "x must have shape")])
def test_lstm_forward_x_rejects_inconsistent_arrays_before_c(bad, message):
    f = np.float32
    x, kernel, rk = np.zeros((3, 2, 5), f), np.zeros((5, 8), f), np.zeros((2, 8), f)
    bias, h0, c0, mask = np.zeros(8, f), np.zeros((2, 2), f), np.zeros((2, 2), f), None
    if bad == "kernel":
        kernel = np.zeros((4, 8), f)
    elif bad == "rk":
        rk = np.zeros((2, 6), f)
    elif bad == "bias":
        bias = np.zeros(6, f)
    elif bad == "state":
        c0 = np.zeros((3, 2), f)  # batch-major reading would make N = 3: checked per layout
    elif bad == "mask":
        mask = np.ones((2, 3), bool)
    elif bad == "dtype":
        h0 = h0.astype(np.float64)
    else:
        x = np.zeros((3, 10), f)
    with pytest.raises((ValueError, TypeError), match=message):
        backend.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask)


@settings(deadline=None, max_examples=60)
@given(case=lstm_inputs(), last_step_only=st.booleans())
def test_lstm_backward_x_matches_reference(case, last_step_only, microkernel):
    """dz, dh0, dc0 as lstm_backward's (the same bits: the loop is the same) and dx = dz @
    kernel^T in either layout, from dstates of every step or of the last only."""
    x, kernel, rk, bias, h0, c0, mask, batch_major = case
    states, gates = reference.lstm_forward_x(x, kernel, rk, bias, h0, c0, mask, batch_major)
    rng = np.random.default_rng(int(abs(states).sum() * 1000) % 2**16)
    shape = (1,) + states.shape[1:] if last_step_only else states.shape
    dstates = rng.standard_normal(shape).astype(states.dtype)
    args = (dstates, kernel, rk, h0, c0, states, gates, mask, batch_major)
    ours = native.lstm_backward_x(*args)
    oracle = reference.lstm_backward_x(*args)
    steps, d = states.shape[0], kernel.shape[0]
    assert [a.shape for a in ours] == [b.shape for b in oracle]
    _close(ours, oracle, reduction=steps * 4 * rk.shape[0] + d)
    plain = native.lstm_backward(dstates, rk, h0, c0, states, gates, mask)
    for a, b in zip((ours[0], ours[2], ours[3]), plain, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_backward_x_is_bit_identical_across_thread_counts(dtype, two_threads):
    rng = np.random.default_rng(6)
    t, n, d, u = 6, 37, 24, 48
    kernel = (rng.standard_normal((d, 4 * u)) / 5).astype(dtype)
    rk = (rng.standard_normal((u, 4 * u)) / 7).astype(dtype)
    h0, c0 = (rng.standard_normal((n, u)).astype(dtype) for _ in range(2))
    mask = rng.random((t, n)) > 0.3
    states, gates = native.lstm_forward_x(rng.standard_normal((n, t, d)).astype(dtype), kernel,
                                          rk, None, h0, c0, mask, True)
    dstates = rng.standard_normal(states.shape).astype(dtype)
    args = (dstates, kernel, rk, h0, c0, states, gates, mask, True)
    with_two, again = native.lstm_backward_x(*args), native.lstm_backward_x(*args)
    native.set_num_threads(1)
    with_one = native.lstm_backward_x(*args)
    for a, b, c in zip(with_two, again, with_one, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    _close(with_two, reference.lstm_backward_x(*args), reduction=t * 4 * u + d)


@pytest.mark.parametrize("bad, message", [
    ("kernel", "kernel must have shape"), ("kernel_rank", "kernel must have shape"),
    ("states", "states must have shape"), ("dstates", "dstates must have shape"),
    ("dtype", "share one dtype")])
def test_lstm_backward_x_rejects_inconsistent_arrays_before_c(bad, message):
    f = np.float32
    kernel, rk, h0, c0 = np.zeros((5, 8), f), np.zeros((2, 8), f), np.zeros((2, 2), f), np.zeros((2, 2), f)
    states, gates, dstates = np.zeros((3, 2, 4), f), np.zeros((3, 2, 8), f), np.zeros((3, 2, 4), f)
    if bad == "kernel":
        kernel = np.zeros((5, 6), f)
    elif bad == "kernel_rank":
        kernel = np.zeros(8, f)
    elif bad == "states":
        states = np.zeros((3, 2, 6), f)
    elif bad == "dstates":
        dstates = np.zeros((2, 2, 4), f)
    else:
        kernel = kernel.astype(np.float64)
    with pytest.raises((ValueError, TypeError), match=message):
        backend.lstm_backward_x(dstates, kernel, rk, h0, c0, states, gates, None)


@settings(deadline=None, max_examples=40)
@given(case=sequences(3))
def test_gru_forward_and_backward_match_reference(case, microkernel):
    xw, rk, h0, _, mask, rng = case
    rb = rng.standard_normal(xw.shape[2]).astype(xw.dtype)
    ref = reference.gru_forward(xw, rk, rb, h0, mask)
    steps, units = xw.shape[0], rk.shape[0]
    _close(native.gru_forward(xw, rk, rb, h0, mask), ref, reduction=steps * units)
    dhs = rng.standard_normal(ref[0].shape).astype(xw.dtype)
    _close(native.gru_backward(dhs, rk, h0, *ref, mask),
           reference.gru_backward(dhs, rk, h0, *ref, mask), reduction=steps * 3 * units)


@settings(deadline=None, max_examples=40)
@given(case=sequences(1))
def test_simple_rnn_forward_and_backward_match_reference(case, two_threads):
    xw, rk, h0, _, mask, rng = case
    hs = reference.simple_rnn_forward(xw, rk, h0, mask)
    steps, units = xw.shape[0], rk.shape[0]
    assert_close(native.simple_rnn_forward(xw, rk, h0, mask), hs, reduction=steps * units)
    dhs = rng.standard_normal(hs.shape).astype(xw.dtype)
    _close(native.simple_rnn_backward(dhs, rk, h0, hs, mask),
           reference.simple_rnn_backward(dhs, rk, h0, hs, mask), reduction=steps * units)


def _all_recurrent_kernels(kind, dtype, steps=5, n=37, units=48, masked=True):
    """Forward and backward outputs of one native kernel on a batch big enough for the time
    loop to cut it into several blocks of rows (37 rows: blocks of unequal size), with the
    NumPy reference's (its backward from the reference's forward) and the error scale."""
    rng = np.random.default_rng(3)
    gates = {"simple": 1, "lstm": 4, "gru": 3}[kind]
    units = 2 * units if kind == "simple" else units  # enough work to use the threads
    xw = rng.standard_normal((steps, n, gates * units)).astype(dtype)
    rk = (rng.standard_normal((units, gates * units)) / np.sqrt(units)).astype(dtype)
    h0, c0 = (rng.standard_normal((n, units)).astype(dtype) for _ in range(2))
    mask = rng.random((steps, n)) > 0.3 if masked else None
    if kind == "lstm":
        ref = reference.lstm_forward(xw, rk, h0, c0, mask)
        g = rng.standard_normal(ref[0].shape).astype(dtype)
        fwd = native.lstm_forward(xw, rk, h0, c0, mask)
        bwd = native.lstm_backward(g, rk, h0, c0, *ref, mask)
        ref = (*ref, *reference.lstm_backward(g, rk, h0, c0, *ref, mask))
    elif kind == "gru":
        rb = rng.standard_normal(xw.shape[2]).astype(dtype)
        ref = reference.gru_forward(xw, rk, rb, h0, mask)
        g = rng.standard_normal(ref[0].shape).astype(dtype)
        fwd = native.gru_forward(xw, rk, rb, h0, mask)
        bwd = native.gru_backward(g, rk, h0, *ref, mask)
        ref = (*ref, *reference.gru_backward(g, rk, h0, *ref, mask))
    else:
        hs = reference.simple_rnn_forward(xw, rk, h0, mask)
        g = rng.standard_normal(hs.shape).astype(dtype)
        fwd = (native.simple_rnn_forward(xw, rk, h0, mask),)
        bwd = native.simple_rnn_backward(g, rk, h0, hs, mask)
        ref = (hs, *reference.simple_rnn_backward(g, rk, h0, hs, mask))
    return list(fwd) + list(bwd), list(ref), steps * gates * units


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recurrent_results_do_not_depend_on_the_thread_count(kind, dtype, two_threads):
    with_two, ref, reduction = _all_recurrent_kernels(kind, dtype)
    _close(with_two, ref, reduction=reduction)  # the blocks of rows agree with NumPy
    native.set_num_threads(1)
    with_one, _, _ = _all_recurrent_kernels(kind, dtype)
    for a, b in zip(with_two, with_one, strict=True):
        assert np.array_equal(a, b)


@settings(deadline=None, max_examples=40)
@given(dtype=st.sampled_from((np.float32, np.float64)), m=st.integers(1, 300),
       d=st.integers(1, 150), v=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_embedding_scatter_add_is_bit_identical_to_reference(dtype, m, d, v, seed, two_threads):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, v, m)  # repeated ids: their rows add up, in order
    dy = rng.standard_normal((m, d)).astype(dtype)
    ours = native.embedding_backward(ids, dy, v)
    assert ours.dtype == dtype
    assert np.array_equal(ours, reference.embedding_backward(ids, dy, v))


@settings(deadline=None, max_examples=40)
@given(dtype=st.sampled_from((np.float32, np.float64)), m=st.integers(0, 3000),
       d=st.integers(1, 150), v=st.integers(1, 40), strided=st.booleans(),
       seed=st.integers(0, 2**16))
def test_embedding_gather_is_the_references_rows(dtype, m, d, v, strided, seed):
    """The lookup's gather: every row a copy of its id's (and 2,000+ rows cut across threads
    give the same rows as one thread); a strided table is copied by the entry first."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, v, m)
    table = rng.standard_normal((d, v) if strided else (v, d)).astype(dtype)
    table = table.T if strided else table
    want = reference.embedding_forward(np.ascontiguousarray(table), ids)
    previous = native.get_num_threads()
    try:
        for threads in (1, 2):
            native.set_num_threads(threads)
            with tinydl.use_backend("native"):
                got = backend.embedding_forward(table, ids)
            assert got.dtype == dtype and got.shape == (m, d)
            assert np.array_equal(got, want)
    finally:
        native.set_num_threads(previous)


# ----------------------------------------------------------------------------- bad input stops in Python

def test_embedding_backward_rejects_out_of_range_ids_before_c():
    dy = np.ones((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"ids must be in \[0, input_dim=4\)"):
        backend.embedding_backward(np.array([0, 4, 1]), dy, 4)
    with pytest.raises(ValueError, match="ids must be integers of shape"):
        backend.embedding_backward(np.array([0.0, 1.0, 1.0]), dy, 4)


@pytest.mark.parametrize("ids, message", [
    (np.array([0, 3]), r"ids must be in \[0, input_dim=3\)"),
    (np.array([-1, 0]), r"ids must be in \[0, input_dim=3\)"),
    (np.array([0.0, 1.0]), r"ids must be integers of shape \(M,\)"),
    (np.array([[0, 1]]), r"ids must be integers of shape \(M,\)"),
])
def test_embedding_forward_rejects_bad_ids_before_c(ids, message):
    with tinydl.use_backend("native"), pytest.raises(ValueError, match=message):
        backend.embedding_forward(np.ones((3, 2), np.float32), ids)
    with pytest.raises(TypeError, match="float32 or float64"):
        backend.embedding_forward(np.ones((3, 2), np.int32), np.array([0]))


@pytest.mark.parametrize("bad", ["kernel", "state", "mask", "dtype"])
def test_lstm_forward_rejects_inconsistent_arrays_before_c(bad):
    xw = np.zeros((3, 2, 8), np.float32)
    rk, h0, c0 = np.zeros((2, 8), np.float32), np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)
    mask = np.ones((3, 2), bool)
    if bad == "kernel":
        rk = np.zeros((3, 8), np.float32)
    elif bad == "state":
        c0 = np.zeros((2, 3), np.float32)
    elif bad == "mask":
        mask = np.ones((2, 3), bool)
    else:
        h0 = h0.astype(np.float64)
    with pytest.raises((ValueError, TypeError)):
        backend.lstm_forward(xw, rk, h0, c0, mask)


def _activation_inputs():
    """A dense grid over the interesting range, wide magnitudes, and the special values."""
    grid = np.linspace(-12.0, 12.0, 48001)
    wide = np.concatenate([s * np.geomspace(1e-38, 1e4, 4000) for s in (1.0, -1.0)])
    special = [0.0, -0.0, np.inf, -np.inf, 0.625, -0.625, 9.0, 88.0, -87.0, 1e-30]
    return np.concatenate([grid, wide, special]).astype(np.float32)


def _ulps(ours, exact):
    """|ours - exact| in float32 ulps of exact (exact computed in float64)."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(ours.astype(np.float64) - exact) / spacing


def test_float_gate_activations_are_within_three_ulps_of_exact():
    """rnn_math.h's call-free tanh and sigmoid, read through the kernels: with a zero
    recurrent kernel and one unit per sample, SimpleRNN gives tanh(xw) and the LSTM's gates
    hold sigmoid(xw_i)."""
    x = _activation_inputs()
    n = x.size
    zeros = np.zeros((n, 1), np.float32)
    tanh = native.simple_rnn_forward(x.reshape(1, n, 1), np.zeros((1, 1), np.float32), zeros,
                                     None).ravel()
    exact_tanh = np.tanh(x.astype(np.float64))
    assert _ulps(tanh, exact_tanh).max() <= 3
    negative = x < 0  # (-0 is not: the kernel adds h0 @ rk = +0 first)
    assert (tanh[negative] < 0).all() and (tanh[x > 0] > 0).all()
    assert (tanh[np.abs(x) >= 9.1] == np.sign(x[np.abs(x) >= 9.1])).all()  # exactly +-1

    xw = np.zeros((1, n, 4), np.float32)
    xw[0, :, 0] = x
    _, gates = native.lstm_forward(xw, np.zeros((1, 4), np.float32), zeros, zeros, None)
    sigmoid, exact = gates[0, :, 0].astype(np.float64), 1 / (1 + np.exp(-x.astype(np.float64)))
    normal = exact > np.finfo(np.float32).tiny * 4  # below that: any tiny value is fine
    assert _ulps(sigmoid[normal], exact[normal]).max() <= 3
    assert np.abs(sigmoid[~normal]).max() < 1e-37


def test_float_gate_activations_keep_nan():
    x = np.array([np.nan, 1.0], np.float32)
    hs = native.simple_rnn_forward(x.reshape(1, 2, 1), np.zeros((1, 1), np.float32),
                                   np.zeros((2, 1), np.float32), None)
    assert np.isnan(hs[0, 0, 0]) and np.isfinite(hs[0, 1, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [3, 37])  # one block, and several on two threads
def test_lstm_backward_from_the_last_steps_gradient_only(dtype, n, two_threads):
    # dstates (1, N, 2U) means the steps before the last have no gradient: the same result
    # as the whole (T, N, 2U) with zeros there, natively and in the reference.
    rng = np.random.default_rng(11)
    steps, units = 6, 48
    xw = rng.standard_normal((steps, n, 4 * units)).astype(dtype)
    rk = (rng.standard_normal((units, 4 * units)) / np.sqrt(units)).astype(dtype)
    h0, c0 = (rng.standard_normal((n, units)).astype(dtype) for _ in range(2))
    mask = rng.random((steps, n)) > 0.3
    states, gates = reference.lstm_forward(xw, rk, h0, c0, mask)
    last = rng.standard_normal((1, n, 2 * units)).astype(dtype)
    full = np.zeros_like(states)
    full[-1] = last[0]
    oracle = reference.lstm_backward(full, rk, h0, c0, states, gates, mask)
    _close(reference.lstm_backward(last, rk, h0, c0, states, gates, mask), oracle, reduction=1)
    ours = native.lstm_backward(last, rk, h0, c0, states, gates, mask)
    _close(ours, oracle, reduction=steps * 4 * units)
    for a, b in zip(ours, native.lstm_backward(full, rk, h0, c0, states, gates, mask)):
        assert np.array_equal(a, b)


def test_lstm_backward_refuses_a_gradient_of_other_steps():
    rng = np.random.default_rng(0)
    states, gates = np.zeros((4, 2, 6)), np.zeros((4, 2, 12))
    rk, h0 = rng.standard_normal((3, 12)), np.zeros((2, 3))
    with pytest.raises(ValueError, match="dstates"):
        backend.lstm_backward(np.zeros((2, 2, 6)), rk, h0, h0, states, gates, None)
