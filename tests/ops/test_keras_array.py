"""keras.ops creation, shape and linear-algebra ops (tinydl/ops/keras_array.py) against NumPy,
Keras and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Tensor, ops
from tinydl.utils import gradcheck

RNG = np.random.default_rng(1)


def normal(*shape):
    return RNG.standard_normal(shape)


# ----------------------------------------------------------------------------- creation

@pytest.mark.parametrize("call", [
    ("ones", (2, 3)), ("zeros", 4), ("ones", (2,), "int32"), ("zeros", (1, 2), "float64"),
    ("full", (2, 2), 3), ("full", (2,), 3, "int32"), ("full", (3,), 0.5, "float64"),
    ("ones_like", np.array([1, 2])), ("zeros_like", np.ones((2, 3), "float32")),
    ("ones_like", np.ones(2), "int32"), ("full_like", np.array([1, 2]), 0.5),
    ("full_like", np.ones((2, 2)), 7, "float32"),
    ("arange", 5), ("arange", 1, 7, 2), ("arange", 0, 1, 0.25), ("arange", 3.0),
    ("arange", 5, None, None, "float32"), ("eye", 3), ("eye", 2, 3, 1),
    ("eye", 3, None, -1, "int32"),
    ("identity", 2), ("linspace", 0, 1, 5), ("linspace", 0, 1, 4, False),
], ids=lambda c: f"{c[0]}{c[1:]}")
def test_creation_matches_keras(call, same_as_keras):
    same_as_keras(*call)


def test_creation_rejects_bad_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"shape must be a non-negative int or a tuple of them. "
                                         r"Received: shape=\(2, -1\)"):
        ops.ones((2, -1))
    with pytest.raises(ValueError, match=r"Invalid dtype: tinydl supports .* Received: dtype='fo"):
        ops.zeros(2, dtype="foo")
    with pytest.raises(ValueError, match=r"arange: step must not be 0"):
        ops.arange(0, 3, 0)


# ----------------------------------------------------------------------------- shapes

SHAPE_CASES = [
    ("reshape", (2, 3, 4), {"newshape": (4, -1)}),
    ("reshape", (6,), {"newshape": 6}),
    ("transpose", (2, 3, 4), {}),
    ("transpose", (2, 3, 4), {"axes": (1, 0, 2)}),
    ("transpose", (2, 3, 4), {"axes": (-1, 0, 1)}),
    ("swapaxes", (2, 3, 4), {"axis1": 0, "axis2": -1}),
    ("expand_dims", (2, 3), {"axis": 0}),
    ("expand_dims", (2, 3), {"axis": -1}),
    ("expand_dims", (2, 3), {"axis": (0, 3)}),
    ("squeeze", (1, 3, 1), {}),
    ("squeeze", (1, 3, 1), {"axis": -1}),
    ("squeeze", (1, 3, 1), {"axis": (0, 2)}),
    ("ravel", (2, 3), {}),
    ("tile", (2, 3), {"repeats": 2}),
    ("tile", (2, 3), {"repeats": (2, 1, 3)}),
    ("tile", (3,), {"repeats": (2, 2)}),
    ("repeat", (2, 3), {"repeats": 2}),
    ("repeat", (2, 3), {"repeats": 2, "axis": 1}),
    ("repeat", (2, 3), {"repeats": [1, 0, 3], "axis": -1}),
    ("broadcast_to", (3,), {"shape": (2, 3)}),
    ("broadcast_to", (2, 1), {"shape": (4, 2, 5)}),
]


@pytest.mark.parametrize("name, shape, kwargs", SHAPE_CASES, ids=lambda v: str(v))
def test_shape_ops_match_keras(name, shape, kwargs, same_as_keras):
    same_as_keras(name, normal(*shape).astype("float32"), **kwargs)
    same_as_keras(name, RNG.integers(0, 9, shape), **kwargs)


@pytest.mark.parametrize("name, shape, kwargs", SHAPE_CASES, ids=lambda v: str(v))
def test_shape_ops_gradcheck(name, shape, kwargs):
    assert gradcheck(lambda t: getattr(ops, name)(t, **kwargs), Tensor(normal(*shape)))


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("how", [3, [1, 4], [0, 2, 2]], ids=str)
def test_split_matches_keras_and_gradcheck(axis, how, same_as_keras):
    x = np.moveaxis(normal(6, 2, 3), 0, axis)
    same_as_keras("split", x, how, axis=axis)
    assert gradcheck(lambda t: ops.concatenate(ops.split(t, how, axis=axis)[::-1], axis=axis),
                     Tensor(x))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_match_keras_and_promote_dtypes(axis, same_as_keras):
    a, b = normal(2, 3).astype("float32"), RNG.integers(0, 5, (2, 3)).astype("int32")
    same_as_keras("concatenate", [a, b, a], axis=axis)
    same_as_keras("stack", [a, b], axis=axis)
    same_as_keras("concatenate", [b, b], axis=axis)


def test_take_and_take_along_axis_match_keras_and_gradcheck(same_as_keras):
    x = normal(3, 4, 5)
    for indices, axis in [(np.array([2, 0, 0, -1]), 1), (np.array([[1, 0], [4, 4]]), -1),
                          (np.array([5, 59]), None), (np.int64(1), 0)]:
        same_as_keras("take", x, indices, axis=axis)
        assert gradcheck(lambda t, i=indices, a=axis: ops.take(t, i, axis=a), Tensor(x))
    along = RNG.integers(0, 4, (3, 2, 5))
    same_as_keras("take_along_axis", x, along, axis=1)
    assert gradcheck(lambda t: ops.take_along_axis(t, along, axis=1), Tensor(x))


def test_take_rejects_float_or_out_of_range_indices():
    with pytest.raises(TypeError, match=r"take: indices must be integers. "
                                        r"Received: indices.dtype=float64"):
        ops.take(np.ones(5), np.array([0.5]))
    with pytest.raises(ValueError, match=r"take: indices must be in \[-5, 5\) for axis 0 of size "
                                         r"5. Received: indices from 7 to 7"):
        ops.take(np.arange(5), np.array([7]))


@pytest.mark.parametrize("call, message", [
    (lambda: ops.reshape(np.ones(6), (4, -1)), r"cannot reshape a tensor of shape \(6,\)"),
    (lambda: ops.transpose(np.ones((2, 3)), (0, 2)),
     r"transpose: axes must be a permutation of 0..1 .* Received: axes=\(0, 2\)"),
    (lambda: ops.expand_dims(np.ones((2, 3)), 5),
     r"expand_dims: axis must be in \[-3, 3\) .* Received: axis=5"),
    (lambda: ops.squeeze(np.ones((2, 1, 3)), axis=0),
     r"squeeze: cannot squeeze axis 0 of x of shape \(2, 1, 3\): its size is not 1"),
    (lambda: ops.concatenate([np.ones((2, 3)), np.ones((3, 2))]),
     r"concatenate: shapes must match except along axis 0"),
    (lambda: ops.concatenate([np.ones((2, 3))], axis=2),
     r"concatenate: axis must be an int in \[-2, 2\) here. Received: axis=2"),
    (lambda: ops.concatenate([]), r"concatenate needs a non-empty list of tensors"),
    (lambda: ops.stack([np.ones(2), np.ones(3)]), r"stack: all tensors must have one shape"),
    (lambda: ops.split(np.arange(5), 2), r"split: 2 sections do not divide axis 0 of size 5"),
    (lambda: ops.broadcast_to(np.ones(3), (2, 4)),
     r"broadcast_to: x of shape \(3,\) cannot be broadcast to \(2, 4\)"),
    (lambda: ops.broadcast_to(np.ones((2, 3)), (3,)), r"cannot be broadcast to \(3,\)"),
    (lambda: ops.repeat(np.ones(3), [1, 2]), r"repeat: repeats must be a non-negative int or one "),
    (lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 2))), r"matmul: inner dimensions differ"),
    (lambda: ops.dot(np.ones((2, 3, 4)), np.ones((5, 3, 6))), r"dot: the last axis of x1"),
])
def test_shape_ops_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_shape_helpers_match_keras(keras_ops):
    x = np.ones((2, 3), "int64")
    assert ops.shape(x) == keras_ops.shape(x) == (2, 3)
    assert ops.shape(Tensor(x)) == (2, 3) and ops.shape([[1, 2, 3]]) == (1, 3)
    assert ops.ndim(x) == 2 and ops.size(x) == 6 and ops.dtype(x) == keras_ops.dtype(x) == "int64"


# ----------------------------------------------------------------------------- linear algebra

MATMUL_SHAPES = [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (1, 3, 4))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_keras_and_gradcheck(shapes, same_as_keras):
    a, b = normal(*shapes[0]), normal(*shapes[1])
    same_as_keras("matmul", a.astype("float32"), b.astype("float32"))
    same_as_keras("matmul", a, b)
    same_as_keras("matmul", RNG.integers(0, 4, shapes[0]).astype("int32"),
                  RNG.integers(0, 4, shapes[1]).astype("int32"))
    assert gradcheck(ops.matmul, Tensor(a), Tensor(b))


@pytest.mark.parametrize("shapes", MATMUL_SHAPES + [((2, 3, 4), (5, 4, 6)), ((4,), (2, 4, 3)),
                                                    ((), (2, 3)), ((2, 3), ())], ids=str)
def test_dot_matches_keras_and_gradcheck(shapes, same_as_keras):
    a, b = normal(*shapes[0]), normal(*shapes[1])
    same_as_keras("dot", a, b)
    assert gradcheck(ops.dot, Tensor(a), Tensor(b))


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
    ("i,j->ij", [(3,), (4,)]), ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("ijk,k->i", [(2, 3, 4), (4,)]),
])
def test_einsum_matches_keras_and_gradcheck(subscripts, shapes, same_as_keras):
    operands = [normal(*s) for s in shapes]
    same_as_keras("einsum", subscripts, *operands)
    assert gradcheck(lambda *ts: ops.einsum(subscripts, *ts), *map(Tensor, operands))


def test_einsum_implicit_output_is_numpys_sorted_letters(same_values):
    # TensorFlow's einsum keeps 'ji' as it is; NumPy (and JAX, Keras' reference) transpose
    x = normal(2, 3)
    same_values(ops.einsum("ji", x), np.einsum("ji", x))
    assert gradcheck(lambda t: ops.einsum("ji", t), Tensor(x))


def test_einsum_explains_what_it_cannot_differentiate():
    with pytest.raises(NotImplementedError, match=r"einsum: tinydl differentiates einsum only "):
        ops.einsum("ii->i", Tensor(np.ones((2, 2)), requires_grad=True))
    np.testing.assert_array_equal(ops.einsum("ii->i", np.eye(2)).data, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"einsum: the subscripts name 2 operands but 1 were"):
        ops.einsum("ij,jk", np.ones((2, 2)))
