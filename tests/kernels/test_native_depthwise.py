"""Native depthwise convolution (csrc/depthwise.c) against its NumPy reference twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_helpers import assert_close

from tinydl import backend
from tinydl.kernels import depthwise, native, reference


@st.composite
def depthwise_cases(draw):
    """(x (N, H, W, C), w (KH, KW, C, M), strides, pads, rng): non-square kernels, strides,
    paddings below the kernel size, depth multipliers, odd and prime sizes."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = (draw(st.integers(0, kh - 1)), draw(st.integers(0, kh - 1)),
            draw(st.integers(0, kw - 1)), draw(st.integers(0, kw - 1)))
    h = draw(st.integers(max(kh - pads[0] - pads[1], 1), 11))
    w = draw(st.integers(max(kw - pads[2] - pads[3], 1), 11))
    n, c, m = draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, c, m)).astype(dtype)
    return x, kernel, strides, pads, rng


def _all_three(x, w, strides, pads, dy, module):
    kernel_hw = w.shape[:2]
    return (module.depthwise_conv2d_forward(x, w, strides, pads),
            module.depthwise_conv2d_backward_input(dy, w, x.shape, strides, pads),
            module.depthwise_conv2d_backward_kernel(dy, x, kernel_hw, strides, pads))


@settings(deadline=None, max_examples=60)
@given(case=depthwise_cases())
def test_depthwise_matches_reference(case):
    x, w, strides, pads, rng = case
    y = depthwise.depthwise_conv2d_forward_reference(x, w, strides, pads)
    dy = rng.standard_normal(y.shape).astype(x.dtype)
    ours = _all_three(x, w, strides, pads, dy, native)
    oracle = _all_three(x, w, strides, pads, dy, reference)
    kh, kw, _, m = w.shape
    # the forward adds the taps in the reference's order: the same bits
    assert np.array_equal(ours[0], oracle[0]), "forward differs from the reference"
    assert_close(ours[1], oracle[1], reduction=kh * kw * m, what="backward_input")
    assert_close(ours[2], oracle[2], reduction=dy.shape[0] * dy.shape[1] * dy.shape[2],
                 what="backward_kernel")


@pytest.mark.parametrize("strides, pads", [((1, 1), (1, 1, 1, 1)), ((2, 2), (0, 1, 0, 1))])
def test_depthwise_is_bit_identical_for_every_thread_count(strides, pads, two_threads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 33, 31, 24)).astype(np.float32)
    w = rng.standard_normal((3, 3, 24, 2)).astype(np.float32)
    dy = rng.standard_normal(native.depthwise_conv2d_forward(x, w, strides, pads).shape
                             ).astype(np.float32)
    with_two = _all_three(x, w, strides, pads, dy, native)
    native.set_num_threads(1)
    with_one = _all_three(x, w, strides, pads, dy, native)
    for a, b in zip(with_two, with_one):
        assert np.array_equal(a, b)


def test_depthwise_runs_native_under_the_native_backend():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 1))
    with backend.check_backends() as gaps:
        backend.depthwise_conv2d_forward(x, w, (1, 1), (1, 1, 1, 1))
    assert gaps["depthwise_conv2d_forward"] == 0.0


@pytest.mark.parametrize("x_shape, w_shape, match", [
    ((1, 5, 5, 3), (3, 3, 2, 1), "input channels"),
    ((1, 5, 5), (3, 3, 5, 1), "x"),
    ((1, 5, 5, 3), (3, 3, 3), "kernel"),
])
def test_depthwise_rejects_bad_shapes_before_c(x_shape, w_shape, match):
    x, w = np.ones(x_shape, np.float32), np.ones(w_shape, np.float32)
    with pytest.raises(ValueError, match=match):
        backend.depthwise_conv2d_forward(x, w, (1, 1), (0, 0, 0, 0))


def test_depthwise_backward_rejects_a_wrong_gradient_shape():
    w = np.ones((3, 3, 2, 1), np.float32)
    with pytest.raises(ValueError, match="dy"):
        backend.depthwise_conv2d_backward_input(np.ones((1, 4, 4, 2), np.float32), w,
                                                (1, 5, 5, 2), (1, 1), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="multiple"):
        backend.depthwise_conv2d_backward_kernel(np.ones((1, 3, 3, 3), np.float32),
                                                 np.ones((1, 5, 5, 2), np.float32), (3, 3),
                                                 (1, 1), (0, 0, 0, 0))
