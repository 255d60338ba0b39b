"""The batchnorm kernels (tinydl/kernels/batchnorm.py, csrc/batchnorm.c): native against the
NumPy reference over hypothesis-drawn shapes, both dtypes, non-contiguous inputs; results
bit-identical from run to run and for 1 and 2 threads; gradients against finite differences;
bad input refused in Python before C; BatchNormalization against Keras on the same weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinydl
from tinydl import Tensor, backend
from tinydl.kernels import _dispatch, batchnorm as bn_kernels
from tinydl.ops.normalization import BatchNormChannelsLast
from tinydl.utils import gradcheck

from native_helpers import assert_close

NATIVE = tinydl.backend_info()["native_available"]
needs_native = pytest.mark.skipif(not NATIVE, reason="the native extension tinydl._native is not built")


@st.composite
def batches(draw):
    """(x (M, C), a strided view when drawn so, gamma, beta (or None), relu, dy) of one dtype."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    m, c = draw(st.integers(1, 300)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    strided = draw(st.booleans())
    base = rng.standard_normal((m, 2 * c if strided else c)) * draw(st.floats(0.1, 10)) \
        + draw(st.floats(-50, 50))
    base = base.astype(dtype)
    x = base[:, ::2] if strided else base
    gamma = None if draw(st.booleans()) else rng.uniform(0.5, 2.0, c).astype(dtype)
    beta = None if draw(st.booleans()) else rng.standard_normal(c).astype(dtype)
    return x, gamma, beta, draw(st.booleans()), rng.standard_normal((m, c)).astype(dtype)


@needs_native
@settings(max_examples=60)
@given(batches())
def test_native_matches_the_reference(case):
    x, gamma, beta, relu, dy = case
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        y, mean, var = backend.batchnorm_forward(x, gamma, beta, 1e-3, relu)
        dx, dgamma, dbeta = backend.batchnorm_backward(dy, x, y if relu else None, mean, var,
                                                       gamma, 1e-3)
    ref = bn_kernels.batchnorm_forward_reference(np.ascontiguousarray(x), gamma, beta, 1e-3, relu)
    for ours, want, what in zip((y, mean, var), ref, ("y", "mean", "var")):
        assert_close(ours, want, reduction=x.shape[0], what=what)
    ref_grads = bn_kernels.batchnorm_backward_reference(dy, np.ascontiguousarray(x),
                                                        ref[0] if relu else None, ref[1], ref[2],
                                                        gamma, 1e-3)
    if not relu:  # with a ReLU, a y within rounding of 0 may be masked one way or the other
        for ours, want, what in zip((dx, dgamma, dbeta), ref_grads, ("dx", "dgamma", "dbeta")):
            assert_close(ours, want, reduction=x.shape[0], what=what)
    assert set(gaps) == {"batchnorm_forward", "batchnorm_backward"}


def _forward_and_backward(x, gamma, beta, dy, relu):
    from tinydl.kernels import native
    y, mean, var = native.batchnorm_forward(x, gamma, beta, 1e-3, relu)
    return (y, mean, var) + native.batchnorm_backward(dy, x, y if relu else None, mean, var,
                                                      gamma, 1e-3)


@needs_native
@pytest.mark.parametrize("channels", (1, 15, 16, 17, 40, 64))
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_each_instruction_sets_row_loops_give_the_baselines_bits(microkernel, channels, dtype):
    """The row loops are compiled per ISA and follow the forced micro-kernel; channels in
    register chunks of 16 and the rest one by one: every copy sums in the same order."""
    from tinydl.kernels import native
    rng = np.random.default_rng(channels)
    x = (rng.standard_normal((64 * 3 + 5, channels)) * 2 + 3).astype(dtype)   # 4 blocks
    gamma, beta = rng.uniform(0.5, 2, channels).astype(dtype), rng.standard_normal(channels).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    for relu in (False, True):
        ours = _forward_and_backward(x, gamma, beta, dy, relu)
        native.force_microkernel("generic")
        try:
            baseline = _forward_and_backward(x, gamma, beta, dy, relu)
        finally:
            native.force_microkernel(microkernel)
        for a, b in zip(ours, baseline):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        ref = bn_kernels.batchnorm_forward_reference(x, gamma, beta, 1e-3, relu)
        for got, want in zip(ours[:3], ref):
            assert_close(got, want, reduction=x.shape[0], what="forward")


