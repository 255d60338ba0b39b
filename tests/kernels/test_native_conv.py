"""Native conv2d (forward with bias+relu, backward input, backward kernel) against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from native_helpers import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydl.kernels import native, reference
from tinydl.kernels.shapes import window_geometry


@st.composite
def conv_cases(draw, max_channels=70):
    """(x, w, bias, strides, pads, dy) with non-square kernels, strides 1..3, both paddings."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n = draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    h, w = draw(st.integers(1, 17)), draw(st.integers(1, 17))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(("valid", "same")))
    if padding == "valid" and (kh > h or kw > w):
        padding = "same"
    (oh, ow), pads = window_geometry((h, w), (kh, kw), strides, padding)
    c, f = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, c, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    dy = rng.standard_normal((n, oh, ow, f)).astype(dtype)
    return x, kernel, bias, strides, pads, dy


def check_conv(x, w, bias, strides, pads, dy):
    kh, kw, c, f = w.shape
    for relu in (False, True):
        assert_close(native.conv2d_forward(x, w, bias, strides, pads, relu),
                     reference.conv2d_forward(x, w, bias, strides, pads, relu), kh * kw * c,
                     f"conv2d_forward x{x.shape} w{w.shape} s{strides} p{pads} relu={relu}")
    assert_close(native.conv2d_forward(x, w, None, strides, pads),
                 reference.conv2d_forward(x, w, None, strides, pads), kh * kw * c, "no bias")
    assert_close(native.conv2d_backward_input(dy, w, x.shape, strides, pads),
                 reference.conv2d_backward_input(dy, w, x.shape, strides, pads), kh * kw * f,
                 f"conv2d_backward_input x{x.shape} w{w.shape} s{strides} p{pads}")
    for with_bias in (True, False):
        dw, db = native.conv2d_backward_kernel(dy, x, (kh, kw), strides, pads, with_bias)
        rdw, rdb = reference.conv2d_backward_kernel(dy, x, (kh, kw), strides, pads, with_bias)
        assert_close(dw, rdw, dy.size // f, f"conv2d_backward_kernel dw x{x.shape} w{w.shape}")
        if with_bias:
            assert_close(db, rdb, dy.size // f, "conv2d_backward_kernel db")
        else:
            assert db is None
    check_conv_relu_out(x, w, strides, pads, dy)


def check_conv_relu_out(x, w, strides, pads, dy):
    """The fused ReLU backward (relu_out) equals relu_backward followed by the plain kernel."""
    kh, kw, c, f = w.shape
    relu_out = np.maximum(np.random.default_rng(dy.size).standard_normal(dy.shape), 0)
    relu_out = relu_out.astype(dy.dtype)
    masked = reference.relu_backward(relu_out, dy)
    for kernels in (native, reference):
        assert_close(kernels.conv2d_backward_input(dy, w, x.shape, strides, pads, relu_out),
                     reference.conv2d_backward_input(masked, w, x.shape, strides, pads),
                     kh * kw * f, f"{kernels.__name__} conv2d_backward_input relu_out")
        dw, db = kernels.conv2d_backward_kernel(dy, x, (kh, kw), strides, pads, True, relu_out)
        rdw, rdb = reference.conv2d_backward_kernel(masked, x, (kh, kw), strides, pads, True)
        assert_close(dw, rdw, dy.size // f, f"{kernels.__name__} conv2d_backward_kernel relu_out")
        assert_close(db, rdb, dy.size // f, f"{kernels.__name__} db relu_out")
    # The mask is exact, so the native fused result is bit-identical to masking first.
    assert np.array_equal(native.conv2d_backward_input(dy, w, x.shape, strides, pads, relu_out),
                          native.conv2d_backward_input(masked, w, x.shape, strides, pads))
    assert np.array_equal(
        native.conv2d_backward_kernel(dy, x, (kh, kw), strides, pads, True, relu_out)[0],
        native.conv2d_backward_kernel(masked, x, (kh, kw), strides, pads, True)[0])


@settings(deadline=None, max_examples=70)
@given(case=conv_cases())
def test_conv_matches_reference(case):
    check_conv(*case)


@pytest.mark.parametrize("shape, window, strides, padding", [
    ((2, 7, 11, 3), (3, 2), (2, 1), "same"),      # non-square kernel, uneven strides
    ((1, 13, 5, 5), (1, 4), (3, 3), "valid"),     # prime sizes
    ((3, 6, 6, 17), (1, 1), (1, 1), "valid"),     # pointwise: im2col skipped
    ((2, 5, 5, 4), (5, 5), (1, 1), "valid"),      # window = input: one output pixel
    ((9, 32, 32, 3), (3, 3), (1, 1), "valid"),    # the reference CNN's conv1 (small batch)
    ((3, 15, 15, 32), (3, 3), (1, 1), "valid"),   # conv2: Winograd by default, odd output
    ((2, 7, 8, 19), (3, 3), (1, 1), "same"),      # Winograd tiles over the padding
])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_conv_named_shapes(microkernel, conv_algorithm, shape, window, strides, padding, dtype):
    rng = np.random.default_rng(5)
    (oh, ow), pads = window_geometry(shape[1:3], window, strides, padding)
    f = 7
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((*window, shape[3], f)).astype(dtype)
    dy = rng.standard_normal((shape[0], oh, ow, f)).astype(dtype)
    check_conv(x, w, rng.standard_normal(f).astype(dtype), strides, pads, dy)


@pytest.mark.parametrize("shape, f", [
    ((5, 2, 2, 96), 160),   # 2x2 maps, many channels: w^T packed per call, large dW and dU
    ((7, 4, 4, 80), 96),    # 4x4 maps
    ((3, 3, 5, 100), 90),   # odd map, tiles clipped at the edge
])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_conv_small_maps_with_many_channels(conv_algorithm, shape, f, threads):
    """Small maps with many channels take long tiles (each GEMM call passes over the whole
    weights): the same numbers as the reference, on any thread count."""
    previous = native.get_num_threads()
    native.set_num_threads(threads)
    try:
        rng = np.random.default_rng(11)
        (oh, ow), pads = window_geometry(shape[1:3], (3, 3), (1, 1), "same")
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((3, 3, shape[3], f)).astype(np.float32)
        dy = rng.standard_normal((shape[0], oh, ow, f)).astype(np.float32)
        check_conv(x, w, rng.standard_normal(f).astype(np.float32), (1, 1), pads, dy)
    finally:
        native.set_num_threads(previous)


@st.composite
def winograd_cases(draw):
    """Convolutions Winograd F(2x2, 3x3) computes: 3x3 windows, unit strides, any channels."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n, h, w = draw(st.integers(1, 6)), draw(st.integers(1, 17)), draw(st.integers(1, 17))
    padding = "same" if min(h, w) < 3 else draw(st.sampled_from(("valid", "same")))
    (oh, ow), pads = window_geometry((h, w), (3, 3), (1, 1), padding)
    c, f = draw(st.integers(1, 70)), draw(st.integers(1, 70))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((3, 3, c, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    return x, kernel, bias, (1, 1), pads, rng.standard_normal((n, oh, ow, f)).astype(dtype)


@settings(deadline=None, max_examples=60)
@given(case=winograd_cases())
def test_winograd_matches_reference(conv_algorithm, case):
    check_conv(*case)


@pytest.mark.parametrize("pads", [(2, 0, 0, 2), (0, 2, 2, 1), (1, 2, 3, 0), (0, 0, 1, 1)])
@pytest.mark.parametrize("hw", [(9, 14), (12, 7)])
def test_winograd_uneven_pads(conv_algorithm, pads, hw):
    """Pads other than 'same' and 'valid' move where a tile's patch leaves the image (the
    transforms read runs of tiles inside it in place, the rest from a padded patch) and
    which tiles have pixels outside y."""
    rng = np.random.default_rng(sum(pads) + hw[0])
    c, f = 16, 17
    x = rng.standard_normal((2, *hw, c)).astype(np.float32)
    w = rng.standard_normal((3, 3, c, f)).astype(np.float32)
    oh, ow = hw[0] + pads[0] + pads[1] - 2, hw[1] + pads[2] + pads[3] - 2
    dy = rng.standard_normal((2, oh, ow, f)).astype(np.float32)
    check_conv(x, w, rng.standard_normal(f).astype(np.float32), (1, 1), pads, dy)


def test_winograd_repeatable_and_thread_independent(two_threads):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((7, 15, 15, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    runs = [native.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1), True) for _ in range(3)]
    native.set_num_threads(1)
    runs.append(native.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1), True))
    assert all(np.array_equal(run, runs[0]) for run in runs[1:])


def test_conv_large_tiles(two_threads):
    """Enough rows for several tiles per thread, and a batch that does not split evenly."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 30, 30, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    dy = rng.standard_normal((5, 30, 30, 32)).astype(np.float32)
    check_conv(x, w, rng.standard_normal(32).astype(np.float32), (1, 1), (1, 1, 1, 1), dy)


def test_conv_empty_batch():
    x = np.zeros((0, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    assert native.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0)).shape == (0, 3, 3, 4)
    dy = np.zeros((0, 3, 3, 4), np.float32)
    assert native.conv2d_backward_input(dy, w, x.shape, (1, 1), (0, 0, 0, 0)).shape == x.shape
    dw, db = native.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (0, 0, 0, 0), True)
    assert np.array_equal(dw, np.zeros_like(w)) and np.array_equal(db, np.zeros(4, np.float32))


@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (0, 0, 0, 0), (2, 2, 2, 2), (1, 0, 2, 1)])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("relu", (False, True))
def test_input_gradient_as_a_forward_convolution(pads, dtype, relu, two_threads):
    # A 3x3 stride-1 convolution with 16+ channels each way takes its input gradient from the
    # forward kernel (w turned and transposed, dy padded by 2 - p): the reference's values,
    # and the col2im kernel's (forced by 'im2col') to rounding, for 'same', 'valid', 'full'
    # and uneven pads, with and without the fused ReLU's mask
    rng = np.random.default_rng(7)
    x_shape, (c, f) = (3, 11, 9, 16), (16, 24)
    w = rng.standard_normal((3, 3, c, f)).astype(dtype)
    oh, ow = x_shape[1] + pads[0] + pads[1] - 2, x_shape[2] + pads[2] + pads[3] - 2
    dy = rng.standard_normal((3, oh, ow, f)).astype(dtype)
    relu_out = np.maximum(rng.standard_normal(dy.shape), 0).astype(dtype) if relu else None
    ours = native.conv2d_backward_input(dy, w, x_shape, (1, 1), pads, relu_out)
    assert ours.shape == x_shape
    assert_close(ours, reference.conv2d_backward_input(dy, w, x_shape, (1, 1), pads, relu_out),
                 9 * f, "forward-route input gradient")
    native.force_conv_algorithm("im2col")
    try:
        col2im = native.conv2d_backward_input(dy, w, x_shape, (1, 1), pads, relu_out)
    finally:
        native.force_conv_algorithm("auto")
    assert_close(ours, col2im, 9 * f, "forward route vs col2im")


