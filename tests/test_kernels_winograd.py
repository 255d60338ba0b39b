"""The NumPy F(2x2, 3x3) convolution (tinydl.kernels.winograd) against the direct reference
convolution, forward and weight gradient, over hypothesis shapes and both paddings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydl.kernels import reference, winograd
from tinydl.kernels.shapes import window_geometry


@st.composite
def cases(draw):
    n, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    c, f = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    padding = "same" if min(h, w) < 3 else draw(st.sampled_from(("valid", "same")))
    _, pads = window_geometry((h, w), (3, 3), (1, 1), padding)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng, (n, h, w, c), f, pads


@settings(deadline=None, max_examples=60)
@given(case=cases())
def test_winograd_matches_the_direct_convolution(case):
    rng, x_shape, f, pads = case
    x = rng.standard_normal(x_shape)
    w, bias = rng.standard_normal((3, 3, x_shape[3], f)), rng.standard_normal(f)
    for relu in (False, True):
        want = reference.conv2d_forward(x, w, bias, (1, 1), pads, relu)
        np.testing.assert_allclose(winograd.conv2d_forward(x, w, bias, pads, relu), want,
                                   rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(want.shape)
    want_dw, _ = reference.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), pads, False)
    np.testing.assert_allclose(winograd.conv2d_backward_kernel(dy, x, pads), want_dw,
                               rtol=1e-12, atol=1e-11)


def test_float32_stays_float32_and_close():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 15, 15, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    y = winograd.conv2d_forward(x, w)
    want = reference.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, want, rtol=0, atol=2e-4 * np.abs(want).max())


def test_the_native_winograd_gives_the_same_numbers():
    native = pytest.importorskip("tinydl.kernels.native", reason="the extension is not built")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 9, 8, 16)), rng.standard_normal((3, 3, 16, 24))
    native.force_conv_algorithm("winograd")
    try:
        ours = native.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1))
    finally:
        native.force_conv_algorithm("auto")
    np.testing.assert_allclose(ours, winograd.conv2d_forward(x, w, None, (1, 1, 1, 1)),
                               rtol=1e-12, atol=1e-12)


def test_only_3x3():
    with pytest.raises(ValueError, match="3x3 kernel"):
        winograd.conv2d_forward(np.zeros((1, 5, 5, 1)), np.zeros((5, 5, 1, 1)))
