"""Convolution gradients fed by a max pool (pool_argmax, pool_geometry): native vs reference vs
the unfused ops, the Conv2dMaxPool node through autograd, and the backend's checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_helpers import assert_close, conv_geometries

import tinydl
from tinydl import backend, functional as F
from tinydl.kernels import native, reference
from tinydl.kernels.shapes import window_geometry
from tinydl.ops.conv import Conv2dMaxPool
from tinydl.tensor import Tensor
from tinydl.utils import gradcheck


def pooled_case(rng, dtype, x_shape, window, strides, padding, f, pool, pool_padding):
    """Inputs of a conv -> ReLU -> max pool backward: x, w, strides, pads, the conv output y
    (N, OH, OW, F) with zeros from the ReLU, the pool's output p, argmax and geometry, dp."""
    (oh, ow), pads = window_geometry(x_shape[1:3], window, strides, padding)
    (ph, pw), pool_pads = window_geometry((oh, ow), pool, pool, pool_padding)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((*window, x_shape[3], f)).astype(dtype)
    y = np.maximum(rng.standard_normal((x_shape[0], oh, ow, f)), 0).astype(dtype)
    p, argmax = reference.max_pool2d_forward(y, pool, pool, pool_pads)
    dp = rng.standard_normal(p.shape).astype(dtype)
    return x, w, strides, pads, y, p, argmax, (pool, pool_pads), dp


@st.composite
def pooled_cases(draw):
    dtype, x_shape, window, strides, padding, f, (oh, ow) = draw(conv_geometries())
    pool = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pool_padding = draw(st.sampled_from(("valid", "same")))
    if pool_padding == "valid" and (pool[0] > oh or pool[1] > ow):
        pool_padding = "same"
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return pooled_case(rng, dtype, x_shape, window, strides, padding, f, pool, pool_padding)


