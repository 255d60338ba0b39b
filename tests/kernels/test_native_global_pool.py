"""Native global average and max pooling (csrc/global_pool.c) against the NumPy reference:
drawn shapes in both dtypes, strided inputs, ties and NaNs, thread counts, the ops' gradients
by finite differences, the layers on both backends, and bad input refused in Python."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinydl
from tinydl import functional as F
from tinydl.kernels import global_pool as G
from tinydl.kernels import native
from tinydl.utils import gradcheck

DTYPES = (np.float32, np.float64)


def _input(rng, shape, dtype, ties: bool):
    x = rng.standard_normal(shape).astype(dtype)
    if ties:  # few distinct values: many channels have several winners
        x = np.round(x).astype(dtype)
    return x


@settings(deadline=None, max_examples=80)
@given(n=st.integers(1, 5), s=st.integers(1, 40), c=st.integers(1, 140),
       dtype=st.sampled_from(DTYPES), ties=st.booleans(), strided=st.booleans(),
       seed=st.integers(0, 2**16))
def test_native_gives_the_references_values(n, s, c, dtype, ties, strided, seed):
    """Max, its gradient and the mean's gradient bit for bit; the mean to rounding (both sum
    in double, NumPy pairwise). A strided x is copied by the entry first."""
    rng = np.random.default_rng(seed)
    x = _input(rng, (n, c, s) if strided else (n, s, c), dtype, ties)
    if strided:
        x = x.transpose(0, 2, 1)
    dy = rng.standard_normal((n, c)).astype(dtype)
    xc = np.ascontiguousarray(x)
    with tinydl.use_backend("native"):
        mean, peak = G.global_avg_pool(x), G.global_max_pool(x)
        dx_avg = G.global_avg_pool_backward(dy, s)
        dx_max = G.global_max_pool_backward(x, peak, dy)
    np.testing.assert_allclose(mean, G.global_avg_pool_reference(xc),
                               rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)
    assert np.array_equal(peak, G.global_max_pool_reference(xc))
    assert np.array_equal(dx_avg, G.global_avg_pool_backward_reference(dy, s))
    assert np.array_equal(dx_max, G.global_max_pool_backward_reference(xc, peak, dy))
    assert mean.dtype == peak.dtype == dx_avg.dtype == dx_max.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_ties_nans_and_infinities(dtype):
    """Tied winners share dy equally; a NaN wins the max and its column's gradient is NaN (no
    element equals it), as in the reference and tinydl.ops.reduce.Max; infinities win."""
    x = np.array([[[1, 5, np.nan, -np.inf], [4, 5, 0, -np.inf], [4, 2, 9, -np.inf]]], dtype)
    dy = np.array([[6, 4, 1, -3]], dtype)
    y = G.global_max_pool_native(x)
    np.testing.assert_array_equal(y, [[4, 5, np.nan, -np.inf]])
    dx = G.global_max_pool_backward_native(x, y, dy)
    np.testing.assert_array_equal(dx[0, :, 0], [0, 3, 3])
    np.testing.assert_array_equal(dx[0, :, 1], [2, 2, 0])
    assert np.isnan(dx[0, :, 2]).all()
    np.testing.assert_array_equal(dx[0, :, 3], [-1, -1, -1])
    assert np.array_equal(dx, G.global_max_pool_backward_reference(x, y, dy), equal_nan=True)
    mean = G.global_avg_pool_native(x)
    assert np.isnan(mean[0, 2]) and mean[0, 3] == -np.inf
    np.testing.assert_allclose(mean[0, :2], [3, 4])


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_same_bits_on_any_thread_count(dtype):
    """One task per sample, its arithmetic the same in any task: 1 and 2 threads (large enough
    to be cut) and repeated calls give the same bits."""
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((64, 64, 48)) * 2).astype(dtype)
    dy = rng.standard_normal((64, 48)).astype(dtype)
    previous = native.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 1, 2):
            native.set_num_threads(threads)
            y = G.global_max_pool_native(x)
            results.append((G.global_avg_pool_native(x), y,
                            G.global_avg_pool_backward_native(dy, 64),
                            G.global_max_pool_backward_native(x, y, dy)))
    finally:
        native.set_num_threads(previous)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("reduce, name", [(F.global_avg_pool, "mean"), (F.global_max_pool, "max")])
@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 4, 3)])
def test_gradients_match_finite_differences(reduce, name, shape):
    rng = np.random.default_rng(5)
    x = tinydl.Tensor(rng.standard_normal(shape), requires_grad=True)  # float64: distinct values
    assert gradcheck(lambda t: reduce(t), x)
    assert gradcheck(lambda t: reduce(t, keepdims=True), x)
    axes = tuple(range(1, len(shape) - 1))  # and the values are the Tensor reduction's
    np.testing.assert_allclose(reduce(x).data, getattr(x.data, name)(axis=axes), rtol=1e-14)


@pytest.mark.parametrize("layer, keras_name", [
    (tinydl.layers.GlobalAveragePooling2D, "mean"), (tinydl.layers.GlobalMaxPooling2D, "max"),
    (tinydl.layers.GlobalAveragePooling1D, "mean"), (tinydl.layers.GlobalMaxPooling1D, "max")])
@pytest.mark.parametrize("keepdims", (False, True))
def test_layers_agree_on_both_backends(layer, keras_name, keepdims):
    """The pooling layers run the kernels: the native and reference backends agree with each
    other and with NumPy's reduction, values and input gradients (float32, ties included)."""
    rng = np.random.default_rng(8)
    shape = (3, 5, 4, 6) if "2D" in layer.__name__ else (3, 7, 6)
    x = np.round(rng.standard_normal(shape) * 2).astype(np.float32)
    axes = tuple(range(1, len(shape) - 1))
    results = []
    for backend in ("native", "reference"):
        with tinydl.use_backend(backend):
            t = tinydl.Tensor(x, requires_grad=True)
            y = layer(keepdims=keepdims)(t)
            weights = np.arange(y.size, dtype=np.float32).reshape(y.shape)
            (y * tinydl.Tensor(weights)).sum().backward()
            results.append((y.data, t.grad))
    want = getattr(x, keras_name)(axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(results[0][0], want, rtol=1e-6)
    assert np.array_equal(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-7)


def test_an_empty_axis_keeps_numpys_semantics():
    """Empty steps never reach the kernels: the mean is NaN (NumPy's warning), the max raises."""
    x = tinydl.Tensor(np.zeros((2, 0, 3), np.float32))
    with pytest.warns(RuntimeWarning):
        assert np.isnan(F.global_avg_pool(x).data).all()
    with pytest.raises(ValueError):
        F.global_max_pool(x)


@pytest.mark.parametrize("call, message", [
    (lambda: G.global_avg_pool(np.ones((2, 3))), "x must have shape (N, S, C)"),
    (lambda: G.global_max_pool(np.ones((2, 0, 3))), "at least one sample, step and channel"),
    (lambda: G.global_max_pool(np.ones((2, 3, 1), np.int64)), "float32 or float64"),
    (lambda: G.global_avg_pool_backward(np.ones((2, 3)), 0), "steps must be >= 1"),
    (lambda: G.global_avg_pool_backward(np.ones((2, 3)), 2.5), "steps must be an integer"),
    (lambda: G.global_avg_pool_backward(np.ones((2, 3)), 2**47), "would have"),
    (lambda: G.global_max_pool_backward(np.ones((2, 3, 4)), np.ones((2, 3)), np.ones((2, 4))),
     "y must have shape (2, 4)"),
    (lambda: G.global_max_pool_backward(np.ones((2, 3, 4)), np.ones((2, 4)),
                                        np.ones((2, 4), np.float32)), "share one dtype"),
])
def test_bad_input_is_refused_before_c(call, message):
    with tinydl.use_backend("native"), pytest.raises((ValueError, TypeError),
                                                     match=re.escape(message)):
        call()
