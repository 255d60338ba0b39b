"""Through tinydl.backend: determinism, non-contiguous inputs, and bad input rejected before C."""

from __future__ import annotations

import numpy as np
import pytest
from native_helpers import assert_close

from tinydl import backend
from tinydl.kernels import native


def run_all(rng_seed=0):
    """Every native kernel once on 2 threads-sized problems; returns the list of outputs."""
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal((6, 19, 23, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 5, 33)).astype(np.float32)
    bias = rng.standard_normal(33).astype(np.float32)
    pads, strides = (1, 1, 0, 1), (1, 2)
    y = backend.conv2d_forward(x, w, bias, strides, pads, relu=True)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = backend.conv2d_backward_input(dy, w, x.shape, strides, pads)
    dw, db = backend.conv2d_backward_kernel(dy, x, (3, 2), strides, pads, True)
    dx_r = backend.conv2d_backward_input(dy, w, x.shape, strides, pads, relu_out=y)
    dw_r, db_r = backend.conv2d_backward_kernel(dy, x, (3, 2), strides, pads, True, relu_out=y)
    a = rng.standard_normal((27, 20000)).astype(np.float32)
    b = rng.standard_normal((20000, 32)).astype(np.float32)
    g_skinny = backend.gemm(a, b, trans_a=False)
    g_big = backend.gemm(rng.standard_normal((300, 200)).astype(np.float32),
                         rng.standard_normal((300, 500)).astype(np.float32), trans_a=True)
    p, arg = backend.max_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
    pdx = backend.max_pool2d_backward(p, arg, x.shape)
    logits = rng.standard_normal((700, 100)).astype(np.float32)
    losses, probs = backend.softmax_xent_forward(logits, rng.integers(0, 100, 700))
    return [y, dx, dw, db, dx_r, dw_r, db_r, g_skinny, g_big, p, arg, pdx, losses, probs]


def test_repeatable_bit_for_bit(two_threads):
    with backend.use_backend("native"):
        first = run_all()
        for _ in range(3):
            again = run_all()
            for u, v in zip(first, again):
                assert np.array_equal(u, v)


def test_repeatable_on_one_thread():
    previous = native.get_num_threads()
    native.set_num_threads(1)
    try:
        with backend.use_backend("native"):
            assert all(np.array_equal(u, v) for u, v in zip(run_all(), run_all()))
    finally:
        native.set_num_threads(previous)


def both_backends(kernel, *args, reduction=1):
    with backend.use_backend("native"):
        ours = getattr(backend, kernel)(*args)
    with backend.use_backend("reference"):
        oracle = getattr(backend, kernel)(*args)
    if isinstance(ours, tuple):
        for u, v in zip(ours, oracle):
            assert_close(u, v, reduction, kernel)
    else:
        assert_close(ours, oracle, reduction, kernel)


def test_non_contiguous_inputs():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 60))
    b = rng.standard_normal((30, 50)).astype(np.float64)
    both_backends("gemm", a[:, ::2], b, False, False, reduction=30)
    both_backends("gemm", a.T, b[:, :40], False, True, reduction=40)
    both_backends("gemm", np.asfortranarray(a), np.asfortranarray(a), True, False, reduction=40)
    x = rng.standard_normal((4, 20, 14, 6))
    w = rng.standard_normal((3, 3, 6, 5))
    both_backends("conv2d_forward", x[:, ::2, :, ::2], w[:, :, ::2], None, (1, 1), (1, 1, 1, 1),
                  reduction=27)
    xt = np.transpose(rng.standard_normal((4, 6, 10, 10)), (0, 2, 3, 1))
    both_backends("conv2d_forward", xt, w, np.ones(5), (2, 2), (0, 1, 0, 1), True, reduction=54)
    both_backends("max_pool2d_forward", xt, (3, 3), (2, 2), (1, 1, 1, 1))
    both_backends("avg_pool2d_forward", x[:, 1::2], (2, 3), (1, 2), (0, 1, 1, 1))
    both_backends("relu_forward", a[::3, ::2])
    both_backends("softmax_xent_forward", a.T, rng.integers(0, 40, 60), reduction=40)


@pytest.mark.parametrize("call, error, match", [
    (lambda: backend.gemm(np.ones((2, 3), np.int64), np.ones((3, 2))), TypeError, "float32"),
    (lambda: backend.gemm(np.ones((2, 3), np.float32), np.ones((3, 2))), TypeError, "one dtype"),
    (lambda: backend.gemm(np.ones((2, 3)), np.ones((4, 2))), ValueError, "inner dimensions"),
    (lambda: backend.gemm(np.ones((2, 3)), np.ones((3, 2)), bias=np.ones(3)), ValueError, "bias"),
    (lambda: backend.conv2d_forward(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)), None, (1, 1),
                                    (0, 0, 0, 0)), ValueError, "input channels"),
    (lambda: backend.conv2d_forward(np.ones((1, 2, 2, 3)), np.ones((3, 3, 3, 4)), None, (1, 1),
                                    (0, 0, 0, 0)), ValueError, "larger than"),
    (lambda: backend.softmax_xent_forward(np.ones((3, 4)), np.array([0, 4, 1])), ValueError,
     r"\[0, 4\)"),
    (lambda: backend.softmax_xent_forward(np.ones((3, 4)), np.array([0, -1, 1])), ValueError,
     r"\[0, 4\)"),
    (lambda: backend.max_pool2d_backward(np.ones((1, 2, 2, 1)), np.full((1, 2, 2, 1), 99, np.int32),
                                         (1, 4, 4, 1)), ValueError, "outside"),
    (lambda: backend.relu_backward(np.ones(3), np.ones(4)), ValueError, "shape"),
])
def test_bad_input_raises_in_python(call, error, match):
    with backend.use_backend("native"), pytest.raises(error, match=match):
        call()


def test_info_reports_cpu_and_kernel():
    info = native.info()
    assert set(info["cpu_features"]) >= {"avx2", "fma", "avx512f"}
    assert info["gemm_microkernel"] in ("avx512", "avx2", "generic")
    assert info["max_threads"] >= 1 and isinstance(info["openmp"], bool)
