"""keras.ops math (tinydl/ops/keras_numpy.py): values and dtypes against NumPy and Keras,
gradient checks, broadcasting, and errors that name the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinydl import Tensor, ops
from tinydl.utils import gradcheck

RNG = np.random.default_rng(0)
SHAPES = [(), (3,), (2, 3), (2, 3, 4)]


def sample(shape, dtype="float32", low=-2.0, high=2.0, margin=0.0):
    """Values in [low, high] (at least `margin` away from 0), or small integers for int dtypes."""
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(0 if np.dtype(dtype).kind == "u" else -5, 6, shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return RNG.random(shape) > 0.5
    x = RNG.uniform(low, high, shape)
    x = np.where(np.abs(x) < margin, np.copysign(margin, x) * 2, x)
    return np.asarray(x, dtype=dtype)


def positive(shape, dtype="float32"):
    return sample(shape, dtype, 0.3, 2.0)


# name: (NumPy reference, input maker, gradient-checked)
UNARY = {
    "negative": (np.negative, sample, True),
    "square": (np.square, sample, True),
    "sqrt": (np.sqrt, positive, True),
    "exp": (np.exp, sample, True),
    "log": (np.log, positive, True),
    "log1p": (np.log1p, positive, True),
    "tanh": (np.tanh, sample, True),
    "sin": (np.sin, sample, True),
    "cos": (np.cos, sample, True),
    "abs": (np.abs, lambda s, d="float32": sample(s, d, margin=0.1), True),
    "sign": (np.sign, sample, False),
    "floor": (np.floor, sample, False),
    "ceil": (np.ceil, sample, False),
    "round": (np.round, sample, False),
}
FLOAT_RESULT = {"sqrt", "exp", "log", "log1p", "tanh", "sin", "cos", "floor", "ceil"}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_unary_ops_match_numpy_with_keras_dtypes(name, dtype, same_values):
    reference, make, _ = UNARY[name]
    x = make((2, 3), dtype)
    if dtype == "int32" and name in ("sqrt", "log", "log1p"):
        x = np.abs(x) + 1
    expected_dtype = "float32" if dtype == "int32" and name in FLOAT_RESULT else dtype
    out = getattr(ops, name)(x)
    assert isinstance(out, Tensor)
    same_values(out, reference(x).astype(expected_dtype))


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_unary_ops_match_keras(name, shape, dtype, same_as_keras):
    x = UNARY[name][1](shape, dtype)
    if dtype == "int32" and name in ("sqrt", "log", "log1p"):
        x = np.abs(x) + 1
    same_as_keras(name, x)


@pytest.mark.parametrize("name", sorted(n for n, (_, _, g) in UNARY.items() if g))
@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_unary_ops_gradcheck(name, shape):
    x = UNARY[name][1](shape, "float64")
    assert gradcheck(getattr(ops, name), Tensor(x))


def test_ops_without_a_gradient_give_no_graph():
    x = Tensor(np.array([0.4, -1.6]), requires_grad=True)
    for name in ("sign", "floor", "ceil", "round", "equal"):
        out = getattr(ops, name)(x) if name != "equal" else ops.equal(x, 0.4)
        assert not out.requires_grad


# ----------------------------------------------------------------------------- binary ops

BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.true_divide, "maximum": np.maximum, "minimum": np.minimum,
          "power": np.power}
BROADCAST_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 3)),
                   ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_binary_ops_broadcast_like_numpy(name, shapes, same_values):
    a, b = positive(shapes[0], "float64"), positive(shapes[1], "float64")
    same_values(getattr(ops, name)(a, b), BINARY[name](a, b))
    same_values(getattr(ops, name)(Tensor(a), b), BINARY[name](a, b))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_binary_ops_gradcheck_with_broadcasting(name, shapes):
    a, b = positive(shapes[0], "float64"), positive(shapes[1], "float64") + 0.05
    assert gradcheck(getattr(ops, name), Tensor(a), Tensor(b))


DTYPE_PAIRS = [("float32", "float32"), ("int32", "float32"), ("int64", "float32"),
               ("float32", "float64"), ("int32", "int32"), ("int32", "int64"), ("uint8", "int8"),
               ("int32", 2), ("int32", 1.5), ("float32", 2), (3, 1.5), (3, 2)]


def _operand(kind, shape):
    return kind if not isinstance(kind, str) else positive(shape, kind) if kind[0] == "f" else \
        np.abs(sample(shape, kind)).astype(kind) + 1


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("kinds", DTYPE_PAIRS, ids=str)
def test_binary_ops_promote_dtypes_as_keras(name, kinds, same_as_keras):
    a, b = _operand(kinds[0], (2, 3)), _operand(kinds[1], (3,))
    same_as_keras(name, a, b)


@pytest.mark.parametrize("name", ["equal", "not_equal", "greater", "greater_equal", "less",
                                  "less_equal", "logical_and", "logical_or"])
@pytest.mark.parametrize("kinds", [("float32", "float32"), ("int32", "float64"), ("int32", 1)],
                         ids=str)
def test_comparisons_match_keras(name, kinds, same_as_keras):
    a = _operand(kinds[0], (2, 3)).astype(kinds[0]) // 1
    b = _operand(kinds[1], (3,))
    b = b // 1 if isinstance(b, np.ndarray) else b
    same_as_keras(name, a, b)


def test_logical_not_and_predicates_match_keras(same_as_keras):
    x = np.array([0.0, 1.0, np.nan, np.inf, -2.0])
    for name in ("logical_not", "isnan", "isinf", "isfinite"):
        same_as_keras(name, x)


def test_binary_ops_reject_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"add: the shapes of x1 and x2 do not broadcast.*"
                                         r"Received: x1.shape=\(2, 3\), x2.shape=\(4,\)"):
        ops.add(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"equal: .*x1.shape=\(2,\), x2.shape=\(3,\)"):
        ops.equal(np.ones(2), np.ones(3))


def test_maximum_gives_a_tie_to_the_first_operand():
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([1.0, 3.0]),
                                                                    requires_grad=True)
    ops.sum(ops.maximum(a, b)).backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 1.0])


# ----------------------------------------------------------------------------- clip and where

def test_clip_matches_keras_and_passes_the_gradient_inside(same_as_keras):
    x = sample((3, 4), "float64", margin=0.1)
    same_as_keras("clip", x, -0.5, 0.5)
    same_as_keras("clip", np.array([1, 5, 9]), 2, 6)
    same_as_keras("clip", x.astype("float32"), -0.5, 0.5)
    far = np.where(np.abs(np.abs(x) - 0.5) < 0.1, x * 2, x)
    assert gradcheck(lambda t: ops.clip(t, -0.5, 0.5), Tensor(far))


def test_clip_rejects_reversed_bounds():
    with pytest.raises(ValueError, match=r"clip: x_min must not exceed x_max. "
                                         r"Received: x_min=3, x_max=2"):
        ops.clip(np.ones(2), 3, 2)


def test_where_matches_keras_and_routes_the_gradient(same_as_keras):
    cond = np.array([[True, False, True]])
    a, b = sample((2, 3), "float64"), sample((3,), "float64")
    same_as_keras("where", cond, a, b)
    same_as_keras("where", cond, 1, 2.0)
    same_as_keras("where", np.array([1, 0, 2]))
    assert gradcheck(lambda x, y: ops.where(cond, x, y), Tensor(a), Tensor(b))


def test_where_needs_both_values_or_neither():
    with pytest.raises(ValueError, match=r"where: x1 and x2 must both be given, or both be None"):
        ops.where(np.array([True]), np.ones(1))


# ----------------------------------------------------------------------------- reductions

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"]
AXES = [None, 0, -1, (0, 1)]


REDUCTION_GRID = [(name, shape, axis) for name in REDUCTIONS + ["argmax", "argmin", "any", "all"]
                  for shape in [(4,), (2, 3), (2, 3, 4)] for axis in AXES
                  if not (isinstance(axis, tuple) and (len(shape) < 2 or name.startswith("arg")))]


@pytest.mark.parametrize("name, shape, axis", REDUCTION_GRID, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_keras(name, shape, axis, keepdims, same_as_keras):
    x = sample(shape, "float32", 0.5, 1.5)
    same_as_keras(name, x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "argmax"])
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "bool", "float64"])
def test_reduction_dtypes_match_keras(name, dtype, same_as_keras):
    same_as_keras(name, sample((2, 3), dtype), axis=0)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_reductions_gradcheck(name, axis):
    x = RNG.permutation(24).reshape(2, 3, 4) / 10.0 + 0.5  # distinct values: no ties in max/min
    assert gradcheck(lambda t: getattr(ops, name)(t, axis=axis), Tensor(x))
    assert gradcheck(lambda t: getattr(ops, name)(t, axis=axis, keepdims=True), Tensor(x))


def test_prod_gradient_is_exact_where_an_element_is_zero():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    assert gradcheck(lambda t: ops.prod(t, axis=1), Tensor(x))
    t = Tensor(x, requires_grad=True)
    ops.sum(ops.prod(t, axis=1)).backward()
    np.testing.assert_array_equal(t.grad, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


def test_max_and_min_with_initial_and_empty_inputs(same_as_keras):
    same_as_keras("max", np.array([1.0, 2.0]), initial=3.0)
    same_as_keras("min", np.zeros((0, 2)), axis=0, initial=1.0)
    with pytest.raises(ValueError, match=r"max: cannot reduce the empty axis of x of shape "
                                         r"\(0,\) without an initial value"):
        ops.max(np.zeros(0))


def test_logsumexp_is_stable_for_large_and_infinite_values(same_values):
    same_values(ops.logsumexp(np.array([1000.0, 1000.0])), np.float64(1000 + np.log(2)))
    same_values(ops.logsumexp(np.array([-np.inf, -np.inf])), np.float64(-np.inf))


@pytest.mark.parametrize("call", [lambda: ops.mean(np.ones((2, 3)), axis=2),
                                  lambda: ops.sum(np.ones(3), axis=-2),
                                  lambda: ops.argmax(np.ones((2, 3)), axis=5)])
def test_reductions_reject_an_axis_out_of_range(call):
    with pytest.raises(ValueError, match=r"axis -?\d is out of range for x of shape .*Received"):
        call()


def test_reductions_reject_a_repeated_or_wrongly_typed_axis():
    with pytest.raises(ValueError, match=r"sum: axis must not repeat an axis. "
                                         r"Received: axis=\(0, 0\)"):
        ops.sum(np.ones((2, 3)), axis=(0, 0))
    with pytest.raises(TypeError, match=r"mean: axis must be None, an int or a tuple of ints. "
                                        r"Received: axis=0.5"):
        ops.mean(np.ones(3), axis=0.5)


@st.composite
def strided_arrays(draw):
    """A float64 array that is a transposed or sliced view (not C-contiguous), and its copy."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    base = np.random.default_rng(draw(st.integers(0, 2**16))).uniform(0.5, 2.0, shape)
    view = base.T if draw(st.booleans()) else base[..., ::2]
    return view, np.ascontiguousarray(view)


@given(pair=strided_arrays(), name=st.sampled_from(["exp", "sqrt", "square", "negative"]),
       reduction=st.sampled_from(["sum", "mean", "max", "prod", "std"]))
def test_non_contiguous_inputs_give_numpys_values_and_gradients(pair, name, reduction):
    view, copy = pair
    np.testing.assert_array_equal(getattr(ops, name)(view).data, getattr(ops, name)(copy).data)
    np.testing.assert_allclose(getattr(ops, reduction)(view, axis=0).data,
                               getattr(np, reduction)(copy, axis=0))
    assert gradcheck(lambda t: getattr(ops, reduction)(getattr(ops, name)(t), axis=-1),
                     Tensor(view))
