"""Native pooling, softmax cross-entropy and ReLU against the reference kernels."""

from __future__ import annotations

import numpy as np
import pytest
from native_helpers import assert_close
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinydl.kernels import native, reference
from tinydl.kernels.shapes import window_geometry


@st.composite
def pool_cases(draw):
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n, c = draw(st.integers(1, 9)), draw(st.integers(1, 70))
    h, w = draw(st.integers(1, 17)), draw(st.integers(1, 17))
    pool = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(("valid", "same")))
    if padding == "valid" and (pool[0] > h or pool[1] > w):
        padding = "same"
    (oh, ow), pads = window_geometry((h, w), pool, strides, padding)
    assume(pads[0] < pool[0] and pads[1] < pool[0] and pads[2] < pool[1] and pads[3] < pool[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    if draw(st.booleans()):  # ties: the first maximum must win, as in np.argmax
        x = np.round(x).astype(dtype)
    dy = rng.standard_normal((n, oh, ow, c)).astype(dtype)
    return x, pool, strides, pads, dy


@settings(deadline=None, max_examples=80)
@given(case=pool_cases())
def test_max_pool(case):
    x, pool, strides, pads, dy = case
    y, argmax = native.max_pool2d_forward(x, pool, strides, pads)
    ry, rargmax = reference.max_pool2d_forward(x, pool, strides, pads)
    assert np.array_equal(y, ry) and y.dtype == ry.dtype
    assert argmax.dtype == np.int32 and np.array_equal(argmax, rargmax)
    assert_close(native.max_pool2d_backward(dy, argmax, x.shape),
                 reference.max_pool2d_backward(dy, rargmax, x.shape), pool[0] * pool[1],
                 "max_pool2d_backward")


@pytest.mark.parametrize("shape, strides, pads", [
    ((3, 13, 13, 64), (2, 2), (0, 0, 0, 0)),   # the reference CNN's second pool: odd input
    ((2, 7, 9, 21), (1, 1), (0, 1, 0, 1)),     # overlapping windows, clipped by 'same' pads
    ((1, 5, 6, 3), (2, 1), (0, 0, 0, 0)),
])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_max_pool_2x2_ties(microkernel, shape, strides, pads, dtype):
    """Whole 2x2 windows take a register path in C: ties (and -0.0 against 0.0) keep the first.
    The row loop is compiled per ISA and follows the forced micro-kernel: each copy runs."""
    x = np.random.default_rng(3).choice(np.array([-1.0, -0.0, 0.0, 1.0], dtype), size=shape)
    y, argmax = native.max_pool2d_forward(x, (2, 2), strides, pads)
    ry, rargmax = reference.max_pool2d_forward(x, (2, 2), strides, pads)
    assert np.array_equal(y, ry) and np.array_equal(argmax, rargmax)
    assert np.array_equal(np.signbit(y), np.signbit(np.take_along_axis(
        x.reshape(shape[0], -1, shape[3]), argmax.reshape(shape[0], -1, shape[3]), 1)
        .reshape(y.shape)))


@pytest.mark.parametrize("pool, strides, pads", [
    ((2, 2), (2, 2), (0, 0, 0, 0)), ((3, 2), (1, 2), (1, 1, 0, 1))])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_max_pool_nan_and_infinities(microkernel, pool, strides, pads, dtype):
    """A NaN in a window is its maximum and the argmax points at the first NaN, as np.argmax
    (and PyTorch's max pool) do; infinities compare as numbers. Every ISA copy."""
    rng = np.random.default_rng(6)
    values = np.array([np.nan, np.inf, -np.inf, -1.0, 0.0, 2.0], dtype)
    x = rng.choice(values, size=(2, 7, 8, 19), p=(0.1, 0.1, 0.1, 0.3, 0.2, 0.2))
    y, argmax = native.max_pool2d_forward(x, pool, strides, pads)
    ry, rargmax = reference.max_pool2d_forward(x, pool, strides, pads)
    assert np.isnan(y).any() and np.array_equal(y, ry, equal_nan=True)
    assert np.array_equal(argmax, rargmax)


@pytest.mark.parametrize("shape, pool, strides, pads", [
    ((2, 9, 8, 70), (3, 3), (2, 2), (1, 1, 1, 1)),   # clipped 3x3 windows, 70 channels
    ((3, 7, 7, 5), (2, 3), (1, 2), (0, 1, 1, 1)),    # overlapping, non-square
    ((1, 6, 6, 33), (2, 2), (2, 2), (0, 0, 0, 0)),   # whole 2x2 windows, odd channel count
])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_max_pool_each_isa(microkernel, shape, pool, strides, pads, dtype):
    x = np.round(np.random.default_rng(4).standard_normal(shape) * 2).astype(dtype)  # ties
    y, argmax = native.max_pool2d_forward(x, pool, strides, pads)
    ry, rargmax = reference.max_pool2d_forward(x, pool, strides, pads)
    assert np.array_equal(y, ry) and np.array_equal(argmax, rargmax)


@settings(deadline=None, max_examples=80)
@given(case=pool_cases())
def test_avg_pool(case):
    x, pool, strides, pads, dy = case
    window = pool[0] * pool[1]
    assert_close(native.avg_pool2d_forward(x, pool, strides, pads),
                 reference.avg_pool2d_forward(x, pool, strides, pads), window,
                 "avg_pool2d_forward")
    assert_close(native.avg_pool2d_backward(dy, x.shape, pool, strides, pads),
                 reference.avg_pool2d_backward(dy, x.shape, pool, strides, pads), window,
                 "avg_pool2d_backward")


@settings(deadline=None, max_examples=60)
@given(n=st.integers(1, 300), k=st.integers(1, 70), spread=st.sampled_from((1.0, 30.0)),
       dtype=st.sampled_from((np.float32, np.float64)), seed=st.integers(0, 2**16))
def test_softmax_xent(n, k, spread, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, k)) * spread).astype(dtype)
    labels = rng.integers(0, k, n)
    losses, probs = native.softmax_xent_forward(logits, labels)
    rlosses, rprobs = reference.softmax_xent_forward(logits, labels)
    assert_close(losses, rlosses, k, "softmax_xent losses")
    assert_close(probs, rprobs, k, "softmax_xent probs")
    assert_close(native.softmax_xent_backward(rprobs, labels, 0.25),
                 reference.softmax_xent_backward(rprobs, labels, 0.25), 1, "softmax_xent grad")


@settings(deadline=None, max_examples=30)
@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=4),
       dtype=st.sampled_from((np.float32, np.float64)), seed=st.integers(0, 2**16))
def test_relu(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y = native.relu_forward(x)
    assert np.array_equal(y, reference.relu_forward(x)) and y.dtype == dtype
    assert np.array_equal(native.relu_backward(y, dy), reference.relu_backward(y, dy))


def test_relu_large_parallel():
    x = np.random.default_rng(0).standard_normal(200_001).astype(np.float32)
    assert np.array_equal(native.relu_forward(x), reference.relu_forward(x))
