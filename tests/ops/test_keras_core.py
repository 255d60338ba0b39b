"""keras.ops core (tinydl/ops/keras_core.py): dtype promotion, convert_to_tensor/numpy, cast,
stop_gradient, and the module-level errors for Keras names tinydl lacks."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import Tensor, ops
from tinydl.utils import gradcheck

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint32", "float16", "float32",
          "float64"]


@pytest.mark.parametrize("a", DTYPES + [int, float])
@pytest.mark.parametrize("b", DTYPES + [int, float])
def test_result_type_matches_keras(a, b, keras_ops):
    import keras
    assert ops.result_type(a, b) == keras.backend.result_type(a, b)


@pytest.mark.parametrize("value", [[1, 2], 1.5, 3, True, [True, False], [1.5, 2], 2**40,
                                   np.ones(2), np.ones(2, "float32"), np.array([1], "uint8"),
                                   np.float64(2.0), np.int64(3), [[1, 2], [3, 4]]], ids=repr)
def test_convert_to_tensor_infers_keras_dtypes(value, same_as_keras):
    out = same_as_keras("convert_to_tensor", value)
    assert isinstance(out, Tensor)


def test_convert_to_tensor_keeps_a_tensor_and_casts_on_request(same_values):
    t = Tensor(np.ones(3), requires_grad=True)
    assert ops.convert_to_tensor(t) is t
    same_values(ops.convert_to_tensor([1, 2], dtype="float32"), np.array([1, 2], "float32"))
    stacked = ops.convert_to_tensor([t, t])
    assert stacked.shape == (2, 3) and stacked.requires_grad
    with pytest.raises(NotImplementedError, match=r"no sparse or ragged tensors"):
        ops.convert_to_tensor([1], sparse=True)
    with pytest.raises(TypeError, match=r"Cannot convert str to a tensor"):
        ops.convert_to_tensor("abc")


def test_convert_to_numpy_returns_a_copy():
    t = Tensor(np.ones(3, "float32"))
    array = ops.convert_to_numpy(t)
    array[0] = 5.0
    assert isinstance(array, np.ndarray) and t.data[0] == 1.0
    np.testing.assert_array_equal(ops.convert_to_numpy([1, 2]), [1, 2])


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool", "float16", "float64"])
def test_cast_matches_keras(dtype, same_as_keras):
    same_as_keras("cast", np.array([1.7, -1.7, 0.0, 2.5], "float32"), dtype)


def test_cast_between_floats_keeps_the_gradient_and_to_int_stops_it():
    x = Tensor(np.array([0.5, -1.25]), requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32 and y.requires_grad
    ops.sum(ops.multiply(y, 3.0)).backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert not ops.cast(x, "int32").requires_grad
    assert gradcheck(lambda t: ops.cast(ops.cast(t, "float32"), "float64") * 2.0,
                     Tensor(np.ones(3)), eps=1e-2, atol=1e-4)  # float32 needs a wide step


def test_stop_gradient_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.add(ops.multiply(x, x), ops.stop_gradient(ops.multiply(x, x)))
    ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_numpy_inputs_give_tensors_and_tensors_keep_their_graph():
    out = ops.exp(np.zeros((2, 2)))
    assert isinstance(out, Tensor) and out.dtype == np.float64 and not out.requires_grad
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    ops.sum(ops.softmax(ops.matmul(x, np.eye(2)))).backward()
    assert x.grad is not None and x.grad.shape == (2, 2)


def test_tensor_operators_follow_keras_for_integer_tensors():
    ints = ops.cast(np.array([1, 2, 3]), "int32")
    assert (ints * 0.5).dtype == np.float32
    np.testing.assert_array_equal((ints * 0.5).data, [0.5, 1.0, 1.5])
    assert (ints + 1).dtype == np.int32 and (ints / 2).dtype == np.float32
    floats = Tensor(np.ones(3, "float32"), requires_grad=True)
    mixed = floats * ints
    assert mixed.dtype == np.float32
    mixed.sum().backward()
    np.testing.assert_array_equal(floats.grad, [1.0, 2.0, 3.0])


def test_a_keras_name_tinydl_lacks_raises_a_clear_error():
    with pytest.raises(NotImplementedError, match=r"keras.ops.fft is not implemented in tinydl"):
        ops.fft  # noqa: B018
    with pytest.raises(AttributeError, match=r"keras.ops.reluu is not implemented in tinydl.*"
                                             r"Did you mean relu"):
        ops.reluu  # noqa: B018
    assert not hasattr(ops, "stft")


def test_the_internal_names_still_work():
    a = Tensor(np.array([1.0, 2.0]))
    for name, expected in [("sub", [0.0, 1.0]), ("mul", [1.0, 4.0]), ("div", [1.0, 1.0]),
                           ("pow", [1.0, 4.0])]:
        np.testing.assert_array_equal(getattr(ops, name)(a, a if name != "sub" else 1.0).data
                                      if name != "pow" else ops.pow(a, 2.0).data, expected)
    np.testing.assert_array_equal(ops.neg(a).data, [-1.0, -2.0])
    assert ops.flatten(Tensor(np.ones((2, 3, 4))), 1).shape == (2, 12)
    assert ops.getitem(a, 1).item() == 2.0
    assert tinydl.ops is ops


def test_every_listed_keras_name_exists_in_keras(keras_ops):
    missing = [n for n in ops.KERAS_NAMES if not hasattr(keras_ops, n)]
    assert missing == []