@needs_native
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_bit_identical_for_every_run_and_thread_count(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64 * 16 * 16, 48)) * 3 + 1).astype(dtype)   # several blocks
    gamma, beta = rng.uniform(0.5, 2, 48).astype(dtype), rng.standard_normal(48).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    before = tinydl.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 2, 1):
            tinydl.set_num_threads(threads)
            with tinydl.use_backend("native"):
                y, mean, var = backend.batchnorm_forward(x, gamma, beta, 1e-3, True)
                results.append((y, mean, var) + backend.batchnorm_backward(
                    dy, x, y, mean, var, gamma, 1e-3))
    finally:
        tinydl.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("relu", (False, True))
def test_gradients_match_finite_differences(backend, relu):
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((7, 3)) * 2 + 1, requires_grad=True)
    gamma = Tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    beta = Tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda a, g, b: BatchNormChannelsLast.apply(a, g, b, 1e-3, relu, {}),
                     x, gamma, beta)


@pytest.fixture
def kernel_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(_dispatch, "run", lambda name, *args: calls.append(name))
    return calls


F32 = np.ones((4, 3), np.float32)
BAD_CALLS = {
    "int x": (lambda: backend.batchnorm_forward(F32.astype(np.int32), None, None, 1e-3),
              TypeError, r"batchnorm_forward: x must be float32 or float64"),
    "mixed": (lambda: backend.batchnorm_forward(F32, np.ones(3), None, 1e-3),
              TypeError, r"arrays must share one dtype"),
    "rank": (lambda: backend.batchnorm_forward(np.ones(3, np.float32), None, None, 1e-3),
             ValueError, r"x must have shape \(M, C\)"),
    "gamma": (lambda: backend.batchnorm_forward(F32, np.ones(4, np.float32), None, 1e-3),
              ValueError, r"gamma must have shape \(3,\)"),
    "epsilon": (lambda: backend.batchnorm_forward(F32, None, None, 0.0),
                ValueError, r"epsilon must be a finite number > 0. Received: 0.0"),
    "dy": (lambda: backend.batchnorm_backward(np.ones((4, 2), np.float32), F32, None,
                                              np.ones(3, np.float32), np.ones(3, np.float32),
                                              None, 1e-3),
           ValueError, r"dy must have shape \(4, 3\)"),
    "var": (lambda: backend.batchnorm_backward(F32, F32, None, np.ones(3, np.float32),
                                               np.ones(2, np.float32), None, 1e-3),
            ValueError, r"var must have shape \(3,\)"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_input_raises_in_python_before_c(kernel_calls, name):
    call, error, message = BAD_CALLS[name]
    with pytest.raises(error, match=message):
        call()
    assert kernel_calls == []


@pytest.mark.parametrize("training", (True, False))
def test_batch_normalization_matches_keras_on_the_same_weights(training):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 5, 6, 8)) * 2 + 0.5).astype(np.float32)
    ours = tinydl.layers.BatchNormalization(momentum=0.9)
    ours.build_for((None, 5, 6, 8))
    theirs = keras.layers.BatchNormalization(momentum=0.9)
    theirs.build((None, 5, 6, 8))
    weights = [rng.uniform(0.5, 1.5, 8), rng.standard_normal(8), rng.standard_normal(8),
               rng.uniform(0.5, 2, 8)]
    weights = [w.astype(np.float32) for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    xt = Tensor(x, requires_grad=True)
    y = ours(xt, training=training)
    want = np.asarray(theirs(x, training=training))
    np.testing.assert_allclose(y.data, want, rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):   # the moving averages too
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
