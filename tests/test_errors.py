"""Bad input raises ValueError/TypeError whose message names what was expected and what was received,
and (through tinydl.backend) before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
import tinydl.functional as F
from tinydl import Tensor
from tinydl import backend as dispatch  # the module; `backend` is the fixture
from tinydl.kernels import _dispatch


def test_matmul_inner_dimensions_differ():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: \(2, 3\) @ \(4, 5\) \(3 != 4\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"inner dimensions differ: \(3,\) @ \(2,\)"):
        Tensor(np.ones(3)) @ Tensor(np.ones(2))


def test_matmul_batch_dimensions_do_not_broadcast():
    with pytest.raises(ValueError, match=r"batch dimensions do not broadcast: \(2, 3, 4\) @ \(3, 4, 5\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_matmul_of_a_scalar():
    with pytest.raises(ValueError, match=r"at least one dimension, got \(\) @ \(2,\)"):
        Tensor(np.array(2.0)) @ Tensor(np.ones(2))


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a ** b, "pow"),
])
def test_binary_shapes_that_do_not_broadcast(op, name):
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) do not broadcast"):
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(2,\) do not broadcast"):
        op(Tensor(np.ones((2, 3))), np.ones(2))


def test_conv_kernel_larger_than_a_valid_input():
    with pytest.raises(ValueError, match=r"window of size 5 is larger than the input size 3 with padding='valid'"):
        F.conv2d(np.ones((1, 3, 8, 1)), np.ones((5, 2, 1, 1)))
    with pytest.raises(ValueError, match=r"window of size 4 is larger than the input size 2"):
        F.conv2d(np.ones((1, 6, 2, 1)), np.ones((3, 4, 1, 1)), padding="valid")
    # with 'same' padding the same kernel is fine
    assert F.conv2d(np.ones((1, 3, 8, 1)), np.ones((5, 2, 1, 1)), padding="same").shape == (1, 3, 8, 1)


def test_pool_window_larger_than_a_valid_input():
    with pytest.raises(ValueError, match=r"window of size 5 is larger than the input size 3"):
        F.max_pool2d(np.ones((1, 3, 3, 1)), 5)
    with pytest.raises(ValueError, match=r"window of size 4 is larger than the input size 3"):
        F.avg_pool2d(np.ones((1, 8, 3, 1)), (2, 4))


def test_conv_kernel_in_channels_differ_from_the_input():
    with pytest.raises(ValueError, match=r"conv2d: kernel expects 2 input channels .*\(3, 3, 2, 4\).*, but the "
                                         r"input has 3 \(input shape \(1, 5, 5, 3\)\)"):
        F.conv2d(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)))


def test_conv_and_pool_wrong_ranks_and_bias():
    with pytest.raises(ValueError, match=r"conv2d expects input of shape \(batch, H, W, C\), got \(5, 5, 3\)"):
        F.conv2d(np.ones((5, 5, 3)), np.ones((3, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"kernel of shape \(KH, KW, C, F\), got \(3, 3, 3\)"):
        F.conv2d(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match=r"max_pool2d expects input of shape \(batch, H, W, C\), got \(4, 4\)"):
        F.max_pool2d(np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\), got \(3,\)"):
        F.conv2d(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 4)), np.ones(3))


@pytest.mark.parametrize("labels, expected", [
    (np.array([0, 4]), r"labels must be in \[0, 4\), got 4"),
    (np.array([-1, 2]), r"labels must be in \[0, 4\), got -1"),
])
def test_softmax_cross_entropy_labels_out_of_range(backend, labels, expected):
    with pytest.raises(ValueError, match=expected):
        F.softmax_cross_entropy(np.zeros((2, 4), np.float32), labels)


def test_softmax_cross_entropy_non_integer_labels(backend):
    with pytest.raises(TypeError, match=r"labels must be integers \(class indices\), got dtype float64"):
        F.softmax_cross_entropy(np.zeros((2, 4)), np.array([0.0, 1.0]))


def test_softmax_cross_entropy_wrong_shapes(backend):
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\), got \(3,\)"):
        F.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\), got \(2, 3, 4\)"):
        F.softmax_cross_entropy(np.zeros((2, 3, 4)), np.array([0, 1]))


@pytest.mark.parametrize("call", [
    lambda p: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), padding=p),
    lambda p: F.max_pool2d(np.ones((1, 4, 4, 1)), 2, padding=p),
    lambda p: F.avg_pool2d(np.ones((1, 4, 4, 1)), 2, padding=p),
])
@pytest.mark.parametrize("padding", ["full", "causal", None, 1])
def test_unknown_padding(call, padding):
    with pytest.raises(ValueError, match=rf"padding must be one of \('valid', 'same'\), got {padding!r}"):
        call(padding)


@pytest.mark.parametrize("strides, expected", [
    (0, r"strides must hold positive ints, got 0"),
    (-1, r"strides must hold positive ints, got -1"),
    ((1, 0), r"strides must hold positive ints, got \(1, 0\)"),
    ((1, 2, 3), r"strides must be an int or a pair of ints, got \(1, 2, 3\)"),
    (1.5, r"strides must be an int or a pair of ints, got 1.5"),
    (True, r"strides must be an int or a pair of ints, got True"),
    ("2", r"strides must be an int or a pair of ints, got '2'"),
])
def test_bad_strides(strides, expected):
    with pytest.raises(ValueError, match=expected):
        F.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), strides=strides)
    with pytest.raises(ValueError, match=expected):
        F.max_pool2d(np.ones((1, 4, 4, 1)), 2, strides=strides)


def test_bad_pool_size():
    with pytest.raises(ValueError, match=r"pool_size must hold positive ints, got \(2, 0\)"):
        F.avg_pool2d(np.ones((1, 4, 4, 1)), (2, 0))


@pytest.mark.parametrize("name", ["cuda", "Native", "", None])
def test_invalid_backend_name(name):
    before = tinydl.get_backend()
    with pytest.raises(ValueError, match=r"backend must be one of \('reference', 'native'\), got"):
        tinydl.set_backend(name)
    assert tinydl.get_backend() == before


# ----------------------------------------------------------------------------- tinydl.backend directly

@pytest.fixture
def kernel_calls(monkeypatch):
    """Record every kernel dispatch (tinydl.kernels._dispatch.run is the only way to a kernel)."""
    calls = []

    def spy(kernel, *args):
        calls.append(kernel)
        raise AssertionError(f"kernel {kernel} ran on input that should have been rejected")

    monkeypatch.setattr(_dispatch, "run", spy)
    return calls


f32 = np.ones((2, 2), np.float32)
f64 = np.ones((2, 2), np.float64)
i64 = np.ones((2, 2), np.int64)
x32, w32, x64 = np.ones((1, 4, 4, 1), np.float32), np.ones((2, 2, 1, 1), np.float32), np.ones((1, 4, 4, 1))

BAD_DTYPE_CALLS = {
    "gemm int": (lambda: dispatch.gemm(i64, i64), r"gemm: a must be float32 or float64, got int64"),
    "gemm mixed": (lambda: dispatch.gemm(f32, f64), r"gemm: arrays must share one dtype, got a=float32, b=float64"),
    "gemm bias mixed": (lambda: dispatch.gemm(f32, f32, bias=np.ones(2)),
                        r"arrays must share one dtype, got a=float32, b=float32, bias=float64"),
    "conv int": (lambda: dispatch.conv2d_forward(x32.astype(np.int32), w32, None, (1, 1), (0, 0, 0, 0)),
                 r"conv2d: x must be float32 or float64, got int32"),
    "conv mixed": (lambda: dispatch.conv2d_forward(x64, w32, None, (1, 1), (0, 0, 0, 0)),
                   r"conv2d: arrays must share one dtype, got x=float64, w=float32"),
    "conv bwd input mixed": (lambda: dispatch.conv2d_backward_input(np.ones((1, 3, 3, 1)), w32, (1, 4, 4, 1),
                                                                   (1, 1), (0, 0, 0, 0)),
                             r"must share one dtype, got dy=float64, w=float32"),
    "conv bwd kernel mixed": (lambda: dispatch.conv2d_backward_kernel(np.ones((1, 3, 3, 1)), x32, (2, 2), (1, 1),
                                                                     (0, 0, 0, 0), True),
                              r"must share one dtype, got dy=float64, x=float32"),
    "conv bwd relu_out mixed": (lambda: dispatch.conv2d_backward_input(
        np.ones((1, 3, 3, 1), np.float32), w32, (1, 4, 4, 1), (1, 1), (0, 0, 0, 0),
        relu_out=np.ones((1, 3, 3, 1))),
        r"must share one dtype, got dy=float32, w=float32, relu_out=float64"),
    "max pool int": (lambda: dispatch.max_pool2d_forward(x32.astype(np.int64), (2, 2), (2, 2), (0, 0, 0, 0)),
                     r"max_pool2d: x must be float32 or float64, got int64"),
    "avg pool int": (lambda: dispatch.avg_pool2d_forward(x32.astype(np.uint8), (2, 2), (2, 2), (0, 0, 0, 0)),
                     r"avg_pool2d: x must be float32 or float64, got uint8"),
    "avg pool bwd int": (lambda: dispatch.avg_pool2d_backward(np.ones((1, 2, 2, 1), np.int32), (1, 4, 4, 1),
                                                             (2, 2), (2, 2), (0, 0, 0, 0)),
                         r"dy must be float32 or float64, got int32"),
    "xent int logits": (lambda: dispatch.softmax_xent_forward(i64, np.array([0, 1])),
                        r"logits must be float32 or float64, got int64"),
    "xent float labels": (lambda: dispatch.softmax_xent_forward(f32, np.array([0.0, 1.0])),
                          r"labels must be integers \(class indices\), got dtype float64"),
    "relu int": (lambda: dispatch.relu_forward(i64), r"relu: x must be float32 or float64, got int64"),
    "relu bool": (lambda: dispatch.relu_forward(i64 > 0), r"relu: x must be float32 or float64, got bool"),
    "relu_backward mixed": (lambda: dispatch.relu_backward(f32, f64),
                            r"relu_backward: arrays must share one dtype, got y=float32, dy=float64"),
    "float16": (lambda: dispatch.relu_forward(f32.astype(np.float16)), r"got float16"),
}


@pytest.mark.parametrize("case", sorted(BAD_DTYPE_CALLS))
def test_backend_rejects_wrong_dtypes_before_any_kernel_runs(backend, kernel_calls, case):
    call, expected = BAD_DTYPE_CALLS[case]
    with pytest.raises(TypeError, match=expected):
        call()
    assert kernel_calls == []


BAD_SHAPE_CALLS = {
    "gemm inner": (lambda: dispatch.gemm(np.ones((2, 3)), np.ones((4, 2))), r"gemm: inner dimensions differ"),
    "gemm rank": (lambda: dispatch.gemm(np.ones(3), np.ones((3, 2))), r"a must have shape \(M, K\), got \(3,\)"),
    "gemm c": (lambda: dispatch.gemm(f64, f64, beta=1.0, c=np.ones((3, 3))),
               r"c must have shape \(2, 2\), got \(3, 3\)"),
    "conv channels": (lambda: dispatch.conv2d_forward(x64, np.ones((2, 2, 3, 1)), None, (1, 1), (0, 0, 0, 0)),
                      r"kernel expects 3 input channels .* but the input has 1"),
    "conv window": (lambda: dispatch.conv2d_forward(x64, np.ones((5, 2, 1, 1)), None, (1, 1), (0, 0, 0, 0)),
                    r"window \(5, 2\) is larger than the padded input height 4"),
    "conv stride": (lambda: dispatch.conv2d_forward(x64, np.ones((2, 2, 1, 1)), None, (0, 1), (0, 0, 0, 0)),
                    r"strides must be positive, got \(0, 1\)"),
    "conv bwd dy": (lambda: dispatch.conv2d_backward_input(np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 1)),
                                                          (1, 4, 4, 1), (1, 1), (0, 0, 0, 0)),
                    r"dy must have shape \(1, 3, 3, 1\), got \(1, 2, 2, 1\)"),
    "conv bwd relu_out": (lambda: dispatch.conv2d_backward_kernel(
        np.ones((1, 3, 3, 1)), x64, (2, 2), (1, 1), (0, 0, 0, 0), True,
        relu_out=np.ones((1, 3, 3, 2))),
        r"relu_out must have shape \(1, 3, 3, 1\), got \(1, 3, 3, 2\)"),
    "pool pads": (lambda: dispatch.max_pool2d_forward(x64, (2, 2), (1, 1), (2, 0, 0, 0)),
                  r"pads \(2, 0, 0, 0\) must be smaller than the window \(2, 2\)"),
    "max pool argmax": (lambda: dispatch.max_pool2d_backward(np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2, 1), np.int64),
                                                            (1, 4, 4, 1)),
                        r"argmax must be int32 of shape \(1, 2, 2, 1\), got int64"),
    "max pool argmax range": (lambda: dispatch.max_pool2d_backward(np.ones((1, 1, 1, 1)),
                                                                  np.full((1, 1, 1, 1), 16, np.int32), (1, 4, 4, 1)),
                              r"argmax holds indices outside the input plane"),
    "max pool argmax negative": (lambda: dispatch.max_pool2d_backward(
        np.ones((1, 2, 1, 1)), np.array([0, -1], np.int32).reshape(1, 2, 1, 1), (1, 4, 4, 1)),
        r"argmax holds indices outside the input plane"),
    "relu_backward shape": (lambda: dispatch.relu_backward(np.ones(3), np.ones(4)),
                            r"dy must have shape \(3,\), got \(4,\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_SHAPE_CALLS))
def test_backend_rejects_bad_shapes_before_any_kernel_runs(backend, kernel_calls, case):
    call, expected = BAD_SHAPE_CALLS[case]
    with pytest.raises(ValueError, match=expected):
        call()
    assert kernel_calls == []


def test_backend_checks_shapes_that_native_code_would_trust():
    """Shapes the C kernels index with are checked in Python first (these once crashed native)."""
    from tinydl import backend as dispatch
    dy = np.ones((2, 2, 2, 3), np.float32)
    argmax = np.zeros((2, 2, 2, 3), np.int32)
    for x_shape in [(3, 4, 4, 3), (2, 4, 4, 5)]:
        with pytest.raises(ValueError, match="must agree in batch size N and channels C"):
            dispatch.max_pool2d_backward(dy, argmax, x_shape)
    with pytest.raises(ValueError, match=r"x_shape must be \(N, H, W, C\)"):
        dispatch.max_pool2d_backward(dy, argmax, (2, 4, 4))
    with pytest.raises(ValueError, match="pads must be 4 non-negative ints"):
        dispatch.conv2d_forward(np.ones((1, 4, 4, 1), np.float32), np.ones((2, 2, 1, 1), np.float32),
                                None, (1, 1), (-1, 0, 0, 0))


def test_tensor_labels_are_refused_with_a_clear_message():
    from tinydl import Tensor, functional as F
    with pytest.raises(TypeError, match="not a Tensor"):
        F.softmax_cross_entropy(Tensor(np.zeros((2, 3))), Tensor([0, 1]))
