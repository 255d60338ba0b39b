"""Sizes the kernels' index types cannot hold are refused in Python, before anything is copied.

The arrays here are broadcast views of a few bytes that claim impossible sizes (an image plane
of 2**31 pixels or more, 2**48 elements or more): each call must raise a ValueError without
allocating what the shape declares (tracemalloc sees NumPy's allocations), on both backends.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tinydl import backend as dispatch
from tinydl.kernels import limits, reference

BIG_SIDE = 46341  # 46341**2 = 2_147_488_281 > 2**31: more pixels than an int32 argmax indexes
PLANE_ERROR = r"argmax is int32.*at most 2147483648 = 2\*\*31 pixels.*H\*W = 2147488281"
ELEMENTS_ERROR = r"would have \d+ elements.*at most 281474976710656 = 2\*\*48"


def huge(shape, dtype=np.float32):
    """A read-only array of `shape` that occupies one element of memory."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def raises_without_allocating(match, fn, *args, **kwargs):
    """fn(*args) raises ValueError(match), and less than 16 MiB was allocated meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak} bytes were allocated before the error"


# ----------------------------------------------------------------------------- int32 argmax

def test_max_pool_of_a_plane_above_2_31_pixels_is_refused(backend):
    x = huge((1, BIG_SIDE, BIG_SIDE, 1))
    raises_without_allocating(PLANE_ERROR, dispatch.max_pool2d_forward, x, (2, 2), (2, 2),
                              (0, 0, 0, 0))


def test_max_pool_backward_refuses_a_wrapped_argmax_for_a_plane_above_2_31(backend):
    """The segfault: an index past 2**31 wraps negative in int32; as uint32 it is below the
    plane, so the range check passed it and the scatter wrote ~8 GB before dx."""
    dy = np.ones((1, 1, 1, 1), np.float32)
    wrapped = np.array(2**31 + 5 - 2**32, np.int32).reshape(1, 1, 1, 1)
    raises_without_allocating(PLANE_ERROR, dispatch.max_pool2d_backward, dy, wrapped,
                              (1, BIG_SIDE, BIG_SIDE, 1))


def test_fused_conv_and_pool_refuse_a_conv_output_above_2_31_pixels(backend):
    x, w = huge((1, BIG_SIDE, BIG_SIDE, 1)), np.ones((1, 1, 1, 1), np.float32)
    raises_without_allocating(PLANE_ERROR, dispatch.conv2d_max_pool_forward, x, w, None,
                              (1, 1), (0, 0, 0, 0), False, (2, 2))


@pytest.mark.parametrize("gradient", ["input", "kernel"])
def test_pooled_conv_gradients_refuse_a_conv_output_above_2_31_pixels(backend, gradient):
    x_shape, w = (1, BIG_SIDE, BIG_SIDE, 1), np.ones((1, 1, 1, 1), np.float32)
    dy = np.ones((1, 1, 1, 1), np.float32)
    argmax = np.zeros((1, 1, 1, 1), np.int32)
    route = dict(pool_argmax=argmax, pool_geometry=((BIG_SIDE, BIG_SIDE), (0, 0, 0, 0)))
    b = dispatch
    if gradient == "input":
        raises_without_allocating(PLANE_ERROR, b.conv2d_backward_input, dy, w, x_shape, (1, 1),
                                  (0, 0, 0, 0), **route)
    else:
        raises_without_allocating(PLANE_ERROR, b.conv2d_backward_kernel, dy, huge(x_shape),
                                  (1, 1), (1, 1), (0, 0, 0, 0), True, **route)


def test_the_reference_max_pool_refuses_the_plane_on_its_own():
    """Called directly (as the tests and students do), the reference must not wrap either."""
    raises_without_allocating(PLANE_ERROR, reference.max_pool2d_forward,
                              huge((1, BIG_SIDE, BIG_SIDE, 1)), (2, 2), (2, 2), (0, 0, 0, 0))
    raises_without_allocating(PLANE_ERROR, reference.conv2d_max_pool_forward,
                              huge((1, BIG_SIDE, BIG_SIDE, 1)), np.ones((1, 1, 1, 1), np.float32),
                              None, (1, 1), (0, 0, 0, 0), False, (2, 2))


def test_a_plane_of_exactly_2_31_pixels_is_within_the_limit():
    limits.check_argmax_plane("max_pool2d", "the input", (2**16, 2**15))
    with pytest.raises(ValueError, match=r"H\*W = 2147483649"):
        limits.check_argmax_plane("max_pool2d", "the input", (2**31 + 1, 1))


# ----------------------------------------------------------------------------- int64 sizes

def test_inputs_above_2_48_elements_are_refused_before_the_copy(backend):
    b = dispatch
    raises_without_allocating(ELEMENTS_ERROR + r".*x shape \(562949953421312,\)", b.relu_forward,
                              huge((2**49,)))
    raises_without_allocating(ELEMENTS_ERROR, b.softmax_xent_forward, huge((2**40, 2**9)),
                              huge((2**40,), np.int64))
    raises_without_allocating(ELEMENTS_ERROR, b.relu_backward, huge((2**24, 2**25)),
                              huge((2**24, 2**25)))


def test_outputs_above_2_48_elements_are_refused(backend):
    b = dispatch
    raises_without_allocating(ELEMENTS_ERROR + ".*output", b.gemm, huge((2**25, 1)),
                              huge((1, 2**24)))
    x, w = huge((1, 2**20, 2**20, 1)), np.ones((1, 1, 1, 2**9), np.float32)
    raises_without_allocating(ELEMENTS_ERROR + ".*output", b.conv2d_forward, x, w, None, (1, 1),
                              (0, 0, 0, 0))
    raises_without_allocating(ELEMENTS_ERROR + ".*output", b.embedding_backward,
                              np.zeros(1, np.int64), huge((1, 2**20)), 2**40)
    raises_without_allocating(ELEMENTS_ERROR + ".*x_shape", b.max_pool2d_backward,
                              np.ones((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.int32),
                              (2**20, 2**15, 2**15, 1))


def test_the_fused_conv_refuses_a_pool_band_its_scratch_could_not_index(backend):
    """It gathers whole bands of PH output rows x (KH*KW*C) patch values at a time: here
    2 x 2**19 rows of 2**30 values, from a small input padded wide."""
    x, w = huge((1, 1, 1, 2**10)), huge((2**10, 2**10, 2**10, 1))
    pads = (512, 512, 2**18, 2**18 + 1022)
    raises_without_allocating(ELEMENTS_ERROR + ".*patch_band", dispatch.conv2d_max_pool_forward,
                              x, w, None, (1, 1), pads, False, (2, 2))


@pytest.mark.parametrize("argument", ["pads", "strides"])
def test_pads_and_strides_above_the_index_limit_are_refused(backend, argument):
    x, w = np.ones((1, 4, 4, 1), np.float32), np.ones((2, 2, 1, 1), np.float32)
    pads, strides = (0, 0, 0, 0), (1, 1)
    if argument == "pads":
        pads = (2**60, 0, 0, 0)
    else:
        strides = (2**70, 1)
    raises_without_allocating(rf"{argument} must each be at most 281474976710656",
                              dispatch.conv2d_forward, x, w, None, strides, pads)


def test_exactly_2_48_elements_is_within_the_limit():
    limits.check_elements("relu", x=(2**24, 2**24))
    limits.check_elements("relu", x=(0, 2**48))
    with pytest.raises(ValueError, match=ELEMENTS_ERROR):
        limits.check_elements("relu", x=(0, 2**48 + 1))