def expected_weight_gradient_algorithm(microkernel, channels, filters):
    """conv2d.c's rule for a 3x3 stride-1 weight gradient: Winograd from 16 channels and 16
    filters (32 filters with the AVX-512 micro-kernels: with 16 or 24 its (C x F) GEMMs ran
    1.3-2.5x slower than im2col on a Xeon); else the implicit GEMM with at most 16 filters on
    the x86 kernels when 3*C fills a sliver of the kernel's rows (24 AVX-512, 6 AVX2), or on
    AVX-512 with 1 or 3 channels and at most 64 filters (the small-patch kernel); else
    im2col."""
    wino_filters = 32 if microkernel == "avx512" else 16
    if channels >= 16 and filters >= wino_filters:
        return "winograd"
    if microkernel == "avx512" and channels in (1, 3) and filters <= 64:
        return "implicit"  # its small-patch kernel (csrc/conv2d_wgrad_small.h)
    mr = {"avx512": 24, "avx2": 6}.get(microkernel)
    if mr and filters <= 16 and 3 * channels >= mr:
        return "implicit"
    return "im2col"


@pytest.mark.parametrize("channels, filters", [(16, 16), (16, 24), (16, 32), (8, 16), (3, 16),
                                               (2, 16), (8, 17), (3, 64), (3, 65), (1, 32)])
