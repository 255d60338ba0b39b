"""add_relu, max(a + b, 0) in one pass (a residual block's Add -> ReLU): the native kernel gives
the NumPy reference's bits over drawn shapes, both dtypes, non-contiguous inputs, special values
and 1 or 2 threads; bad input raises in Python before C."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinydl import backend
from tinydl.kernels import reference

native = pytest.importorskip("tinydl.kernels.native")

DTYPES = (np.float32, np.float64)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=4),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_native_gives_the_references_bits(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    got = native.add_relu(a, b)
    assert got.dtype == dtype and got.shape == a.shape
    np.testing.assert_array_equal(got, np.maximum(a + b, 0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_through_the_backend(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 60)).astype(dtype)[::2, 1::3]
    b = rng.standard_normal((20, 20)).astype(dtype).T
    with backend.use_backend("native"):
        got = backend.add_relu(a, b)
    np.testing.assert_array_equal(got, reference.add_relu(np.ascontiguousarray(a),
                                                          np.ascontiguousarray(b)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_as_np_maximum(dtype):
    a = np.array([np.nan, -1.0, 2.0, np.inf, -np.inf, 0.0, -0.0, np.inf, 1.0], dtype=dtype)
    b = np.array([1.0, 0.5, -2.0, 1.0, 3.0, -0.0, -0.0, -np.inf, np.nan], dtype=dtype)
    got, want = native.add_relu(a, b), reference.add_relu(a, b)
    np.testing.assert_array_equal(got, want)             # NaN where a sum is NaN, inf - inf too
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_large_arrays_split_over_two_threads_give_one_threads_bits(two_threads):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(300_001).astype(np.float32) for _ in range(2))
    two = native.add_relu(a, b)
    native.set_num_threads(1)
    np.testing.assert_array_equal(native.add_relu(a, b), two)
    np.testing.assert_array_equal(two, np.maximum(a + b, 0))


@pytest.mark.parametrize("args, error, message", [
    ((np.ones(3), np.ones(2)), ValueError, r"add_relu: b must have shape \(3,\), got \(2,\)"),
    ((np.ones((2, 3)), np.ones(3)), ValueError, r"add_relu: b must have shape \(2, 3\)"),
    ((np.ones(3, np.float32), np.ones(3)), TypeError, "add_relu: arrays must share one dtype"),
    ((np.ones(3, np.int32), np.ones(3, np.int32)), TypeError, "a must be float32 or float64"),
])
def test_bad_input_raises_before_c(args, error, message):
    with backend.use_backend("native"), pytest.raises(error, match=message):
        backend.add_relu(*args)