def check_pooled(x, w, strides, pads, y, p, argmax, geometry, dp):
    """Native and reference agree with the unfused ops (pool backward, then ReLU-masked conv
    gradients); with im2col forced, the native fused result is bit-identical to the native
    unfused one."""
    kh, kw, c, f = w.shape
    dy = reference.max_pool2d_backward(reference.relu_backward(p, dp), argmax, y.shape)
    want_dx = reference.conv2d_backward_input(dy, w, x.shape, strides, pads)
    want_dw, want_db = reference.conv2d_backward_kernel(dy, x, (kh, kw), strides, pads, True)
    for relu_out in (p, None):
        unfused = dy if relu_out is not None else reference.max_pool2d_backward(dp, argmax, y.shape)
        for kernels in (native, reference):
            dx = kernels.conv2d_backward_input(dp, w, x.shape, strides, pads, relu_out, argmax,
                                               geometry)
            dw, db = kernels.conv2d_backward_kernel(dp, x, (kh, kw), strides, pads, True,
                                                    relu_out, argmax, geometry)
            oracle_dx = reference.conv2d_backward_input(unfused, w, x.shape, strides, pads)
            oracle_dw, oracle_db = reference.conv2d_backward_kernel(unfused, x, (kh, kw),
                                                                    strides, pads, True)
            name = f"{kernels.__name__} x{x.shape} w{w.shape} s{strides} p{pads} {geometry}"
            assert_close(dx, oracle_dx, kh * kw * f, f"{name} dx")
            assert_close(dw, oracle_dw, dy.size // f, f"{name} dw")
            assert_close(db, oracle_db, dy.size // f, f"{name} db")
        # im2col sums dW over the same rows either way, and col2im dX; Winograd's tiles differ
        # (pool windows against the whole output), and 3x3 input gradients with 16+ channels
        # (unpooled, or pooled after 'same'-like pads) run as a forward (Winograd)
        # convolution, so there only the values, checked above, are comparable.
        algorithm = native.get_conv_algorithm()
        native.force_conv_algorithm("im2col")
        try:
            dx = native.conv2d_backward_input(dp, w, x.shape, strides, pads, relu_out, argmax,
                                              geometry)
            udx = native.conv2d_backward_input(unfused, w, x.shape, strides, pads)
            dw, db = native.conv2d_backward_kernel(dp, x, (kh, kw), strides, pads, True,
                                                   relu_out, argmax, geometry)
            udw, udb = native.conv2d_backward_kernel(unfused, x, (kh, kw), strides, pads, True)
        finally:
            native.force_conv_algorithm(algorithm)
        assert np.array_equal(dx, udx)
        assert np.array_equal(dw, udw) and np.array_equal(db, udb)
    assert_close(want_dx, reference.conv2d_backward_input(dp, w, x.shape, strides, pads, p,
                                                          argmax, geometry), 1, "reference")


@settings(deadline=None, max_examples=60)
@given(case=pooled_cases())
def test_pooled_gradients_match(conv_algorithm, case):
    check_pooled(*case)


@pytest.mark.parametrize("x_shape, window, strides, padding, f, pool, pool_padding", [
    ((3, 32, 32, 3), (3, 3), (1, 1), "valid", 32, (2, 2), "valid"),   # the CNN's conv1 + pool1
    ((2, 15, 15, 32), (3, 3), (1, 1), "valid", 64, (2, 2), "valid"),  # conv2: odd 13 -> 6
    ((2, 6, 6, 64), (3, 3), (1, 1), "valid", 128, (2, 2), "valid"),   # conv3: 4 -> 2
    ((2, 9, 7, 5), (2, 3), (2, 1), "same", 17, (3, 2), "same"),       # pads before the pool
    ((1, 5, 5, 4), (1, 1), (1, 1), "valid", 9, (2, 2), "same"),       # pointwise conv
    ((2, 5, 3, 16), (3, 3), (1, 1), "valid", 16, (2, 2), "same"),     # Winograd dW, a 1-wide
    ((2, 9, 9, 16), (3, 3), (1, 1), "valid", 20, (2, 2), "same"),     # output: tiles past it
    ((2, 8, 8, 16), (3, 3), (1, 1), "same", 24, (2, 2), "valid"),     # dX routed, then as a
    ((2, 9, 10, 16), (3, 3), (1, 1), "same", 16, (3, 2), "same"),     # forward convolution
    ((2, 4, 4, 17), (3, 3), (1, 1), "same", 16, (2, 2), "valid"),     # the smallest it takes
])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_pooled_named_shapes(microkernel, conv_algorithm, x_shape, window, strides, padding, f, pool,
                             pool_padding, dtype):
    rng = np.random.default_rng(11)
    check_pooled(*pooled_case(rng, dtype, x_shape, window, strides, padding, f, pool,
                              pool_padding))


def test_pooled_repeatable_on_two_threads(two_threads):
    rng = np.random.default_rng(3)
    x, w, strides, pads, y, p, argmax, geometry, dp = pooled_case(
        rng, np.float32, (6, 20, 20, 16), (3, 3), (1, 1), "same", 32, (2, 2), "valid")
    runs = [(native.conv2d_backward_input(dp, w, x.shape, strides, pads, p, argmax, geometry),
             *native.conv2d_backward_kernel(dp, x, (3, 3), strides, pads, True, p, argmax,
                                            geometry)) for _ in range(3)]
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(run, runs[0]))


# ----------------------------------------------------------------------------- through autograd

def _conv_pool(relu, pool=(2, 2), strides=None, padding="valid", conv_padding="valid",
               one_call=False):
    """conv2d then max_pool2d, or (one_call) functional.conv2d_max_pool, as f(x, k, b)."""
    def fn(x, k, b):
        if one_call:
            return F.conv2d_max_pool(x, k, b, padding=conv_padding, fused_relu=relu,
                                     pool_size=pool, pool_padding=padding)
        y = F.conv2d(x, k, b, padding=conv_padding, fused_relu=relu)
        return F.max_pool2d(y, pool, strides, padding)
    return fn


@pytest.mark.parametrize("one_call", (False, True))
@pytest.mark.parametrize("relu", (False, True))
@pytest.mark.parametrize("pool, padding, conv_padding", [
    ((2, 2), "valid", "valid"), ((3, 2), "same", "same"), ((2, 3), "same", "valid"),
    ((3, 2), "valid", "same")])
def test_conv_pool_node_gradcheck(backend, relu, pool, padding, conv_padding, one_call):
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((2, 7, 6, 3)), requires_grad=True)
    k = Tensor(rng.standard_normal((3, 2, 3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    fn = _conv_pool(relu, pool, None, padding, conv_padding, one_call)
    # one call records one Conv2dMaxPool node; two calls, the plain ops (fusing them is the
    # fusion pass's job, tinydl/fusion.py, on a model's layers)
    assert (fn(x, k, b)._node.function is Conv2dMaxPool) == one_call
    assert gradcheck(fn, x, k, b)


def test_overlapping_pool_is_not_fused(backend):
    """strides != pool: windows overlap, the pool stays its own MaxPool2d node."""
    rng = np.random.default_rng(8)
    x = Tensor(rng.standard_normal((1, 7, 7, 2)), requires_grad=True)
    k = Tensor(rng.standard_normal((2, 2, 2, 3)), requires_grad=True)
    fn = _conv_pool(True, (3, 3), (1, 1))
    assert fn(x, k, None)._node.function is not Conv2dMaxPool
    assert gradcheck(fn, x, k, None)


def test_conv_output_used_twice(backend):
    """A conv output that feeds the pool and something else: both gradients reach x and k."""
    rng = np.random.default_rng(9)
    x, k = Tensor(rng.standard_normal((2, 6, 6, 2))), Tensor(rng.standard_normal((3, 3, 2, 3)))

    def fn(x_, k_):
        y = F.conv2d(x_, k_, None, fused_relu=True)
        return F.max_pool2d(y, 2).sum() + (y * y).sum()

    assert gradcheck(fn, x, k)


@pytest.mark.parametrize("pool_padding", ("valid", "same"))
def test_fused_matches_unfused_training_step(pool_padding):
    """The fused form changes no number: conv2d_max_pool gives the outputs and gradients of
    conv2d then max_pool2d (with or without an op in between), bit for bit."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 13, 11, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
    results = []
    for form in ("one call", "two calls", "separate"):
        xt, kt = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
        if form == "one call":
            p = F.conv2d_max_pool(xt, kt, None, fused_relu=True, pool_padding=pool_padding)
        else:
            y = F.conv2d(xt, kt, None, fused_relu=True)
            if form == "separate":
                y = y + 0.0  # an Add node in between: the pool no longer sees a Conv2d output
            p = F.max_pool2d(y, 2, padding=pool_padding)
        (p * p).sum().backward()
        results.append((p.data, xt.grad, kt.grad))
    for result in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(result, results[0]))


# ----------------------------------------------------------------------------- checks in Python

def _valid_args():
    rng = np.random.default_rng(1)
    x, w, strides, pads, y, p, argmax, geometry, dp = pooled_case(
        rng, np.float32, (2, 8, 8, 3), (3, 3), (1, 1), "valid", 4, (2, 2), "valid")
    return x, w, strides, pads, p, argmax, geometry, dp


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "pool_geometry": None}, "pool_geometry must be"),
    (lambda a: {**a, "pool_argmax": None}, "without pool_argmax"),
    (lambda a: {**a, "pool_argmax": a["pool_argmax"].astype(np.int64)}, "int32"),
    (lambda a: {**a, "pool_argmax": a["pool_argmax"][:, :2]}, "int32 of shape"),
    (lambda a: {**a, "pool_argmax": a["pool_argmax"] + 100}, "outside"),
    (lambda a: {**a, "pool_geometry": ((2, 2), (2, 0, 0, 0))}, "smaller than the window"),
    (lambda a: {**a, "pool_geometry": ((3, 3), (0, 0, 0, 0))}, "dy must have shape"),
])
def test_bad_pool_arguments_raise(change, message):
    x, w, strides, pads, p, argmax, geometry, dp = _valid_args()
    kwargs = change({"relu_out": p, "pool_argmax": argmax, "pool_geometry": geometry})
    with pytest.raises(ValueError, match=message):
        backend.conv2d_backward_input(dp, w, x.shape, strides, pads, **kwargs)
    with pytest.raises(ValueError, match=message):
        backend.conv2d_backward_kernel(dp, x, (3, 3), strides, pads, True, **kwargs)


def test_backend_pooled_runs_both_backends():
    x, w, strides, pads, p, argmax, geometry, dp = _valid_args()
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        backend.conv2d_backward_input(dp, w, x.shape, strides, pads, p, argmax, geometry)
        backend.conv2d_backward_kernel(dp, x, (3, 3), strides, pads, True, p, argmax, geometry)
    assert set(gaps) == {"conv2d_backward_input", "conv2d_backward_kernel"}
    assert max(gaps.values()) < 1e-5


def test_own_argmax_is_read_only_and_still_checked_when_changed(backend):
    """The pool's argmax comes back read-only, so the conv gradients trust its range without
    a scan; made writable and changed, or used with a smaller plane, it is checked again (and
    max_pool2d_backward, which scatters through it, always checks)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    p, argmax = tinydl.backend.conv2d_max_pool_forward(x, w, None, (1, 1), (0,) * 4, True, (2, 2))
    assert not argmax.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        argmax[0, 0, 0, 0] = 10**6
    geometry = ((2, 2), (0, 0, 0, 0))
    tinydl.backend.conv2d_backward_input(p, w, x.shape, (1, 1), (0,) * 4, p, argmax, geometry)
    argmax.flags.writeable = True
    argmax[0, 0, 0, 0] = 10**6
    with pytest.raises(ValueError, match="outside"):
        tinydl.backend.conv2d_backward_input(p, w, x.shape, (1, 1), (0,) * 4, p, argmax,
                                             geometry)
    y, pooled_argmax = tinydl.backend.max_pool2d_forward(x, (2, 2), (2, 2), (0,) * 4)
    with pytest.raises(ValueError, match="outside the input plane"):  # a 4x4 plane is smaller
        tinydl.backend.max_pool2d_backward(y, pooled_argmax, (2, 4, 4, 3))
    tinydl.backend.max_pool2d_backward(y, pooled_argmax, x.shape)