def test_auto_weight_gradient_algorithm_follows_the_micro_kernel(microkernel, channels, filters):
    """'auto' gives the bits of the algorithm the rule names (see
    expected_weight_gradient_algorithm), and the reference's numbers."""
    rng = np.random.default_rng(filters)
    x = rng.standard_normal((2, 9, 10, channels)).astype(np.float32)
    dy = rng.standard_normal((2, 9, 10, filters)).astype(np.float32)
    expected = expected_weight_gradient_algorithm(microkernel, channels, filters)
    grads = {}
    for algorithm in ("auto", expected):
        native.force_conv_algorithm(algorithm)
        try:
            grads[algorithm] = native.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1),
                                                             True)
        finally:
            native.force_conv_algorithm("auto")
    assert all(np.array_equal(a, b) for a, b in zip(grads["auto"], grads[expected]))
    others = {"im2col", "winograd", "implicit"} - {expected}
    for algorithm in sorted(others - ({"winograd"} if channels < 16 else set())):
        native.force_conv_algorithm(algorithm)  # the others give other bits: the rule is seen
        try:
            other = native.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True)
        finally:
            native.force_conv_algorithm("auto")
        assert not np.array_equal(other[0], grads["auto"][0]), algorithm
    ref = reference.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True)
    assert_close(grads["auto"][0], ref[0], 2 * 9 * 10, "dw")


