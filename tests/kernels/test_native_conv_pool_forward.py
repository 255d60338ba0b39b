"""The convolution that pools its own output (conv2d_max_pool_forward): native vs the two
kernels one after the other (bit for bit) and vs the reference, and the backend's checks.
functional.conv2d_max_pool through autograd is tested in test_native_conv_pool.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_helpers import assert_close, conv_geometries

import tinydl
from tinydl import backend
from tinydl.kernels import native, reference
from tinydl.kernels.shapes import window_geometry


def forward_case(rng, dtype, x_shape, window, strides, padding, f):
    """x, w, bias, strides, pads of a convolution with random data."""
    _, pads = window_geometry(x_shape[1:3], window, strides, padding)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((*window, x_shape[3], f)).astype(dtype)
    return x, w, rng.standard_normal(f).astype(dtype), strides, pads


def check_forward(x, w, bias, strides, pads, pool):
    """For both ReLU settings and with or without bias: the native fused kernel equals the
    native convolution followed by the native max pool bit for bit, and the reference's values
    within tolerance (its argmax may differ only between values equal to within rounding)."""
    kh, kw, c, _ = w.shape
    for relu in (False, True):
        for b in (bias, None):
            p, argmax = native.conv2d_max_pool_forward(x, w, b, strides, pads, relu, pool)
            y = native.conv2d_forward(x, w, b, strides, pads, relu)
            want_p, want_argmax = native.max_pool2d_forward(y, pool, pool, (0, 0, 0, 0))
            assert np.array_equal(p, want_p) and np.array_equal(argmax, want_argmax)
            ref_y = reference.conv2d_forward(x, w, b, strides, pads, relu)
            ref_p, _ = reference.conv2d_max_pool_forward(x, w, b, strides, pads, relu, pool)
            what = f"x{x.shape} w{w.shape} s{strides} p{pads} pool{pool} relu={relu}"
            assert_close(p, ref_p, kh * kw * c, what)
            # the reference's output at our argmax is (within rounding) the window's maximum
            n, ph, pw, f = p.shape
            flat = ref_y.reshape(n, -1, f)
            at_argmax = np.take_along_axis(flat, argmax.reshape(n, -1, f), axis=1)
            assert_close(at_argmax.reshape(p.shape), ref_p, kh * kw * c, what + " argmax")


@st.composite
def forward_cases(draw):
    dtype, x_shape, window, strides, padding, f, (oh, ow) = draw(conv_geometries())
    pool = draw(st.integers(1, min(oh, 3))), draw(st.integers(1, min(ow, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return (*forward_case(rng, dtype, x_shape, window, strides, padding, f), pool)


@settings(deadline=None, max_examples=80)
@given(case=forward_cases())
def test_fused_forward_matches(conv_algorithm, case):
    check_forward(*case)


@pytest.mark.parametrize("x_shape, window, strides, padding, f, pool", [
    ((3, 32, 32, 3), (3, 3), (1, 1), "valid", 32, (2, 2)),   # the CNN's conv1 + pool1
    ((5, 15, 15, 32), (3, 3), (1, 1), "valid", 64, (2, 2)),  # conv2: 13 -> 6, a row dropped
    ((9, 6, 6, 64), (3, 3), (1, 1), "valid", 128, (2, 2)),   # conv3: bands of 8 rows
    ((2, 9, 7, 5), (2, 3), (2, 1), "same", 17, (3, 2)),      # a general window
    ((2, 5, 5, 4), (1, 1), (1, 1), "valid", 9, (2, 2)),      # pointwise conv
    ((1, 4, 4, 2), (3, 3), (1, 1), "same", 3, (4, 4)),       # one window per image
])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_fused_forward_named_shapes(microkernel, conv_algorithm, x_shape, window, strides, padding, f, pool,
                                    dtype):
    rng = np.random.default_rng(12)
    check_forward(*forward_case(rng, dtype, x_shape, window, strides, padding, f), pool)


def test_fused_forward_special_values():
    """NaN, infinities and ties go through the same first-max rule as the max pool."""
    rng = np.random.default_rng(4)
    x = rng.integers(-2, 3, (2, 10, 10, 3)).astype(np.float32)  # many equal outputs: ties
    x[0, 2, 3, 1], x[1, 5, 5, 0], x[1, 7, 1, 2] = np.nan, np.inf, -np.inf
    w = rng.integers(-1, 2, (3, 3, 3, 5)).astype(np.float32)
    for relu in (False, True):
        p, argmax = native.conv2d_max_pool_forward(x, w, None, (1, 1), (0,) * 4, relu, (2, 2))
        y = native.conv2d_forward(x, w, None, (1, 1), (0,) * 4, relu)
        want_p, want_argmax = reference.max_pool2d_forward(y, (2, 2), (2, 2), (0,) * 4)
        assert np.array_equal(p, want_p, equal_nan=True)
        assert np.array_equal(argmax, want_argmax)


def test_fused_forward_repeatable_and_thread_independent(two_threads):
    rng = np.random.default_rng(5)
    x, w, b, strides, pads = forward_case(rng, np.float32, (16, 20, 20, 8), (3, 3), (1, 1),
                                          "same", 24)
    runs = [native.conv2d_max_pool_forward(x, w, b, strides, pads, True, (2, 2))
            for _ in range(3)]
    native.set_num_threads(1)
    runs.append(native.conv2d_max_pool_forward(x, w, b, strides, pads, True, (2, 2)))
    for p, argmax in runs[1:]:
        assert np.array_equal(p, runs[0][0]) and np.array_equal(argmax, runs[0][1])


# ----------------------------------------------------------------------------- checks in Python

def test_backend_checks_before_the_kernel():
    x = np.zeros((2, 8, 8, 3), np.float32)
    w = np.zeros((3, 3, 3, 4), np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        backend.conv2d_max_pool_forward(x, w, None, (1, 1), (0,) * 4, True, (7, 2))
    with pytest.raises(ValueError, match="input channels"):
        backend.conv2d_max_pool_forward(x[..., :2], w, None, (1, 1), (0,) * 4, True, (2, 2))
    with pytest.raises(ValueError, match="bias"):
        backend.conv2d_max_pool_forward(x, w, np.zeros(5, np.float32), (1, 1), (0,) * 4, True,
                                        (2, 2))
    with pytest.raises(ValueError, match="pool must be 2 positive ints"):
        backend.conv2d_max_pool_forward(x, w, None, (1, 1), (0,) * 4, True, (0, 2))


def test_backend_runs_both_backends():
    rng = np.random.default_rng(1)
    x, w, b, strides, pads = forward_case(rng, np.float32, (2, 9, 9, 3), (3, 3), (1, 1),
                                          "valid", 4)
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        backend.conv2d_max_pool_forward(x, w, b, strides, pads, True, (2, 2))
    assert set(gaps) == {"conv2d_max_pool_forward"} and gaps["conv2d_max_pool_forward"] < 1e-5