@st.composite
def implicit_cases(draw):
    """Unit-stride convolutions with any pads (up to a 'full' window's), the implicit GEMM's
    domain: (x, w, bias, pads, dy)."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n, kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    pads = tuple(draw(st.integers(0, k - 1)) for k in (kh, kh, kw, kw))
    oh, ow = h + pads[0] + pads[1] - kh + 1, w + pads[2] + pads[3] - kw + 1
    if oh < 1 or ow < 1:
        pads = (kh - 1, kh - 1, kw - 1, kw - 1)
        oh, ow = h + kh - 1, w + kw - 1
    c, f = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return (rng.standard_normal((n, h, w, c)).astype(dtype),
            rng.standard_normal((kh, kw, c, f)).astype(dtype),
            rng.standard_normal(f).astype(dtype), pads,
            rng.standard_normal((n, oh, ow, f)).astype(dtype))


@settings(deadline=None, max_examples=60)
@given(case=implicit_cases())
def test_implicit_gemm_matches_reference(microkernel, case):
    """The implicit GEMM (forced) against the reference (check_conv: forward with and without
    bias and ReLU, both gradients plain and with the fused ReLU mask); the same bits again."""
    x, w, bias, pads, dy = case
    kh, kw = w.shape[:2]
    native.force_conv_algorithm("implicit")
    try:
        check_conv(x, w, bias, (1, 1), pads, dy)
        for relu in (False, True):
            for b in (bias, None):
                assert np.array_equal(native.conv2d_forward(x, w, b, (1, 1), pads, relu),
                                      native.conv2d_forward(x, w, b, (1, 1), pads, relu))
        for with_bias in (True, False):
            dw, _ = native.conv2d_backward_kernel(dy, x, (kh, kw), (1, 1), pads, with_bias)
            again = native.conv2d_backward_kernel(dy, x, (kh, kw), (1, 1), pads, with_bias)
            assert np.array_equal(dw, again[0])
    finally:
        native.force_conv_algorithm("auto")


@st.composite
def direct_cases(draw):
    """The direct forward's domain (csrc/conv2d_direct.h): float32, at most 32 filters (one or
    two vectors of 16, the last masked), any window, strides and pads, rows long enough for
    several 24- or 12-pixel tiles and a partial one: (x, w, bias, strides, pads)."""
    n, kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 75))
    pads = tuple(draw(st.integers(0, k - 1)) for k in (kh, kh, kw, kw))
    if h + pads[0] + pads[1] < kh or w + pads[2] + pads[3] < kw:
        pads = (kh - 1, kh - 1, kw - 1, kw - 1)
    c, f = draw(st.integers(1, 20)), draw(st.integers(1, 32))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return (rng.standard_normal((n, h, w, c)).astype(np.float32),
            rng.standard_normal((kh, kw, c, f)).astype(np.float32),
            rng.standard_normal(f).astype(np.float32), strides, pads)


@settings(deadline=None, max_examples=80)
@given(case=direct_cases())
def test_direct_forward_matches_reference(case):
    """The direct kernel (the implicit GEMM's bands, forced, on the AVX-512 micro-kernel)
    against the reference, with and without bias and ReLU; the same bits on a repeat; NaN
    stays NaN through the fused ReLU."""
    if "avx512" not in native.available_microkernels():
        pytest.skip("the direct kernel is AVX-512 only")
    x, w, bias, strides, pads = case
    kh, kw, c, _ = w.shape
    native.force_microkernel("avx512")
    native.force_conv_algorithm("implicit")
    try:
        for relu in (False, True):
            for b in (bias, None):
                ours = native.conv2d_forward(x, w, b, strides, pads, relu)
                assert_close(ours, reference.conv2d_forward(x, w, b, strides, pads, relu),
                             kh * kw * c,
                             f"direct x{x.shape} w{w.shape} s{strides} p{pads} relu={relu}")
                assert np.array_equal(ours, native.conv2d_forward(x, w, b, strides, pads, relu))
        poisoned = x.copy()
        poisoned[0, 0, 0, 0] = np.nan
        y = native.conv2d_forward(poisoned, w, bias, strides, pads, True)
        assert np.array_equal(np.isnan(y), np.isnan(
            reference.conv2d_forward(poisoned, w, bias, strides, pads, True)))
    finally:
        native.force_conv_algorithm("auto")
        native.force_microkernel("auto")


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("x_shape, window, strides, pads, f, pool", [
    ((3, 31, 29, 3), (3, 3), (1, 1), (0, 0, 0, 0), 32, (2, 2)),  # the reference CNN's conv1
    ((1, 20, 50, 2), (5, 3), (2, 1), (2, 2, 1, 1), 20, (3, 2)),  # one image: bands per thread
    ((2, 9, 9, 16), (3, 3), (1, 1), (1, 1, 1, 1), 16, (3, 3)),
    ((5, 8, 8, 1), (2, 2), (2, 2), (0, 0, 0, 0), 7, (1, 2))])
def test_direct_pooled_forward_is_forward_then_pool(x_shape, window, strides, pads, f, pool,
                                                    threads):
    """The direct kernel's pooled forward (bands of pooled rows, y never stored) gives the bits
    of its forward followed by the max pool, on any thread count, and the reference's values."""
    if "avx512" not in native.available_microkernels():
        pytest.skip("the direct kernel is AVX-512 only")
    rng = np.random.default_rng(f)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((*window, x_shape[3], f)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    previous = native.get_num_threads()
    native.force_microkernel("avx512")
    native.force_conv_algorithm("implicit")
    try:
        native.set_num_threads(threads)
        p, argmax = native.conv2d_max_pool_forward(x, w, bias, strides, pads, True, pool)
        y = native.conv2d_forward(x, w, bias, strides, pads, True)
        want_p, want_argmax = native.max_pool2d_forward(y, pool, pool, (0, 0, 0, 0))
        assert np.array_equal(p, want_p) and np.array_equal(argmax, want_argmax)
        native.set_num_threads(1)
        assert np.array_equal(p, native.conv2d_max_pool_forward(x, w, bias, strides, pads, True,
                                                                pool)[0])
    finally:
        native.set_num_threads(previous)
        native.force_conv_algorithm("auto")
        native.force_microkernel("auto")
    ref_p, _ = reference.conv2d_max_pool_forward(x, w, bias, strides, pads, True, pool)
    assert_close(p, ref_p, window[0] * window[1] * x_shape[3], "direct pooled forward")


def expected_forward_algorithm(microkernel, window, stride, channels, filters):
    """conv2d.c's rule for a forward: the direct kernel (the implicit GEMM's bands, any
    strides) on AVX-512 for a window other than 1x1 over at most 16 channels into at most 16
    filters, or over at most 4 into 17 to 32; else, at stride 1, Winograd for 3x3 from 16
    channels and 16 filters; else im2col."""
    max_channels = 16 if filters <= 16 else 4 if filters <= 32 else 0
    if microkernel == "avx512" and window != 1 and channels <= max_channels:
        return "implicit"
    if stride == 1 and window == 3 and channels >= 16 and filters >= 16:
        return "winograd"
    return "im2col"


@pytest.mark.parametrize("window, channels, filters", [(3, 16, 16), (3, 3, 16), (3, 16, 8),
                                                       (5, 1, 16), (3, 17, 16), (3, 32, 16),
                                                       (3, 16, 17), (1, 8, 16), (3, 16, 32),
                                                       (3, 3, 32), (3, 4, 24), (3, 5, 32),
                                                       (3, 3, 33), (5, 1, 32)])
@pytest.mark.parametrize("stride", [1, 2])
def test_auto_forward_algorithm_follows_the_rule(microkernel, window, stride, channels,
                                                 filters):
    """'auto' gives the bits of the algorithm the rule names (expected_forward_algorithm) and
    the reference's numbers; where Winograd applies and is not the choice, its bits differ
    (im2col's single sum can match the direct kernel's bit for bit: same order, one sum)."""
    rng = np.random.default_rng(channels * filters)
    x = rng.standard_normal((2, 9, 30, channels)).astype(np.float32)
    w = rng.standard_normal((window, window, channels, filters)).astype(np.float32)
    pads = (window // 2,) * 4
    strides = (stride, stride)
    expected = expected_forward_algorithm(microkernel, window, stride, channels, filters)
    outputs = {}
    for algorithm in ("auto", expected, "winograd"):
        native.force_conv_algorithm(algorithm)
        try:
            outputs[algorithm] = native.conv2d_forward(x, w, None, strides, pads, True)
        finally:
            native.force_conv_algorithm("auto")
    assert np.array_equal(outputs["auto"], outputs[expected])
    if expected != "winograd" and stride == 1 and window == 3 and min(channels, filters) >= 16:
        assert not np.array_equal(outputs["auto"], outputs["winograd"])
    assert_close(outputs["auto"], reference.conv2d_forward(x, w, None, strides, pads, True),
                 window * window * channels, "auto forward")


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_implicit_gemm_bands_and_threads(threads):
    """Images cut into bands of output rows (a large map, and a batch of one image that is cut
    to give every thread two bands): the reference's numbers on any thread count, and the same
    bits on repeats; the forward's bits do not depend on the thread count (a band is computed
    whole by one thread)."""
    previous = native.get_num_threads()
    rng = np.random.default_rng(threads)
    native.force_conv_algorithm("implicit")
    try:
        for shape, f in (((2, 70, 66, 24), 16), ((1, 23, 9, 8), 12)):
            x = rng.standard_normal(shape).astype(np.float32)
            w = rng.standard_normal((3, 3, shape[3], f)).astype(np.float32)
            dy = rng.standard_normal((shape[0], shape[1], shape[2], f)).astype(np.float32)
            native.set_num_threads(1)
            y1 = native.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1))
            native.set_num_threads(threads)
            y = native.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1))
            assert np.array_equal(y, y1)
            assert_close(y, reference.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1)),
                         9 * shape[3], "implicit forward, bands")
            dw, db = native.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True)
            rdw, rdb = reference.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True)
            assert_close(dw, rdw, dy.size // f, "implicit dw, bands")
            assert_close(db, rdb, dy.size // f, "implicit db, bands")
            again = native.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True)
            assert np.array_equal(dw, again[0]) and np.array_equal(db, again[1])
    finally:
        native.force_conv_algorithm("auto")
        native.set_num_threads(previous)


@pytest.mark.parametrize("window, channels", [((3, 3), 3), ((3, 3), 1), ((3, 1), 9), ((3, 9), 1)])
@pytest.mark.parametrize("filters", [1, 5, 16, 17, 32, 64])
def test_small_patch_weight_gradient_matches_reference(microkernel, window, channels, filters):
    """Three kernel rows of 9 or 3 values (3x3 over RGB or grayscale, and the other windows
    with the same rows), the filters in passes of 16 with a masked last one: dw and db against
    the reference, with the fused ReLU mask and a routed 2x2 max pool too; the same bits again.
    (It runs on the AVX-512 micro-kernel; the others take the implicit GEMM or im2col here.)"""
    rng = np.random.default_rng(filters * 10 + channels)
    x = rng.standard_normal((3, 11, 10, channels)).astype(np.float32)
    w = rng.standard_normal((*window, channels, filters)).astype(np.float32)
    (oh, ow), pads = window_geometry((11, 10), window, (1, 1), "same")
    dy = rng.standard_normal((3, oh, ow, filters)).astype(np.float32)
    dw, db = native.conv2d_backward_kernel(dy, x, window, (1, 1), pads, True)
    rdw, rdb = reference.conv2d_backward_kernel(dy, x, window, (1, 1), pads, True)
    assert_close(dw, rdw, 3 * oh * ow, f"small-patch dw {window} C={channels} F={filters}")
    assert_close(db, rdb, 3 * oh * ow, "small-patch db")
    again = native.conv2d_backward_kernel(dy, x, window, (1, 1), pads, True)
    assert np.array_equal(dw, again[0]) and np.array_equal(db, again[1])
    check_conv_relu_out(x, w, (1, 1), pads, dy)
    y = np.maximum(native.conv2d_forward(x, w, None, (1, 1), pads), 0)
    pooled, argmax = native.max_pool2d_forward(y, (2, 2), (2, 2), (0, 0, 0, 0))
    dp = rng.standard_normal(pooled.shape).astype(np.float32)
    geometry = ((2, 2), (0, 0, 0, 0))
    got = native.conv2d_backward_kernel(dp, x, window, (1, 1), pads, True, pooled, argmax,
                                        geometry)
    want = reference.conv2d_backward_kernel(dp, x, window, (1, 1), pads, True, pooled, argmax,
                                            geometry)
    assert_close(got[0], want[0], 3 * oh * ow, "small-patch dw after a pool")
    assert_close(got[1], want[1], 3 * oh * ow, "small-patch db after a pool")
